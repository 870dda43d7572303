package election_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A lone candidate: its callbacks in order, and the lease at the end, with
// and without release on cancel.
func TestRunAloneCallbackOrder(t *testing.T) {
	tests := []struct {
		name      string
		give      bool // release on cancel
		wantState renewer.LeaseState
		wantRel   int // release calls reaching storage
	}{
		{name: "release on cancel", give: true, wantState: renewer.StateAvailable, wantRel: 1},
		{name: "no release on cancel", give: false, wantState: renewer.StateLeased, wantRel: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				rec := newRecorder(t)
				e := newCandidate(t, c, "a", election.WithReleaseOnCancel(tt.give))
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- e.Run(ctx, rec.callbacks(e, nil)) }()

				time.Sleep(time.Minute) // leads, renewing, for a while
				cancel()
				if err := recv(t, done, time.Minute); err != nil {
					t.Fatalf("Run = %v, want nil", err)
				}
				want := []string{`a: new-leader "" 0`, `a: new-leader "a" 1`, "a: elected 1", "a: returned 1", "a: demoted"}
				if got := rec.of("a"); !slices.Equal(got, want) {
					t.Errorf("events:\n got %q\nwant %q", got, want)
				}
				if got := c.State(); got != tt.wantState {
					t.Errorf("state after Run = %v, want %v", got, tt.wantState)
				}
				if got := c.Calls(leasetest.OpRelease); got != tt.wantRel {
					t.Errorf("release calls = %d, want %d", got, tt.wantRel)
				}
				time.Sleep(leaseL)
				if got := c.State(); got == renewer.StateLeased {
					t.Errorf("state L after Run = %v, want not leased", got)
				}
			})
		})
	}
}

// A candidate that never wins never sees OnElected or OnDemoted, only the
// leader.
func TestRunNoDemotedWithoutElected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		holder := newCandidate(t, c, "holder")
		ld, err := holder.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder(t)
		e := newCandidate(t, c, "b")
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if err := e.Run(ctx, rec.callbacks(e, nil)); err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		want := []string{`b: new-leader "holder" 1`}
		if got := rec.of("b"); !slices.Equal(got, want) {
			t.Errorf("events:\n got %q\nwant %q", got, want)
		}
		if err := ld.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// Run stops at once on an error polling cannot get past, having called
// no callback but OnNewLeader.
func TestRunFinalError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpAcquire {
				return renewer.ErrForbidden
			}
			return nil
		})
		rec := newRecorder(t)
		e := newCandidate(t, c, "a")
		err := e.Run(t.Context(), rec.callbacks(e, nil))
		if !errors.Is(err, renewer.ErrForbidden) {
			t.Fatalf("Run = %v, want ErrForbidden", err)
		}
		want := []string{`a: new-leader "" 0`}
		if got := rec.of("a"); !slices.Equal(got, want) {
			t.Errorf("events:\n got %q\nwant %q", got, want)
		}
	})
}

// Three candidates hand leadership around by resigning and by losing the
// lease (renewals refused): terms go up by one per transition, callbacks
// keep their order, and no two leadership contexts are ever live at once.
func TestRunTransitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const transitions = 12
		c := leasetest.New()
		f := &renewFault{}
		c.SetAfter(f.after)
		c.SetBefore(f.before)

		var lost atomic.Int32
		rec := newRecorder(t)
		ctx, cancel := context.WithCancel(t.Context())
		ids := []string{"a", "b", "c"}
		done := make(chan error, len(ids))
		for _, id := range ids {
			e := newCandidate(t, c, id)
			work := func(lctx context.Context, term int64) {
				if term%3 == 0 {
					f.failCurrent() // this leader's renewals fail from now on: it loses
					start := time.Now()
					<-lctx.Done()
					if ctx.Err() != nil {
						return // the test is over
					}
					if cause := context.Cause(lctx); !errors.Is(cause, renewer.ErrLeaseLost) {
						t.Errorf("term %d ended with cause %v, want renewer.ErrLeaseLost", term, cause)
					}
					if held := time.Since(start); held > leaseL {
						t.Errorf("term %d: context cancelled %v after renewals stopped, want < L", term, held)
					}
					lost.Add(1)
					return
				}
				select {
				case <-time.After(7 * time.Second):
					_ = e.Resign(lctx)
				case <-lctx.Done():
				}
			}
			go func() { done <- e.Run(ctx, rec.callbacks(e, work)) }()
		}

		// Bounded: each transition takes at most L + P.
		deadline := time.Now().Add(transitions * (leaseL + 2*pollP))
		for len(rec.elected()) < transitions && time.Now().Before(deadline) {
			time.Sleep(time.Second)
		}
		cancel()
		for range ids {
			if err := recv(t, done, time.Minute); err != nil {
				t.Errorf("Run = %v", err)
			}
		}
		terms := rec.elected()
		if len(terms) < transitions {
			t.Fatalf("%d elections, want at least %d", len(terms), transitions)
		}
		for i, term := range terms {
			if term != int64(i+1) {
				t.Fatalf("terms %v: want 1, 2, 3, ...", terms)
			}
		}
		if got, want := lost.Load(), int32(transitions/3-1); got < want {
			t.Errorf("%d terms ended by loss, want at least %d", got, want)
		}
		for _, id := range ids {
			rec.checkOrder(id)
		}
		rec.checkNoOverlap()
	})
}

// renewFault makes the renewals of a chosen lease fail, as if storage were
// unreachable for that holder only.
type renewFault struct {
	mu       sync.Mutex // guards the fields below
	acquired string     // lease ID of the current holding (acquired, or changed to right after)
	failing  string     // lease ID whose renewals fail
}

func (f *renewFault) after(_ context.Context, call leasetest.Call, err error) error {
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch call.Op {
	case leasetest.OpAcquire:
		f.acquired = call.LeaseID
	case leasetest.OpChange:
		f.acquired = call.ProposedID
	}
	return nil
}

func (f *renewFault) before(_ context.Context, call leasetest.Call) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if call.Op == leasetest.OpRenew && call.LeaseID == f.failing {
		return renewer.ErrThrottled
	}
	return nil
}

// failCurrent makes the current holder's renewals fail.
func (f *renewFault) failCurrent() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = f.acquired
}
