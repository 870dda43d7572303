package mutex_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// infinite and breakAfter30s are the options of every Mutex in the
// infinite-lease tests, its renewer's and its own: renew every 5 s (a third
// of the default 15 s break period), break after 30 s without a sign of
// life.
var (
	infinite = []renewer.Option{
		renewer.WithDuration(renewer.Infinite),
		renewer.WithPollInterval(time.Second),
	}
	breakAfter30s = mutex.WithBreakOnTimeout(30 * time.Second)
)

func TestBreakOnTimeoutDeadHolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		crashedHolder(t, c, renewer.Infinite, 7)
		m := newMutex(t, c, infinite, breakAfter30s)

		start := time.Now()
		h := mustLock(t, m)
		took := time.Since(start)

		// Timeout 30 s, confirmed over two poll intervals (2 s), then
		// the 15 s break period, plus up to three jittered polls.
		if took < 47*time.Second || took > 51*time.Second {
			t.Errorf("Lock took %v, want 47s to 51s (timeout, confirmation, then break period)", took)
		}
		if got := c.Calls(leasetest.OpBreak); got != 1 {
			t.Errorf("break calls = %d, want 1", got)
		}
		if got, want := h.Term(), int64(8); got != want {
			t.Errorf("Term() = %d, want %d", got, want)
		}
		mustUnlock(t, h)
	})
}

func TestBreakOnTimeoutNeverBreaksLiveHolder(t *testing.T) {
	tests := []struct {
		name string
		give []mutex.Option // of the waiter, on top of infinite and breakAfter30s
	}{
		{name: "break-on-timeout", give: nil},
		{name: "break-on-timeout at its minimum", give: []mutex.Option{mutex.WithBreakOnTimeout(15 * time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				holder := mustLock(t, newMutex(t, c, with(infinite, renewer.WithIdentity("live")), breakAfter30s))
				waiter := newMutex(t, c, infinite, append([]mutex.Option{breakAfter30s}, tt.give...)...)

				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
				defer cancel()
				if h, err := waiter.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("waiter's Lock = %v, %v; want DeadlineExceeded", h, err)
				}
				if got := c.Calls(leasetest.OpBreak); got != 0 {
					t.Errorf("break calls = %d, want 0", got)
				}
				if err := holder.Context().Err(); err != nil {
					t.Errorf("live holder's context ended: %v", context.Cause(holder.Context()))
				}
				mustUnlock(t, holder)
			})
		})
	}
}

// TestBrokenHolderStopsFirst checks that a holder whose lease is broken by
// a waiter has stopped (its context cancelled, or its validity deadline
// passed) before the waiter holds the lock.
func TestBrokenHolderStopsFirst(t *testing.T) {
	tests := []struct {
		name   string
		timing []renewer.Option // of both holder's and waiter's renewers
		give   []mutex.Option   // of both holder and waiter
		stall  func(f *faultyLeaser)
		want   time.Duration // when the waiter breaks: it holds between then and the break period later
	}{
		{
			name:   "infinite lease whose heartbeat stalls",
			timing: infinite,
			give:   []mutex.Option{breakAfter30s},
			stall:  func(f *faultyLeaser) { f.noBeat.Store(true) },
			want:   30 * time.Second,
		},
		{
			name:   "fixed lease held past max-hold",
			timing: []renewer.Option{renewer.WithPollInterval(time.Second)},
			give:   []mutex.Option{mutex.WithMaxHold(time.Minute)},
			stall:  func(*faultyLeaser) {},
			want:   time.Minute,
		},
		{
			name:   "infinite lease held past max-hold",
			timing: infinite,
			give:   []mutex.Option{mutex.WithMaxHold(time.Minute), breakAfter30s},
			stall:  func(*faultyLeaser) {},
			want:   time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				f := &faultyLeaser{Leaser: c}
				rec := &overlap.Recorder{}
				holder := mustLock(t, newMutex(t, f, with(tt.timing, renewer.WithIdentity("stuck")), tt.give...))
				stuck := rec.Begin(holder.Context(), "stuck", holder.Deadline)
				tt.stall(f)
				go func() { <-holder.Done(); rec.Stop(stuck) }() // stops acting once its context is done

				start := time.Now()
				h := mustLock(t, newMutex(t, c, with(tt.timing, renewer.WithIdentity("waiter")), tt.give...))
				heldAt := time.Now()
				waiter := rec.Begin(h.Context(), "waiter", h.Deadline)
				synctest.Wait()
				rec.Stop(waiter)
				rec.Check(t)
				// The broken holder's next renew fails, it stops and releases
				// (a release ends a breaking lease), so the waiter may hold
				// before the 15 s break period is over.
				if got, most := heldAt.Sub(start), tt.want+18*time.Second; got < tt.want || got > most {
					t.Errorf("waiter held after %v, want %v to %v", got, tt.want, most)
				}
				if cause := context.Cause(holder.Context()); !errors.Is(cause, renewer.ErrLeaseLost) {
					t.Errorf("broken holder's cause = %v, want renewer.ErrLeaseLost", cause)
				}
				if got := c.Calls(leasetest.OpBreak); got != 1 {
					t.Errorf("break calls = %d, want 1", got)
				}
				if err := holder.Unlock(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
					t.Errorf("broken holder's Unlock = %v, want renewer.ErrLeaseLost", err)
				}
				mustUnlock(t, h)
			})
		})
	}
}

func TestOperatorBreak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		holder := mustLock(t, newMutex(t, c, named("holder")))
		op := newMutex(t, c, named("operator"))

		left, err := op.Break(t.Context(), "test: operator says so")
		if err != nil {
			t.Fatalf("Break: %v", err)
		}
		if left <= 0 || left > 15*time.Second {
			t.Errorf("Break left %v, want up to the 15 s lease", left)
		}
		start := time.Now()
		<-holder.Done()
		if got := time.Since(start); got >= left {
			t.Errorf("holder stopped %v after the break, want before it completes (%v)", got, left)
		}
		if err := holder.Unlock(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
			t.Errorf("Unlock after a break = %v, want renewer.ErrLeaseLost", err)
		}
		st, err := op.Status(t.Context())
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		if st.Holder != "holder" || st.Term != 1 {
			t.Errorf("Status = holder %q term %d, want \"holder\" 1", st.Holder, st.Term)
		}
	})
}
