package main

import (
	"fmt"
	"strings"
)

func ms(s float64) string { return fmt.Sprintf("%.0f ms", s*1000) }

func sec(s float64) string { return fmt.Sprintf("%.2f s", s) }

// costAt returns sys's cost result with n standbys, if measured.
func costAt(cs []costResult, sys string, n int) (costResult, bool) {
	for _, c := range cs {
		if c.System == sys && c.Standbys == n && c.Err == "" {
			return c, true
		}
	}
	return costResult{}, false
}

// totalWith is sys's calls an hour with n standbys, measured if it was, else
// estimated from its leader and one standby (second result false).
func totalWith(cs []costResult, sys string, n int) (calls, usd float64, measured, ok bool) {
	if c, found := costAt(cs, sys, n); found {
		return c.TotalPerHour, c.TotalDollarsPerMo, true, true
	}
	if c, found := costAt(cs, sys, 1); found {
		k := float64(n)
		return c.Leader.PerHour + k*c.Standby.PerHour, round(c.Leader.DollarsPerMon+k*c.Standby.DollarsPerMon, 3), false, true
	}
	return 0, 0, false, false
}

// summaryCounts are the standby counts the side-by-side table shows.
func summaryCounts(cs []costResult) []int {
	most := 4
	for _, c := range cs {
		most = max(most, c.Standbys)
	}
	if most == 4 {
		return []int{1, 4}
	}
	return []int{1, 4, most}
}

func printSummary(res results, systems []system) {
	fmt.Println("### Side by side: leasehold, client-go, etcd (same run, same Azurite, same L)")
	fmt.Println()
	fmt.Printf("L = %v for every system. Crash failover: from the leader's crash to the standby leading. Hand-over: from the leader giving up (Resign; client-go: cancel with ReleaseOnCancel) to the standby leading. Calls an hour: HTTP requests to storage counted at each client's transport (etcd: gRPC requests, unary calls plus stream messages, which are not billed per call and are not comparable one for one). Dollars a month: each operation at its list price per 10,000 (hot tier: Other $%.4f, Read $%.4f, Write $%.3f; assumed, see below), 730 h.\n", settingDefaults.Lease, priceOtherPer10k, priceReadPer10k, priceWritePer10k)
	fmt.Println()
	counts := summaryCounts(res.Cost)
	head := "| system | crash failover p50 / p95 / max | hand-over p50 / p95 | leader calls/h | calls/h per standby |"
	sep := "|---|---|---|---|---|"
	for _, n := range counts {
		plural := "s"
		if n == 1 {
			plural = ""
		}
		head += fmt.Sprintf(" calls/h, leader + %d standby%s |", n, plural)
		sep += "---|"
	}
	head += " $/month, leader + 4 standbys |"
	sep += "---|"
	fmt.Println(head)
	fmt.Println(sep)
	for _, sys := range systems {
		row := "| " + sys.Name + " |"
		row += " " + crashCell(res.Crash, sys.Name) + " |"
		row += " " + handoffCell(res.Handoff, sys.Name) + " |"
		if c, ok := costAt(res.Cost, sys.Name, 1); ok {
			row += fmt.Sprintf(" %.0f | %.0f |", c.Leader.PerHour, c.Standby.PerHour)
		} else {
			row += " — | — |"
		}
		for _, n := range counts {
			calls, _, measured, ok := totalWith(res.Cost, sys.Name, n)
			switch {
			case !ok:
				row += " — |"
			case measured:
				row += fmt.Sprintf(" %.0f |", calls)
			default:
				row += fmt.Sprintf(" ≈ %.0f |", calls)
			}
		}
		_, usd, measured, ok := totalWith(res.Cost, sys.Name, 4)
		switch {
		case !sys.Billed:
			row += " n/a (servers of your own) |"
		case !ok:
			row += " — |"
		case measured:
			row += fmt.Sprintf(" %.2f |", usd)
		default:
			row += fmt.Sprintf(" ≈ %.2f |", usd)
		}
		fmt.Println(row)
	}
	fmt.Println()
	fmt.Println("≈: estimated as leader + N × (one standby), from the run with one standby; other figures are measured.")
	for _, sys := range systems {
		fmt.Printf("- %s: %s.\n", sys.Name, sys.Setting.Note)
	}
	fmt.Println()
}

func crashCell(rs []crashResult, sys string) string {
	for _, r := range rs {
		if r.System == sys && r.Failover.N > 0 {
			return fmt.Sprintf("%s / %s / %s", sec(r.Failover.P50), sec(r.Failover.P95), sec(r.Failover.Max))
		}
	}
	return "—"
}

func handoffCell(rs []handoffResult, sys string) string {
	for _, r := range rs {
		if r.System == sys && r.Kind == "election" && r.Latency.N > 0 {
			return fmt.Sprintf("%s / %s", ms(r.Latency.P50), ms(r.Latency.P95))
		}
	}
	return "—"
}

func printCrash(rs []crashResult) {
	fmt.Println("### Crash failover (leader crashed, no release)")
	fmt.Println()
	fmt.Println("Time from the leader's crash to the standby leading; each run a leader and a standby on an election of their own, all runs of all systems concurrently. leasehold: the leader is a process killed with SIGKILL. client-go: the leader's lock stops reaching storage at once (a crash as storage sees it). etcd: the leader's client is closed without revoking its session's lease. Floor: the lease must expire. **Azurite lets a standby acquire the instant a blob lease expires; the cloud may refuse for up to about 60 s after expiry, so the leasehold figures are a floor.**")
	fmt.Println()
	fmt.Println("| system | runs | p50 | p95 | max | p50 / L | p95 / L | max / L | last renew before kill (p50) | expiry to elected p50 / p95 / max |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %d ok, %d failed | %s | %s | %s | %.3f | %.3f | %.3f | %s | %s / %s / %s |\n",
			r.System, r.Failover.N, r.Failed, sec(r.Failover.P50), sec(r.Failover.P95), sec(r.Failover.Max),
			r.RatioP50, r.RatioP95, r.RatioMax, sec(r.SinceRenew.P50),
			ms(r.AfterExpiry.P50), ms(r.AfterExpiry.P95), ms(r.AfterExpiry.Max))
	}
	fmt.Println()
	fmt.Println("Expiry: the last renewal (client-go: record write; etcd: keep-alive) sent before the kill, plus L. client-go's standby times the lease from when it saw the record change, not from the record's renew time, so it takes over up to a few RetryPeriods after that.")
	for _, r := range rs {
		for _, e := range r.Errors {
			fmt.Printf("  error (%s): %s\n", r.System, e)
		}
	}
	fmt.Println()
}

func printHandoff(rs []handoffResult) {
	fmt.Println("### Graceful hand-over")
	fmt.Println()
	fmt.Println("election: from the leader giving up (leasehold `Leadership.Resign`; client-go: cancelling the leader's context with ReleaseOnCancel, which empties the record; etcd `Election.Resign`) to the waiting candidate leading; mutex: from `Held.Unlock` to the waiting `Mutex.Lock` returning. Each side has its own client; pairs run concurrently, one election each; the give-up comes at a random phase of the waiter's poll.")
	fmt.Println()
	fmt.Println("| system | kind | hand-overs | p50 | p95 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Printf("| %s | %s | %d ok, %d failed | %s | %s | %s |\n", r.System, r.Kind,
			r.Latency.N, r.Failed, ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.Max))
	}
	fmt.Println()
	for _, r := range rs {
		for _, e := range r.Errors {
			fmt.Printf("  error (%s, %s): %s\n", r.System, r.Kind, e)
		}
	}
	fmt.Println()
}

func opsString(ops []opCount) string {
	if len(ops) == 0 {
		return "none"
	}
	var parts []string
	for _, o := range ops {
		parts = append(parts, fmt.Sprintf("%s %d", o.Op, o.Calls))
	}
	return strings.Join(parts, ", ")
}

func printCost(rs []costResult) {
	fmt.Println("### Cost: calls per hour against the number of standbys")
	fmt.Println()
	if len(rs) > 0 {
		fmt.Printf("A leader and N standbys per row, every row at once, each member with its own client; calls counted over a %.0f s window after all have settled, scaled to an hour. Storage systems: HTTP requests at the SDK transport, priced by operation type (Lease Blob/Container and Get Container Properties: Other, $%.4f; Get Blob: Read, $%.4f; Put Blob: Write, $%.3f; per 10,000, hot tier, assumed list prices), 730 h a month. etcd: gRPC requests (unary calls and stream messages sent); one runs etcd's servers oneself, so there is no per-call price.\n", rs[0].WindowS, priceOtherPer10k, priceReadPer10k, priceWritePer10k)
	}
	fmt.Println()
	fmt.Println("| system | standbys | leader calls (by operation) | standbys' calls (by operation) | leader calls/h | per standby calls/h | total calls/h | $ / month |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		usd := fmt.Sprintf("%.3f", r.TotalDollarsPerMo)
		if !r.Billed {
			usd = "n/a"
		}
		if r.Err != "" {
			fmt.Printf("| %s | %d | error: %s | | | | | |\n", r.System, r.Standbys, r.Err)
			continue
		}
		per := "—"
		if r.Standbys > 0 {
			per = fmt.Sprintf("%.0f", r.PerStandbyPerHour)
		}
		fmt.Printf("| %s | %d | %d (%s) | %d (%s) | %.0f | %s | %.0f | %s |\n", r.System, r.Standbys,
			r.Leader.Calls, opsString(r.Leader.ByOp), r.Standby.Calls, opsString(r.Standby.ByOp),
			r.Leader.PerHour, per, r.TotalPerHour, usd)
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
	if len(rs) > 0 && rs[0].Named {
		fmt.Println("### Scale: one process holding N named locks in one container")
		fmt.Println()
		fmt.Printf("One process, N renewers, each the lease of a blob in one shared container (named locks, `azlease.NewBlob`; settings %s), one shared HTTP client; held for %.0f s after all were acquired. Acquiring a named lock the first time also creates its blob. Columns as in the table above.\n", rs[0].Setting, rs[0].WindowS)
	} else {
		fmt.Println("### Scale: one process holding N leases")
		fmt.Println()
		if len(rs) > 0 {
			fmt.Printf("One process, N renewers (one container each, settings %s), one shared HTTP client; held for %.0f s after all were acquired. CPU is the process's user+system time over the window (getrusage); memory is VmRSS; Azurite's CPU is read from /proc.\n", rs[0].Setting, rs[0].WindowS)
		}
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
