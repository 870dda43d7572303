package election_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Observe reports the current leader first, then each change, including
// to no leader, and closes its channel when ctx ends.
func TestObserveReportsAbsence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		b := newCandidate(t, c, "b")
		watcher := newCandidate(t, c, "watcher")
		ctx, cancel := context.WithCancel(t.Context())
		ch := watcher.Observe(ctx)
		wait := 2 * pollP // a poll interval, jittered, is at most 1.2 P

		if got := recv(t, ch, wait); got != (election.Leader{}) {
			t.Fatalf("first = %+v, want no leader", got)
		}
		la, err := a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := recv(t, ch, wait), (election.Leader{Identity: "a", Term: 1}); got != want {
			t.Fatalf("after a's election = %+v, want %+v", got, want)
		}
		if err := la.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, ch, wait); got != (election.Leader{}) {
			t.Fatalf("after a resigned = %+v, want no leader", got)
		}
		lb, err := b.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := recv(t, ch, wait), (election.Leader{Identity: "b", Term: 2}); got != want {
			t.Fatalf("after b's election = %+v, want %+v", got, want)
		}
		cancel()
		select {
		case v, ok := <-ch:
			if ok {
				t.Fatalf("after cancel: received %+v, want closed", v)
			}
		case <-time.After(wait):
			t.Fatal("channel not closed after cancel")
		}
		_ = lb.Resign(t.Context())
	})
}

// A receiver that falls behind gets the latest leader only, and never the
// value it received last.
func TestObserveCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		watcher := newCandidate(t, c, "watcher")
		ch := watcher.Observe(t.Context())
		if got := recv(t, ch, 2*pollP); got != (election.Leader{}) {
			t.Fatalf("first = %+v, want no leader", got)
		}
		// Three terms come and go, and a fourth stays, while nobody reads.
		var last *election.Leadership
		for range 4 {
			if last != nil {
				_ = last.Resign(t.Context())
			}
			var err error
			if last, err = a.Campaign(t.Context()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * pollP)
		}
		if got, want := recv(t, ch, 2*pollP), (election.Leader{Identity: "a", Term: 4}); got != want {
			t.Fatalf("after falling behind = %+v, want %+v", got, want)
		}
		select {
		case v := <-ch:
			t.Fatalf("then %+v, want nothing", v)
		case <-time.After(3 * pollP):
		}
		_ = last.Resign(t.Context())
	})
}

// Leader answers from memory while leading, from storage otherwise, and
// does not name the previous leader while a new one is writing its term.
func TestLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		b := newCandidate(t, c, "b")
		if _, err := b.Leader(t.Context()); !errors.Is(err, election.ErrNoLeader) {
			t.Fatalf("Leader on a new container = %v, want ErrNoLeader", err)
		}
		la, err := a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		calls := c.Calls(leasetest.OpProperties)
		if got, err := a.Leader(t.Context()); err != nil || got != (election.Leader{Identity: "a", Term: 1}) {
			t.Errorf("a.Leader = %+v, %v; want a, 1", got, err)
		}
		if c.Calls(leasetest.OpProperties) != calls {
			t.Error("the leader's Leader read storage")
		}
		if got, err := b.Leader(t.Context()); err != nil || got != (election.Leader{Identity: "a", Term: 1}) {
			t.Errorf("b.Leader = %+v, %v; want a, 1", got, err)
		}
		if err := la.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Leader(t.Context()); !errors.Is(err, election.ErrNoLeader) {
			t.Errorf("Leader after resigning = %v, want ErrNoLeader", err)
		}

		// b acquires, but its term write hangs for a while: the container
		// still names a, term 1, under b's lease.
		c.SetBefore(func(ctx context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpSetMetadata {
				time.Sleep(time.Second)
			}
			return nil
		})
		got := make(chan *election.Leadership, 1)
		go func() {
			lb, err := b.Campaign(t.Context())
			if err != nil {
				t.Error(err)
			}
			got <- lb
		}()
		time.Sleep(time.Second / 2)
		if l, err := a.Leader(t.Context()); !errors.Is(err, election.ErrNoLeader) {
			t.Errorf("Leader while b writes its term = %+v, %v; want ErrNoLeader", l, err)
		}
		lb := recv(t, got, time.Minute)
		if l, err := a.Leader(t.Context()); err != nil || l != (election.Leader{Identity: "b", Term: 2}) {
			t.Errorf("Leader once b wrote its term = %+v, %v; want b, 2", l, err)
		}
		c.SetBefore(nil)
		_ = lb.Resign(t.Context())
	})
}
