package election_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// electedLog records who was elected, in order, from Run's OnElected.
type electedLog struct{ ch chan string }

func (l electedLog) callbacks(id string) election.Callbacks {
	return election.Callbacks{OnElected: func(ctx context.Context, term int64) {
		l.ch <- fmt.Sprintf("%s/%d", id, term)
		<-ctx.Done()
	}}
}

// TestBrokenLeaderStandsAside: an operator breaks the leader's lease (the
// default period: the lease's remaining time). The leader learns of it at
// its next renew and releases; it campaigns again under Run, but another
// live candidate must win, not the one that was broken. (Before the
// stand-aside, the broken leader campaigned at once and won again.)
func TestBrokenLeaderStandsAside(t *testing.T) {
	for _, seed := range []int{0, 1, 2} { // when, within a renew interval, the break comes
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				log := electedLog{ch: make(chan string, 10)}
				a := newCandidate(t, c, "a")
				stopA := runLater(t, a, log.callbacks("a"))
				if got := recv(t, log.ch, time.Minute); got != "a/1" {
					t.Fatalf("first elected %s, want a/1", got)
				}
				b := newCandidate(t, c, "b")
				stopB := runLater(t, b, log.callbacks("b"))
				defer stopB()
				defer stopA()
				time.Sleep(time.Duration(seed+1) * 1700 * time.Millisecond)
				if _, err := c.Break(t.Context(), 60*time.Second); err != nil {
					t.Fatal(err)
				}
				if got := recv(t, log.ch, time.Minute); got != "b/2" {
					t.Errorf("elected after the break of a's lease: %s, want b/2 (another live candidate)", got)
				}
			})
		})
	}
}

// TestBrokenLoneLeaderLeadsAgain: with no other candidate, the broken
// leader leads again once its stand-aside is over.
func TestBrokenLoneLeaderLeadsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		log := electedLog{ch: make(chan string, 10)}
		a := newCandidate(t, c, "a")
		stop := runLater(t, a, log.callbacks("a"))
		defer stop()
		recv(t, log.ch, time.Minute)
		if _, err := c.Break(t.Context(), 60*time.Second); err != nil {
			t.Fatal(err)
		}
		brokeAt := time.Now()
		if got := recv(t, log.ch, time.Minute); got != "a/2" {
			t.Errorf("elected after the break: %s, want a/2", got)
		}
		// It notices at its next renew (5 s), then stands aside 3 P.
		if took, limit := time.Since(brokeAt), 5*time.Second+election.BrokenStandAside*pollP+2*pollP; took > limit {
			t.Errorf("a led again %v after the break, want within %v", took, limit)
		}
	})
}

// TestLossThatIsNotABreakDoesNotStandAside: a lease lost otherwise (its
// ID changed by someone) is not a break: the candidate campaigns at once,
// as before.
func TestLossThatIsNotABreakDoesNotStandAside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		ld, err := a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// Storage answers the renew with a lease that is not ours.
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRenew {
				return fmt.Errorf("test: %w", renewer.ErrNoLease)
			}
			return nil
		})
		<-ld.Done()
		if errors.Is(context.Cause(ld.Context()), renewer.ErrBroken) {
			t.Fatal("a loss to another ID counted as a break")
		}
		c.SetBefore(nil)
		_ = ld.Resign(t.Context())
		start := time.Now()
		ld, err = a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer ld.Resign(context.Background())
		if took := time.Since(start); took >= pollP {
			t.Errorf("campaign after a loss that is not a break took %v, want at once", took)
		}
	})
}

// TestBrokenLeaderStandsAsideForNextInLine: the same with the default
// next-in-line seats (a Leaser that is a renewer.Besider): a seat holder
// takes over, not the leader that was broken.
func TestBrokenLeaderStandsAsideForNextInLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		main, err := n.Lease("svc")
		if err != nil {
			t.Fatal(err)
		}
		log := electedLog{ch: make(chan string, 10)}
		for i, id := range []string{"a", "b", "c"} {
			r, err := renewer.New(main, renewer.WithIdentity(id))
			if err != nil {
				t.Fatal(err)
			}
			e, err := election.New(r)
			if err != nil {
				t.Fatal(err)
			}
			stop := runLater(t, e, log.callbacks(id))
			defer stop()
			if i == 0 {
				if got := recv(t, log.ch, time.Minute); got != "a/1" {
					t.Fatalf("first elected %s, want a/1", got)
				}
			}
		}
		time.Sleep(2 * time.Minute) // b and c take the seats
		if _, err := main.Break(t.Context(), 60*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, log.ch, time.Minute); got != "b/2" && got != "c/2" {
			t.Errorf("elected after the break of a's lease: %s, want b/2 or c/2 (a next in line)", got)
		}
	})
}
