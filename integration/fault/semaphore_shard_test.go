package fault_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/leasehold/leasehold/integration/fault"
)

// Scenarios 9 and 10: a semaphore of K slots and a shard group of P
// partitions, every slot and partition a named blob lease in the scenario's
// container (the candidates' Leasers give azlease blob leases, read with one
// List call per poll). The checker holds them to their guarantees per slot
// and per partition (overlap, term-order, duplicate-term, fence-order,
// late-loss, each keyed by the resource) and across them: never more than K
// holders of the semaphore at once (over-capacity), and every partition of a
// killed member owned again within L + P + slack (unowned).

const (
	semK       = 2 // semaphore slots
	partitions = 6 // shard partitions
	members    = 3 // shard members started
)

// reown is how soon after a member dies every partition it owned must be
// owned again: its leases expire within L of its last renew, and the others
// see them free at their next poll (P, jittered by up to 20 %).
var reown = timing.Duration + timing.Poll + slack

// live returns, from the history, who holds each keyed resource now.
func live(s *fault.Scenario) map[string]string {
	owner := map[string]string{}
	for _, e := range s.History() {
		switch {
		case e.Kind == fault.KindElected && e.Key != "":
			owner[e.Key] = e.Proc
		case e.Kind == fault.KindLost && owner[e.Key] == e.Proc:
			delete(owner, e.Key)
		case e.Kind == fault.KindKilled:
			for k, p := range owner {
				if p == e.Proc {
					delete(owner, k)
				}
			}
		}
	}
	return owner
}

// ownedBy returns the resources proc holds now, sorted.
func ownedBy(owner map[string]string, proc string) []string {
	var keys []string
	for k, p := range owner {
		if p == proc {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// waitLive polls the history (every 200 ms, for at most timeout) until ok
// accepts who holds what, and returns it.
func waitLive(s *fault.Scenario, timeout time.Duration, ok func(map[string]string) bool) (map[string]string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		owner := live(s)
		if ok(owner) {
			return owner, true
		}
		if time.Now().After(deadline) {
			return owner, false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startSemaphore starts n semaphore holders s1..sn (K = semK) and waits
// until every slot is held.
func startSemaphore(t *testing.T, s *fault.Scenario, n int, args ...string) map[string]string {
	t.Helper()
	s.Check.Capacity = semK
	for i := 1; i <= n; i++ {
		s.Start(fmt.Sprintf("s%d", i), "semaphore", append([]string{"-k", fmt.Sprint(semK)}, args...)...)
	}
	owner, ok := waitLive(s, 30*time.Second, func(o map[string]string) bool { return len(o) == semK })
	if !ok {
		t.Fatalf("not every slot held within 30 s of starting the holders: %v", owner)
	}
	return owner
}

// startShard starts the shard members m1..m<members> and waits until the
// group is balanced: every partition owned, each member owning its share.
func startShard(t *testing.T, s *fault.Scenario) {
	t.Helper()
	s.Check.Reown = reown
	for i := 1; i <= members; i++ {
		s.Start(fmt.Sprintf("m%d", i), "shard", "-partitions", fmt.Sprint(partitions), "-write", "250ms")
	}
	if owner, ok := waitBalanced(s, 45*time.Second); !ok {
		t.Fatalf("group not balanced within 45 s of starting the members: %v", owner)
	}
}

// waitBalanced waits until every partition is owned and the running members
// own partitions/n or one more each.
func waitBalanced(s *fault.Scenario, timeout time.Duration) (map[string]string, bool) {
	return waitLive(s, timeout, func(o map[string]string) bool {
		if len(o) != partitions {
			return false
		}
		var running []string
		for i := 1; i <= members; i++ {
			if p := s.Proc(fmt.Sprintf("m%d", i)); p != nil && p.Running() {
				running = append(running, p.ID)
			}
		}
		for _, m := range running {
			n := len(ownedBy(o, m))
			if n < partitions/len(running) || n > (partitions+len(running)-1)/len(running) {
				return false
			}
		}
		return true
	})
}

// waitReowned waits until every one of keys is held by a process other than
// old, elected after `after`, and returns the time from `after` to the last
// of them; it fails the test past limit.
func waitReowned(t *testing.T, s *fault.Scenario, after int64, old string, keys []string, limit time.Duration) time.Duration {
	t.Helper()
	var worst time.Duration
	for _, k := range keys {
		e, ok := s.WaitFor(after, limit+5*time.Second-d(fault.Now()-after), func(e fault.Event) bool {
			return e.Kind == fault.KindElected && e.Key == k && e.Proc != old
		})
		if !ok {
			t.Fatalf("%s of %s not held again within %v of the fault", k, old, limit+5*time.Second)
		}
		worst = max(worst, d(e.T-after))
	}
	if worst > limit {
		t.Errorf("%v held again after %v, want at most %v", keys, worst, limit)
	}
	return worst
}

// fencedPast fails unless the fence has accepted, for each of keys, a term
// above the first: the new holder's writes reach the fence under the
// resource's own key, so the checker's per-key rules see them.
func fencedPast(t *testing.T, s *fault.Scenario, keys []string) {
	t.Helper()
	for _, k := range keys {
		if h := s.Fence.Highest(k); h < 2 {
			t.Errorf("fence: highest term accepted for %s is %d, want a new holder's (2 or more)", k, h)
		}
	}
}

// pick returns the holder of the first of the held keys, and what it holds.
func pick(t *testing.T, owner map[string]string) (string, []string) {
	t.Helper()
	keys := make([]string, 0, len(owner))
	for k := range owner {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		t.Fatal("nothing held")
	}
	sort.Strings(keys)
	p := owner[keys[0]]
	return p, ownedBy(owner, p)
}

// Scenario 9a: semaphore holders come and go (holds of 1 to 4 s, four
// processes for two slots); a holder is killed (kill -9) and its slot is held
// again within L + P + slack, never more than K holders at once.
func TestSemaphoreKillHolder(t *testing.T) {
	repeat(t, "9a semaphore kill -9 holder", runs(1, 3), func(t *testing.T, s *fault.Scenario) time.Duration {
		startSemaphore(t, s, 4, "-hold-min", "1s", "-hold-max", "4s")
		time.Sleep(time.Duration(2+fault.Now()%3) * time.Second)
		owner, _ := waitLive(s, 10*time.Second, func(o map[string]string) bool { return len(o) > 0 })
		victim, slots := pick(t, owner)
		killed := fault.Now()
		s.Proc(victim).Kill()
		failover := waitReowned(t, s, killed, victim, slots, reown)
		time.Sleep(3 * time.Second) // the others go on coming and going
		fencedPast(t, s, slots)
		return failover
	})
}

// Scenario 9b: a semaphore holder (holding until it loses) is cut off from
// storage for longer than L: it steps down before its deadline, the waiter
// takes its slot, and after healing it waits for a slot again.
func TestSemaphorePartitionHolder(t *testing.T) {
	repeat(t, "9b semaphore partition holder", runs(0, 2), func(t *testing.T, s *fault.Scenario) time.Duration {
		owner := startSemaphore(t, s, semK+1, "-hold-min", "5m", "-hold-max", "5m")
		victim, slots := pick(t, owner)
		cut := fault.Now()
		if err := s.Proc(victim).Link.Partition(); err != nil {
			t.Fatal(err)
		}
		if _, ok := lostAfter(s, victim, cut, timing.Window()+slack); !ok {
			t.Fatalf("%s did not step down within %v of the partition", victim, timing.Window()+slack)
		}
		failover := waitReowned(t, s, cut, victim, slots, reown)
		if rest := timing.Duration + 5*time.Second - d(fault.Now()-cut); rest > 0 {
			time.Sleep(rest)
		}
		s.Proc(victim).Link.Heal()
		time.Sleep(3 * time.Second) // it polls again, and finds both slots held
		return failover
	})
}

// Scenario 9c: latency above the budget on a semaphore holder's link: it
// loses its slot before its deadline, never after, and the waiter takes it.
func TestSemaphoreSlowHolder(t *testing.T) {
	repeat(t, "9c semaphore latency > budget", runs(0, 2), func(t *testing.T, s *fault.Scenario) time.Duration {
		owner := startSemaphore(t, s, semK+1, "-hold-min", "5m", "-hold-max", "5m")
		victim, slots := pick(t, owner)
		from := fault.Now()
		if err := s.Proc(victim).Link.SetLatency(3*time.Second, 0); err != nil {
			t.Fatal(err)
		}
		if _, ok := lostAfter(s, victim, from, timing.Window()+slack); !ok {
			t.Fatalf("%s kept its slot through latency above the budget", victim)
		}
		// As in 4b: renewals given up on still land one delay later.
		failover := waitReowned(t, s, from, victim, slots, timing.Window()+3*time.Second+reown)
		_ = s.Proc(victim).Link.SetLatency(0, 0)
		time.Sleep(2 * time.Second)
		return failover
	})
}

// Scenario 10a: a balanced shard group (three members, six partitions); a
// member is killed (kill -9): every partition it owned is owned again within
// L + P + slack, never by two members at once, and the group balances again.
func TestShardKillMember(t *testing.T) {
	repeat(t, "10a shard kill -9 member", runs(1, 3), func(t *testing.T, s *fault.Scenario) time.Duration {
		startShard(t, s)
		time.Sleep(time.Duration(1+fault.Now()%4) * time.Second) // kill at some point of the renew cycle
		victim, parts := pick(t, live(s))
		killed := fault.Now()
		s.Proc(victim).Kill()
		failover := waitReowned(t, s, killed, victim, parts, reown)
		if owner, ok := waitBalanced(s, 10*time.Second); !ok {
			t.Errorf("group not balanced again within 10 s of re-owning %v: %v", parts, owner)
		}
		fencedPast(t, s, parts)
		return failover
	})
}

// Scenario 10b: a shard member cut off from storage for longer than L: its
// handlers' contexts end before its deadlines, the others own its partitions,
// and after healing it joins again and the group balances.
func TestShardPartitionMember(t *testing.T) {
	repeat(t, "10b shard partition member", runs(1, 2), func(t *testing.T, s *fault.Scenario) time.Duration {
		startShard(t, s)
		time.Sleep(time.Second)
		victim, parts := pick(t, live(s))
		cut := fault.Now()
		if err := s.Proc(victim).Link.Partition(); err != nil {
			t.Fatal(err)
		}
		if owner, ok := waitLive(s, timing.Window()+slack, func(o map[string]string) bool {
			return len(ownedBy(o, victim)) == 0
		}); !ok {
			t.Fatalf("%s still owned %v %v after the partition", victim, ownedBy(owner, victim), timing.Window()+slack)
		}
		failover := waitReowned(t, s, cut, victim, parts, reown)
		if rest := timing.Duration + 3*time.Second - d(fault.Now()-cut); rest > 0 {
			time.Sleep(rest)
		}
		s.Proc(victim).Link.Heal()
		if owner, ok := waitBalanced(s, 20*time.Second); !ok {
			t.Errorf("group not balanced within 20 s of healing %s: %v", victim, owner)
		}
		return failover
	})
}

// Scenario 10c: latency above the budget on a shard member's link: it gives
// its partitions up before its deadlines, never after, the others own them,
// and once the latency is gone the group balances again.
func TestShardSlowMember(t *testing.T) {
	repeat(t, "10c shard latency > budget", runs(0, 2), func(t *testing.T, s *fault.Scenario) time.Duration {
		startShard(t, s)
		victim, parts := pick(t, live(s))
		from := fault.Now()
		if err := s.Proc(victim).Link.SetLatency(3*time.Second, 0); err != nil {
			t.Fatal(err)
		}
		failover := waitReowned(t, s, from, victim, parts, timing.Window()+3*time.Second+reown)
		_ = s.Proc(victim).Link.SetLatency(0, 0)
		if owner, ok := waitBalanced(s, 25*time.Second); !ok {
			t.Errorf("group not balanced within 25 s of removing the latency: %v", owner)
		}
		return failover
	})
}
