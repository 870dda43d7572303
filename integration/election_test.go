package integration_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

// Generous slack for Azurite's round trips and the test machine, on top of
// the figures the election promises. Failover bounds are checked loosely;
// the figures are logged.
const electSlack = 3 * time.Second

// byID returns the candidate with identity id.
func byID(t *testing.T, cs []*electCandidate, id string) *electCandidate {
	t.Helper()
	for _, c := range cs {
		if c.id == id {
			return c
		}
	}
	t.Fatalf("no candidate %q", id)
	return nil
}

// Three candidates: exactly one leads, and everyone agrees who.
func TestElectionOneLeader(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "elect-one")
	cs := newElectCandidates(t, name, []string{"a", "b", "c"}, renewer.WithPollInterval(300*time.Millisecond))
	l := newElectLedger(t)
	stop := runElection(t, cs, l, nil)

	terms := l.waitTerms(1, 10*time.Second)
	if len(terms) != 1 {
		t.Fatalf("%d terms within 10s, want 1", len(terms))
	}
	leader := terms[0]
	for i := range 20 { // 2 s
		if n := l.liveCount(); n != 1 {
			t.Fatalf("sample %d: %d leaders, want 1", i, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range cs {
		got, err := c.e.Leader(t.Context())
		if err != nil || got != (election.Leader{Identity: leader.id, Term: leader.term}) {
			t.Errorf("%s: Leader = %+v, %v; want %s, term %d", c.id, got, err, leader.id, leader.term)
		}
	}
	if n := len(l.snapshot()); n != 1 {
		t.Errorf("%d terms, want 1: leadership moved with no reason", n)
	}
	stop()
	if n := l.liveCount(); n != 0 {
		t.Errorf("%d leaders after every Run returned, want 0", n)
	}
}

// Resign hands leadership over to another candidate, with the next term.
// (How fast is a figure of make bench's hand-over section, not a timed
// assertion here: under load a bound flakes.) The poll interval is long
// enough that the resigner's two polls standing aside outlast a loaded
// machine's scheduling delays.
func TestElectionResignHandsOver(t *testing.T) {
	t.Parallel()
	const poll = time.Second
	name, _ := newContainer(t, "elect-resign")
	cs := newElectCandidates(t, name, []string{"a", "b", "c"}, renewer.WithPollInterval(poll))
	l := newElectLedger(t)
	runElection(t, cs, l, nil)

	for i := 1; i <= 3; i++ {
		terms := l.waitTerms(i, 10*time.Second)
		if len(terms) < i {
			t.Fatalf("%d terms, want %d", len(terms), i)
		}
		cur := terms[i-1]
		start := time.Now()
		if err := byID(t, cs, cur.id).e.Resign(t.Context()); err != nil {
			t.Fatalf("%s: Resign: %v", cur.id, err)
		}
		terms = l.waitTerms(i+1, 10*time.Second)
		if len(terms) <= i {
			t.Fatalf("no new leader within 10s of %s's Resign", cur.id)
		}
		next := terms[i]
		took := next.elected.Sub(start)
		t.Logf("handoff %d: %s (term %d) -> %s (term %d) in %v", i, cur.id, cur.term, next.id, next.term, took)
		if next.id == cur.id || next.term != cur.term+1 {
			t.Errorf("after %s's term %d: %s, term %d; want another candidate, term %d", cur.id, cur.term, next.id, next.term, cur.term+1)
		}
	}
}

// A leader that stops renewing and never releases (cut off from storage,
// as if it had crashed) loses leadership (ErrLost) before anyone else is
// elected, and is replaced within L + poll interval (+ slack).
func TestElectionCrashedLeaderReplaced(t *testing.T) {
	t.Parallel()
	const (
		lease = 15 * time.Second
		poll  = 500 * time.Millisecond
	)
	name, _ := newContainer(t, "elect-crash")
	cs := newElectCandidates(t, name, []string{"a", "b", "c"}, renewer.WithPollInterval(poll))
	l := newElectLedger(t)
	runElection(t, cs, l, nil)

	terms := l.waitTerms(1, 10*time.Second)
	if len(terms) != 1 {
		t.Fatalf("%d terms within 10s, want 1", len(terms))
	}
	cur := terms[0]
	start := time.Now()
	byID(t, cs, cur.id).link.CutOff(errPartitioned)
	terms = l.waitTerms(2, lease+poll+electSlack+5*time.Second)
	if len(terms) < 2 {
		t.Fatalf("no new leader within %v of the leader's crash", lease+poll+electSlack+5*time.Second)
	}
	next, old := terms[1], l.snapshot()[0]
	took := next.elected.Sub(start)
	t.Logf("crash failover: %s (term %d) -> %s (term %d) in %v; old leader stopped after %v (cause: %v)",
		cur.id, cur.term, next.id, next.term, took, old.ended.Sub(start), old.cause)
	if bound := lease + poll*12/10 + electSlack; took > bound {
		t.Errorf("failover took %v, want at most %v", took, bound)
	}
	if !errors.Is(old.cause, renewer.ErrLeaseLost) {
		t.Errorf("old leader's cause = %v, want ErrLost", old.cause)
	}
	l.check() // the old leader stopped (or its validity deadline passed) before the new one began
	if next.term != cur.term+1 || next.id == cur.id {
		t.Errorf("new leader %s, term %d; want another candidate, term %d", next.id, next.term, cur.term+1)
	}
}

// Over 20 transitions terms strictly increase, one at a time, and no two
// leaderships overlap (the ledger checks it when the Runs stop, by each
// leader's validity deadline, on this process's clock).
func TestElectionTwentyTransitions(t *testing.T) {
	t.Parallel()
	const transitions = 20
	name, _ := newContainer(t, "elect-twenty")
	cs := newElectCandidates(t, name, []string{"a", "b", "c"}, renewer.WithPollInterval(200*time.Millisecond))
	l := newElectLedger(t)
	stop := runElection(t, cs, l, func(c *electCandidate) func(context.Context, int64) {
		return func(ctx context.Context, _ int64) {
			select {
			case <-time.After(100 * time.Millisecond): // lead a little, then step down
				_ = c.e.Resign(ctx)
			case <-ctx.Done():
			}
		}
	})
	terms := l.waitTerms(transitions+1, 2*time.Minute)
	stop()
	if len(terms) < transitions+1 {
		t.Fatalf("%d terms within 2 min, want %d", len(terms), transitions+1)
	}
	for i := 1; i < len(terms); i++ {
		if terms[i].term != terms[i-1].term+1 {
			t.Errorf("term %d (%s) followed by %d (%s): want +1", terms[i-1].term, terms[i-1].id, terms[i].term, terms[i].id)
		}
	}
	for _, tm := range l.snapshot() {
		if !errors.Is(tm.cause, renewer.ErrReleased) {
			t.Errorf("term %d (%s) ended with %v, want ErrResigned", tm.term, tm.id, tm.cause)
		}
	}
	t.Logf("%d terms in %v", len(terms), terms[len(terms)-1].elected.Sub(terms[0].elected))
}

// The figures at default settings (L = 15 s, poll interval 750 ms): graceful
// handoff (Resign to the next OnElected) and crash failover (the leader
// stops renewing, no release, to the next OnElected). Logged; bounds are
// loose.
func TestElectionDefaultTimings(t *testing.T) {
	t.Parallel()
	const (
		lease = 15 * time.Second
		poll  = renewer.DefaultPollInterval
	)
	name, _ := newContainer(t, "elect-defaults")
	cs := newElectCandidates(t, name, []string{"a", "b", "c"})
	l := newElectLedger(t)
	runElection(t, cs, l, nil)

	const handoffs = 3
	var sum time.Duration
	for i := 1; i <= handoffs; i++ {
		terms := l.waitTerms(i, 2*poll+electSlack)
		if len(terms) < i {
			t.Fatalf("%d terms, want %d", len(terms), i)
		}
		cur := terms[i-1]
		time.Sleep(poll) // let the standbys poll out of step
		start := time.Now()
		if err := byID(t, cs, cur.id).e.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
		terms = l.waitTerms(i+1, poll*12/10+electSlack)
		if len(terms) <= i {
			t.Fatalf("handoff %d: no new leader within %v", i, poll*12/10+electSlack)
		}
		took := terms[i].elected.Sub(start)
		sum += took
		t.Logf("default handoff %d: %v", i, took)
	}
	t.Logf("default handoff: mean %v over %d (bound: poll interval %v, jittered to %v)", sum/handoffs, handoffs, poll, poll*12/10)

	terms := l.snapshot()
	cur := terms[len(terms)-1]
	time.Sleep(poll)
	start := time.Now()
	byID(t, cs, cur.id).link.CutOff(errPartitioned)
	terms = l.waitTerms(len(terms)+1, lease+poll+2*electSlack)
	if len(terms) < handoffs+2 {
		t.Fatalf("no new leader within %v of the leader's crash", lease+poll+2*electSlack)
	}
	took := terms[len(terms)-1].elected.Sub(start)
	t.Logf("default crash failover: %v (floor on Azurite, which has no post-expiry wait; bound L + 1.2 P = %v)", took, lease+poll*12/10)
	if bound := lease + poll*12/10 + electSlack; took > bound {
		t.Errorf("failover took %v, want at most %v", took, bound)
	}
}
