package leasetest_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A Renewer over a Faulty whose release reaches storage after the lease
// expired and the Renewer acquired again: with a fresh lease ID per holding
// the late release is refused and the new holding stays, so no one else
// can acquire. This is the check a unit test could not make while the fake
// dropped late requests.
func TestRenewerLateReleaseLandsOnAFreshID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		f := leasetest.Wrap(c)
		rec := recordLandings(f.Network())
		r, err := renewer.New(f, renewer.WithIdentity("a"))
		if err != nil {
			t.Fatal(err)
		}
		first, err := r.TryAcquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// The release takes 20 s to arrive; the Renewer's caller stops
		// waiting long before (its call timeout, or this 1 s).
		f.Network().SetDelivery(only(leasetest.OpRelease, leasetest.Delivery{RequestDelay: 20 * time.Second}))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_ = first.Release(ctx)
		f.Network().SetDelivery(nil)

		var second *renewer.Lease
		for range 30 {
			if ls, err := r.TryAcquire(t.Context()); err == nil {
				second = ls
				break
			}
			time.Sleep(time.Second)
		}
		if second == nil {
			t.Fatal("the Renewer did not acquire again within 30 s")
		}
		settle(t, f.Network())
		var late []leasetest.Landing
		ls, _ := rec.of(leasetest.OpRelease)
		for _, l := range ls {
			if l.Late {
				late = append(late, l)
			}
		}
		if len(late) != 1 || !errors.Is(late[0].Err, renewer.ErrNoLease) {
			t.Errorf("late releases %+v, want one, refused with ErrNoLease", late)
		}
		if err := second.Context().Err(); err != nil {
			t.Errorf("second holding ended: %v", context.Cause(second.Context()))
		}
		other, err := renewer.New(c, renewer.WithIdentity("b"))
		if err != nil {
			t.Fatal(err)
		}
		if ls, err := other.TryAcquire(t.Context()); err == nil {
			_ = ls.Release(t.Context())
			t.Error("another holder acquired while the second holding was live: two holders")
		}
		if err := second.Release(t.Context()); err != nil {
			t.Errorf("Release of the second holding: %v", err)
		}
	})
}

// A waiting Acquire (with a Watcher, as election and mutex wait) whose
// acquire was applied but whose answer was lost: the next polls read the
// lease as held. If the lease is the Acquire's own (the acquire landed as
// the lease was free), it asks again with the same ID and holds the lease
// at once, at term 1, instead of waiting a lease duration for a lease no
// one knows is held to expire. If the acquire landed on another's lease,
// asking again is refused and it waits for that lease to expire.
func TestWatchingAcquireTakesItsOwnLostAcquire(t *testing.T) {
	const d = 15 * time.Second
	for _, tt := range []struct {
		name    string
		another bool // b acquires before a's lost acquire lands, and abandons at 5 s
	}{
		{name: "own lost acquire"},
		{name: "landed on another's lease", another: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				f := leasetest.Wrap(c)
				acquires := 0
				f.Network().SetDelivery(func(call leasetest.Call) leasetest.Delivery {
					if call.Op != leasetest.OpAcquire {
						return leasetest.Delivery{}
					}
					acquires++
					if acquires == 1 { // a's first: lands at 1 s, its answer lost
						return leasetest.Delivery{RequestDelay: time.Second, LoseAnswer: true}
					}
					return leasetest.Delivery{}
				})
				if tt.another {
					rb, err := renewer.New(f, renewer.WithIdentity("b"), renewer.WithDuration(d))
					if err != nil {
						t.Fatal(err)
					}
					go func() {
						time.Sleep(500 * time.Millisecond)
						other, err := rb.TryAcquire(t.Context())
						if err != nil {
							t.Errorf("b: %v", err)
							return
						}
						time.Sleep(5 * time.Second)
						_ = other.Abandon(t.Context()) // not released: expires by 20 s
					}()
				}
				r, err := renewer.New(f, renewer.WithIdentity("a"), renewer.WithDuration(d), renewer.WithPollInterval(500*time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				ls, err := r.Acquire(t.Context(), renewer.Watching(func(renewer.Status, error) renewer.Verdict { return renewer.Verdict{} }))
				if err != nil {
					t.Fatal(err)
				}
				took := time.Since(start)
				defer func() { _ = ls.Release(context.Background()) }()
				switch {
				case !tt.another && (took > 3*time.Second || ls.Term() != 1):
					t.Errorf("held after %v at term %d, want within a few polls at term 1 (the lease was its own)", took, ls.Term())
				case tt.another && (took < d || ls.Term() != 2):
					t.Errorf("held after %v at term %d, want after b's lease (duration %v) expired, at term 2", took, ls.Term(), d)
				}
			})
		})
	}
}
