package sim_test

import (
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
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
	flagOneID = flag.Bool("one-id", false, "force one lease ID for every holding of a holder (the one-ID bug), to see what the checker finds")
	flagPut   = flag.String("putback", "", "put a fixed liveness gap back, to see what the checker finds: noreask (no asking again after an acquire whose outcome is unknown) or oneseat (the single next-in-line seat of before)")
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

// options are the Options the -one-id and -putback flags ask for.
func options(t *testing.T) sim.Options {
	var o sim.Options
	if *flagOneID {
		o.Wrap = newOneID
	}
	switch *flagPut {
	case "":
	case "noreask":
		o.NoReask = true
	case "oneseat":
		o.Seats = 1
	default:
		t.Fatalf("-putback %q: want noreask or oneseat", *flagPut)
	}
	return o
}

// replayFlags are the flags that replay a seed as the sweep ran it.
func replayFlags() string {
	var f []string
	if *flagOneID {
		f = append(f, "-one-id")
	}
	if *flagPut != "" {
		f = append(f, "-putback", *flagPut)
	}
	return strings.Join(f, " ")
}

// TestSim runs -seeds seeds from -first (or replays -seed) and fails on any
// violation, printing the first violating seed's history.
func TestSim(t *testing.T) {
	if *flagSeed != 0 {
		opts := options(t)
		if *flagTrace {
			opts.Trace = func(line string) { fmt.Println(line) }
		}
		res := runSeed(t, *flagSeed, opts)
		t.Logf("%v\nhistory:\n%v", res.Plan, res.History)
		if *flagTrace {
			t.Logf("the lease free at storage:\n%v\ncandidates:\n%v", sim.DescribeFree(res.Free), sim.DescribeCands(res.Cands))
		}
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
		first      = map[string]uint64{}   // violation kind -> first seed showing it
		count      = map[string]int{}      // violation kind -> violations
		seeds      = map[string]int{}      // violation kind -> seeds showing it
		some       = map[string][]uint64{} // violation kind -> the first seeds showing it
	)
	opts := options(t)
	t.Run("seeds", func(t *testing.T) {
		for i := range *flagSeeds {
			seed := *flagFirst + uint64(i)
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				res := runSeed(t, seed, opts)
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
						some[v.Kind] = append(some[v.Kind], seed)
					}
				}
			})
		}
	})
	for _, kind := range slices.Sorted(maps.Keys(first)) {
		replay := fmt.Sprintf("make sim SEED=%d", first[kind])
		if f := replayFlags(); f != "" {
			replay = fmt.Sprintf("go test ./internal/sim -run '^TestSim$' -v -args %s -seed %d", f, first[kind])
		}
		slices.Sort(some[kind])
		t.Errorf("%s: %d violations in %d seeds; first seed %d (replay: %s); seeds %v",
			kind, count[kind], seeds[kind], first[kind], replay, some[kind][:min(len(some[kind]), 20)])
	}
	s := fmt.Sprintf("sim: seeds=%d holdings=%d violations=%d", *flagSeeds, holdings, violations)
	summary.Store(&s)
}
