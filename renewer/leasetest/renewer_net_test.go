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
