package renewer_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

const pollEvery = renewer.DefaultPollInterval

func namedLease(t *testing.T, n *leasetest.Named, name string) *leasetest.Container {
	t.Helper()
	c, err := n.Lease(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newObserver(t *testing.T, n *leasetest.Named) *renewer.Observer {
	t.Helper()
	o, err := renewer.NewObserver(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestObserverWaiterTakesFreedLock: a waiter through an Observer takes the
// lock within a poll or two of its release, with the next term, and made
// no call of its own on the lease while it was held.
func TestObserverWaiterTakesFreedLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		c := namedLease(t, n, "orders/eu-west")
		held := mustAcquire(t, newRenewer(t, c, "holder"))
		waiter := newRenewer(t, c, "waiter", renewer.WithObserver(newObserver(t, n)))

		var got *renewer.Lease
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			got, err = waiter.Acquire(t.Context())
		}()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		// The waiter's first poll is its own acquire; the rest are lists.
		if a := c.Calls(leasetest.OpAcquire); a != 2 {
			t.Errorf("acquire calls while held = %d, want 2 (the holder's and the waiter's first)", a)
		}
		if p := c.Calls(leasetest.OpProperties); p != 1 {
			t.Errorf("properties calls while held = %d, want 1 (the holder's term read)", p)
		}
		lists := n.Lists()
		if min := int(30 * time.Second / (pollEvery * 6 / 5)); lists < min {
			t.Errorf("lists in 30 s = %d, want at least %d", lists, min)
		}
		released := time.Now()
		if err := held.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		<-done
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		defer got.Release(context.Background())
		if wait := time.Since(released); wait > 2*pollEvery {
			t.Errorf("took the freed lock %v after its release, want within 2 polls (%v)", wait, 2*pollEvery)
		}
		if got.Term() != 2 {
			t.Errorf("term = %d, want 2", got.Term())
		}
	})
}

// TestObserverWatcherSeesEveryPoll: a Watcher of an observed Acquire is
// handed what each list found, including a failed list (and then no
// acquire is tried).
func TestObserverWatcherSeesEveryPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		c := namedLease(t, n, "job")
		held := mustAcquire(t, newRenewer(t, c, "holder"))
		defer held.Release(context.Background())
		var failing bool
		var mu sync.Mutex
		n.SetBeforeList(func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if failing {
				return renewer.ErrThrottled
			}
			return nil
		})
		r := newRenewer(t, c, "waiter", renewer.WithObserver(newObserver(t, n)))
		var holders []string
		var errs int
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		go func() {
			time.Sleep(10 * time.Second)
			mu.Lock()
			failing = true
			mu.Unlock()
		}()
		_, err := r.Acquire(ctx, renewer.Watching(func(st renewer.Status, err error) renewer.Verdict {
			if err != nil {
				errs++
				return renewer.Verdict{}
			}
			holders = append(holders, st.Holder)
			return renewer.Verdict{}
		}))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire = %v, want the deadline", err)
		}
		if len(holders) < 10 || holders[len(holders)-1] != "holder" {
			t.Errorf("watcher saw holders %v, want at least 10 polls naming %q", holders, "holder")
		}
		if errs < 5 {
			t.Errorf("watcher saw %d failed polls, want at least 5", errs)
		}
		if a := c.Calls(leasetest.OpAcquire); a != 1 {
			t.Errorf("acquire calls = %d, want 1 (the holder's): the waiter's first poll is a read for its watcher, failed lists try nothing", a)
		}
	})
}

// TestObserverTwoProcessesNeverOverlap: waiters in two "processes" (each
// with its own Observer) and two waiters per process contend for one lock
// for ten minutes; no two ever hold it at once, and each takes it.
func TestObserverTwoProcessesNeverOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		c := namedLease(t, n, "shared")
		var rec overlap.Recorder
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		wins := make([]int, 4)
		for p := range 2 {
			o := newObserver(t, n)
			for w := range 2 {
				who := fmt.Sprintf("p%d-w%d", p, w)
				r := newRenewer(t, c, who, renewer.WithObserver(o))
				wg.Go(func() {
					for ctx.Err() == nil {
						ls, err := r.Acquire(ctx)
						if err != nil {
							continue
						}
						h := rec.Begin(ls.Context(), who, ls.Deadline)
						wins[2*p+w]++
						time.Sleep(7 * time.Second)
						rec.Stop(h)
						_ = ls.Release(context.Background())
						time.Sleep(3 * time.Second) // let the others in: an Acquire's first try is its own
					}
				})
			}
		}
		wg.Wait()
		rec.Check(t)
		for i, w := range wins {
			if w == 0 {
				t.Errorf("waiter %d never held the lock: %v", i, wins)
			}
		}
	})
}

// observedCalls is what one minute of N waiters on N held locks cost.
type observedCalls struct {
	lists    int // List calls
	acquires int // acquire calls on the waited-on leases, the holders' included
	reads    int // properties calls on them, the holders' term reads included
}

// waitOnHeld has n locks held by one process and waited on by another for
// a minute: through one Observer, or (shared false) through one Observer
// per waiter, as if each waiter polled on its own.
func waitOnHeld(t *testing.T, n int, shared bool) observedCalls {
	var got observedCalls
	synctest.Test(t, func(t *testing.T) {
		named := leasetest.NewNamed()
		one := newObserver(t, named)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		var leases []*leasetest.Container
		for i := range n {
			c := namedLease(t, named, fmt.Sprintf("lock-%d", i))
			leases = append(leases, c)
			ls := mustAcquire(t, newRenewer(t, c, "holder"))
			defer ls.Release(context.Background())
			o := one
			if !shared {
				o = newObserver(t, named)
			}
			r := newRenewer(t, c, "waiter", renewer.WithObserver(o))
			wg.Go(func() {
				if _, err := r.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Acquire = %v, want the deadline", err)
				}
			})
		}
		wg.Wait()
		got.lists = named.Lists()
		for _, c := range leases {
			got.acquires += c.Calls(leasetest.OpAcquire)
			got.reads += c.Calls(leasetest.OpProperties)
		}
	})
	return got
}

// checkShared says what is wrong with the calls of n waiters on n held
// locks for a minute, if they did not share one poll per interval.
func checkShared(n int, got observedCalls) error {
	maxLists := int(time.Minute/(pollEvery*4/5)) + 2 // jitter ±20%, and the poll at the start
	var errs []error
	if got.lists > maxLists {
		errs = append(errs, fmt.Errorf("%d lists in a minute, want at most %d (one per poll interval)", got.lists, maxLists))
	}
	if got.acquires != 2*n { // each holder's, and each waiter's first poll
		errs = append(errs, fmt.Errorf("%d acquire calls, want %d", got.acquires, 2*n))
	}
	if got.reads != n { // each holder's term read
		errs = append(errs, fmt.Errorf("%d properties calls, want %d", got.reads, n))
	}
	return errors.Join(errs...)
}

// TestObserverOneListPerInterval: 50 waiters on 50 held locks cost one
// list per poll interval, not one per waiter; the check fails for one
// Observer per waiter.
func TestObserverOneListPerInterval(t *testing.T) {
	const n = 50
	got := waitOnHeld(t, n, true)
	if err := checkShared(n, got); err != nil {
		t.Error(err)
	}
	t.Logf("%d waiters on %d held locks for a minute: %d lists, %d acquires (holders' included)", n, n, got.lists, got.acquires)
	if bad := waitOnHeld(t, n, false); checkShared(n, bad) == nil {
		t.Errorf("the check passed one Observer per waiter (%d lists)", bad.lists)
	}
}

func TestObserverOptionErrors(t *testing.T) {
	if _, err := renewer.NewObserver(nil, nil); !errors.Is(err, renewer.ErrInvalidOption) {
		t.Errorf("NewObserver(nil) = %v, want an option error", err)
	}
	if _, err := renewer.NewObserver(leasetest.NewNamed(), &renewer.ObserverOptions{ListTimeout: -1}); !errors.Is(err, renewer.ErrInvalidOption) {
		t.Errorf("NewObserver(ListTimeout -1) = %v, want an option error", err)
	}
	o, err := renewer.NewObserver(leasetest.NewNamed(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A Leaser the Observer's Lister does not cover.
	_, err = renewer.New(leasetest.New(), renewer.WithObserver(o))
	var oe *renewer.OptionError
	if !errors.As(err, &oe) || oe.Field != "observer" {
		t.Errorf("New(container not in the Named, WithObserver) = %v, want an option error on observer", err)
	}
}

// TestObserverMutexBreakOnTimeout: the Watcher verdicts keep working
// through an Observer. A mutex waiting with break-on-timeout on a named
// infinite lease whose holder stopped renewing breaks it, from what the
// lists show, and takes the lock; an election campaign through an
// Observer then waits its turn and wins when the mutex unlocks.
func TestObserverMutexBreakOnTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		c := namedLease(t, n, "infinite job")
		dead := mustAcquire(t, newRenewer(t, c, "dead", renewer.WithDuration(renewer.Infinite)))
		if err := dead.Abandon(t.Context()); err != nil { // no more heartbeats, no release
			t.Fatal(err)
		}
		o := newObserver(t, n)
		m, err := mutex.New(newRenewer(t, c, "breaker", renewer.WithDuration(renewer.Infinite), renewer.WithObserver(o)),
			mutex.WithBreakOnTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		held, err := m.Lock(t.Context())
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if c.Calls(leasetest.OpBreak) != 1 || held.Term() != 2 {
			t.Errorf("breaks = %d, term = %d; want 1 and 2", c.Calls(leasetest.OpBreak), held.Term())
		}
		if p := c.Calls(leasetest.OpProperties); p > 6 {
			t.Errorf("%d properties calls: want the watcher fed by lists, not reads (at most 6: term reads, the first poll, the break's)", p)
		}

		e, err := election.New(newRenewer(t, c, "candidate", renewer.WithObserver(o)))
		if err != nil {
			t.Fatal(err)
		}
		won := make(chan int64)
		resigned := make(chan struct{})
		go func() {
			defer close(resigned)
			ld, err := e.Campaign(t.Context())
			if err != nil {
				t.Errorf("Campaign: %v", err)
				won <- 0
				return
			}
			won <- ld.Term()
			_ = ld.Resign(context.Background())
		}()
		defer func() { <-resigned }() // its release logs to t: wait for it before t ends
		time.Sleep(10 * time.Second)
		select {
		case term := <-won:
			t.Fatalf("campaign won term %d while the mutex held the lock", term)
		default:
		}
		if err := held.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
		if term := <-won; term != 3 {
			t.Errorf("campaign won term %d, want 3", term)
		}
	})
}

// TestObserverFailingListsCostNoLiveness: while every list fails, a waiter
// still tries once per validity window on its own clock, and so takes a
// lock freed meanwhile within a window and a poll.
func TestObserverFailingListsCostNoLiveness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		c := namedLease(t, n, "job")
		held := mustAcquire(t, newRenewer(t, c, "holder"))
		n.SetBeforeList(func(context.Context) error { return renewer.ErrThrottled })
		r := newRenewer(t, c, "waiter", renewer.WithObserver(newObserver(t, n)))
		done := make(chan *renewer.Lease)
		go func() {
			ls, err := r.Acquire(t.Context())
			if err != nil {
				t.Errorf("Acquire: %v", err)
			}
			done <- ls
		}()
		time.Sleep(time.Minute)
		synctest.Wait()
		// The first try, then one per 15 s window.
		if a := c.Calls(leasetest.OpAcquire); a < 4 || a > 6 {
			t.Errorf("acquire calls in a minute of failing lists = %d, want the holder's, the first try and one per 15 s (5)", a)
		}
		released := time.Now()
		if err := held.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		ls := <-done
		if ls == nil {
			return
		}
		defer ls.Release(context.Background())
		if wait := time.Since(released); wait > 15*time.Second+pollEvery*6/5 {
			t.Errorf("took the freed lock %v after its release, want within a window and a poll", wait)
		}
	})
}
