// Command leasebench measures leasehold against the storage account named
// by AZURE_STORAGE_CONNECTION_STRING (a local Azurite under `make bench`):
// failover after a crash, graceful hand-over, storage calls per role, one
// process holding many leases, and the library's overhead per renew. It
// prints markdown tables, each with the settings it ran with, and writes the
// same figures to a JSON file.
//
// The same binary is also every process the bench starts: `leasebench
// candidate` (a leader that is killed with SIGKILL), `leasebench scale` (one
// process holding N leases) and `leasebench fakeblob` (a stand-in Blob
// service for the overhead benchmark). The bench kills every process it
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
	case len(os.Args) > 1 && os.Args[1] == "scale":
		err = runScale(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "fakeblob":
		err = runFakeBlob()
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
}

type meta struct {
	Command    string  `json:"command"`
	Go         string  `json:"go"`
	OS         string  `json:"os"`
	CPUs       int     `json:"cpus"`
	Storage    string  `json:"storage"`
	Started    string  `json:"started"`
	DurationS  float64 `json:"duration_s"`
	PricePer10 float64 `json:"usd_per_10k_operations"`
	Note       string  `json:"note"`
}

func runBench(args []string) error {
	fs := flag.NewFlagSet("leasebench", flag.ContinueOnError)
	out := fs.String("out", "results.json", "where to write the JSON results (\"\" for nowhere)")
	only := fs.String("only", "crash,cost,handoff,overhead,scale", "sections to run, comma-separated")
	runs := fs.Int("runs", 20, "crash-failover runs per setting (run concurrently, one container each)")
	pairs := fs.Int("handoff-pairs", 5, "hand-over pairs per kind and setting (concurrent)")
	rounds := fs.Int("handoff-rounds", 4, "hand-overs per pair")
	costWindow := fs.Duration("cost-window", time.Minute, "window over which calls are counted")
	scaleNs := fs.String("scale", "10,100,1000", "lease counts for the scale runs, one process each, one after another")
	scaleFor := fs.Duration("scale-for", 2*time.Minute, "how long each scale run holds its leases")
	repeats := fs.Int("overhead-repeats", 3, "repeats of each overhead benchmark (medians are reported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := requireConnString(); err != nil {
		return err
	}
	testing.Init() // testing.Benchmark's flags, at their defaults (1 s per benchmark)
	sections := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		sections[strings.TrimSpace(s)] = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer killAll()
	go func() {
		<-ctx.Done()
		killAll() // Ctrl-C: stop the children at once; the deferred one catches late starters
	}()

	var b [4]byte
	_, _ = rand.Read(b[:])
	runID := hex.EncodeToString(b[:])
	started := time.Now()
	res := results{Meta: meta{
		Command:    "make bench (leasebench " + strings.Join(args, " ") + ")",
		Go:         runtime.Version(),
		OS:         runtime.GOOS + "/" + runtime.GOARCH,
		CPUs:       runtime.NumCPU(),
		Storage:    storageName(),
		Started:    started.UTC().Format(time.RFC3339),
		PricePer10: listPricePer10k,
		Note:       "Azurite lets another holder acquire the instant a lease expires; the cloud may refuse for up to about 60 s after expiry, so failover figures here are a floor.",
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

	// Phase 1: crash failover at both settings, and cost, all at once:
	// each on containers of its own, mostly waiting.
	if sections["crash"] || sections["cost"] {
		logf("crash failover (%d runs per setting) and cost (%v window), concurrently", *runs, *costWindow)
		var wg sync.WaitGroup
		crash := make([]crashResult, 2)
		cost := make([]costResult, 3)
		if sections["crash"] {
			for i, s := range []setting{settingDefaults, settingClientGo} {
				wg.Go(func() { crash[i] = runCrash(ctx, s, *runs, runID) })
			}
		}
		if sections["cost"] {
			for i, s := range []setting{settingDefaults, settingClientGo, settingFast} {
				wg.Go(func() { cost[i] = runCost(ctx, s, *costWindow, runID) })
			}
		}
		wg.Wait()
		if sections["crash"] {
			res.Crash = crash
			printCrash(res.Crash)
		}
		if sections["cost"] {
			res.Cost = cost
			printCost(res.Cost)
		}
		if err := save(); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Phase 2: graceful hand-over, election and mutex, three settings.
	if sections["handoff"] {
		logf("hand-over (%d pairs x %d rounds per kind and setting)", *pairs, *rounds)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ho []handoffResult
		for _, kind := range []string{"election", "mutex"} {
			for _, s := range []setting{settingDefaults, settingClientGo, settingFast} {
				wg.Go(func() {
					r := runHandoff(ctx, kind, s, *pairs, *rounds, runID)
					mu.Lock()
					ho = append(ho, r)
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		res.Handoff = sortHandoff(ho)
		printHandoff(res.Handoff)
		if err := save(); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
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
			sr, err := scaleChild(ctx, n, *scaleFor, runID)
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
	if err := save(); err != nil {
		return err
	}
	logf("done; results in %s", *out)
	return ctx.Err()
}

func scaleChild(ctx context.Context, n int, window time.Duration, runID string) (scaleResult, error) {
	c, err := startChild("scale", "-n", strconv.Itoa(n), "-for", window.String(), "-run", runID)
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

func sortHandoff(ho []handoffResult) []handoffResult {
	out := make([]handoffResult, 0, len(ho))
	for _, kind := range []string{"election", "mutex"} {
		for _, name := range []string{settingDefaults.Name, settingClientGo.Name, settingFast.Name} {
			for _, h := range ho {
				if h.Kind == kind && h.Setting.Name == name {
					out = append(out, h)
				}
			}
		}
	}
	return out
}
