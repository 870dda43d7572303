package sim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Violation is one broken property of a history.
type Violation struct {
	Kind   string // "overlap", "fencing", "liveness", "free", "ghost", "handover", "over-k" or "model"
	Detail string
}

func (v Violation) String() string { return v.Kind + ": " + v.Detail }

// Bounds is what Check needs to know about a run.
type Bounds struct {
	// Drift is how much faster storage's clock runs than the holders'
	// (0.01 = 1%). A holding that timed out ended when the holder's clock
	// said its validity deadline had come, at most L - M after an anchor
	// on that clock; on storage's timeline that end lies up to
	// Drift*(L-M) later, so Check moves such ends that much later, except
	// against a holding that starts causally after it (see Released).
	// Other ends (release, unlock, resign, a storage answer proving the
	// lease gone) are events, not measured spans, and stay put.
	Drift float64
	// Released lists, per process incarnation, when storage applied a
	// successful release it sent. A holding that starts after its
	// predecessor's own process released the lease, or that the same
	// incarnation starts, comes causally after the predecessor's end,
	// which drift cannot move past it.
	Released map[Holder][]time.Duration
	// Quiet is when faults have stopped and every request sent before
	// has landed; End is when the run stopped its holders. Liveness is
	// judged on [Quiet, End).
	Quiet, End time.Duration
	// Gap is the longest time without a holder allowed after Quiet;
	// ShardGap the same for a shard's partition.
	Gap, ShardGap time.Duration

	// What liveness in every state is judged on (see checkFree); nil
	// Cands turns those checks off.
	//
	// Free is when the main lease was free at storage, in order.
	Free []FreeSpan
	// Cands are the candidates: each process incarnation's life, waits
	// and faulty spans (the main lease's kinds, and the semaphores').
	Cands []Cand
	// SlotFree is when each semaphore slot was free at storage, by the
	// slot's lease name.
	SlotFree map[string][]FreeSpan
	// Storms are storage's storms: every candidate's network is faulty
	// then.
	Storms []Span
	// Standby is how the seed's elections wait.
	Standby StandbyMode
	// Strict (the scenario seeds) judges every graceful release by the
	// hand-over bound, whatever the seats: TakeoverBound, or SteadyBound
	// in the steady state.
	Strict bool
	// Broken, if not empty, is where the simulation's log of the lease at
	// storage disagreed with the Container: a "model" violation.
	Broken string

	holdings History // the main lease's holdings, for checkFree
}

// Holder names a process incarnation.
type Holder struct {
	Proc string
	Inc  int
}

// Bounds returns the bounds of a run of plan p in which storage applied the
// given releases. The liveness bound is L + 1.2 P + Slack for fixed leases
// (a shard partition's: L + 1.2 ShardPoll + Slack); when every process on
// the main lease is an election with next-in-line standbys, the longest
// of that, L + 1.2 NextCheck + Slack and NextDuration + 1.2 NextRetry +
// 1.2 P + Slack.
// For infinite leases it is the break-on-timeout recovery: up to two polls
// to see the last sign of life, the timeout, one poll to see it passed,
// the break period, one poll to acquire: T + BreakPeriod + 3.6 P + Slack.
func (p Plan) Bounds(released map[Holder][]time.Duration) Bounds {
	gap := Duration + Poll*12/10 + Slack
	if p.Standby != StandbyPlain && p.onlyElections() {
		// No one but elections: a free lease may wait for a backbencher's
		// own read (every NextCheck) after the lease expires, or for a
		// dead next in line's lease to expire and a backbencher to take
		// it (NextRetry) and poll (P). (With other kinds, they poll every P.)
		gap = max(gap, Duration+NextCheck*12/10+Slack, NextDuration+NextRetry*12/10+Poll*12/10+Slack)
	}
	if p.Infinite {
		gap = p.BreakTimeout + BreakPeriod + 3*Poll*12/10 + Slack
	}
	return Bounds{
		Storms:   p.Storms,
		Standby:  p.Standby,
		Strict:   p.Scenario != ScenarioNone,
		Drift:    p.Drift,
		Released: released,
		Quiet:    FaultPhase + MaxLate,
		End:      p.end(),
		Gap:      gap,
		ShardGap: Duration + ShardPoll*12/10 + Slack,
	}
}

// Check returns the violations of hs, judged per lease (Holding.Lease), each
// lease's holdings in start order (as Run returns them; Check sorts a copy;
// #n in a violation is an index in that order): (a) two holdings whose
// intervals [Start, End) overlap on storage's timeline; (b) a fencing
// number (Term) not strictly greater than the previous holding's; (c) a
// span of more than b.Gap within [b.Quiet, b.End) with no holder, for the
// main lease and for every shard partition (a semaphore's slot may rest
// idle). And (d), "over-k": more than SemSlots semaphore holdings under way
// at once, counted over all slots. A violation of a group's lease names the
// lease first.
func Check(hs History, b Bounds) []Violation {
	byLease := map[string]History{}
	for _, h := range hs {
		byLease[h.Lease] = append(byLease[h.Lease], h)
	}
	vs := checkLease(byLease[""], b, true)
	vs = append(vs, checkFree(hs, b)...)
	for _, name := range slices.Sorted(maps.Keys(byLease)) {
		if name == "" {
			continue
		}
		lhs := byLease[name]
		sb := b
		sb.Gap = b.ShardGap
		for _, v := range checkLease(lhs, sb, lhs[0].Kind == KindShard) {
			v.Detail = name + ": " + v.Detail
			vs = append(vs, v)
		}
	}
	return append(vs, checkSlots(hs, b)...)
}

// checkSlots returns an "over-k" violation for each semaphore holding that
// starts while SemSlots others are under way.
func checkSlots(hs History, b Bounds) []Violation {
	var sem History
	for _, h := range hs {
		if h.Kind == KindSemaphore {
			sem = append(sem, h)
		}
	}
	slices.SortStableFunc(sem, func(a, b Holding) int { return cmp.Compare(a.Start, b.Start) })
	var vs []Violation
	for i, h := range sem {
		n := 1
		for _, p := range sem[:i] {
			if e := p.End; !p.Ended || h.Start < e {
				if !p.Ended && b.End <= h.Start {
					continue
				}
				n++
			}
		}
		if n > SemSlots {
			vs = append(vs, Violation{"over-k", fmt.Sprintf("%v starts while %d other semaphore holders hold (K = %d)", h, n-1, SemSlots)})
		}
	}
	return vs
}

// checkLease judges the holdings of one lease: overlap, fencing and, if
// live, liveness.
func checkLease(hs History, b Bounds, live bool) []Violation {
	hs = slices.Clone(hs)
	slices.SortStableFunc(hs, func(a, b Holding) int { return cmp.Compare(a.Start, b.Start) })
	var vs []Violation
	rawEnd := func(h Holding) time.Duration {
		if !h.Ended {
			return max(b.End, h.Start)
		}
		return h.End
	}
	// end is when p ended on storage's timeline, as seen by h, which
	// starts after p.
	end := func(p, h Holding) time.Duration {
		e := rawEnd(p)
		if !p.TimedOut || p.Proc == h.Proc && p.Inc == h.Inc {
			return e
		}
		for _, r := range b.Released[Holder{p.Proc, p.Inc}] {
			if r >= e && r <= h.Start {
				return e
			}
		}
		return e + time.Duration(b.Drift*float64(Duration-Margin))
	}
	for i, h := range hs {
		over := -1 // the earlier holding that ends last after h starts
		for j := range i {
			if e := end(hs[j], h); h.Start < e && (over < 0 || e > end(hs[over], h)) {
				over = j
			}
		}
		if over >= 0 {
			vs = append(vs, Violation{"overlap", fmt.Sprintf("#%d %v starts before #%d %v ends (at %v on storage's timeline)",
				i, h, over, hs[over], end(hs[over], h))})
		}
		if i > 0 {
			p := hs[i-1]
			if h.Term <= p.Term {
				vs = append(vs, Violation{"fencing", fmt.Sprintf("#%d %v has fencing number %d, not above #%d's %d",
					i, h, h.Term, i-1, p.Term)})
			}
		}
	}
	if !live {
		return vs
	}
	// Liveness: walk the covered spans from Quiet.
	covered := b.Quiet // holders cover [Quiet, covered) so far
	for _, h := range hs {
		if h.Start > covered {
			if h.Start >= b.End {
				break
			}
			if h.Start-covered > b.Gap {
				vs = append(vs, Violation{"liveness", fmt.Sprintf("no holder for %v from %v to %v (bound %v)", h.Start-covered, covered, h.Start, b.Gap)})
			}
		}
		covered = max(covered, rawEnd(h))
	}
	if covered < b.End && b.End-covered > b.Gap {
		vs = append(vs, Violation{"liveness", fmt.Sprintf("no holder for %v from %v to the end at %v (bound %v)", b.End-covered, covered, b.End, b.Gap)})
	}
	return vs
}
