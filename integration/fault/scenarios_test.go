package fault_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/leasehold/leasehold/integration/fault"
)

// The timing every scenario uses: the shortest lease the service allows and
// a short poll, so that each expiry costs about 20 s.
var timing = fault.Timing{Duration: 15 * time.Second, Poll: 500 * time.Millisecond}

// slack covers scheduling on a loaded 2-core machine and a storage round
// trip or two.
const slack = 3 * time.Second

func d(ns int64) time.Duration { return time.Duration(ns) }

// repeat runs one scenario n times, one after the other, and records each
// run for the table.
func repeat(t *testing.T, name string, n int, run func(t *testing.T, s *fault.Scenario) time.Duration) {
	t.Parallel()
	cs, bin := env(t)
	for i := 1; i <= n; i++ {
		t.Run(fmt.Sprintf("run-%d", i), func(t *testing.T) {
			s := fault.NewScenario(t, bin, proxies, cs, "fault", timing)
			failover := run(t, s)
			rep := s.Finish()
			record(name, rep, failover)
			t.Logf("%s: %d terms, %d violations, failover %v, late writes %d (accepted %d)",
				name, len(rep.Intervals), len(rep.Violations), failover, rep.LateWrites, rep.LateAccepted)
		})
	}
}

// startElection starts n election candidates c1..cn and waits for the first
// leader.
func startElection(t *testing.T, s *fault.Scenario, n int) (*fault.Proc, fault.Event) {
	t.Helper()
	from := fault.Now()
	for i := 1; i <= n; i++ {
		s.Start(fmt.Sprintf("c%d", i), "election")
	}
	e, ok := s.WaitElected(from, "", 30*time.Second)
	if !ok {
		t.Fatal("no leader within 30 s of starting the candidates")
	}
	return s.Proc(e.Proc), e
}

// waitNewLeader waits for a leader other than old elected after `after`,
// within L + P + slack, and returns the failover time from `after`.
func waitNewLeader(t *testing.T, s *fault.Scenario, after int64, old string) (fault.Event, time.Duration) {
	t.Helper()
	return waitNewLeaderWithin(t, s, after, old, timing.Duration+timing.Poll+slack)
}

func waitNewLeaderWithin(t *testing.T, s *fault.Scenario, after int64, old string, limit time.Duration) (fault.Event, time.Duration) {
	t.Helper()
	e, ok := s.WaitElected(after, old, limit+5*time.Second)
	if !ok {
		t.Fatalf("no new leader within %v of the fault on %s", limit+5*time.Second, old)
	}
	failover := d(e.T - after)
	if failover > limit {
		t.Errorf("failover took %v, want at most L + P + slack = %v", failover, limit)
	}
	return e, failover
}

// lostAfter returns the first loss by proc recorded after `after`.
func lostAfter(s *fault.Scenario, proc string, after int64, timeout time.Duration) (fault.Event, bool) {
	return s.WaitFor(after, timeout, func(e fault.Event) bool { return e.Kind == fault.KindLost && e.Proc == proc })
}

// Scenario 1: kill -9 the leader; a new leader within L + P + slack.
func TestKillLeader(t *testing.T) {
	repeat(t, "1 kill -9 leader", runs(1, 5), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		time.Sleep(time.Duration(1+fault.Now()%4) * time.Second) // kill at some point of the renew cycle
		killed := fault.Now()
		leader.Kill()
		_, failover := waitNewLeader(t, s, killed, leader.ID)
		return failover
	})
}

// Scenario 2: SIGSTOP the leader for longer than L, then SIGCONT: its context
// is cancelled promptly on waking and the fence rejects its late writes.
func TestPauseLeader(t *testing.T) {
	repeat(t, "2 SIGSTOP leader > L", runs(1, 5), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		time.Sleep(time.Second)
		paused := fault.Now()
		leader.Pause()
		_, failover := waitNewLeader(t, s, paused, leader.ID)
		time.Sleep(3 * time.Second) // the new leader writes for a while
		resumed := fault.Now()
		leader.Resume()
		e, ok := lostAfter(s, leader.ID, resumed, 5*time.Second)
		if !ok {
			t.Fatalf("%s: context not cancelled within 5 s of SIGCONT", leader.ID)
		}
		if late := d(e.T - resumed); late > time.Second {
			t.Errorf("%s: context cancelled %v after SIGCONT, want within 1 s", leader.ID, late)
		}
		time.Sleep(time.Second)
		return failover
	})
}

// Scenario 3: partition the leader from storage for longer than L: it steps
// down before its deadline, a new leader is elected, and after healing the
// old one follows.
func TestPartitionLeader(t *testing.T) {
	repeat(t, "3 partition leader > L", runs(1, 5), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		time.Sleep(time.Second)
		cut := fault.Now()
		if err := leader.Link.Partition(); err != nil {
			t.Fatal(err)
		}
		lost, ok := lostAfter(s, leader.ID, cut, timing.Window()+slack)
		if !ok {
			t.Fatalf("%s did not step down within %v of the partition", leader.ID, timing.Window()+slack)
		}
		next, failover := waitNewLeader(t, s, cut, leader.ID)
		if next.T <= lost.T {
			t.Errorf("new leader %s elected before the old one stepped down", next.Proc)
		}
		if rest := timing.Duration + 5*time.Second - d(fault.Now()-cut); rest > 0 {
			time.Sleep(rest)
		}
		healed := fault.Now()
		leader.Link.Heal()
		if _, ok := s.WaitFor(healed, 10*time.Second, func(e fault.Event) bool {
			return e.Proc == leader.ID && e.Kind == fault.KindObserved && e.Leader != leader.ID && e.Leader != ""
		}); !ok {
			t.Errorf("%s did not rejoin as a follower within 10 s of healing", leader.ID)
		}
		if !leader.Running() {
			t.Errorf("%s exited", leader.ID)
		}
		return failover
	})
}

// noLossFor fails if proc saw a loss after `from` within d.
func noLossFor(t *testing.T, s *fault.Scenario, proc string, from int64, dur time.Duration) {
	t.Helper()
	time.Sleep(dur)
	for _, e := range s.History() {
		if e.T > from && e.Proc == proc && e.Kind == fault.KindLost {
			t.Errorf("%s lost its term %v into a fault it should ride out: %s", proc, d(e.T-from), e.Cause)
			return
		}
	}
}

// Scenario 4a: latency below the renew budget (each call well within the
// call timeout, R/2) causes no loss.
func TestLatencyBelowBudget(t *testing.T) {
	repeat(t, "4a latency < budget", runs(1, 3), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		from := fault.Now()
		if err := leader.Link.SetLatency(400*time.Millisecond, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		noLossFor(t, s, leader.ID, from, 2*timing.Duration)
		_ = leader.Link.SetLatency(0, 0)
		return 0
	})
}

// Scenario 4b: latency above the budget (every call times out) causes loss
// before the deadline, never after (the checker's late-loss rule).
func TestLatencyAboveBudget(t *testing.T) {
	repeat(t, "4b latency > budget", runs(1, 3), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		from := fault.Now()
		if err := leader.Link.SetLatency(3*time.Second, 0); err != nil {
			t.Fatal(err)
		}
		if _, ok := lostAfter(s, leader.ID, from, timing.Window()+slack); !ok {
			t.Fatalf("%s kept its term through latency above the budget", leader.ID)
		}
		// Renewals the holder gave up on still reach storage one delay
		// later and extend the lease there (the holder does not count
		// them): the lease can outlive the holder's deadline by the delay
		// plus L.
		_, failover := waitNewLeaderWithin(t, s, from, leader.ID, timing.Window()+3*time.Second+timing.Duration+timing.Poll+slack)
		_ = leader.Link.SetLatency(0, 0)
		time.Sleep(2 * time.Second)
		return failover
	})
}

// Scenario 5a: 503 and 500 storms shorter than the budget cause no loss.
func TestShortStorms(t *testing.T) {
	repeat(t, "5a 503/500 storm < budget", runs(1, 3), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		from := fault.Now()
		leader.Link.Storm(http.StatusServiceUnavailable, 3*time.Second)
		time.Sleep(8 * time.Second)
		leader.Link.Storm(http.StatusInternalServerError, 3*time.Second)
		noLossFor(t, s, leader.ID, from, 12*time.Second)
		return 0
	})
}

// Scenario 5b: a storm longer than the budget causes loss before the
// deadline.
func TestLongStorm(t *testing.T) {
	repeat(t, "5b 503 storm > budget", runs(1, 3), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		from := fault.Now()
		leader.Link.Storm(http.StatusServiceUnavailable, timing.Duration+5*time.Second)
		if _, ok := lostAfter(s, leader.ID, from, timing.Window()+slack); !ok {
			t.Fatalf("%s kept its term through a storm longer than the budget", leader.ID)
		}
		_, failover := waitNewLeader(t, s, from, leader.ID)
		return failover
	})
}

// Scenario 6a: connections reset during renews, and at random.
func TestResets(t *testing.T) {
	repeat(t, "6a connection resets", runs(1, 3), func(t *testing.T, s *fault.Scenario) time.Duration {
		leader, _ := startElection(t, s, 3)
		leader.Link.CutRenews(3 * time.Second)
		time.Sleep(6 * time.Second)
		for _, id := range []string{"c1", "c2", "c3"} {
			if err := s.Proc(id).Link.SetResets(0.3); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(timing.Duration)
		for _, id := range []string{"c1", "c2", "c3"} {
			_ = s.Proc(id).Link.SetResets(0)
		}
		from := fault.Now()
		if _, ok := s.WaitFor(from, timing.Duration+slack, func(e fault.Event) bool {
			return e.Kind == fault.KindFenced && e.Accepted
		}); !ok {
			t.Error("no leader writing within L + slack after the resets stopped")
		}
		return 0
	})
}
