package mutex_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestMaxHoldBoundsBusyProcess checks that WithMaxHold bounds a busy
// process: eight goroutines of one Mutex take the lock in turn, each for
// half a second, and a waiter of another Mutex gets the lock within the
// documented bound for brief local holds (max-hold/2 + the longest local
// hold + 3 poll intervals), without breaking anything; no two holds
// overlap.
func TestMaxHoldBoundsBusyProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			maxHold = time.Minute
			poll    = time.Second
			work    = 500 * time.Millisecond
		)
		c := leasetest.New()
		pollEvery := renewer.WithPollInterval(poll)
		busy := newMutex(t, c, []renewer.Option{renewer.WithIdentity("busy"), pollEvery}, mutex.WithMaxHold(maxHold))
		remote := newMutex(t, c, []renewer.Option{renewer.WithIdentity("remote"), pollEvery}, mutex.WithMaxHold(maxHold))
		rec := &overlap.Recorder{}

		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for n := 0; n < 100_000 && ctx.Err() == nil; n++ {
					h, err := busy.Lock(ctx)
					if err != nil {
						return
					}
					hd := rec.Begin(h.Context(), "busy", h.Deadline)
					select {
					case <-time.After(work):
					case <-h.Done():
					}
					rec.Stop(hd)
					_ = h.Unlock(t.Context())
				}
			})
		}
		time.Sleep(5 * time.Second) // busy holds and hands over

		start := time.Now()
		lctx, lcancel := context.WithTimeout(t.Context(), 10*time.Minute)
		h, err := remote.Lock(lctx)
		lcancel()
		took := time.Since(start)
		if err != nil {
			cancel()
			wg.Wait()
			t.Fatalf("remote Lock: %v (after %v)", err, took)
		}
		hd := rec.Begin(h.Context(), "remote", h.Deadline)
		t.Logf("remote waiter got the lock after %v", took)
		if bound := maxHold/2 + work + 3*poll; took > bound {
			t.Errorf("remote waiter got the lock after %v, want at most %v (max-hold/2 + local hold + 3 polls)", took, bound)
		}
		time.Sleep(time.Second)
		rec.Stop(hd)
		mustUnlock(t, h)
		time.Sleep(5 * time.Second) // busy takes it back
		cancel()
		wg.Wait()

		if got := c.Calls(leasetest.OpBreak); got != 0 {
			t.Errorf("break calls = %d, want 0 (the busy process lets go by itself)", got)
		}
		rec.Check(t)
	})
}
