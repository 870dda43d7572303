package mutex_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestWaitingSeatSuffix checks that the seat tests' seat is the default one.
func TestWaitingSeatSuffix(t *testing.T) {
	if got := lockName + "/" + mutex.WaitingSeatSuffix; got != seatName {
		t.Fatalf("default seat beside %q = %q, want %q", lockName, got, seatName)
	}
}

// TestWaitingSeatHeldWhileWaiting checks the seat's life: a waiter holds
// it, under its own identity, while it waits, and lets it go once it
// holds the lock; the holder reads it once when it unlocks.
func TestWaitingSeatHeldWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lock, seat := namedLock(t)
		a := newMutex(t, lock, named("a"))
		b := newMutex(t, lock, named("b"))
		h := mustLock(t, a)
		if got := calls(seat); got != 0 {
			t.Errorf("seat calls of an uncontended Lock = %d, want 0", got)
		}
		next := lockLater(t, b, "b")
		if st, err := renewer.Inspect(t.Context(), seat); err != nil || !st.Held() || st.Holder != "b" {
			t.Errorf("seat while b waits: %+v, %v; want held by b", st, err)
		}
		reads := seat.Calls(leasetest.OpProperties)
		mustUnlock(t, h)
		if got := seat.Calls(leasetest.OpProperties) - reads; got != 1 {
			t.Errorf("seat reads of a's Unlock = %d, want 1", got)
		}
		hb := next()
		synctest.Wait()
		if got := seat.State(); got != renewer.StateAvailable {
			t.Errorf("seat once b holds the lock: %v, want available", got)
		}
		mustUnlock(t, hb)
	})
}

// TestWaitingSeatTryLockStandsAside checks that TryLock, too, leaves the
// lock to the waiter elsewhere while its Mutex stands aside.
func TestWaitingSeatTryLockStandsAside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lock, _ := namedLock(t)
		a := newMutex(t, lock, named("a"))
		b := newMutex(t, lock, named("b"))
		h := mustLock(t, a)
		next := lockLater(t, b, "b")
		mustUnlock(t, h)
		got, err := a.TryLock(t.Context())
		if err == nil {
			t.Errorf("TryLock while standing aside took the lock, want renewer.ErrLeaseHeld")
			mustUnlock(t, got)
		} else if !errors.Is(err, renewer.ErrLeaseHeld) || !strings.Contains(err.Error(), "stands aside") {
			t.Errorf("TryLock while standing aside = %v, want renewer.ErrLeaseHeld saying it stands aside", err)
		}
		mustUnlock(t, next())
	})
}

// TestWaitingSeatOff checks WithWaitingSeat(nil): no seat, no seat call,
// and a process relocking in a loop keeps the lock from the waiter
// elsewhere, as before the seat.
func TestWaitingSeatOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lock, seat := namedLock(t)
		a := newMutex(t, lock, named("a"), mutex.WithWaitingSeat(nil))
		b := newMutex(t, lock, named("b"), mutex.WithWaitingSeat(nil))
		j := newJournal()
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 3 {
				j.hold(t, a, "a", time.Second)
			}
		})
		synctest.Wait()
		wg.Go(func() { j.hold(t, b, "b", time.Second) })
		wg.Wait()
		if i := firstOf(j.all(), "b"); i != 3 {
			t.Errorf("without a seat, b held after %d holdings of a, want after all 3%s", i, j)
		}
		if got := calls(seat); got != 0 {
			t.Errorf("seat calls without a seat = %d, want 0", got)
		}
	})
}

// TestWaitingSeatOption checks the option's rules: the lock's own lease is
// refused as seat; a seat given explicitly serves a lock whose Leaser
// cannot name one; a Leaser that cannot, without the option, has none.
func TestWaitingSeatOption(t *testing.T) {
	t.Run("own lease", func(t *testing.T) {
		c := leasetest.New()
		r, err := renewer.New(c)
		if err != nil {
			t.Fatal(err)
		}
		_, err = mutex.New(r, mutex.WithWaitingSeat(c))
		var oe *renewer.OptionError
		if !errors.As(err, &oe) || oe.Field != "waiting seat" {
			t.Errorf("New with the lock's own lease as seat = %v, want an OptionError on the waiting seat", err)
		}
	})
	t.Run("explicit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lock, seat := leasetest.New(), leasetest.New()
			a := newMutex(t, lock, named("a"), mutex.WithWaitingSeat(seat))
			b := newMutex(t, lock, named("b"), mutex.WithWaitingSeat(seat))
			h := mustLock(t, a)
			next := lockLater(t, b, "b")
			if st, err := renewer.Inspect(t.Context(), seat); err != nil || st.Holder != "b" || !st.Held() {
				t.Errorf("explicit seat while b waits: %+v, %v; want held by b", st, err)
			}
			mustUnlock(t, h)
			mustUnlock(t, next())
		})
	})
	t.Run("no Besider", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lock := leasetest.New()
			a := newMutex(t, lock, named("a"))
			b := newMutex(t, lock, named("b"))
			h := mustLock(t, a)
			next := lockLater(t, b, "b")
			mustUnlock(t, h)
			h = mustLock(t, a) // no seat: relocks at once, as before
			if err := h.Context().Err(); err != nil {
				t.Fatal(err)
			}
			mustUnlock(t, h)
			mustUnlock(t, next())
		})
	})
}

// TestWaitingSeatRefused checks a seat that storage refuses for good (a
// SAS without blob permissions): Lock and Unlock work as without a seat,
// and the seat is left alone for a minute instead of being asked at every
// release.
func TestWaitingSeatRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lock, seat := namedLock(t)
		seat.SetBefore(func(context.Context, leasetest.Call) error {
			return fmt.Errorf("test: %w", renewer.ErrForbidden)
		})
		a := newMutex(t, lock, named("a"))
		b := newMutex(t, lock, named("b"))
		h := mustLock(t, a)
		next := lockLater(t, b, "b")
		for range 10 {
			time.Sleep(time.Second)
			mustUnlock(t, h)
			h = mustLock(t, a) // nobody announced: relocks at once
		}
		// One refused read by a (its first Unlock), one refused acquire by
		// b (followed by the renewer's releases of an acquire whose outcome
		// a refusal does not settle), then none for a minute.
		if got := seat.Calls(leasetest.OpProperties); got != 1 {
			t.Errorf("reads of a refused seat in 10 s of relocks = %d, want 1", got)
		}
		if got := seat.Calls(leasetest.OpAcquire); got != 1 {
			t.Errorf("acquires of a refused seat by one waiter = %d, want 1", got)
		}
		mustUnlock(t, h)
		mustUnlock(t, next())
	})
}
