package sim_test

import (
	"strings"
	"testing"

	"github.com/leasehold/leasehold/internal/sim"
)

// findPutBack runs seeds first..last with opts and returns the first seed
// that shows a violation of one of kinds, and that violation; then it
// replays that seed without the put-back and wants no violation there:
// the put-back, not the seed, is what the checker saw.
func findPutBack(t *testing.T, what string, opts sim.Options, first, last uint64, kinds ...string) {
	t.Helper()
	for seed := first; seed <= last; seed++ {
		res := runSeed(t, seed, opts)
		for _, v := range res.Violations {
			for _, k := range kinds {
				if v.Kind != k {
					continue
				}
				t.Logf("%s: seed %d (searched %d..%d): %v", what, seed, first, last, v)
				if clean := runSeed(t, seed, sim.Options{}); len(clean.Violations) > 0 {
					t.Errorf("seed %d without %s: %v; want none", seed, what, clean.Violations)
				}
				return
			}
		}
	}
	t.Fatalf("%s: no %s violation in seeds %d..%d: the checker does not see it", what, strings.Join(kinds, " or "), first, last)
}

// TestSimFindsNoReask puts back the lost-acquire bug (internal/putback
// NoReask: no asking again after an acquire whose outcome is unknown) and
// wants a "ghost" violation: a candidate whose acquire took the lease
// without its learning it waits, healthy, for that lease to expire. The
// first seed that shows it is 20 (-putback=noreask: 42 seeds of the first
// 2,000); the search stops at 60.
func TestSimFindsNoReask(t *testing.T) {
	findPutBack(t, "the lost-acquire bug", sim.Options{NoReask: true}, 1, 60, "ghost")
}

// TestSimFindsOneSeatGap puts back the single next-in-line seat of before
// (election.Standby{Seats: 1}) and wants a liveness violation: a graceful
// release, or an expiry, with one seat short (a seat holder crashed) is
// answered only by a backbencher's read, later than the 2 P + FreeSlack
// that the second seat's holder keeps. The first seed that shows it is
// 234 (a next-in-line crash followed by the leader's resign); the search
// runs from 200 to 260.
func TestSimFindsOneSeatGap(t *testing.T) {
	findPutBack(t, "the single seat", sim.Options{Seats: 1}, 200, 260, "handover", "free")
}
