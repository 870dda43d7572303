package election_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestStandbySecondSeatRefused: storage refuses the second seat for good
// (an upgrade whose SAS allows the first seat's blob only, say). The
// election goes on with one seat: its holder, finding the other seat
// unreadable, polls in every slot, and the others stay backbenchers. A
// leader and 4 standbys cost about what one seat costs (under 6,000 reads
// of the leader's lease an hour; every standby polling would be 19,200),
// and a hand-over takes at most P.
func TestStandbySecondSeatRefused(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.next2.SetBefore(func(context.Context, leasetest.Call) error { return renewer.ErrForbidden })
		leader, standbys := w.startElection(election.ProfileDefault, 4, true)
		all := append([]*cand{leader}, standbys...)
		time.Sleep(time.Minute)
		for _, c := range all {
			c.main.reset()
		}
		time.Sleep(time.Hour)
		total := 0
		for _, c := range all {
			_, reads := c.main.total("properties")
			total += reads
		}
		t.Logf("reads of the leader's lease in an hour, second seat refused: %d", total)
		if total > 6000 {
			t.Errorf("%d reads of the leader's lease an hour with the second seat refused, want under 6,000 (one seat holder polling every P, backbenchers every Check)", total)
		}
		if n := len(seated(standbys)); n != 1 {
			t.Errorf("%d seat holders, want 1", n)
		}
		resigned := time.Now()
		if err := leader.e.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := recv(t, w.elected, time.Minute)
		if d := w.electedAt(got).Sub(resigned); d > pollP+100*time.Millisecond {
			t.Errorf("hand-over took %v, want at most P", d)
		}
		stopAll(all...)
	})
}

// TestStandbyCrashRestarts: both seat holders crash and are replaced by
// new candidates (a crash-restart, one after the other), then the leader
// crashes. The dead holders keep their seats for the seat lease's 60 s,
// so no seat holder is alive; the new candidates, which found every seat
// held, poll every P for their first NextDuration + Retry, and one leads
// within L + 1.2 P and a few round trips of the leader's crash (a
// backbencher's Check, up to 72 s, without that).
func TestStandbyCrashRestarts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		leader, standbys := w.startElection(election.ProfileDefault, 2, true)
		time.Sleep(election.DefaultNextDuration + election.DefaultRetry)
		var fresh []*cand
		for i, c := range seated(standbys) {
			c.die()
			fresh = append(fresh, w.add(fmt.Sprintf("r%d", i), election.ProfileDefault, true))
			time.Sleep(5 * time.Second)
		}
		if n := len(seated(fresh)); n != 0 {
			t.Fatalf("%d new candidates hold a seat, want none (the dead hold both)", n)
		}
		died := time.Now()
		leader.die()
		bound := leaseL + pollP*6/5 + time.Second
		got := recv(t, w.elected, 3*time.Minute)
		if d := w.electedAt(got).Sub(died); d > bound {
			t.Errorf("%s led %v after the leader crashed, with both seat holders dead, want within %v", got, d, bound)
		}
		stopAll(append(append(fresh, standbys...), leader)...)
	})
}
