package semaphore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"github.com/leasehold/leasehold/semaphore"
)

// TestNeverMoreThanK runs 3 processes of 2 goroutines each on a semaphore
// of K = 2 for two minutes of fake time, each goroutine taking a slot,
// holding it a while and releasing it (one process crashes half-way), and
// checks that no slot ever had two holders and never more than K held.
func TestNeverMoreThanK(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const k = 2
		a := leasetest.NewNamed()
		var rec recorder
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		procs := make([]*proc, 3)
		taken := 0
		var mu sync.Mutex
		for pi := range procs {
			p := &proc{a: a}
			procs[pi] = p
			s := newSem(t, p, "jobs", k, fmt.Sprintf("p%d", pi))
			for g := range 2 {
				r := rand.New(rand.NewPCG(uint64(pi), uint64(g)))
				wg.Go(func() {
					for range 200 { // bounded; ctx ends the loop first
						h, err := s.Acquire(ctx)
						if err != nil {
							return
						}
						mu.Lock()
						taken++
						mu.Unlock()
						oh := rec.begin(fmt.Sprintf("p%d/g%d slot %d term %d", pi, g, h.Slot(), h.Term()), h)
						select {
						case <-time.After(time.Duration(r.IntN(8000)) * time.Millisecond):
						case <-h.Done():
						case <-ctx.Done():
						}
						rec.stop(oh)
						_ = h.Release(context.Background())
					}
				})
			}
		}
		time.Sleep(time.Minute)
		procs[0].crash() // its holders' contexts end at their deadlines; the slots expire
		wg.Wait()
		rec.check(t, k)
		if taken < 10 {
			t.Errorf("only %d holdings in two minutes; want the slots to change hands", taken)
		}
		t.Logf("%d holdings", taken)
	})
}

// TestCheckerFails plants three holdings at once on K = 2 and two on one
// slot, and wants the checker to say so: the check above can fail.
func TestCheckerFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		far := func() time.Time { return time.Now().Add(time.Hour) }
		mk := func(who string) *overlap.Holding {
			return &overlap.Holding{Who: who, Start: overlap.Now(), Deadline: far}
		}
		three := []holding{{0, mk("a")}, {1, mk("b")}, {2, mk("c")}}
		if msgs := checkHoldings(three, 2); len(msgs) != 1 {
			t.Errorf("three holders on K = 2: got %q, want one complaint", msgs)
		}
		if msgs := checkHoldings(three, 3); len(msgs) != 0 {
			t.Errorf("three holders on K = 3: got %q, want none", msgs)
		}
		same := []holding{{0, mk("a")}, {0, mk("b")}}
		if msgs := checkHoldings(same, 5); len(msgs) != 1 {
			t.Errorf("two holders of slot 0: got %q, want one complaint", msgs)
		}
	})
}

// TestTryAcquire takes both slots of K = 2 from two processes, wants a
// third TryAcquire refused with ErrLeaseHeld, and a slot free again after
// a Release.
func TestTryAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := leasetest.NewNamed()
		s1 := newSem(t, &proc{a: a}, "pool", 2, "one")
		s2 := newSem(t, &proc{a: a}, "pool", 2, "two")
		h1, err := s1.TryAcquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		h2, err := s2.TryAcquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if h1.Slot() == h2.Slot() {
			t.Fatalf("both hold slot %d", h1.Slot())
		}
		if h1.Term() != 1 || h2.Term() != 1 {
			t.Errorf("terms %d, %d; want 1 for each slot's first holding", h1.Term(), h2.Term())
		}
		_, err = s1.TryAcquire(t.Context())
		if !errors.Is(err, renewer.ErrLeaseHeld) {
			t.Fatalf("third TryAcquire: %v, want ErrLeaseHeld", err)
		}
		t.Log(err)
		if err := h1.Release(h1.Context()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if !errors.Is(context.Cause(h1.Context()), renewer.ErrReleased) {
			t.Errorf("cause after Release: %v", context.Cause(h1.Context()))
		}
		if err := h1.Release(t.Context()); !errors.Is(err, renewer.ErrReleased) {
			t.Errorf("second Release: %v, want ErrReleased", err)
		}
		// The releaser stands aside from the slot; the other process takes it.
		if _, err := s1.TryAcquire(t.Context()); !errors.Is(err, renewer.ErrLeaseHeld) {
			t.Errorf("releaser's TryAcquire right after its Release: %v, want ErrLeaseHeld (standing aside)", err)
		}
		h3, err := s2.TryAcquire(t.Context())
		if err != nil {
			t.Fatalf("other process's TryAcquire after a Release: %v", err)
		}
		if h3.Slot() != h1.Slot() || h3.Term() != 2 {
			t.Errorf("got slot %d term %d, want slot %d term 2", h3.Slot(), h3.Term(), h1.Slot())
		}
		for _, h := range []*semaphore.Held{h2, h3} {
			if err := h.Release(t.Context()); err != nil {
				t.Error(err)
			}
		}
	})
}

// TestFairToRemoteWaiter: with K = 1, a process that releases and at once
// asks again does not get the slot back while another process waits: the
// waiter gets it at its next poll, and the releaser after the waiter's
// Release.
func TestFairToRemoteWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := leasetest.NewNamed()
		busy := newSem(t, &proc{a: a}, "one", 1, "busy")
		other := newSem(t, &proc{a: a}, "one", 1, "waiter")
		h, err := busy.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// The goroutines report nil for a failed Acquire (a test that
		// failed first ends their context) and never call t themselves.
		acquire := func(s *semaphore.Semaphore) chan *semaphore.Held {
			ch := make(chan *semaphore.Held, 1)
			go func() {
				h, _ := s.Acquire(t.Context())
				ch <- h
			}()
			return ch
		}
		waiter := acquire(other)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		released := time.Now()
		if err := h.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		again := acquire(busy)
		var w *semaphore.Held
		select {
		case w = <-waiter:
		case h := <-again:
			t.Fatalf("the releaser took the slot back (term %d) while another process waited", h.Term())
		case <-time.After(time.Minute):
			t.Fatal("the waiter did not get the slot in a minute")
		}
		if w == nil {
			t.FailNow()
		}
		if d, p := time.Since(released), busy.Timing().PollInterval; d > 2*p {
			t.Errorf("the waiter took the slot %v after the release; want within 2 poll intervals (%v)", d, 2*p)
		}
		select {
		case h := <-again:
			t.Fatalf("the releaser took the slot back (term %d) while the waiter held it", h.Term())
		default:
		}
		if err := w.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		h = <-again
		if h == nil {
			t.FailNow()
		}
		if h.Term() != 3 {
			t.Errorf("releaser's second holding has term %d, want 3", h.Term())
		}
		if err := h.Release(t.Context()); err != nil {
			t.Error(err)
		}
	})
}

// TestCrashedHolder: a holder cut off from storage loses its slot (its
// context ends with ErrLeaseLost) and a waiter elsewhere takes the slot
// within L + 1.2 P of the holder's last renew.
func TestCrashedHolder(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := leasetest.NewNamed()
		p := &proc{a: a}
		dead := newSem(t, p, "one", 1, "dead")
		other := newSem(t, &proc{a: a}, "one", 1, "waiter")
		h, err := dead.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		p.crash()
		last := time.Now()
		w, err := other.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tm := other.Timing()
		if d := time.Since(last); d > tm.Duration+tm.PollInterval*12/10 {
			t.Errorf("waiter took the slot %v after the crash; want within L + 1.2 P", d)
		}
		if !errors.Is(context.Cause(h.Context()), renewer.ErrLeaseLost) {
			t.Errorf("crashed holder's cause: %v, want ErrLeaseLost", context.Cause(h.Context()))
		}
		if err := h.Release(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
			t.Errorf("Release after loss: %v, want ErrLeaseLost", err)
		}
		if w.Term() != 2 {
			t.Errorf("waiter's term %d, want 2", w.Term())
		}
		_ = w.Release(t.Context())
	})
}

// TestBadInput wants a clear *renewer.OptionError, or the Leasers' error,
// for each bad argument.
func TestBadInput(t *testing.T) {
	a := leasetest.NewNamed()
	ok := (&proc{a: a}).leasers
	boom := errors.New("no such account")
	cases := []struct {
		name    string
		sem     string
		k       int
		leasers semaphore.Leasers
		opts    []semaphore.Option
		want    string
	}{
		{"k zero", "x", 0, ok, nil, "semaphore: invalid option: slots 0: want K from 1 to 1000"},
		{"k negative", "x", -3, ok, nil, "semaphore: invalid option: slots -3: want K from 1 to 1000"},
		{"k huge", "x", 1001, ok, nil, "semaphore: invalid option: slots 1001: want K from 1 to 1000"},
		{"empty name", "", 2, ok, nil, `semaphore: invalid option: name "": want a non-empty name`},
		{"space in name", "a b", 2, ok, nil, `semaphore: invalid option: name "a b": want printable ASCII without spaces (byte 1 is 0x20)`},
		{"nil leasers", "x", 2, nil, nil, "semaphore: invalid option: leasers: want a Leasers func, not nil"},
		{"nil option", "x", 2, ok, []semaphore.Option{nil}, "semaphore: invalid option: option 0: want an Option, not nil"},
		{"nil leaser", "x", 2, func(string) (renewer.Leaser, error) { return nil, nil }, nil,
			`semaphore: invalid option: leasers: returned a nil Leaser for slot 0 ("x-slot-0")`},
		{"bad renewer option", "x", 2, ok, []semaphore.Option{semaphore.WithRenewerOptions(renewer.WithDuration(time.Second))}, "renewer: invalid option: lease duration 1s: want whole seconds from 15s to 1m0s, or Infinite"},
		{"infinite", "x", 2, ok, []semaphore.Option{semaphore.WithRenewerOptions(renewer.WithDuration(renewer.Infinite))}, "semaphore: invalid option: lease duration Infinite: a crashed holder would keep its slot forever; want whole seconds from 15s to 60s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := semaphore.New(c.sem, c.k, c.leasers, c.opts...)
			var oe *renewer.OptionError
			if s != nil || !errors.As(err, &oe) || !errors.Is(err, renewer.ErrInvalidOption) {
				t.Fatalf("got %v, %v; want an *renewer.OptionError", s, err)
			}
			if err.Error() != c.want {
				t.Errorf("got  %q\nwant %q", err, c.want)
			}
		})
	}
	_, err := semaphore.New("x", 3, func(n string) (renewer.Leaser, error) {
		if n == "x-slot-1" {
			return nil, boom
		}
		return ok(n)
	})
	if !errors.Is(err, boom) || err.Error() != `semaphore: leaser of slot 1 ("x-slot-1"): no such account` {
		t.Errorf("Leasers error: got %v", err)
	}
}

// TestAcquireCancelled: an Acquire whose ctx ends while every slot is held
// returns ctx's cause and holds nothing; a local waiter queued behind it
// gets the next free slot.
func TestAcquireCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := leasetest.NewNamed()
		holder := newSem(t, &proc{a: a}, "one", 1, "holder")
		s := newSem(t, &proc{a: a}, "one", 1, "local")
		h, err := holder.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		first := make(chan error, 1)
		go func() {
			_, err := s.Acquire(ctx)
			first <- err
		}()
		synctest.Wait()
		second := make(chan *semaphore.Held, 1)
		go func() {
			h, err := s.Acquire(t.Context())
			if err != nil {
				t.Error(err)
			}
			second <- h
		}()
		if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("cancelled Acquire: %v, want DeadlineExceeded", err)
		} else {
			t.Log(err)
		}
		if err := h.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		h2 := <-second
		if h2 == nil {
			t.FailNow()
		}
		if st, err := s.Status(t.Context()); err != nil || st[0].Holder != "local" || st[0].Term != 2 {
			t.Errorf("Status: %+v, %v; want local holding term 2", st, err)
		}
		_ = h2.Release(t.Context())
	})
}

// TestLister: a waiting Acquire that reads the slots with a Lister makes
// one List call per poll and no acquire call while every slot is held,
// then takes the slot freed.
func TestLister(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		named := leasetest.NewNamed()
		leasers := func(name string) (renewer.Leaser, error) { return named.Lease(name) }
		mk := func(id string) *semaphore.Semaphore {
			s, err := semaphore.New("pool", 2, leasers, semaphore.WithLister(named),
				semaphore.WithRenewerOptions(renewer.WithIdentity(id)))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		holder, waiter := mk("holder"), mk("waiter")
		var hs []*semaphore.Held
		for range 2 {
			h, err := holder.Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		acquires := func() int {
			n := 0
			for i := range 2 {
				c, _ := named.Lease(semaphore.SlotName("pool", i))
				n += c.Calls(leasetest.OpAcquire)
			}
			return n
		}
		before, lists := acquires(), named.Lists()
		got := make(chan *semaphore.Held, 1)
		go func() {
			h, err := waiter.Acquire(t.Context())
			if err != nil {
				t.Error(err)
			}
			got <- h
		}()
		time.Sleep(10 * time.Second)
		if n := acquires() - before; n != 0 {
			t.Errorf("%d acquire calls while every slot was held; want none (the lists show them held)", n)
		}
		t.Logf("10 s waiting: %d lists", named.Lists()-lists)
		if err := hs[1].Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		h := <-got
		if h == nil || h.Slot() != hs[1].Slot() {
			t.Fatalf("waiter got %v, want the slot released", h)
		}
		for _, h := range []*semaphore.Held{hs[0], h} {
			_ = h.Release(t.Context())
		}
		if _, err := semaphore.New("pool", 2, (&proc{a: leasetest.NewNamed()}).leasers, semaphore.WithLister(named)); !errors.Is(err, renewer.ErrInvalidOption) {
			t.Errorf("a Lister that does not cover the slots: %v, want an *renewer.OptionError", err)
		}
	})
}
