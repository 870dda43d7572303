package mutex_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// leaseIDs records the lease ID of every holding a Container grants: by
// acquire and by change.
type leaseIDs struct {
	mu  sync.Mutex
	ids []string
}

func (l *leaseIDs) after(_ context.Context, call leasetest.Call, err error) error {
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch call.Op {
	case leasetest.OpAcquire:
		l.ids = append(l.ids, call.LeaseID)
	case leasetest.OpChange:
		l.ids = append(l.ids, call.ProposedID)
	}
	return err
}

func (l *leaseIDs) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}

// TestLocalHandOverIsAHolding checks that a local hand-over is a holding of
// its own: the next holder's term, its fencing number, is one more, written
// to the container under a fresh lease ID (one change and one metadata
// write per hand-over), so that a late request of the previous holding
// cannot touch the next one.
func TestLocalHandOverIsAHolding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ids := &leaseIDs{}
		c.SetAfter(ids.after)
		m := newMutex(t, c, nil)
		const n = 4
		first := mustLock(t, m)
		helds := make(chan *mutex.Held, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				h, err := m.Lock(t.Context())
				if err != nil {
					t.Errorf("Lock: %v", err)
					return
				}
				if got, want := c.Metadata()[renewer.MetadataTerm], strconv.FormatInt(h.Term(), 10); got != want {
					t.Errorf("term in the container = %s while holder has term %s: want it written before Lock returns", got, want)
				}
				helds <- h
				time.Sleep(time.Second)
				mustUnlock(t, h)
			})
			synctest.Wait()
		}
		writes := c.Calls(leasetest.OpSetMetadata)
		mustUnlock(t, first)
		wg.Wait()
		close(helds)

		prev := first.Term()
		for h := range helds {
			if h.Term() != prev+1 {
				t.Errorf("term after a local hand-over = %d, want %d (+1 per holding)", h.Term(), prev+1)
			}
			prev = h.Term()
		}
		if got := c.Calls(leasetest.OpChange); got != n+1 {
			t.Errorf("change calls = %d, want %d (one right after the acquire, one per hand-over)", got, n+1)
		}
		if got := c.Calls(leasetest.OpSetMetadata) - writes; got != n+1 {
			t.Errorf("metadata writes during hand-overs = %d, want %d (one per hand-over, and the last holder's released marker)", got, n+1)
		}
		if got := c.Calls(leasetest.OpAcquire); got != 1 {
			t.Errorf("acquire calls = %d, want 1", got)
		}
		got := ids.all()
		if len(got) != n+2 { // the acquire's, the first holding's, one per hand-over
			t.Fatalf("lease IDs granted: %q, want %d", got, n+2)
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("lease ID %s used by two holdings", id)
			}
			seen[id] = true
		}
	})
}

// TestLateRequestOfHandedOverHolding checks that a request of a holding
// that reaches storage after the hand-over, here a term write under its
// lease ID, is refused: it cannot touch the next holding's lease.
func TestLateRequestOfHandedOverHolding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ids := &leaseIDs{}
		c.SetAfter(ids.after)
		m := newMutex(t, c, nil)
		h := mustLock(t, m)
		next := lockLater(t, m, "next holder")
		mustUnlock(t, h)
		h2 := next()
		old := ids.all()[0]
		md := map[string]string{renewer.MetadataTerm: strconv.FormatInt(h.Term(), 10), renewer.MetadataHolder: "late"}
		if err := c.SetMetadata(t.Context(), old, md); err == nil {
			t.Errorf("late term write under the handed-over holding's lease ID accepted; want refused")
		}
		if got, want := c.Metadata()[renewer.MetadataTerm], strconv.FormatInt(h2.Term(), 10); got != want {
			t.Errorf("term in the container = %s, want %s", got, want)
		}
		mustUnlock(t, h2)
	})
}

// TestHandOverFailsAcquiresAnew checks that when the hand-over fails
// because the lease is lost, the next local holder acquires anew, with a
// higher term.
func TestHandOverFailsAcquiresAnew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		var mu sync.Mutex
		acquired := map[string]bool{} // IDs sent in acquires, guarded by mu
		c.SetBefore(func(ctx context.Context, call leasetest.Call) error {
			mu.Lock()
			if call.Op == leasetest.OpAcquire {
				acquired[call.LeaseID] = true
			}
			// A change from an acquired ID sets up a new holding; one from
			// a holding's ID is a hand-over.
			handOver := call.Op == leasetest.OpChange && !acquired[call.LeaseID]
			mu.Unlock()
			if handOver {
				// The lease is gone just before the hand-over's change
				// reaches storage (as if it had expired): it is refused.
				if err := c.Release(ctx, call.LeaseID); err != nil {
					t.Errorf("hook: release: %v", err)
				}
			}
			return nil
		})
		m := newMutex(t, c, []renewer.Option{renewer.WithPollInterval(time.Second)})
		h := mustLock(t, m)
		next := lockLater(t, m, "next holder after a failed hand-over")
		mustUnlock(t, h)
		h2 := next()
		if h2.Term() <= h.Term() {
			t.Errorf("term after a failed hand-over = %d, want more than %d", h2.Term(), h.Term())
		}
		if got := c.Calls(leasetest.OpAcquire); got != 2 {
			t.Errorf("acquire calls = %d, want 2 (the next holder acquired anew)", got)
		}
		if err := h2.Context().Err(); err != nil {
			t.Errorf("next holder's context done: %v", context.Cause(h2.Context()))
		}
		mustUnlock(t, h2)
	})
}

// endsAfterFirstWait is a context that ends just after Lock's wait for
// its local turn, whatever that wait saw: its first Done channel never
// closes; later ones are closed, and Err then says Canceled. It puts the
// end of a Lock's context exactly between getting the turn, with a live
// lease handed to it, and taking that lease over.
type endsAfterFirstWait struct {
	context.Context
	mu    sync.Mutex
	calls int
}

func (c *endsAfterFirstWait) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls == 1 {
		return make(chan struct{})
	}
	done := make(chan struct{})
	close(done)
	return done
}

func (c *endsAfterFirstWait) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls < 2 {
		return nil
	}
	return context.Canceled
}

// TestLockContextEndsAtHandOver ends a waiter's context just as the lock
// is handed to it, before it takes the lease over: nothing stays held, and
// the Mutex locks again at once. (The hand-over may or may not have begun,
// so the test runs a few times.)
func TestLockContextEndsAtHandOver(t *testing.T) {
	for i := range 10 {
		synctest.Test(t, func(t *testing.T) {
			c := leasetest.New()
			m := newMutex(t, c, nil)
			h := mustLock(t, m)
			res := make(chan error, 1)
			go func() {
				h2, err := m.Lock(&endsAfterFirstWait{Context: context.Background()})
				if err == nil { // the hand-over won the race
					err = h2.Unlock(t.Context())
				}
				res <- err
			}()
			synctest.Wait()
			mustUnlock(t, h)
			if err := <-res; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("run %d: Lock = %v, want Canceled or a hold", i, err)
			}
			synctest.Wait()
			if got := c.State(); got != renewer.StateAvailable {
				t.Fatalf("run %d: state after the waiter gave up = %v, want available", i, got)
			}
			h3, err := m.TryLock(t.Context())
			if err != nil {
				t.Fatalf("run %d: TryLock after the waiter gave up: %v", i, err)
			}
			mustUnlock(t, h3)
		})
	}
}
