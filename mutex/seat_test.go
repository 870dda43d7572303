package mutex_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// The waiting seat's tests: two processes are two Mutexes over separate
// Renewers (identities "a" and "b") on one named lease of a
// leasetest.Named, which can name the seat beside it (renewer.Besider).
// These tests use only what the package offered before the seat existed,
// so that they also run against the code before it.

// poll is the default poll interval P.
const poll = renewer.DefaultPollInterval

// lockName is the named lease of the seat tests; seatName is the default
// waiting seat beside it ("NAME/" + mutex.WaitingSeatSuffix).
const (
	lockName = "job"
	seatName = lockName + "/waiting"
)

// namedLock returns the lock's and the seat's leases of a fresh Named.
func namedLock(t *testing.T) (lock, seat *leasetest.Container) {
	t.Helper()
	n := leasetest.NewNamed()
	lock, err := n.Lease(lockName)
	if err != nil {
		t.Fatal(err)
	}
	seat, err = n.Lease(seatName)
	if err != nil {
		t.Fatal(err)
	}
	return lock, seat
}

// holding is one holding seen by a seat test: who, when it began and
// ended (virtual time since the test's start), its term.
type holding struct {
	who        string
	from, till time.Duration
	term       int64
}

// journal records holdings in the order they began.
type journal struct {
	start time.Time
	mu    sync.Mutex
	hs    []holding
}

func newJournal() *journal { return &journal{start: time.Now()} }

func (j *journal) since() time.Duration { return time.Since(j.start) }

// hold locks m, records the holding, holds it for d and unlocks.
func (j *journal) hold(t *testing.T, m *mutex.Mutex, who string, d time.Duration) {
	t.Helper()
	h := mustLock(t, m)
	j.mu.Lock()
	i := len(j.hs)
	j.hs = append(j.hs, holding{who: who, from: j.since(), term: h.Term()})
	j.mu.Unlock()
	time.Sleep(d)
	j.mu.Lock()
	j.hs[i].till = j.since()
	j.mu.Unlock()
	mustUnlock(t, h)
}

func (j *journal) all() []holding {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]holding(nil), j.hs...)
}

func (j *journal) String() string {
	var s string
	for _, h := range j.all() {
		s += fmt.Sprintf("\n  %s term %d from %v to %v", h.who, h.term, h.from, h.till)
	}
	return s
}

// checkTerms fails the test unless terms strictly increase from one
// holding to the next: fencing is unchanged.
func (j *journal) checkTerms(t *testing.T) {
	t.Helper()
	hs := j.all()
	for i := 1; i < len(hs); i++ {
		if hs[i].term <= hs[i-1].term {
			t.Errorf("term %d after term %d: want strictly increasing terms%s", hs[i].term, hs[i-1].term, j)
		}
	}
}

// firstOf returns the index of who's first holding in hs, or -1.
func firstOf(hs []holding, who string) int {
	for i, h := range hs {
		if h.who == who {
			return i
		}
	}
	return -1
}

// TestSeatRelockLoopServesWaiterElsewhere is the report of a new user: two
// processes, each locking five times in a row (Lock, 1 s of work, Unlock).
// The second, which starts waiting while the first holds, gets the lock
// within 2 P of the first's first release, after at most one relock of the
// first; without the seat it waited for all five.
func TestSeatRelockLoopServesWaiterElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lock, _ := namedLock(t)
		a := newMutex(t, lock, named("a"))
		b := newMutex(t, lock, named("b"))
		j := newJournal()
		var wg sync.WaitGroup
		started := make(chan struct{})
		wg.Go(func() {
			for i := range 5 {
				j.hold(t, a, "a", time.Second)
				if i == 0 {
					<-started
				}
			}
		})
		synctest.Wait() // a holds
		wg.Go(func() {
			close(started)
			for range 5 {
				j.hold(t, b, "b", time.Second)
			}
		})
		wg.Wait()

		hs := j.all()
		t.Logf("holdings:%s", j)
		i := firstOf(hs, "b")
		if i > 2 {
			t.Errorf("b's first holding came after %d holdings of a (%d relocks): want at most 1 relock%s", i, i-1, j)
		}
		if i < 0 {
			t.Fatalf("b never held")
		}
		firstRelease := hs[0].till
		if wait := hs[i].from - firstRelease; wait > 2*poll {
			t.Errorf("b got the lock %v after a's first release, want at most 2 P = %v", wait, 2*poll)
		}
		j.checkTerms(t)
	})
}

// TestSeatLocalQueueServesWaiterElsewhere checks the other way a process
// keeps the lock: several of its goroutines queued, each handing over to
// the next. The waiter elsewhere gets the lock within 2 P of the first
// hand-over after it started waiting; the local queue stays first come,
// first served, and terms strictly increase.
func TestSeatLocalQueueServesWaiterElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lock, _ := namedLock(t)
		a := newMutex(t, lock, named("a"))
		b := newMutex(t, lock, named("b"))
		j := newJournal()
		var wg sync.WaitGroup
		const goroutines, rounds = 3, 3
		for g := range goroutines {
			wg.Go(func() {
				for range rounds {
					j.hold(t, a, fmt.Sprintf("a%d", g), time.Second)
				}
			})
			synctest.Wait() // queued in this order
		}
		wg.Go(func() { j.hold(t, b, "b", time.Second) })
		wg.Wait()

		hs := j.all()
		t.Logf("holdings:%s", j)
		i := firstOf(hs, "b")
		if i < 0 {
			t.Fatalf("b never held")
		}
		if i > 1 {
			t.Errorf("b's holding came after %d holdings of a: want after the first%s", i, j)
		}
		if wait := hs[i].from - hs[0].till; wait > 2*poll {
			t.Errorf("b got the lock %v after a's first release, want at most 2 P = %v", wait, 2*poll)
		}
		var order []string
		for _, h := range hs {
			if h.who != "b" {
				order = append(order, h.who)
			}
		}
		for k, who := range order {
			if want := fmt.Sprintf("a%d", k%goroutines); who != want {
				t.Errorf("a's holding %d by %s, want %s: the local queue is first come, first served (order %q)", k, who, want, order)
				break
			}
		}
		j.checkTerms(t)
	})
}

// latency makes every call on c take d (virtual time), as a round trip to
// storage would.
func latency(c *leasetest.Container, d time.Duration) {
	c.SetBefore(func(context.Context, leasetest.Call) error {
		time.Sleep(d)
		return nil
	})
}

// calls counts every call made on c.
func calls(c *leasetest.Container) int {
	n := 0
	for _, op := range []leasetest.Op{leasetest.OpAcquire, leasetest.OpRenew, leasetest.OpChange, leasetest.OpRelease,
		leasetest.OpBreak, leasetest.OpProperties, leasetest.OpSetMetadata} {
		n += c.Calls(op)
	}
	return n
}

// TestSeatLoneRelockPaysNoWait measures what the seat costs a process
// nobody waits for: relocking from one goroutine, and handing over between
// two of its goroutines, with every storage call taking a 10 ms round
// trip. The time from Unlock to the next Lock's return must be the lock's
// own calls, one after another (the seat's read goes beside them), and the
// seat may cost at most one call per release.
func TestSeatLoneRelockPaysNoWait(t *testing.T) {
	const rtt = 10 * time.Millisecond
	const n = 5
	t.Run("relock", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lock, seat := namedLock(t)
			latency(lock, rtt)
			latency(seat, rtt)
			a := newMutex(t, lock, named("a"))
			h := mustLock(t, a)
			var total time.Duration
			lockCalls, seatCalls := calls(lock), calls(seat)
			for range n {
				time.Sleep(time.Second)
				start := time.Now()
				mustUnlock(t, h)
				h = mustLock(t, a)
				total += time.Since(start)
			}
			lockCalls, seatCalls = calls(lock)-lockCalls, calls(seat)-seatCalls
			mustUnlock(t, h)
			per := total / n
			t.Logf("relock (Unlock, then Lock): %v virtual time per relock at a %v round trip; storage calls per relock: %d on the lock, %d on the seat",
				per, rtt, lockCalls/n, seatCalls/n)
			if want := time.Duration(lockCalls/n) * rtt; per != want {
				t.Errorf("relock took %v, want %v: the lock's %d calls one after another and nothing more", per, want, lockCalls/n)
			}
			if seatCalls > n {
				t.Errorf("seat calls = %d over %d relocks, want at most one per release", seatCalls, n)
			}
		})
	})
	t.Run("handover", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lock, seat := namedLock(t)
			latency(lock, rtt)
			latency(seat, rtt)
			a := newMutex(t, lock, named("a"))
			h := mustLock(t, a)
			var total time.Duration
			lockCalls, seatCalls := calls(lock), calls(seat)
			for range n {
				next := lockLater(t, a, "next")
				time.Sleep(time.Second)
				start := time.Now()
				mustUnlock(t, h)
				h = next()
				total += time.Since(start)
			}
			lockCalls, seatCalls = calls(lock)-lockCalls, calls(seat)-seatCalls
			mustUnlock(t, h)
			per := total / n
			t.Logf("local hand-over: %v virtual time per hand-over at a %v round trip; storage calls per hand-over: %d on the lock, %d on the seat",
				per, rtt, lockCalls/n, seatCalls/n)
			if want := time.Duration(lockCalls/n) * rtt; per != want {
				t.Errorf("hand-over took %v, want %v: the lock's %d calls one after another and nothing more", per, want, lockCalls/n)
			}
			if seatCalls > n {
				t.Errorf("seat calls = %d over %d hand-overs, want at most one per release", seatCalls, n)
			}
		})
	})
}

// dying is a Leaser of one process, and the seat beside it through the same
// process: fail() on both kills the process's storage calls at once.
type dying struct {
	*faultyLeaser
	seat *faultyLeaser
}

func (d *dying) Beside(suffix string) (renewer.Leaser, error) {
	if suffix != "waiting" {
		return nil, fmt.Errorf("test: no lease %q beside", suffix)
	}
	return d.seat, nil
}

// TestSeatDeadWaiter checks that a waiter that dies holding the seat costs
// the holder's process one stand-aside at most: a process relocking every
// second for longer than the seat's duration (15 s) stands aside once (2
// P), when it first sees the dead waiter's seat, and then relocks at once.
func TestSeatDeadWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lock, seat := namedLock(t)
		a := newMutex(t, lock, named("a"))
		bl := &dying{faultyLeaser: &faultyLeaser{Leaser: lock}, seat: &faultyLeaser{Leaser: seat}}
		b := newMutex(t, bl, named("b"))
		h := mustLock(t, a)

		// b waits, and takes the seat; then its process dies.
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := b.Lock(ctx)
			done <- err
		}()
		synctest.Wait()
		if st, err := renewer.Inspect(t.Context(), seat); err != nil || !st.Held() {
			t.Logf("seat after b waits: %+v, %v (no seat taken: a has nothing to stand aside for)", st, err)
		}
		bl.down.Store(true)
		bl.seat.down.Store(true)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("dead waiter's Lock = %v, want context.Canceled", err)
		}

		// a relocks for 2 seat durations.
		var waits []time.Duration
		for range 30 {
			time.Sleep(time.Second)
			start := time.Now()
			mustUnlock(t, h)
			h = mustLock(t, a)
			waits = append(waits, time.Since(start))
		}
		mustUnlock(t, h)
		var asides int
		for _, w := range waits {
			if w > 0 {
				asides++
			}
		}
		t.Logf("relock waits: %v", waits)
		if asides != 1 {
			t.Errorf("a stood aside %d times for a dead waiter's seat, want exactly once: when it first sees the seat, and not again within the seat duration (relock waits %v)", asides, waits)
		}
		for _, w := range waits {
			if w > 2*poll {
				t.Errorf("a relock waited %v, want at most 2 P = %v", w, 2*poll)
			}
		}
	})
}
