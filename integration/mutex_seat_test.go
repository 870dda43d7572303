package integration_test

import (
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// TestMutexWaitingSeat runs the report that led to the waiting seat, on
// Azurite: two processes (separate SDK clients), each locking five times in
// a row. The one that starts waiting while the other holds gets the lock
// after at most one relock of the other, through the waiting seat (the blob
// ".waiting" in the container); without it, it waited for all five.
func TestMutexWaitingSeat(t *testing.T) {
	t.Parallel()
	const p = 100 * time.Millisecond
	name, _ := newContainer(t, "mutex-seat")
	a := newMutex(t, name, []renewer.Option{renewer.WithIdentity("a"), renewer.WithPollInterval(p)})
	b := newMutex(t, name, []renewer.Option{renewer.WithIdentity("b"), renewer.WithPollInterval(p)})
	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
	)
	first, err := a.Lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() {
		for range 5 {
			h, err := b.Lock(t.Context())
			if err != nil {
				t.Errorf("b: Lock: %v", err)
				return
			}
			mu.Lock()
			order = append(order, "b")
			mu.Unlock()
			time.Sleep(4 * p)
			if err := h.Unlock(t.Context()); err != nil {
				t.Errorf("b: Unlock: %v", err)
			}
		}
	})
	time.Sleep(2 * p) // b waits, and takes the seat
	mu.Lock()
	order = append(order, "a")
	mu.Unlock()
	time.Sleep(2 * p)
	if err := first.Unlock(t.Context()); err != nil {
		t.Errorf("a: Unlock: %v", err)
	}
	for range 4 {
		h, err := a.Lock(t.Context())
		if err != nil {
			t.Fatalf("a: Lock: %v", err)
		}
		mu.Lock()
		order = append(order, "a")
		mu.Unlock()
		time.Sleep(4 * p)
		if err := h.Unlock(t.Context()); err != nil {
			t.Errorf("a: Unlock: %v", err)
		}
	}
	wg.Wait()
	t.Logf("holders in order: %v", order)
	for i, who := range order {
		if who == "b" {
			if i > 2 {
				t.Errorf("b first held after %d holdings of a, want after at most 2 (one relock): %v", i, order)
			}
			return
		}
	}
	t.Errorf("b never held: %v", order)
}
