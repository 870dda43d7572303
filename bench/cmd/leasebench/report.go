package main

import (
	"fmt"
	"strings"
)

func ms(s float64) string { return fmt.Sprintf("%.0f ms", s*1000) }

func sec(s float64) string { return fmt.Sprintf("%.2f s", s) }

func printCrash(rs []crashResult) {
	fmt.Println("### Crash failover (leader SIGKILLed, no release)")
	fmt.Println()
	fmt.Println("Time from SIGKILL of the leader process to the standby's OnElected; each run a leader process and a standby (election.Run) on a container of their own, all runs concurrently. Floor: L (the lease must expire). **Azurite lets a standby acquire the instant the lease expires; the cloud may refuse for up to about 60 s after expiry, so these are a floor.**")
	fmt.Println()
	fmt.Println("| setting | runs | p50 | p95 | max | p50 / L | p95 / L | max / L | last renew before kill (p50) | expiry to elected p50 / p95 / max |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %d ok, %d failed | %s | %s | %s | %.3f | %.3f | %.3f | %s | %s / %s / %s |\n",
			r.Setting.Name, r.Failover.N, r.Failed, sec(r.Failover.P50), sec(r.Failover.P95), sec(r.Failover.Max),
			r.RatioP50, r.RatioP95, r.RatioMax, sec(r.SinceRenew.P50),
			ms(r.AfterExpiry.P50), ms(r.AfterExpiry.P95), ms(r.AfterExpiry.Max))
	}
	fmt.Println()
	for _, r := range rs {
		fmt.Printf("Settings, %s: %s. Target p95 <= L + 2.5 s = %s.\n", r.Setting.Name, r.Setting.Note, sec(r.Setting.LeaseS+2.5))
		for _, e := range r.Errors {
			fmt.Printf("  error: %s\n", e)
		}
	}
	fmt.Println()
}

func printHandoff(rs []handoffResult) {
	fmt.Println("### Graceful hand-over")
	fmt.Println()
	fmt.Println("election: from `Leadership.Resign` to the waiting candidate's `Campaign` returning (elected, term written); mutex: from `Held.Unlock` to the waiting `Mutex.Lock` returning. Each side has its own SDK client; pairs run concurrently, one container each; the give-up comes at a random phase of the waiter's poll.")
	fmt.Println()
	fmt.Println("| kind | setting | hand-overs | p50 | p95 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %s (P %v) | %d ok, %d failed | %s | %s | %s |\n", r.Kind, r.Setting.Name, r.Setting.Poll,
			r.Latency.N, r.Failed, ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.Max))
	}
	fmt.Println()
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.Setting.Name] {
			seen[r.Setting.Name] = true
			fmt.Printf("Settings, %s: %s.\n", r.Setting.Name, r.Setting.Note)
		}
		for _, e := range r.Errors {
			fmt.Printf("  error (%s, %s): %s\n", r.Kind, r.Setting.Name, e)
		}
	}
	fmt.Println()
}

func opsString(ops []opCount) string {
	var parts []string
	for _, o := range ops {
		parts = append(parts, fmt.Sprintf("%s %d", o.Op, o.Calls))
	}
	return strings.Join(parts, ", ")
}

func printCost(rs []costResult) {
	fmt.Println("### Cost: storage calls per role")
	fmt.Println()
	if len(rs) > 0 {
		fmt.Printf("Every HTTP request counted at the SDK client's transport, per role, over a %.0f s window in steady state (leader elected, one standby polling), scaled to an hour; dollars per month = calls/h x 730 h x $%.4f / 10,000 (list price, \"Other\" operations, hot tier).\n", rs[0].WindowS, listPricePer10k)
	}
	fmt.Println()
	fmt.Println("| setting | role | calls in window (by operation) | calls / hour | $ / month |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rs {
		for _, rc := range []roleCost{r.Leader, r.Standby} {
			fmt.Printf("| %s | %s | %d (%s) | %.0f | %.3f |\n", r.Setting.Name, rc.Role, rc.Calls, opsString(rc.ByOp), rc.PerHour, rc.DollarsPerMon)
		}
	}
	// client-go itself, computed from its source for reference.
	fmt.Printf("| client-go itself (computed, not measured) | leader | Get + Update every RetryPeriod 2 s | 3600 | %.3f |\n", dollarsPerMonth(3600))
	fmt.Printf("| client-go itself (computed, not measured) | standby | one Get per try, sleeps 2..4.4 s (mean 3.2 s) | 1125 | %.3f |\n", dollarsPerMonth(1125))
	fmt.Println()
	for _, r := range rs {
		fmt.Printf("Settings, %s: %s.\n", r.Setting.Name, r.Setting.Note)
		if r.Err != "" {
			fmt.Printf("  error: %s\n", r.Err)
		}
	}
	fmt.Println()
}

func printOverhead(r overheadResult) {
	fmt.Println("### Overhead per renew")
	fmt.Println()
	fmt.Printf("Go benchmarks (testing.Benchmark, ~1 s each, median of %d repeats, interleaved) against %s, so storage costs nothing and the client's own work shows. ns/op is wall time per renew, round trip included; CPU ns/op is this process's user+system CPU (getrusage) per renew; allocs and bytes per op are the client process's.\n", r.Repeats, r.Server)
	fmt.Println()
	fmt.Println("| variant | what | ns/op | CPU ns/op | allocs/op | B/op | ns ratio | CPU ratio | allocs ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, row := range r.Rows {
		fmt.Printf("| %s | %s | %.0f | %.0f | %d | %d | %.3f | %.3f | %.3f |\n", row.Variant, row.What, row.NsPerOp, row.CPUNsPerOp,
			row.AllocsPerOp, row.BytesPerOp, row.RatioNs, row.RatioCPU, row.RatioAllocs)
	}
	if r.Err != "" {
		fmt.Printf("\nerror: %s\n", r.Err)
	}
	fmt.Println()
}

func printScale(rs []scaleResult) {
	fmt.Println("### Scale: one process holding N leases")
	fmt.Println()
	if len(rs) > 0 {
		fmt.Printf("One process, N renewers (one container each, settings %s), one shared HTTP client; held for %.0f s after all were acquired. CPU is the process's user+system time over the window (getrusage); memory is VmRSS; Azurite's CPU is read from /proc.\n", rs[0].Setting, rs[0].WindowS)
	}
	fmt.Println()
	fmt.Println("| N | acquire all | held | lost | calls/s | renews/s | CPU s per lease-hour | process CPU | RSS (peak) | goroutines | call latency p50 / p99 / max | Azurite CPU |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %d | %s | %d | %d | %.1f | %.1f | %.3f | %.1f%% | %.0f MiB (%.0f) | %d | %.1f / %.1f / %.0f ms | %.0f%% |\n",
			r.N, sec(r.AcquireS), r.Held, r.Lost, r.CallsPerS, r.RenewsPerS, r.CPUSecPerLeaseHour, r.CPUPercent,
			r.RSSMiB, r.PeakRSSMiB, r.Goroutines, r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyMaxMs, r.AzuriteCPUPercent)
	}
	fmt.Println()
	for _, r := range rs {
		for _, e := range r.Errors {
			fmt.Printf("  error (N=%d): %s\n", r.N, e)
		}
	}
}
