package mutex_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestUnlockOwnContext checks the natural deferred call,
// Unlock(h.Context()): it returns nil, and waits for the release, though
// the call itself cancels that context.
func TestUnlockOwnContext(t *testing.T) {
	tests := []struct {
		name string
		give func(h *mutex.Held) context.Context
	}{
		{name: "the held context", give: (*mutex.Held).Context},
		{name: "a context derived from it", give: func(h *mutex.Held) context.Context {
			ctx, cancel := context.WithCancel(h.Context())
			_ = cancel // ends with h's context
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
				m := newMutex(t, c, nil)
				h := mustLock(t, m)
				if err := h.Unlock(tt.give(h)); err != nil {
					t.Errorf("Unlock(own context) = %v, want nil", err)
				}
				if got := c.State(); got != renewer.StateAvailable {
					t.Errorf("state once Unlock(own context) returned = %v, want available (it waits for the release)", got)
				}
				if got := c.Calls(leasetest.OpRelease); got != 1 {
					t.Errorf("release calls = %d, want 1", got)
				}
			})
		})
	}
}

// TestUnlockOwnContextWaitsForEveryTry: with storage cut off (every
// release try hangs until its call times out), Unlock(h.Context()) waits
// for all of the release's tries, whose bound is Timing.ReleaseBound, and
// returns nil; it does not give up after the first tries.
func TestUnlockOwnContextWaitsForEveryTry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		c.SetBefore(func(ctx context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRelease {
				<-ctx.Done() // no answer: the try times out
				return ctx.Err()
			}
			return nil
		})
		m := newMutex(t, c, nil)
		h := mustLock(t, m)
		start := time.Now()
		if err := h.Unlock(h.Context()); err != nil {
			t.Errorf("Unlock(own context) with storage cut off = %v, want nil", err)
		}
		if got := c.Calls(leasetest.OpRelease); got != 3 {
			t.Errorf("release tries = %d, want 3", got)
		}
		defaults, err := renewer.New(leasetest.New())
		if err != nil {
			t.Fatal(err)
		}
		if took, bound := time.Since(start), defaults.Timing().ReleaseBound(); took > bound {
			t.Errorf("Unlock took %v, more than the release bound %v", took, bound)
		}
	})
}

// TestUnlockOwnContextHandsOver checks Unlock(h.Context()) with another
// goroutine of the Mutex waiting: the lock passes to it.
func TestUnlockOwnContextHandsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		m := newMutex(t, c, nil)
		h := mustLock(t, m)
		next := lockLater(t, m, "waiter")
		if err := h.Unlock(h.Context()); err != nil {
			t.Errorf("Unlock(own context) = %v, want nil", err)
		}
		h2 := next()
		if err := h2.Context().Err(); err != nil {
			t.Errorf("next holder's context done: %v", context.Cause(h2.Context()))
		}
		if err := h2.Unlock(h2.Context()); err != nil {
			t.Errorf("next holder's Unlock(own context) = %v, want nil", err)
		}
		if got := c.State(); got != renewer.StateAvailable {
			t.Errorf("state after the last Unlock = %v, want available", got)
		}
	})
}
