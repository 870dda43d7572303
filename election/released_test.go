package election_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestLeaderAfterReleaseToAnotherClient: a leader resigns and a client
// that is not leasehold takes the lease before anyone read it free. A
// candidate reading it then must not name the leader that resigned
// (Leader, KnownLeader, Observe): the released marker says its term ended.
func TestLeaderAfterReleaseToAnotherClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		la, err := a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := la.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Acquire(t.Context(), "0f0f0f0f-0000-4000-8000-000000000002", 15*time.Second); err != nil {
			t.Fatal(err)
		}
		b := newCandidate(t, c, "b")
		if l, err := b.Leader(t.Context()); !errors.Is(err, election.ErrNoLeader) {
			t.Errorf("Leader while another client holds the lease a released = %+v, %v; want ErrNoLeader", l, err)
		}
		if l, at := b.KnownLeader(); l != (election.Leader{}) || at.IsZero() {
			t.Errorf("KnownLeader = %+v at %v; want no leader, read now", l, at)
		}
		obs := newCandidate(t, c, "o")
		ch := obs.Observe(t.Context())
		if l := recv(t, ch, time.Minute); l != (election.Leader{}) {
			t.Errorf("Observe's first leader = %+v; want none", l)
		}
	})
}
