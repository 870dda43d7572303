package sim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The bounds of liveness in every state (see checkFree and
// docs/simulation.md), in terms of L, P and the next-in-line settings of
// the simulation (NextRetry, NextCheck, NextDuration).
const (
	// FreeSlack is what a bound on a free span allows beyond the moment a
	// candidate's poll is due: the span ends when storage applies the
	// acquire, so one read's round trip and the acquire's way there, at
	// most 3 x tailDelay, plus 200 ms to spare.
	FreeSlack = 3*tailDelay + 200*time.Millisecond
	// PollBound: a candidate that polls every P (jittered up to 1.2 P)
	// reads within 1.2 P.
	PollBound = Poll*12/10 + FreeSlack
	// MutexBound: a mutex that let its lease go at max-hold, or lost it,
	// stands aside for 2 P after it first sees the lock free: one poll to
	// see it, 2 P, one poll to take it.
	MutexBound = 2*Poll*12/10 + 2*Poll + FreeSlack
	// SteadyBound: two seat holders, healthy and seated, poll the leader's
	// lease on alternate slots of P: together once every P.
	SteadyBound = Poll + FreeSlack
	// TakeoverBound: one seat empty (a take-over in the last Refill, a
	// seat holder dead, stopped, or cut off, or only one healthy
	// standby): the other seat holder polls every 2 P, every P once it
	// has seen the seat empty.
	TakeoverBound = 2*Poll + FreeSlack
	// BenchBound: both seats may be empty: a backbencher reads the
	// leader's lease every NextCheck (jittered), and refills a seat within
	// 2.4 NextRetry, whichever comes first.
	BenchBound = NextCheck*12/10 + FreeSlack
	// SemBound: a semaphore waiter tries every slot every P (jittered),
	// but stands aside for 2 P from a slot it released: one poll, 2 P,
	// one poll.
	SemBound = 2*Poll*12/10 + 2*Poll + FreeSlack
	// HeartbeatBound: a heartbeat-guided seat holder sleeps until the
	// leader's lease would expire had the leader died after its last
	// heartbeat (up to L after its last read), so a graceful release
	// waits up to L, then the burst; or, seats empty, BenchBound.
	HeartbeatBound = Duration + 2*Poll + FreeSlack
	// Refill is how long a campaigning candidate takes to sit in a free
	// seat: a joiner at its first poll, a backbencher reading one seat per
	// NextRetry, alternating (each seat every 2 NextRetry, jittered).
	Refill = 2*NextRetry*12/10 + Slack
)

// electionBound is the bound for election candidates of a free span judged
// at a, in a next-in-line (not heartbeat) seed, and the state, in words.
// The state is read from what happened, counting the disturbances that
// can each leave a seat without a healthy, polling holder:
//   - take-overs (an election's holding starts) in the last Refill: the
//     winner gave up its seat;
//   - standbys (elections not leading) that crashed in the last
//     NextDuration + Refill (a dead holder's seat stays taken until its
//     lease expires), or were stopped in the last Refill;
//   - standbys whose network was faulty during [a, a + TakeoverBound) (a
//     seat holder that does not poll), or for NextRenew or longer in the
//     last NextDuration + Refill (long enough to lose a seat);
//
// and the standbys that waited healthily through the last Refill and on
// to a + TakeoverBound (campaigned long enough to sit in a free seat).
// Steady (no disturbance, two such standbys): SteadyBound; one seat short
// (one disturbance, or only one such standby): TakeoverBound; else
// BenchBound. In strict mode (the scenarios' graceful releases) never
// more than TakeoverBound.
func electionBound(b Bounds, starts []time.Duration, cs []Cand, healthy map[Holder][]Span, a time.Duration, strict bool) (time.Duration, string) {
	takeovers := 0
	for _, s := range starts {
		if s >= a-Refill && s < a {
			takeovers++
		}
	}
	seatLoss := a - (NextDuration + Refill)
	var lost, stopped, cut, h int
	for _, c := range cs {
		if c.Kind != KindElection || c.Born >= a+TakeoverBound || c.Died < seatLoss {
			continue
		}
		switch {
		case c.Crashed && c.Died < a && !c.leading(b, c.Died):
			lost++
		case c.Stopped && c.Died >= a-Refill && c.Died < a && !c.leading(b, c.Died):
			stopped++
		case c.Died >= a && c.faultyAround(a):
			cut++
		}
		for _, w := range healthy[c.Holder] {
			if w.From <= max(0, a-Refill) && w.To >= a+TakeoverBound {
				h++
				break
			}
		}
	}
	d := takeovers + lost + stopped + cut
	state := fmt.Sprintf("%d take-overs in the last %v, %d standbys crashed and %d stopped lately, %d with faults, %d healthy for %v and on",
		takeovers, Refill, lost, stopped, cut, h, Refill)
	switch {
	case d == 0 && h >= 2:
		return SteadyBound, "steady: " + state
	case d+max(0, 2-h) <= 1 || strict:
		return TakeoverBound, "one seat short: " + state
	}
	return BenchBound, "both seats may be empty: " + state
}

// faultyAround reports whether c's network was faulty during
// [a, a + TakeoverBound), or for NextRenew or longer since a - NextDuration
// - Refill: enough to leave its seat, if it held one, without a poller.
func (c Cand) faultyAround(a time.Duration) bool {
	if overlaps(c.Faulty, a, a+TakeoverBound) {
		return true
	}
	for _, w := range c.Faulty {
		if w.To-w.From >= NextRenew && overlaps([]Span{w}, a-(NextDuration+Refill), a) {
			return true
		}
	}
	return false
}

// leading reports whether c held the main lease at t (its holding under
// way, or ending at t).
func (c Cand) leading(b Bounds, t time.Duration) bool {
	for _, h := range b.holdings {
		if h.Proc == c.Proc && h.Inc == c.Inc && h.Start <= t && (!h.Ended || h.End >= t) {
			return true
		}
	}
	return false
}

// bound is the longest c may wait healthily while the lease is free at
// storage, from a, and the state it was judged in.
func bound(b Bounds, c Cand, starts []time.Duration, cs []Cand, healthy map[Holder][]Span, a time.Duration, strict bool) (time.Duration, string) {
	switch c.Kind {
	case KindSemaphore:
		return SemBound, "a semaphore waiter tries every slot every P, standing aside 2 P from one it released"
	case KindRenewer:
		return PollBound, "a renewer polls every P"
	case KindMutex:
		return MutexBound, "a mutex polls every P, standing aside 2 P after max-hold or a loss"
	}
	switch b.Standby {
	case StandbyPlain:
		return PollBound, "plain standbys poll every P"
	case StandbyHeartbeats:
		return max(HeartbeatBound, BenchBound), "heartbeat-guided standbys"
	}
	return electionBound(b, starts, cs, healthy, a, strict)
}

// ownBound is the longest c may wait healthily, in the waiting that sent
// the acquire that took the lease, without holding what it took: its next
// poll asks again with the same lease ID, and holds once the set-up's
// round trips are done (Slack, not FreeSlack: the holding starts then).
func ownBound(b Bounds, c Cand) time.Duration {
	return pollBound(b, c) - FreeSlack + Slack
}

// pollBound is how long c may take to ask again: its poll interval's
// bound, plus FreeSlack.
func pollBound(b Bounds, c Cand) time.Duration {
	switch {
	case c.Kind == KindMutex:
		return MutexBound
	case c.Kind == KindElection && b.Standby == StandbyNext:
		return BenchBound
	case c.Kind == KindElection && b.Standby == StandbyHeartbeats:
		return max(HeartbeatBound, BenchBound)
	}
	return PollBound
}

// checkFree judges liveness in every state, faults or not, on the main
// lease: (a) "free": while the lease is free at storage, no candidate
// waits, with a healthy network, longer than its bound (see bound) without
// the lease being taken; (b) "ghost": a candidate whose acquire took the
// lease without its learning it (its answer lost, or too late) holds it
// within its own next poll (ownBound) once its network is healthy again,
// if it still waits in the Acquire (or Lock, or campaign) that sent it; (c)
// "handover", in the scenario seeds (b.Strict): a graceful release is
// answered within TakeoverBound, or SteadyBound in the steady state,
// whatever the seats.
func checkFree(hs History, b Bounds) []Violation {
	if b.Cands == nil {
		return nil
	}
	var vs []Violation
	if b.Broken != "" {
		vs = append(vs, Violation{"model", "the simulation's log of the lease disagrees with storage: " + b.Broken})
	}
	var main History
	var starts []time.Duration // take-overs by elections
	for _, h := range hs {
		if h.Lease != "" {
			continue
		}
		main = append(main, h)
		if h.Kind == KindElection {
			starts = append(starts, h.Start)
		}
	}
	slices.SortStableFunc(main, func(a, b Holding) int { return cmp.Compare(a.Start, b.Start) })
	b.holdings = main
	// healthy: when each candidate waited with a normal network.
	healthy := map[Holder][]Span{}
	for _, c := range b.Cands {
		healthy[c.Holder] = minus(merge(c.Waits), append(slices.Clone(c.Faulty), b.Storms...))
	}
	var mainCands, semCands []Cand
	for _, c := range b.Cands {
		switch c.Kind {
		case KindSemaphore:
			semCands = append(semCands, c)
		case KindRenewer, KindElection, KindMutex:
			mainCands = append(mainCands, c)
		}
	}
	// A semaphore's slots: a slot free at storage while a semaphore
	// waiter waits healthily.
	for _, name := range slices.Sorted(maps.Keys(b.SlotFree)) {
		for _, f := range b.SlotFree[name] {
			if to := min(f.To, b.End); f.From < to {
				for _, v := range judgeFree(b, semCands, f, to, nil, healthy) {
					v.Detail = name + ": " + v.Detail
					vs = append(vs, v)
				}
			}
		}
	}
	b.Cands = mainCands
	for i, f := range b.Free {
		to := min(f.To, b.End)
		if f.From >= to {
			continue
		}
		vs = append(vs, judgeFree(b, mainCands, f, to, starts, healthy)...)
		if f.To >= b.End || !f.Unknown {
			continue
		}
		// The taker's acquire took the lease at f.To, and the taker did
		// not learn it (its answer lost, or too late): its next poll asks
		// again with the same lease ID, and holds.
		end := b.End
		if i+1 < len(b.Free) {
			end = min(end, b.Free[i+1].From)
		}
		if j, _ := slices.BinarySearchFunc(main, f.To, func(h Holding, t time.Duration) int { return cmp.Compare(h.Start, t) }); j < len(main) {
			end = min(end, main[j].Start)
		}
		c, ok := b.cand(f.Taker)
		if !ok {
			continue
		}
		var waiting Span // the taker's waiting that sent the acquire
		for _, w := range merge(c.Waits) {
			if w.has(f.Sent) {
				waiting = w
			}
		}
		// Did it give that ID up (a fresh one proposed) before the lease
		// was taken, or within its bound after?
		ob := ownBound(b, c)
		moved := forever
		for _, a := range c.Acquires {
			if a.At > f.Sent && f.ID != 0 && a.ID != f.ID {
				moved = a.At
				break
			}
		}
		for _, g := range c.GaveUp {
			if g.At > f.Sent && g.ID == f.ID {
				moved = min(moved, g.At)
				break
			}
		}
		for _, w := range healthy[c.Holder] {
			lo, hi := max(f.To, w.From, waiting.From), min(end, w.To, waiting.To)
			if hi-lo <= ob {
				continue
			}
			kind, why := "ghost", ""
			if moved < lo+ob {
				kind, why = "retired", fmt.Sprintf("; it had given that lease ID up at %v", moved)
			}
			vs = append(vs, Violation{kind, fmt.Sprintf("%s/%d's acquire (sent at %v) took the lease at %v and it waited healthily from %v to %v without holding it (bound %v)%s; %v",
				c.Proc, c.Inc, f.Sent, f.To, lo, hi, ob, why, f)})
			break
		}
	}
	return vs
}

// judgeFree judges one free span [f.From, to): at its start and at each
// moment a candidate's healthy waiting begins within it, every candidate
// waiting healthily then must not wait longer than its bound.
func judgeFree(b Bounds, cands []Cand, f FreeSpan, to time.Duration, starts []time.Duration, healthy map[Holder][]Span) []Violation {
	at := []time.Duration{f.From}
	for _, c := range cands {
		for _, w := range healthy[c.Holder] {
			if w.From > f.From && w.From < to {
				at = append(at, w.From)
			}
		}
	}
	slices.Sort(at)
	at = slices.Compact(at)
	strict := b.Strict && f.Released
	for _, a := range at {
		for _, c := range cands {
			for _, w := range healthy[c.Holder] {
				if w.From > a || w.To <= a {
					continue
				}
				bd, state := bound(b, c, starts, b.Cands, healthy, a, strict)
				if waited := min(to, w.To) - a; waited > bd {
					kind := "free"
					if strict && c.Kind == KindElection {
						kind = "handover"
					}
					until := "until it was taken"
					if w.To < to {
						until = "until its network failed or it stopped waiting"
					}
					return []Violation{{kind, fmt.Sprintf("%v; %s/%d %s waited healthily from %v for %v, %s (bound %v; %s)",
						f, c.Proc, c.Inc, c.Kind, a, waited, until, bd, state)}}
				}
			}
		}
	}
	return nil
}

// cand returns h's record.
func (b Bounds) cand(h Holder) (Cand, bool) {
	for _, c := range b.Cands {
		if c.Holder == h {
			return c, true
		}
	}
	return Cand{}, false
}

// DescribeFree lists free spans, for a replay.
func DescribeFree(fs []FreeSpan) string {
	var s strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&s, "  %v\n", f)
	}
	return s.String()
}

// DescribeCands lists the candidates' records, for a replay.
func DescribeCands(cs []Cand) string {
	var s strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&s, "  %s/%d %v life [%v, %v) crashed %v stopped %v waits %v faulty %v seat-faulty %v\n",
			c.Proc, c.Inc, c.Kind, c.Born, c.Died, c.Crashed, c.Stopped, c.Waits, c.Faulty, c.SeatFaulty)
	}
	return s.String()
}
