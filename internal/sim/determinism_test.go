package sim_test

import (
	"flag"
	"reflect"
	"testing"

	"github.com/leasehold/leasehold/internal/sim"
)

var flagSameSeeds = flag.Int("same-seeds", 10, "how many seeds TestSameSeedSameHistory runs twice")

// TestSameSeedSameHistory runs seeds twice each and wants the same plan,
// history and violations: a seed replays.
func TestSameSeedSameHistory(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*flagSameSeeds); seed++ {
		a := runSeed(t, seed, sim.Options{})
		b := runSeed(t, seed, sim.Options{})
		if len(a.History) == 0 {
			t.Errorf("seed %d: no holdings at all", seed)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("seed %d: two runs differ:\nfirst:\n%v%v\nsecond:\n%v%v", seed, a.History, a.Violations, b.History, b.Violations)
		}
	}
}
