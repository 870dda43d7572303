package sim_test

import (
	"strings"
	"testing"

	"github.com/leasehold/leasehold/internal/sim"
)

// TestGroupsHold runs a seed with a semaphore group and one with a shard
// group and wants their holders to have held the group's leases, with no
// violation: the groups do run.
func TestGroupsHold(t *testing.T) {
	for _, c := range []struct {
		seed uint64
		kind sim.Kind
	}{{12, sim.KindSemaphore}, {25, sim.KindShard}} {
		res := runSeed(t, c.seed, sim.Options{})
		if len(res.Plan.Group) == 0 || res.Plan.Group[0].Kind != c.kind {
			t.Fatalf("seed %d: plan has no %v group any more; pick another seed", c.seed, c.kind)
		}
		n := 0
		for _, h := range res.History {
			if h.Lease != "" && h.Kind == c.kind {
				n++
			}
		}
		if n < 5 {
			t.Errorf("seed %d: %d holdings of the %v group's leases; want them to change hands", c.seed, n, c.kind)
		}
		for _, v := range res.Violations {
			t.Errorf("seed %d: %v", c.seed, v)
		}
	}
}

// TestSimFindsGroupBugs puts the one-ID bug back in (one lease ID for every
// holding of a holder) and wants the simulation to find, in seed 288's
// semaphore group, two holders of one slot and more than K holders at
// once: the group checks can fail on a run, not only on made-up histories.
func TestSimFindsGroupBugs(t *testing.T) {
	res := runSeed(t, 288, sim.Options{Wrap: newOneID})
	var overlap, overK bool
	for _, v := range res.Violations {
		overlap = overlap || v.Kind == "overlap" && strings.HasPrefix(v.Detail, sim.SemName+"-slot-")
		overK = overK || v.Kind == "over-k"
	}
	if !overlap || !overK {
		t.Errorf("seed 288 with one lease ID per holder: slot overlap %v, over-k %v; want both. Violations:\n%v", overlap, overK, res.Violations)
	}
}
