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

func TestLockUnlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		m := newMutex(t, c, nil)

		h := mustLock(t, m)
		if got, want := h.Term(), int64(1); got != want {
			t.Errorf("Term() = %d, want %d", got, want)
		}
		if err := h.Context().Err(); err != nil {
			t.Fatalf("held context done right after Lock: %v", err)
		}
		time.Sleep(time.Minute) // renewals keep it
		if err := h.Context().Err(); err != nil {
			t.Fatalf("held context done after a minute of renewals: %v", context.Cause(h.Context()))
		}
		mustUnlock(t, h)

		if got := context.Cause(h.Context()); !errors.Is(got, renewer.ErrReleased) {
			t.Errorf("cause after Unlock = %v, want renewer.ErrReleased", got)
		}
		select {
		case <-h.Done():
		default:
			t.Error("Done() not closed after Unlock")
		}
		if got := c.State(); got != renewer.StateAvailable {
			t.Errorf("lease state after Unlock = %v, want available", got)
		}
		if err := h.Unlock(t.Context()); !errors.Is(err, renewer.ErrReleased) {
			t.Errorf("second Unlock = %v, want renewer.ErrReleased", err)
		}
	})
}

func TestTryLock(t *testing.T) {
	tests := []struct {
		name        string
		give        func(t *testing.T, c *leasetest.Container, m *mutex.Mutex) func() // sets up; returns cleanup
		wantErr     error
		wantAcquire int // acquire calls made by the TryLock
	}{
		{
			name:        "free",
			give:        func(*testing.T, *leasetest.Container, *mutex.Mutex) func() { return func() {} },
			wantAcquire: 1,
		},
		{
			name: "held by another Mutex",
			give: func(t *testing.T, c *leasetest.Container, _ *mutex.Mutex) func() {
				h := mustLock(t, newMutex(t, c, named("other")))
				return func() { mustUnlock(t, h) }
			},
			wantErr:     renewer.ErrLeaseHeld,
			wantAcquire: 1,
		},
		{
			name: "held by another goroutine of the same Mutex",
			give: func(t *testing.T, _ *leasetest.Container, m *mutex.Mutex) func() {
				h := mustLock(t, m)
				return func() { mustUnlock(t, h) }
			},
			wantErr:     renewer.ErrLeaseHeld,
			wantAcquire: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				m := newMutex(t, c, nil)
				cleanup := tt.give(t, c, m)
				before := c.Calls(leasetest.OpAcquire)

				h, err := m.TryLock(t.Context())

				if got := c.Calls(leasetest.OpAcquire) - before; got != tt.wantAcquire {
					t.Errorf("TryLock made %d acquire calls, want %d", got, tt.wantAcquire)
				}
				if tt.wantErr == nil {
					if err != nil {
						t.Fatalf("TryLock: %v", err)
					}
					mustUnlock(t, h)
				} else {
					if !errors.Is(err, tt.wantErr) || !errors.Is(err, renewer.ErrLeaseHeld) {
						t.Errorf("TryLock error = %v, want renewer.ErrLeaseHeld wrapping %v", err, tt.wantErr)
					}
					if h != nil {
						t.Errorf("TryLock returned a Held with error %v", err)
					}
				}
				cleanup()
			})
		})
	}
}

func TestLockContextEnds(t *testing.T) {
	tests := []struct {
		name string
		give func(t *testing.T, c *leasetest.Container, m *mutex.Mutex) *mutex.Held // the holder Lock waits behind
	}{
		{
			name: "waiting on storage",
			give: func(t *testing.T, c *leasetest.Container, _ *mutex.Mutex) *mutex.Held {
				return mustLock(t, newMutex(t, c, named("other")))
			},
		},
		{
			name: "waiting in the local queue",
			give: func(t *testing.T, _ *leasetest.Container, m *mutex.Mutex) *mutex.Held {
				return mustLock(t, m)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				m := newMutex(t, c, []renewer.Option{renewer.WithPollInterval(time.Second)})
				holder := tt.give(t, c, m)

				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				start := time.Now()
				h, err := m.Lock(ctx)
				if !errors.Is(err, context.DeadlineExceeded) || h != nil {
					t.Fatalf("Lock = %v, %v; want nil, an error wrapping DeadlineExceeded", h, err)
				}
				if got := time.Since(start); got != 10*time.Second {
					t.Errorf("Lock returned after %v, want 10s", got)
				}
				mustUnlock(t, holder)

				// Nothing is held: the Mutex locks at once.
				h2, err := m.TryLock(t.Context())
				if err != nil {
					t.Fatalf("TryLock after the cancelled Lock: %v", err)
				}
				mustUnlock(t, h2)
			})
		})
	}
}

func TestLockAfterCancelledContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		m := newMutex(t, c, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := m.Lock(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Lock(cancelled) = %v, want Canceled", err)
		}
		if _, err := m.TryLock(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("TryLock(cancelled) = %v, want Canceled", err)
		}
		if got := c.Calls(leasetest.OpAcquire); got != 0 {
			t.Errorf("%d acquire calls with a cancelled context, want 0", got)
		}
	})
}

func TestLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		f := &faultyLeaser{Leaser: c}
		m := newMutex(t, f, named("doomed"))
		rec := &overlap.Recorder{}
		h := mustLock(t, m)
		doomed := rec.Begin(h.Context(), "doomed", h.Deadline)

		f.down.Store(true)                           // cut off: every renew fails
		go func() { <-h.Done(); rec.Stop(doomed) }() // stops acting once its context is done

		other := newMutex(t, c, []renewer.Option{renewer.WithIdentity("next"), renewer.WithPollInterval(time.Second)})
		h2 := mustLock(t, other)
		next := rec.Begin(h2.Context(), "next", h2.Deadline)
		synctest.Wait()
		rec.Stop(next)
		rec.Check(t)
		if cause := context.Cause(h.Context()); !errors.Is(cause, renewer.ErrLeaseLost) {
			t.Errorf("cause = %v, want renewer.ErrLeaseLost", cause)
		}
		if err := h.Unlock(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
			t.Errorf("Unlock of a lost lock = %v, want renewer.ErrLeaseLost", err)
		}
		if err := h.Unlock(t.Context()); !errors.Is(err, renewer.ErrReleased) {
			t.Errorf("second Unlock of a lost lock = %v, want renewer.ErrReleased", err)
		}
		if h2.Term() <= h.Term() {
			t.Errorf("next term %d, want more than %d", h2.Term(), h.Term())
		}
		mustUnlock(t, h2)
	})
}
