package main

import (
	"fmt"
	"strings"
)

func distCell(d dist) string {
	if d.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%s / %s / %s", sec(d.P50), sec(d.P95), sec(d.Max))
}

// printRollouts prints the tables of the rollout sections that ran, and
// how the leasehold defaults fare against the section's targets.
func printRollouts(res results) {
	o := res.Roll
	if o == nil {
		o = &rollOptions{}
	}
	L := settingDefaults.Lease.Seconds()
	var targets []string
	if len(res.Rolling) > 0 {
		fmt.Println("### Rolling restart")
		fmt.Println()
		fmt.Printf("%d candidates per election, restarted one at a time in a random order (so the leader comes at a random position): a graceful stop (leasehold: SIGTERM to the candidate's process, whose election.Run releases the lease; client-go: the elector's context cancelled with ReleaseOnCancel; etcd: Resign, then the session and the client closed), %.0f s down, a new incarnation (a new process; client-go and etcd: a new elector or client and session), and %.0f s later the next candidate. Leaderless time: the sum of the stretches with no candidate leading, from the first stop to the first leader after the last restart, as the candidates' own callbacks report it on this machine's one clock (leasehold `OnElected` and the end of its context; client-go `OnStartedLeading` and the end of its context; etcd `Campaign` returning and the call to `Resign`). Calls: every incarnation's storage calls during the rollout (etcd: gRPC requests). %d rollouts per system over %d elections, every system at once; each rollout starts after %.0f s plus a random 0 to %.0f s with a leader.\n",
			o.Candidates, o.DownS, o.UpS, o.Rollouts, o.Lanes, o.SettleS, o.JitterS)
		fmt.Println()
		fmt.Println("| system | rollouts | leaderless per rollout p50 / p95 / max | longest gap p50 / p95 / max | calls per rollout p50 / p95 / max | rollout p50 |")
		fmt.Println("|---|---|---|---|---|---|")
		for _, r := range res.Rolling {
			fmt.Printf("| %s | %d ok, %d failed | %s | %s | %d / %d / %d | %s |\n", r.System, r.Leaderless.N, r.Failed,
				distCell(r.Leaderless), distCell(r.Longest), r.Calls.P50, r.Calls.P95, r.Calls.Max, sec(r.Duration.P50))
		}
		fmt.Println()
		printErrors(res.Rolling, func(r rollResult) (string, []string) { return r.System, r.Errors })
		if d, ok := rollOf(res.Rolling, "leasehold defaults"); ok && d.Leaderless.N > 0 {
			t := fmt.Sprintf("rolling restart, leaderless per rollout p95 <= 3 s: %s (%s)", verdict(d.Leaderless.P95 <= 3), sec(d.Leaderless.P95))
			if cg, ok := rollOf(res.Rolling, "client-go"); ok && cg.Leaderless.N > 0 {
				t += fmt.Sprintf("; no more than client-go's (%s): %s", sec(cg.Leaderless.P95), verdict(d.Leaderless.P95 <= cg.Leaderless.P95))
			}
			targets = append(targets, t)
		}
	}
	if len(res.CrashResign) > 0 {
		fmt.Println("### Crash, then a graceful stop of the new leader")
		fmt.Println()
		fmt.Printf("%d candidates per election; after %.0f s plus a random 0 to %.0f s with a leader, the leader crashes (leasehold: SIGKILL; client-go: its lock stops reaching storage; etcd: its client closed without revoking); %.0f s plus a random 0 to %.0f s after the next leader leads (a random phase of the standbys' polls), that leader is stopped gracefully (as in the rolling restart). First gap: from the crash to the next leader leading; second gap: from the graceful stop to the one after leading. %d runs per system, every run and system at once.\n",
			o.GapCands, o.SettleS, o.JitterS, o.PauseS, o.PauseRandS, o.GapRuns)
		fmt.Println()
		fmt.Println("| system | runs | crash to new leader p50 / p95 / max | graceful stop to next leader p50 / p95 / max |")
		fmt.Println("|---|---|---|---|")
		for _, r := range res.CrashResign {
			fmt.Printf("| %s | %d ok, %d failed | %s | %s |\n", r.System, r.Gap.N, r.Failed, distCell(r.First), distCell(r.Gap))
		}
		fmt.Println()
		printErrors(res.CrashResign, func(r gapResult) (string, []string) { return r.System, r.Errors })
		if d, ok := gapOf(res.CrashResign, "leasehold defaults"); ok && d.Gap.N > 0 {
			targets = append(targets, fmt.Sprintf("crash then graceful stop, second gap p95 <= 1 s: %s (%s)", verdict(d.Gap.P95 <= 1), sec(d.Gap.P95)))
		}
	}
	if len(res.TwoCrashes) > 0 {
		fmt.Println("### Two crashes at once")
		fmt.Println()
		fmt.Printf("%d candidates per election; after %.0f s plus a random 0 to %.0f s with a leader, the leader and the next in line crash together (leasehold: SIGKILL to the leader and to a holder of a next-in-line seat, chosen at random if two hold one; client-go and etcd: the leader and a standby at random). From the crashes to the next leader leading. %d runs per system, every run and system at once. L = %.0f s.\n",
			o.GapCands, o.SettleS, o.JitterS, o.GapRuns, L)
		fmt.Println()
		fmt.Println("| system | runs | crashes to new leader p50 / p95 / max | p95 − L |")
		fmt.Println("|---|---|---|---|")
		for _, r := range res.TwoCrashes {
			over := "—"
			if r.Gap.N > 0 {
				over = fmt.Sprintf("%+.2f s", r.Gap.P95-L)
			}
			fmt.Printf("| %s | %d ok, %d failed | %s | %s |\n", r.System, r.Gap.N, r.Failed, distCell(r.Gap), over)
		}
		fmt.Println()
		printErrors(res.TwoCrashes, func(r gapResult) (string, []string) { return r.System, r.Errors })
		if d, ok := gapOf(res.TwoCrashes, "leasehold defaults"); ok && d.Gap.N > 0 {
			targets = append(targets, fmt.Sprintf("two crashes at once, new leader p95 <= L + 15 s = %.0f s: %s (%s)", L+15, verdict(d.Gap.P95 <= L+15), sec(d.Gap.P95)))
		}
	}
	if len(targets) > 0 {
		fmt.Println("Targets at leasehold defaults, this run:")
		for _, t := range targets {
			fmt.Println("- " + t)
		}
		fmt.Println()
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func rollOf(rs []rollResult, sys string) (rollResult, bool) {
	for _, r := range rs {
		if r.System == sys {
			return r, true
		}
	}
	return rollResult{}, false
}

func gapOf(rs []gapResult, sys string) (gapResult, bool) {
	for _, r := range rs {
		if r.System == sys {
			return r, true
		}
	}
	return gapResult{}, false
}

func printErrors[R any](rs []R, f func(R) (string, []string)) {
	n := 0
	for _, r := range rs {
		sys, errs := f(r)
		for _, e := range errs {
			fmt.Printf("  error (%s): %s\n", sys, strings.TrimSpace(e))
			n++
		}
	}
	if n > 0 {
		fmt.Println()
	}
}
