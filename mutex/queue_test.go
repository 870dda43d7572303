package mutex_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestLocalQueue checks that goroutines of one Mutex take the lock in
// arrival order, that each hand-over keeps the lease (one acquire and one
// release in all), that no two holds overlap (each ends, by Unlock or its
// validity deadline, before the next begins), and that terms, the fencing
// numbers, go up by one per holding.
func TestLocalQueue(t *testing.T) {
	tests := []struct {
		name string
		give int // goroutines queued behind the first holder
	}{
		{name: "one waiter", give: 1},
		{name: "four waiters", give: 4},
		{name: "sixteen waiters", give: 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				m := newMutex(t, c, nil)
				rec := &overlap.Recorder{}
				first := mustLock(t, m)
				firstHold := rec.Begin(first.Context(), "first", first.Deadline)

				var (
					order []int // who held, in order; guarded by the lock under test
					terms = []int64{first.Term()}
					wg    sync.WaitGroup
				)
				for i := range tt.give {
					wg.Go(func() {
						h, err := m.Lock(t.Context())
						if err != nil {
							t.Errorf("goroutine %d: Lock: %v", i, err)
							return
						}
						hd := rec.Begin(h.Context(), fmt.Sprintf("goroutine %d", i), h.Deadline)
						if err := h.Context().Err(); err != nil {
							t.Errorf("goroutine %d: context done on hand-over: %v", i, err)
						}
						order, terms = append(order, i), append(terms, h.Term())
						time.Sleep(time.Second) // work
						rec.Stop(hd)
						if err := h.Unlock(t.Context()); err != nil {
							t.Errorf("goroutine %d: Unlock: %v", i, err)
						}
					})
					synctest.Wait() // queued in order i
				}
				rec.Stop(firstHold)
				mustUnlock(t, first)
				wg.Wait()
				rec.Check(t)

				for i, got := range order {
					if got != i {
						t.Fatalf("hold order %v, want arrival order", order)
					}
				}
				for i := 1; i < len(terms); i++ {
					if terms[i] != terms[i-1]+1 {
						t.Fatalf("terms %v do not go up by one per holding", terms)
					}
				}
				for _, tc := range []struct {
					op   leasetest.Op
					want int
				}{{op: leasetest.OpAcquire, want: 1}, {op: leasetest.OpRelease, want: 1}} {
					if got := c.Calls(tc.op); got != tc.want {
						t.Errorf("%s calls = %d, want %d", tc.op, got, tc.want)
					}
				}
			})
		})
	}
}

// TestOnePollerPerMutex checks that goroutines waiting on one Mutex while
// another process holds the lock poll storage once per poll interval in
// all, not once each.
func TestOnePollerPerMutex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		holder := mustLock(t, newMutex(t, c, named("other")))
		m := newMutex(t, c, []renewer.Option{renewer.WithPollInterval(time.Second)})

		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := m.Lock(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("Lock = %v, want Canceled", err)
				}
			})
		}
		synctest.Wait()
		before := c.Calls(leasetest.OpAcquire)
		time.Sleep(20 * time.Second)
		polls := c.Calls(leasetest.OpAcquire) - before
		cancel()
		wg.Wait()

		// One poller, every 0.8 s to 1.2 s: 17 to 25 attempts in 20 s.
		if polls < 16 || polls > 26 {
			t.Errorf("%d acquire attempts in 20 s by 8 waiters polling every 1 s, want 17 to 25 (one poller)", polls)
		}
		mustUnlock(t, holder)
	})
}

// TestHandOverAfterLoss checks that a lease lost under a local holder is not
// handed over: the next local holder acquires anew, with a higher term.
func TestHandOverAfterLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		f := &faultyLeaser{Leaser: c}
		m := newMutex(t, f, []renewer.Option{renewer.WithPollInterval(time.Second)})
		h := mustLock(t, m)

		next := lockLater(t, m, "waiter")
		f.down.Store(true)
		<-h.Done()
		f.down.Store(false)
		if err := h.Unlock(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
			t.Errorf("Unlock after loss = %v, want renewer.ErrLeaseLost", err)
		}
		h2 := next()
		if h2.Term() != h.Term()+1 {
			t.Errorf("after loss: term %d, want %d", h2.Term(), h.Term()+1)
		}
		mustUnlock(t, h2)
	})
}
