package election_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// windDown is how long the OnElected of the Resign tests takes to return
// once its context is done: longer than a standby's poll interval, so that
// a release made before OnElected returns lets a standby in before it.
const windDown = 3 * time.Second

// TestRunResignWaitsForOnElected checks that Resign, called from outside
// OnElected while Run leads, releases the lease only once OnElected has
// returned (Callbacks, steps 4 and 5), and that Resign waits for that
// release: a standby becomes leader after the old OnElected returned, and
// Resign returns after it too.
func TestRunResignWaitsForOnElected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		var (
			mu       sync.Mutex
			returned time.Time // when a's OnElected returned
		)
		elected := make(chan struct{})
		stopRun := runLater(t, a, election.Callbacks{OnElected: func(lctx context.Context, _ int64) {
			close(elected)
			<-lctx.Done()
			time.Sleep(windDown) // winds down, still acting as leader
			mu.Lock()
			returned = time.Now()
			mu.Unlock()
		}})
		<-elected

		b := newCandidate(t, c, "b")
		won := make(chan *election.Leadership, 1)
		go func() {
			lb, err := b.Campaign(t.Context())
			if err != nil {
				t.Errorf("b: Campaign: %v", err)
			}
			won <- lb
		}()
		time.Sleep(10 * time.Second) // b polls, a leads

		if err := a.Resign(t.Context()); err != nil {
			t.Errorf("Resign = %v, want nil", err)
		}
		resignedAt := time.Now()
		lb := <-won
		wonAt := time.Now()
		mu.Lock()
		ret := returned
		mu.Unlock()

		if ret.IsZero() || resignedAt.Before(ret) {
			t.Errorf("Resign returned %v before OnElected returned, want after", ret.Sub(resignedAt))
		}
		if ret.IsZero() || wonAt.Before(ret) {
			t.Errorf("b elected %v before a's OnElected returned: two leaders at once", ret.Sub(wonAt))
		}
		if lb != nil {
			if err := lb.Resign(t.Context()); err != nil {
				t.Errorf("b: Resign: %v", err)
			}
		}
		stopRun()
	})
}

// TestRunResignBoundedByContext checks that Resign under Run waits for the
// release no longer than its context, and that the release still happens
// only once OnElected has returned.
func TestRunResignBoundedByContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		elected := make(chan struct{})
		var releasedEarly bool
		stopRun := runLater(t, a, election.Callbacks{OnElected: func(lctx context.Context, _ int64) {
			close(elected)
			<-lctx.Done()
			time.Sleep(windDown)
			releasedEarly = c.State() != renewer.StateLeased
		}})
		<-elected

		rctx, rcancel := context.WithTimeout(t.Context(), time.Second)
		start := time.Now()
		err := a.Resign(rctx)
		rcancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Resign with a 1 s context, OnElected taking %v = %v, want DeadlineExceeded", windDown, err)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("Resign returned after %v, want 1s", got)
		}
		time.Sleep(windDown)
		synctest.Wait()
		if releasedEarly {
			t.Error("lease released before OnElected returned")
		}
		if got := c.State(); got != renewer.StateAvailable {
			t.Errorf("state after OnElected returned = %v, want available", got)
		}
		stopRun()
	})
}

// TestRunResignFromOnElected checks the natural call inside OnElected,
// Resign with OnElected's own context: it returns at once, without error
// (Run releases once OnElected has returned), and Run then stands aside.
func TestRunResignFromOnElected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		var (
			resignErr error
			took      time.Duration
			leasedIn  bool // still leased once Resign returned, inside OnElected
		)
		done := make(chan struct{})
		stopRun := runLater(t, a, election.Callbacks{OnElected: func(lctx context.Context, _ int64) {
			select {
			case <-done:
				<-lctx.Done()
				return
			default:
			}
			defer close(done)
			start := time.Now()
			resignErr = a.Resign(lctx)
			took = time.Since(start)
			leasedIn = c.State() == renewer.StateLeased
		}})
		<-done
		synctest.Wait()
		if resignErr != nil {
			t.Errorf("Resign(own context) inside OnElected = %v, want nil", resignErr)
		}
		if took != 0 {
			t.Errorf("Resign(own context) inside OnElected took %v, want no wait", took)
		}
		if !leasedIn {
			t.Error("lease released while OnElected ran")
		}
		stopRun()
	})
}

// TestResignOwnContext checks the natural deferred call after Campaign,
// Resign(ld.Context()): it returns nil once the lease is released, though
// the call itself cancels that context.
func TestResignOwnContext(t *testing.T) {
	tests := []struct {
		name string
		give func(ld *election.Leadership) context.Context
	}{
		{name: "the leadership context", give: (*election.Leadership).Context},
		{name: "a context derived from it", give: func(ld *election.Leadership) context.Context {
			ctx, cancel := context.WithCancel(ld.Context())
			_ = cancel // ends with ld's context
			return ctx
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				// Slow storage: the release takes a second to answer.
				c.SetBefore(func(ctx context.Context, call leasetest.Call) error {
					if call.Op == leasetest.OpRelease {
						select {
						case <-time.After(time.Second):
						case <-ctx.Done():
						}
					}
					return nil
				})
				e := newCandidate(t, c, "a")
				ld, err := e.Campaign(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if err := ld.Resign(tt.give(ld)); err != nil {
					t.Errorf("Resign(own context) = %v, want nil", err)
				}
				if got := c.State(); got != renewer.StateAvailable {
					t.Errorf("state once Resign(own context) returned = %v, want available (it waits for the release)", got)
				}
				if got := c.Calls(leasetest.OpRelease); got != 1 {
					t.Errorf("release calls = %d, want 1", got)
				}
			})
		})
	}
}

// TestLeadershipDeadline checks that Deadline is the lease's validity
// deadline: the last renewal's send time plus L less the margin.
func TestLeadershipDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		e := newCandidate(t, c, "a")
		ld, err := e.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		tm := e.Timing()
		if got, want := ld.Deadline(), ld.LastRenewed().Add(tm.Duration-tm.Margin); !got.Equal(want) {
			t.Errorf("Deadline() = %v, want LastRenewed + L - M = %v", got, want)
		}
		if !ld.Deadline().After(time.Now()) {
			t.Errorf("Deadline() %v not after now %v while leading", ld.Deadline(), time.Now())
		}
		if err := ld.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRunStandsAsideAfterResignWhenReadsFail: after a Resign, Run makes no
// acquire attempt for two poll intervals even when its reads of the lease
// fail, so that a standby takes over; it does not take the failed read as
// leave to acquire at once.
func TestRunStandsAsideAfterResignWhenReadsFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		var mu sync.Mutex
		failReads := false
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			mu.Lock()
			defer mu.Unlock()
			if call.Op == leasetest.OpProperties && failReads {
				return renewer.ErrThrottled
			}
			return nil
		})
		e := newCandidate(t, c, "a")
		ctx, cancel := context.WithCancel(t.Context())
		elected := make(chan struct{}, 2)
		done := make(chan error, 1)
		go func() {
			done <- e.Run(ctx, election.Callbacks{OnElected: func(lctx context.Context, _ int64) {
				elected <- struct{}{}
				<-lctx.Done()
			}})
		}()
		<-elected
		mu.Lock()
		failReads = true
		mu.Unlock()
		before := c.Calls(leasetest.OpAcquire)
		if err := e.Resign(t.Context()); err != nil {
			t.Fatalf("Resign: %v", err)
		}
		time.Sleep(2*e.Timing().PollInterval - 100*time.Millisecond)
		if got := c.Calls(leasetest.OpAcquire) - before; got != 0 {
			t.Errorf("acquire attempts within two poll intervals of the Resign = %d, want 0", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}
