package mutex_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestBreakOnTimeoutSparesFreshHolder checks that break-on-timeout never
// breaks a new holder whose term the waiter has not yet seen, while the
// container's metadata still names the previous, silent holder: the
// waiter's clock of silence starts over when the lease is not leased
// (breaking, broken, expired, available), after a failed read, and a break
// needs the silence confirmed by reads two poll intervals apart.
func TestBreakOnTimeoutSparesFreshHolder(t *testing.T) {
	const (
		freshID = "0f0f0f0f-0000-4000-8000-000000000002"
		oldID   = "0f0f0f0f-0000-4000-8000-000000000001" // crashedHolder's
	)
	tests := []struct {
		name string
		// give makes the lease change hands at about t0+30 s, the waiter
		// having started at t0; it returns when the fresh holder has
		// acquired, and how long its term write takes.
		give      func(t *testing.T, c *leasetest.Container, w *faultyLeaser) (acquireAt time.Duration, writeDelay time.Duration)
		wantBreak int // break calls in all
	}{
		{
			name: "old holder broken by an operator; fresh holder acquires as the break completes",
			give: func(t *testing.T, c *leasetest.Container, _ *faultyLeaser) (time.Duration, time.Duration) {
				time.Sleep(20 * time.Second)
				if _, err := c.Break(t.Context(), 15*time.Second); err != nil {
					t.Fatalf("operator break: %v", err)
				}
				return 35 * time.Second, 3 * time.Second
			},
			wantBreak: 1,
		},
		{
			name: "waiter cut off from storage while the lease broke and changed hands",
			give: func(t *testing.T, c *leasetest.Container, w *faultyLeaser) (time.Duration, time.Duration) {
				time.Sleep(19 * time.Second)
				w.down.Store(true)
				time.Sleep(time.Second)
				if _, err := c.Break(t.Context(), 15*time.Second); err != nil {
					t.Fatalf("operator break: %v", err)
				}
				time.Sleep(16 * time.Second)
				w.down.Store(false)
				return 35 * time.Second, 3 * time.Second
			},
			wantBreak: 1,
		},
		{
			name: "old holder released and fresh holder acquired between two reads",
			give: func(t *testing.T, c *leasetest.Container, _ *faultyLeaser) (time.Duration, time.Duration) {
				time.Sleep(29*time.Second + 900*time.Millisecond)
				if err := c.Release(t.Context(), oldID); err != nil {
					t.Fatalf("old holder: release: %v", err)
				}
				return 29*time.Second + 900*time.Millisecond, 1400 * time.Millisecond
			},
			wantBreak: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				crashedHolder(t, c, renewer.Infinite, 7) // silent from now on
				f := &faultyLeaser{Leaser: c}
				w := newMutex(t, f, with(infinite, renewer.WithIdentity("waiter")), breakAfter30s)
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(t.Context(), 55*time.Second)
				defer cancel()
				locked := make(chan error, 1)
				go func() {
					h, err := w.Lock(ctx)
					if err == nil {
						_ = h.Unlock(t.Context())
					}
					locked <- err
				}()

				acquireAt, delay := tt.give(t, c, f)
				time.Sleep(time.Until(t0.Add(acquireAt)))
				if _, err := c.Acquire(t.Context(), freshID, renewer.Infinite); err != nil {
					t.Fatalf("fresh holder: acquire: %v", err)
				}
				time.Sleep(delay) // the fresh holder's term write is slow
				md := map[string]string{renewer.MetadataHolder: "fresh", renewer.MetadataTerm: "8", renewer.MetadataHeartbeat: "0"}
				if err := c.SetMetadata(t.Context(), freshID, md); err != nil {
					t.Errorf("fresh holder: write term: %v (its lease was broken)", err)
				}

				if err := <-locked; !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("waiter's Lock = %v, want DeadlineExceeded (the fresh holder holds)", err)
				}
				if got := c.Calls(leasetest.OpBreak); got != tt.wantBreak {
					t.Errorf("break calls = %d, want %d (the fresh holder was broken)", got, tt.wantBreak)
				}
				if got := c.State(); got != renewer.StateLeased {
					t.Errorf("state = %v, want leased by the fresh holder", got)
				}
			})
		})
	}
}
