package renewer_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// otherClientID is the lease ID of a client that is not leasehold (another
// SDK taking the lease directly).
const otherClientID = "0f0f0f0f-0000-4000-8000-000000000001"

// TestReleasedMarker: a holder that releases leaves the released marker,
// with its term and identity unchanged, so that a client that is not
// leasehold taking the lease next is seen as foreign, not as that holder;
// the next leasehold holder removes the marker with its own term.
func TestReleasedMarker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newRenewer(t, c, "a")
		ls := mustAcquire(t, a)
		if st := inspect(t, c); st.Released || st.Foreign() {
			t.Fatalf("while held by a: Released %v, Foreign %v; want both false", st.Released, st.Foreign())
		}
		writes, releases := c.Calls(leasetest.OpSetMetadata), c.Calls(leasetest.OpRelease)
		if err := ls.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got, want := c.Calls(leasetest.OpSetMetadata)-writes, 1; got != want {
			t.Errorf("metadata writes made by Release = %d, want %d (the released marker)", got, want)
		}
		if got, want := c.Calls(leasetest.OpRelease)-releases, 1; got != want {
			t.Errorf("releases = %d, want %d", got, want)
		}
		st := inspect(t, c)
		if !st.Released || st.Held() || st.Holder != "a" || st.Term != ls.Term() {
			t.Errorf("after a released: %+v; want released, not held, holder a, term %d", st, ls.Term())
		}

		// A client that is not leasehold takes the lease.
		if _, err := c.Acquire(t.Context(), otherClientID, 15*time.Second); err != nil {
			t.Fatal(err)
		}
		st = inspect(t, c)
		if !st.Held() || !st.Foreign() || !st.Released {
			t.Errorf("held by another client after a released: Held %v, Foreign %v, Released %v; want all true (holder %q, term %d)",
				st.Held(), st.Foreign(), st.Released, st.Holder, st.Term)
		}
		if err := c.Release(t.Context(), otherClientID); err != nil {
			t.Fatal(err)
		}

		b := mustAcquire(t, newRenewer(t, c, "b"))
		defer b.Release(context.Background())
		st = inspect(t, c)
		if st.Released || st.Foreign() || st.Holder != "b" || st.Term != ls.Term()+1 {
			t.Errorf("held by b: %+v; want not released, not foreign, holder b, term %d", st, ls.Term()+1)
		}
	})
}

// TestLateReleasedMarkerCannotMarkALaterHolding: the released marker of a
// holding, delivered after a later holding (of the same Renewer, with
// another lease ID) wrote its term, is refused and changes nothing.
func TestLateReleasedMarkerCannotMarkALaterHolding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		net := &lateNet{Leaser: c}
		r := newRenewer(t, net, "a")
		first := mustAcquire(t, r)
		net.holdBack(only("setmetadata"))
		if err := first.Release(t.Context()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		net.holdBack(nil)
		second := mustAcquire(t, r)
		defer second.Release(context.Background())
		errs := net.deliver()
		if len(errs) != 1 {
			t.Fatalf("held-back metadata writes: %d, want 1 (the released marker)", len(errs))
		}
		if !errors.Is(errs[0], renewer.ErrNoLease) {
			t.Errorf("late released marker of term %d answered %v, want ErrNoLease", first.Term(), errs[0])
		}
		st := inspect(t, c)
		if st.Released || st.Term != second.Term() || !st.Held() {
			t.Errorf("after the late marker: %+v; want held under term %d, not released", st, second.Term())
		}
	})
}

// TestNoReleasedMarkerWithoutRelease: a lease lost (broken) or abandoned
// leaves no marker: no write is made under a lease that is not ours, and
// an abandoned lease is still the holder's until it expires.
func TestNoReleasedMarkerWithoutRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		r := newRenewer(t, c, "a")
		ls := mustAcquire(t, r)
		if _, err := c.Break(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
		<-ls.Done()
		_ = ls.Release(t.Context())
		if st := inspect(t, c); st.Released {
			t.Errorf("a lost lease left the released marker: %+v", st)
		}

		ls = mustAcquire(t, r)
		if err := ls.Abandon(t.Context()); err != nil {
			t.Fatal(err)
		}
		if st := inspect(t, c); st.Released || !st.Held() || st.Foreign() {
			t.Errorf("an abandoned lease: %+v; want held by a, not released", st)
		}
	})
}
