// Command leasebench measures leasehold against the storage account named
// by AZURE_STORAGE_CONNECTION_STRING (a local Azurite under `make bench`):
// failover after a crash, graceful hand-over, storage calls per role, the
// time without a leader through rolling restarts and double failures, one
// process holding many leases, the library's overhead per renew, and the
// rebalancing of a shard group whose members join, leave and crash. It
// prints markdown tables, each with the settings it ran with, and writes the
// same figures to a JSON file.
//
// The same binary is also every process the bench starts: `leasebench
// candidate` (a leader that is killed with SIGKILL), `leasebench
// rollcandidate` (a candidate of the rollout sections), `leasebench scale` (one
// process holding N leases), `leasebench shardmember` (one member of the
// shard section's group, killed with SIGKILL in some runs) and `leasebench
// fakeblob` (a stand-in Blob service for the overhead benchmark). The bench kills every process it
// started before it exits, Ctrl-C included.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "candidate":
		err = runCandidate(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "rollcandidate":
		err = runRollCandidate(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "scale":
		err = runScale(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "wait":
		err = runWait(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "shardmember":
		err = runShardMember(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "fakeblob":
		err = runFakeBlob()
	case len(os.Args) > 1 && os.Args[1] == "plot":
		err = runPlot(os.Args[2:])
	default:
		err = runBench(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "leasebench:", err)
		os.Exit(1)
	}
}

// results is everything one run measured; bench/results.json.
type results struct {
	Meta     meta            `json:"meta"`
	Crash    []crashResult   `json:"crash_failover,omitempty"`
	Handoff  []handoffResult `json:"handoff,omitempty"`
	Cost     []costResult    `json:"cost,omitempty"`
	Overhead *overheadResult `json:"overhead,omitempty"`
	Scale    []scaleResult   `json:"scale,omitempty"`
	Named    []scaleResult   `json:"named,omitempty"`
	Wait     []waitResult    `json:"wait,omitempty"`
	// The rollout sections: their settings, then each section's figures.
	Roll        *rollOptions `json:"rollout_settings,omitempty"`
	Rolling     []rollResult `json:"rolling,omitempty"`
	CrashResign []gapResult  `json:"crash_resign,omitempty"`
	TwoCrashes  []gapResult  `json:"two_crashes,omitempty"`
	Shard       *shardResult `json:"shard,omitempty"`
}

type meta struct {
	Command   string             `json:"command"`
	Go        string             `json:"go"`
	OS        string             `json:"os"`
	CPUs      int                `json:"cpus"`
	Storage   string             `json:"storage"`
	Started   string             `json:"started"`
	DurationS float64            `json:"duration_s"`
	Prices    map[string]float64 `json:"usd_per_10k_operations"`
	Note      string             `json:"note"`
}

// leaseholdSettings are the leasehold settings every section runs, in the
// order the tables list them: a named profile is one more setting here
// (its renewer options in setting.Extra); -sweep names those swept over
// every standby count.
var leaseholdSettings = []setting{settingDefaults, settingFastHandover, settingLowCost, settingEveryStandby}

func runBench(args []string) error {
	fs := flag.NewFlagSet("leasebench", flag.ContinueOnError)
	out := fs.String("out", "results.json", "where to write the JSON results (\"\" for nowhere)")
	plots := fs.String("plots", "plots", "directory for the SVG plots (\"\" for none)")
	only := fs.String("only", "crash,cost,handoff,rolling,crash-resign,two-crashes,overhead,scale,named,wait,shard", "sections to run, comma-separated")
	quick := fs.Bool("quick", false, "a quick run (a few minutes on 2 cores): -runs 5 -handoff-pairs 2 -handoff-rounds 3 -cost-window 20s -standbys 0,1,4 -scale 10 -scale-for 20s -overhead-repeats 1 -named 100 -named-for 20s -wait 100 -wait-for 20s -shard-reps 2 -rollouts 2 -roll-lanes 2 -roll-settle-jitter 5s -gap-runs 3, unless those are given")
	runs := fs.Int("runs", 20, "crash-failover runs per system (run concurrently, one container or etcd prefix each)")
	pairs := fs.Int("handoff-pairs", 5, "hand-over pairs per system (concurrent)")
	rounds := fs.Int("handoff-rounds", 4, "hand-overs per pair")
	costWindow := fs.Duration("cost-window", 3*time.Minute, "window over which calls are counted (the next in line's backbenchers call every 30 to 60 s, low-cost's every 1 to 5 min: a short window is noisy)")
	standbys := fs.String("standbys", "0,1,2,4,10,20", "standby counts of the cost sweep (each a leader and N standbys, all at once)")
	sweep := fs.String("sweep", "defaults,fast-handover,low-cost,every-standby-polls,client-go,etcd", "systems swept over every -standbys count; the others run with 1 standby only, and their larger counts are estimated linearly (wrong for a next in line: sweep those)")
	scaleNs := fs.String("scale", "10,100,1000", "lease counts for the scale runs, one process each, one after another")
	scaleFor := fs.Duration("scale-for", 2*time.Minute, "how long each scale run holds its leases")
	namedNs := fs.String("named", "1000,10000", "lock counts for the named-lock scale runs: one process holding N named locks (blob leases) in one container")
	namedLease := fs.Duration("named-lease", 60*time.Second, "lease duration of the named-lock scale runs")
	namedFor := fs.Duration("named-for", time.Minute, "how long each named-lock scale run holds its locks")
	waitNs := fs.String("wait", "1000", "lock counts for the waiting runs: one process waiting on N held named locks, on its own and through one Observer")
	waitPoll := fs.Duration("wait-poll", 5*time.Second, "the waiters' poll interval in the waiting runs (the table also scales the figures to the 750 ms default)")
	waitFor := fs.Duration("wait-for", time.Minute, "how long each waiting run counts the waiters' calls")
	shardReps := fs.Int("shard-reps", 5, "repetitions of the shard section's cycle: a graceful leave, a join, a kill -9, a join")
	shardParts := fs.Int("shard-partitions", 64, "partitions of the shard group")
	shardMembers := fs.Int("shard-members", 4, "member processes of the shard group")
	repeats := fs.Int("overhead-repeats", 3, "repeats of each overhead benchmark (medians are reported)")
	var ro rollOptions
	fs.IntVar(&ro.Rollouts, "rollouts", 10, "rolling section: rolling restarts per system")
	fs.IntVar(&ro.Lanes, "roll-lanes", 5, "rolling section: elections per system the rollouts are spread over, run concurrently")
	fs.IntVar(&ro.Candidates, "roll-candidates", 5, "rolling section: candidates of each election")
	fs.DurationVar(&ro.Down, "roll-down", 5*time.Second, "rolling section: how long each candidate stays down before its new incarnation starts")
	fs.DurationVar(&ro.Up, "roll-up", 5*time.Second, "rolling section: how long a new incarnation runs before the next candidate is stopped")
	fs.DurationVar(&ro.Settle, "roll-settle", 10*time.Second, "rollout sections: how long an election runs with a leader before a rollout or a run's first crash")
	fs.DurationVar(&ro.Jitter, "roll-settle-jitter", 30*time.Second, "rollout sections: a further random pause, up to this long, after -roll-settle (so that the standbys' retries come at a random phase)")
	fs.IntVar(&ro.GapRuns, "gap-runs", 10, "crash-resign and two-crashes sections: runs per system (concurrent, an election each)")
	fs.IntVar(&ro.GapCands, "gap-candidates", 4, "crash-resign and two-crashes sections: candidates of each election")
	fs.DurationVar(&ro.Pause, "crash-resign-after", 5*time.Second, "crash-resign section: from the new leader leading to its graceful stop")
	fs.DurationVar(&ro.PauseRand, "crash-resign-random", 2*time.Second, "crash-resign section: a random part, up to this long, added to -crash-resign-after (so that the stop comes at a random phase of the standbys' polls)")
	fs.DurationVar(&ro.Timeout, "leader-timeout", 3*time.Minute, "rollout sections: the longest wait for a leader before a run counts as failed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"runs": "5", "handoff-pairs": "2", "handoff-rounds": "3", "cost-window": "20s",
			"standbys": "0,1,4", "scale": "10", "scale-for": "20s", "overhead-repeats": "1",
			"named": "100", "named-for": "20s", "wait": "100", "wait-for": "20s", "shard-reps": "2",
			"rollouts": "2", "roll-lanes": "2", "roll-settle-jitter": "5s", "gap-runs": "3"} {
			if !set[name] {
				_ = fs.Set(name, v)
			}
		}
	}
	ns, err := parseCounts(*standbys)
	if err != nil {
		return fmt.Errorf("-standbys: %w", err)
	}
	if err := ro.check(); err != nil {
		return err
	}
	ro.DownS, ro.UpS, ro.SettleS, ro.JitterS, ro.PauseS, ro.PauseRandS, ro.TimeoutS = ro.Down.Seconds(), ro.Up.Seconds(), ro.Settle.Seconds(), ro.Jitter.Seconds(), ro.Pause.Seconds(), ro.PauseRand.Seconds(), ro.Timeout.Seconds()
	if err := requireConnString(); err != nil {
		return err
	}
	testing.Init() // testing.Benchmark's flags, at their defaults (1 s per benchmark)
	sections := map[string]bool{}
	known := []string{"crash", "cost", "handoff", "rolling", "crash-resign", "two-crashes", "overhead", "scale", "named", "wait", "shard"}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(known, s) {
			return fmt.Errorf("-only: unknown section %q (the sections: %s)", s, strings.Join(known, ","))
		}
		sections[s] = true
	}
	swept := map[string]bool{}
	for _, s := range strings.Split(*sweep, ",") {
		swept[strings.TrimSpace(s)] = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer killAll()
	defer stopEtcd()
	go func() {
		<-ctx.Done()
		killAll() // Ctrl-C: stop the children at once; the deferred one catches late starters
	}()

	var b [4]byte
	_, _ = rand.Read(b[:])
	runID := hex.EncodeToString(b[:])
	started := time.Now()
	res := results{Meta: meta{
		Command: "leasebench " + strings.Join(args, " "),
		Go:      runtime.Version(),
		OS:      runtime.GOOS + "/" + runtime.GOARCH,
		CPUs:    runtime.NumCPU(),
		Storage: storageName(),
		Started: started.UTC().Format(time.RFC3339),
		Prices:  map[string]float64{"other": priceOtherPer10k, "read": priceReadPer10k, "write": priceWritePer10k},
		Note:    "Azurite lets another holder acquire the instant a lease expires; the cloud may refuse for up to about 60 s after expiry, so failover figures here are a floor. Prices are assumed list prices (hot, GPv2, LRS, East US).",
	}}
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "leasebench %6.1fs: %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, a...))
	}
	save := func() error {
		res.Meta.DurationS = round(time.Since(started).Seconds(), 1)
		if *out == "" {
			return nil
		}
		j, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*out, append(j, '\n'), 0o644)
	}

	// The systems, all at the same lease duration L.
	L := settingDefaults.Lease
	var systems []system
	for _, s := range leaseholdSettings {
		systems = append(systems, leaseholdSystem(s))
	}
	systems = append(systems, peerSystems(L)...)
	if !peersBuilt {
		fmt.Fprintln(os.Stderr, "leasebench: built without -tags peers: client-go and etcd are not measured (make bench builds with it)")
	}

	// Phase 1: crash failover of every system and the cost sweep, all at
	// once: each on an election of its own, mostly waiting.
	if sections["crash"] || sections["cost"] {
		logf("crash failover (%d runs per system) and cost (%v window, standbys %v), concurrently", *runs, *costWindow, ns)
		var wg sync.WaitGroup
		var mu sync.Mutex // guards cost
		var crash []crashResult
		if sections["crash"] {
			crash = make([]crashResult, len(systems))
			for i, sys := range systems {
				wg.Go(func() { crash[i] = runCrash(ctx, sys, *runs, runID) })
			}
		}
		var cost []costResult
		if sections["cost"] {
			for _, sys := range systems {
				counts := []int{1}
				if swept[sys.Setting.Name] {
					counts = ns
				}
				for _, n := range counts {
					wg.Go(func() {
						r := runCost(ctx, sys, n, *costWindow, runID)
						mu.Lock()
						cost = append(cost, r)
						mu.Unlock()
					})
				}
			}
		}
		wg.Wait()
		res.Crash, res.Cost = crash, sortCost(cost, systems)
		if err := save(); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Phase 2: graceful hand-over: leasehold's election and mutex at each
	// setting, client-go, etcd.
	if sections["handoff"] {
		logf("hand-over (%d pairs x %d rounds per system)", *pairs, *rounds)
		var wg sync.WaitGroup
		ho := make([]handoffResult, 0, 2*len(leaseholdSettings)+2)
		var jobs []func() handoffResult
		for _, s := range leaseholdSettings {
			jobs = append(jobs, func() handoffResult { return runHandoff(ctx, "election", leaseholdSystem(s), *pairs, *rounds, runID) })
		}
		for _, sys := range systems[len(leaseholdSettings):] {
			jobs = append(jobs, func() handoffResult { return runHandoff(ctx, "election", sys, *pairs, *rounds, runID) })
		}
		for _, s := range leaseholdSettings {
			jobs = append(jobs, func() handoffResult { return runHandoff(ctx, "mutex", leaseholdMutexSystem(s), *pairs, *rounds, runID) })
		}
		ho = ho[:len(jobs)]
		for i, job := range jobs {
			wg.Go(func() { ho[i] = job() })
		}
		wg.Wait()
		res.Handoff = ho
		if err := save(); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Phase 2b: the rollout sections, one after another, every system of
	// a section at once.
	var rollSystems []system
	for _, sys := range systems {
		if sys.newMember != nil && !sys.Setting.NoNext {
			rollSystems = append(rollSystems, sys)
		}
	}
	if sections["rolling"] || sections["crash-resign"] || sections["two-crashes"] {
		res.Roll = &ro
	}
	if sections["rolling"] {
		logf("rolling restart (%d rollouts of %d candidates per system, in %d lanes, %v down each)", ro.Rollouts, ro.Candidates, ro.Lanes, ro.Down)
		rr := make([]rollResult, len(rollSystems))
		var wg sync.WaitGroup
		for i, sys := range rollSystems {
			wg.Go(func() { rr[i] = runRolling(ctx, sys, ro, runID) })
		}
		wg.Wait()
		res.Rolling = rr
		if err := save(); err != nil {
			return err
		}
	}
	for _, section := range []string{"crash-resign", "two-crashes"} {
		if !sections[section] || ctx.Err() != nil {
			continue
		}
		logf("%s (%d runs of %d candidates per system)", section, ro.GapRuns, ro.GapCands)
		gr := make([]gapResult, len(rollSystems))
		var wg sync.WaitGroup
		for i, sys := range rollSystems {
			wg.Go(func() { gr[i] = runGaps(ctx, section, sys, ro, runID) })
		}
		wg.Wait()
		if section == "crash-resign" {
			res.CrashResign = gr
		} else {
			res.TwoCrashes = gr
		}
		if err := save(); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	stopEtcd()

	// The side-by-side table, then each section's own.
	if len(res.Crash) > 0 || len(res.Handoff) > 0 || len(res.Cost) > 0 {
		printSummary(res, systems)
	}
	if len(res.Crash) > 0 {
		printCrash(res.Crash)
	}
	if len(res.Handoff) > 0 {
		printHandoff(res.Handoff)
	}
	if len(res.Cost) > 0 {
		printCost(res.Cost)
	}
	if len(res.Rolling) > 0 || len(res.CrashResign) > 0 || len(res.TwoCrashes) > 0 {
		printRollouts(res)
	}
	if *plots != "" && (len(res.Crash) > 0 || len(res.Handoff) > 0 || len(res.Cost) > 0 || len(res.Rolling) > 0) {
		files, err := writePlots(*plots, res, systems)
		if err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		logf("plots: %s", strings.Join(files, ", "))
	}

	// Phase 3: overhead per renew, alone so that nothing else runs.
	if sections["overhead"] {
		logf("overhead per renew (%d repeats of 3 benchmarks, ~1 s each)", *repeats)
		oh := runOverhead(*repeats)
		res.Overhead = &oh
		printOverhead(oh)
		if err := save(); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Phase 4: scale, one process per N, one after another.
	if sections["scale"] {
		for _, f := range strings.Split(*scaleNs, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("-scale: bad lease count %q", f)
			}
			logf("scale: one process holding %d leases for %v", n, *scaleFor)
			sr, err := scaleChild(ctx, n, *scaleFor, runID, false, settingDefaults.Lease)
			if err != nil {
				return err
			}
			res.Scale = append(res.Scale, sr)
			if err := save(); err != nil {
				return err
			}
		}
		printScale(res.Scale)
	}

	// Phase 5: named locks in one container, then waiting on many of them.
	if sections["named"] {
		for _, f := range strings.Split(*namedNs, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("-named: bad lock count %q", f)
			}
			logf("named: one process holding %d named locks in one container for %v (L = %v)", n, *namedFor, *namedLease)
			sr, err := scaleChild(ctx, n, *namedFor, runID, true, *namedLease)
			if err != nil {
				return err
			}
			res.Named = append(res.Named, sr)
			if err := save(); err != nil {
				return err
			}
		}
		printScale(res.Named)
	}
	if sections["wait"] {
		for _, f := range strings.Split(*waitNs, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("-wait: bad lock count %q", f)
			}
			for _, observed := range []bool{false, true} {
				logf("wait: one process waiting on %d held named locks, observer %v, poll %v, for %v", n, observed, *waitPoll, *waitFor)
				wr, err := waitChild(ctx, n, *waitFor, *waitPoll, observed, runID)
				if err != nil {
					return err
				}
				res.Wait = append(res.Wait, wr)
				if err := save(); err != nil {
					return err
				}
			}
		}
		printWait(res.Wait)
	}
	if sections["shard"] && ctx.Err() == nil {
		if *shardReps < 1 || *shardParts < 1 || *shardParts > 1000 || *shardMembers < 2 || *shardMembers > *shardParts {
			return fmt.Errorf("shard: want -shard-reps at least 1, -shard-partitions from 1 to 1000 and -shard-members from 2 to the partitions (got %d, %d, %d)",
				*shardReps, *shardParts, *shardMembers)
		}
		logf("shard: %d member processes, %d partitions, %d repetitions of leave, join, kill -9, join", *shardMembers, *shardParts, *shardReps)
		sr := shardBench(ctx, *shardParts, *shardMembers, *shardReps, runID, logf)
		res.Shard = &sr
		printShard(sr)
	}
	if err := save(); err != nil {
		return err
	}
	logf("done; results in %s", *out)
	return ctx.Err()
}

// parseCounts parses a comma-separated list of standby counts.
func parseCounts(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 100 {
			return nil, fmt.Errorf("bad standby count %q (want 0 to 100)", f)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return slices.Compact(ns), nil
}

// sortCost orders cost results by system (in the order of systems), then
// standby count.
func sortCost(cs []costResult, systems []system) []costResult {
	idx := func(name string) int {
		return slices.IndexFunc(systems, func(s system) bool { return s.Name == name })
	}
	slices.SortFunc(cs, func(a, b costResult) int {
		if d := idx(a.System) - idx(b.System); d != 0 {
			return d
		}
		return a.Standbys - b.Standbys
	})
	return cs
}

func scaleChild(ctx context.Context, n int, window time.Duration, runID string, named bool, lease time.Duration) (scaleResult, error) {
	c, err := startChild("scale", "-n", strconv.Itoa(n), "-for", window.String(), "-run", runID,
		"-named="+strconv.FormatBool(named), "-lease", lease.String())
	if err != nil {
		return scaleResult{}, err
	}
	defer c.stop(time.Second)
	var sr scaleResult
	if _, err := c.nextEvent(&sr, window+5*time.Minute); err != nil {
		return scaleResult{}, fmt.Errorf("scale %d: %w", n, err)
	}
	return sr, ctx.Err()
}

func storageName() string {
	if strings.Contains(connString(), "127.0.0.1") {
		return "Azurite on loopback (in memory)"
	}
	return "the account in AZURE_STORAGE_CONNECTION_STRING"
}
