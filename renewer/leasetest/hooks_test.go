package leasetest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

var errInjected = errors.New("injected")

// calls are one call of each operation, made with id as the lease ID.
var calls = []struct {
	op   leasetest.Op
	give func(ctx context.Context, c *leasetest.Container) error
}{
	{op: leasetest.OpAcquire, give: acquireFor(idB, 15*time.Second)},
	{op: leasetest.OpRenew, give: func(ctx context.Context, c *leasetest.Container) error {
		_, err := c.Renew(ctx, idA)
		return err
	}},
	{op: leasetest.OpChange, give: func(ctx context.Context, c *leasetest.Container) error {
		_, err := c.Change(ctx, idA, idC)
		return err
	}},
	{op: leasetest.OpRelease, give: func(ctx context.Context, c *leasetest.Container) error {
		return c.Release(ctx, idA)
	}},
	{op: leasetest.OpBreak, give: breakFor(0)},
	{op: leasetest.OpProperties, give: func(ctx context.Context, c *leasetest.Container) error {
		_, err := c.Properties(ctx)
		return err
	}},
	{op: leasetest.OpSetMetadata, give: setMetadata(idA, map[string]string{"k": "w"})},
}

// unchanged checks that c is still leased to A until 15 s after the start
// of the bubble, with metadata k=v.
func unchanged(t *testing.T, c *leasetest.Container) {
	t.Helper()
	if got := c.Metadata()["k"]; got != "v" {
		t.Errorf("metadata k = %q, want v as before", got)
	}
	time.Sleep(time.Until(epoch.Add(15*time.Second - time.Nanosecond)))
	if got := c.State(); got != renewer.StateLeased {
		t.Errorf("state = %v, want leased as before", got)
	}
	time.Sleep(time.Nanosecond)
	if got := c.State(); got != renewer.StateExpired {
		t.Errorf("state at A's end = %v, want expired as before", got)
	}
}

func TestDoneContextIsRefusedAndChangesNothing(t *testing.T) {
	for _, tt := range calls {
		t.Run(string(tt.op), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasedA(t)
				n := c.Calls(tt.op)
				hooked := false
				c.SetBefore(func(context.Context, leasetest.Call) error { hooked = true; return nil })
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				if err := tt.give(ctx, c); !errors.Is(err, context.Canceled) {
					t.Errorf("error = %v, want context.Canceled", err)
				}
				if hooked {
					t.Error("the before hook ran")
				}
				if got := c.Calls(tt.op); got != n+1 {
					t.Errorf("Calls(%s) = %d, want %d: refused calls count", tt.op, got, n+1)
				}
				unchanged(t, c)
			})
		})
	}
}

func TestBeforeHookRefusesCalls(t *testing.T) {
	for _, tt := range calls {
		t.Run(string(tt.op), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasedA(t)
				var got leasetest.Call
				c.SetBefore(func(_ context.Context, call leasetest.Call) error { got = call; return errInjected })
				if err := tt.give(t.Context(), c); !errors.Is(err, errInjected) {
					t.Errorf("error = %v, want the hook's", err)
				}
				if got.Op != tt.op {
					t.Errorf("the hook saw %+v, want op %s", got, tt.op)
				}
				c.SetBefore(nil)
				unchanged(t, c)
			})
		})
	}
}

func TestHooksSeeTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		var before, after []leasetest.Call
		var errs []error
		c.SetBefore(func(_ context.Context, call leasetest.Call) error { before = append(before, call); return nil })
		c.SetAfter(func(_ context.Context, call leasetest.Call, err error) error {
			after = append(after, call)
			errs = append(errs, err)
			return err
		})
		ctx := t.Context()
		_, _ = c.Acquire(ctx, idA, 20*time.Second)
		_, _ = c.Change(ctx, idA, idC)
		_, _ = c.Renew(ctx, idA)
		_, _ = c.Break(ctx, renewer.BreakAtExpiry)
		_ = c.SetMetadata(ctx, idC, nil)
		want := []leasetest.Call{
			{Op: leasetest.OpAcquire, LeaseID: idA, Duration: 20 * time.Second},
			{Op: leasetest.OpChange, LeaseID: idA, ProposedID: idC},
			{Op: leasetest.OpRenew, LeaseID: idA},
			{Op: leasetest.OpBreak, Duration: renewer.BreakAtExpiry},
			{Op: leasetest.OpSetMetadata, LeaseID: idC},
		}
		for i := range want {
			if i >= len(before) || before[i] != want[i] || i >= len(after) || after[i] != want[i] {
				t.Fatalf("before hook saw %+v, after hook %+v; want %+v for both", before, after, want)
			}
		}
		wantErrs := []error{nil, nil, renewer.ErrNoLease, nil, nil}
		for i, w := range wantErrs {
			if !errors.Is(errs[i], w) {
				t.Errorf("after hook of %s got error %v, want %v", want[i].Op, errs[i], w)
			}
		}
	})
}

func TestBeforeHookModelsLatencyAndHangs(t *testing.T) {
	tests := []struct {
		name      string
		give      time.Duration // the hook's delay; it ignores ctx
		timeout   time.Duration // the caller's
		wantErr   error
		wantState renewer.LeaseState
	}{
		{name: "slow, in time", give: time.Second, timeout: 2 * time.Second, wantErr: nil, wantState: renewer.StateLeased},
		{name: "too slow, applied all the same", give: 3 * time.Second, timeout: 2 * time.Second, wantErr: context.DeadlineExceeded, wantState: renewer.StateLeased},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				c.SetBefore(func(context.Context, leasetest.Call) error { time.Sleep(tt.give); return nil })
				ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
				defer cancel()
				start := time.Now()
				if _, err := c.Acquire(ctx, idA, 15*time.Second); !errors.Is(err, tt.wantErr) {
					t.Errorf("Acquire: error = %v, want %v", err, tt.wantErr)
				}
				if got := time.Since(start); got != tt.give {
					t.Errorf("Acquire took %v, want %v", got, tt.give)
				}
				if got := c.State(); got != tt.wantState {
					t.Errorf("state = %v, want %v", got, tt.wantState)
				}
			})
		})
	}
}

func TestBeforeHookHangsUntilTheCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasedA(t)
		c.SetBefore(func(ctx context.Context, _ leasetest.Call) error {
			<-ctx.Done()
			return ctx.Err()
		})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := c.Renew(ctx, idA); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Renew: error = %v, want DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("Renew took %v, want the caller's 2s", got)
		}
		c.SetBefore(nil)
		unchanged(t, c)
	})
}

func TestAfterHookLosesTheAnswerOfAnAppliedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		c.SetAfter(func(context.Context, leasetest.Call, error) error { return errInjected })
		if got, err := c.Acquire(t.Context(), idA, 15*time.Second); got != "" || !errors.Is(err, errInjected) {
			t.Errorf("Acquire = %q, %v; want \"\", the hook's error", got, err)
		}
		if got := c.State(); got != renewer.StateLeased {
			t.Errorf("state = %v, want leased: the call was applied", got)
		}
		c.SetAfter(nil)
		if got, err := c.Acquire(t.Context(), idA, 15*time.Second); got != idA || err != nil {
			t.Errorf("Acquire again, hook removed = %q, %v; want %q, nil", got, err, idA)
		}
	})
}

func TestCallsCountsEveryCallButNotInspection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		_, _ = c.Acquire(t.Context(), idA, 15*time.Second)
		_, _ = c.Acquire(t.Context(), idB, 15*time.Second) // refused
		_, _ = c.Acquire(t.Context(), "bad", 15*time.Second)
		_ = c.State()
		_ = c.Metadata()
		want := map[leasetest.Op]int{leasetest.OpAcquire: 3, leasetest.OpRenew: 0, leasetest.OpProperties: 0, "unknown": 0}
		for op, n := range want {
			if got := c.Calls(op); got != n {
				t.Errorf("Calls(%s) = %d, want %d", op, got, n)
			}
		}
	})
}

// Several holders contend for one Container, each with its own lease ID; at
// most one holds it at a time. Run with -race.
func TestConcurrentHoldersExcludeEachOther(t *testing.T) {
	ids := []string{idA, idB, idC, "dddddddd-dddd-4ddd-8ddd-dddddddddddd"}
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		var (
			mu      sync.Mutex // protects holders and rounds
			holders int
			rounds  int
		)
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				for range 50 {
					if _, err := c.Acquire(t.Context(), id, 15*time.Second); err != nil {
						time.Sleep(time.Second)
						continue
					}
					mu.Lock()
					holders++
					rounds++
					if holders > 1 {
						t.Errorf("%d holders at once", holders)
					}
					mu.Unlock()
					if err := c.SetMetadata(t.Context(), id, map[string]string{"holder": id[:1]}); err != nil {
						t.Errorf("holder %s: SetMetadata: %v", id[:1], err)
					}
					time.Sleep(time.Second)
					mu.Lock()
					holders--
					mu.Unlock()
					if err := c.Release(t.Context(), id); err != nil {
						t.Errorf("holder %s: Release: %v", id[:1], err)
					}
				}
			})
		}
		wg.Wait()
		if rounds == 0 {
			t.Error("no one ever held the lease")
		}
	})
}
