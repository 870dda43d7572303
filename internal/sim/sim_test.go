package sim_test

import (
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/leasehold/leasehold/internal/sim"
)

var (
	flagSeeds = flag.Int("seeds", 40, "how many seeds TestSim runs (make sim: 10000)")
	flagFirst = flag.Uint64("first", 1, "the first seed TestSim runs")
	flagSeed  = flag.Uint64("seed", 0, "replay this one seed and print its plan, history and violations")
	flagTrace = flag.Bool("trace", false, "with -seed: also print every request as storage saw it")
	flagOneID = flag.Bool("one-id", false, "force one lease ID for every holding of a holder (issue 11's bug), to see what the checker finds")
)

// summary is TestSim's last line, printed by TestMain after the test
// binary's own verdict so that it is the last line of `make sim`.
var summary atomic.Pointer[string]

func TestMain(m *testing.M) {
	// Holders given no logger log losses to slog.Default(); the simulation
	// makes thousands, and its checker, not a log, judges them.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	code := m.Run()
	if s := summary.Load(); s != nil {
		fmt.Println(*s)
	}
	os.Exit(code)
}

// runSeed runs one seed in its own synctest bubble.
func runSeed(t *testing.T, seed uint64, opts sim.Options) sim.Result {
	var res sim.Result
	synctest.Test(t, func(*testing.T) { res = sim.Run(seed, opts) })
	return res
}

// options are the Options the -one-id flag asks for.
func options() sim.Options {
	if *flagOneID {
		return sim.Options{Wrap: newOneID}
	}
	return sim.Options{}
}

// TestSim runs -seeds seeds from -first (or replays -seed) and fails on any
// violation, printing the first violating seed's history.
func TestSim(t *testing.T) {
	if *flagSeed != 0 {
		opts := options()
		if *flagTrace {
			opts.Trace = func(line string) { fmt.Println(line) }
		}
		res := runSeed(t, *flagSeed, opts)
		t.Logf("%v\nhistory:\n%v", res.Plan, res.History)
		for _, v := range res.Violations {
			t.Errorf("violation: %v", v)
		}
		s := fmt.Sprintf("sim: seeds=1 holdings=%d violations=%d", len(res.History), len(res.Violations))
		summary.Store(&s)
		return
	}
	var (
		mu         sync.Mutex
		holdings   int
		violations int
		first      = map[string]uint64{} // violation kind -> first seed showing it
		count      = map[string]int{}    // violation kind -> violations
		seeds      = map[string]int{}    // violation kind -> seeds showing it
	)
	t.Run("seeds", func(t *testing.T) {
		for i := range *flagSeeds {
			seed := *flagFirst + uint64(i)
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				res := runSeed(t, seed, options())
				mu.Lock()
				defer mu.Unlock()
				holdings += len(res.History)
				violations += len(res.Violations)
				seen := map[string]bool{}
				for _, v := range res.Violations {
					if s, ok := first[v.Kind]; !ok || seed < s {
						first[v.Kind] = seed
					}
					count[v.Kind]++
					if !seen[v.Kind] {
						seen[v.Kind] = true
						seeds[v.Kind]++
					}
				}
			})
		}
	})
	for _, kind := range slices.Sorted(maps.Keys(first)) {
		replay := fmt.Sprintf("make sim SEED=%d", first[kind])
		if *flagOneID {
			replay = fmt.Sprintf("go test ./internal/sim -run '^TestSim$' -v -args -one-id -seed %d", first[kind])
		}
		t.Errorf("%s: %d violations in %d seeds; first seed %d (replay: %s)",
			kind, count[kind], seeds[kind], first[kind], replay)
	}
	s := fmt.Sprintf("sim: seeds=%d holdings=%d violations=%d", *flagSeeds, holdings, violations)
	summary.Store(&s)
}
