package fault

import (
	"fmt"
	"sort"
	"time"
)

// CheckOptions tune the checker's tolerances.
type CheckOptions struct {
	// PromptAfterResume is how soon after SIGCONT a paused holder must have
	// seen its context done for the overlap its pause caused to be excused
	// (the paused-process limit, answered by fencing). Default 1 s.
	PromptAfterResume time.Duration
	// DeadlineSlack is how late after its validity deadline a holder may see
	// its context done: the time for the watchdog's goroutine and the
	// holder's to be scheduled. Default 300 ms.
	DeadlineSlack time.Duration
	// StorageLossGrace is how long after a storage restart an older holder
	// may stay live alongside a newer one: a restarted Azurite forgets the
	// active lease, so a standby acquires it anew while the holder learns
	// of it only at its next renew. Such overlaps are counted in
	// Report.StorageLossOverlaps, not as violations, when they end within
	// the grace (one renew interval plus a call timeout and slack);
	// fencing must still hold. Default 10 s.
	StorageLossGrace time.Duration
	// Capacity, if above 0, is how many holders of keyed resources (the
	// slots of one semaphore) may be live at once: more is an
	// over-capacity violation. 0: not checked.
	Capacity int
	// Reown, if above 0, is how soon after a holder of keyed resources (a
	// shard member) is killed every resource it held must be held again by
	// another process: later, or never, is an unowned violation. 0: not
	// checked.
	Reown time.Duration
}

// A Violation is one way a history breaks the guarantees.
type Violation struct {
	Kind   string // overlap, fence-order, late-loss, duplicate-term, term-order, observed-term-order, over-capacity, unowned
	Detail string
}

func (v Violation) String() string { return v.Kind + ": " + v.Detail }

// An Interval is one holder's live term: from the moment its context was
// live to the moment it saw the context done (or was killed).
type Interval struct {
	Proc       string
	Key        string // the resource ("" for a single lock)
	Term       int64
	Start, End int64 // shared clock, ns
	Ended      string
}

// A Report is what Check found.
type Report struct {
	Intervals  []Interval
	Violations []Violation
	// LateWrites counts writes sent by a holder after it was resumed from a
	// pause, and LateAccepted those the fence accepted (each accepted one
	// whose term was already superseded is also a fence-order violation).
	LateWrites, LateAccepted int
	// StorageLossOverlaps counts overlaps excused because storage forgot
	// the lease (see CheckOptions.StorageLossGrace).
	StorageLossOverlaps int
}

type pause struct{ from, to int64 } // to == 0: never resumed

// Check reads a history and reports, per resource (Event.Key: one lock, or
// each slot of a semaphore, or each partition of a shard group):
//   - overlap: two live intervals of different terms overlap on the shared
//     clock, except where the older holder was paused (SIGSTOP) and saw its
//     context done within PromptAfterResume of SIGCONT;
//   - fence-order: the fence accepted a write whose term is lower than one it
//     had accepted before for the same resource;
//   - late-loss: a holder saw its context done more than DeadlineSlack after
//     its own validity deadline (unless paused across it and prompt after);
//   - duplicate-term: two holders were elected with the same term;
//   - term-order: a holder was elected with a term lower than one elected
//     before it (terms went backwards: a late write of an earlier holding
//     rewrote the term in storage);
//   - observed-term-order: a follower saw the leader's term go down;
//
// and across resources:
//   - over-capacity (CheckOptions.Capacity): more live intervals of keyed
//     resources at one moment than the capacity (a paused holder excused as
//     for overlap counts until its pause);
//   - unowned (CheckOptions.Reown): a resource that a killed process held was
//     not held again by another process within Reown of the kill.
func Check(events []Event, opts CheckOptions) Report {
	if opts.PromptAfterResume == 0 {
		opts.PromptAfterResume = time.Second
	}
	if opts.DeadlineSlack == 0 {
		opts.DeadlineSlack = 300 * time.Millisecond
	}
	if opts.StorageLossGrace == 0 {
		opts.StorageLossGrace = 10 * time.Second
	}
	evs := append([]Event(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].T < evs[j].T })

	var rep Report
	pauses := map[string][]pause{}
	last := map[string]int64{}
	var restarts []int64
	for _, e := range evs {
		if e.Kind == KindStorageRestart {
			restarts = append(restarts, e.T)
		}
		if e.T > last[e.Proc] {
			last[e.Proc] = e.T
		}
		switch e.Kind {
		case KindPaused:
			pauses[e.Proc] = append(pauses[e.Proc], pause{from: e.T})
		case KindResumed:
			ps := pauses[e.Proc]
			if n := len(ps); n > 0 && ps[n-1].to == 0 {
				ps[n-1].to = e.T
			}
		}
	}
	// pausedAcross returns the pause of proc that started before t, and
	// whether there is one (the latest such).
	pausedBefore := func(proc string, t int64) (pause, bool) {
		var found pause
		ok := false
		for _, p := range pauses[proc] {
			if p.from <= t {
				found, ok = p, true
			}
		}
		return found, ok
	}

	// Intervals.
	type holding struct{ proc, key string }
	open := map[holding]int{} // index in rep.Intervals of each open interval
	terms := map[string]map[int64]string{}
	top := map[string]Event{} // per resource, the election with the highest term so far
	type kill struct {
		proc string
		t    int64
		keys []string
	}
	var kills []kill
	for _, e := range evs {
		switch e.Kind {
		case KindElected:
			if terms[e.Key] == nil {
				terms[e.Key] = map[int64]string{}
			}
			if other, ok := terms[e.Key][e.Term]; ok && other != e.Proc {
				rep.Violations = append(rep.Violations, Violation{Kind: "duplicate-term",
					Detail: fmt.Sprintf("%sterm %d elected by %s and by %s", keyed(e.Key), e.Term, other, e.Proc)})
			}
			if t := top[e.Key]; e.Term < t.Term {
				rep.Violations = append(rep.Violations, Violation{Kind: "term-order",
					Detail: fmt.Sprintf("%s%s elected with term %d, %v after %s was elected with term %d",
						keyed(e.Key), e.Proc, e.Term, time.Duration(e.T-t.T), t.Proc, t.Term)})
			} else {
				top[e.Key] = e
			}
			terms[e.Key][e.Term] = e.Proc
			open[holding{e.Proc, e.Key}] = len(rep.Intervals)
			rep.Intervals = append(rep.Intervals, Interval{Proc: e.Proc, Key: e.Key, Term: e.Term, Start: e.T, End: -1})
		case KindKilled:
			k := kill{proc: e.Proc, t: e.T}
			for h, i := range open {
				if h.proc != e.Proc {
					continue
				}
				delete(open, h)
				rep.Intervals[i].End = e.T
				rep.Intervals[i].Ended = e.Kind
				if h.key != "" {
					k.keys = append(k.keys, h.key)
				}
			}
			sort.Strings(k.keys)
			kills = append(kills, k)
		case KindLost:
			i, ok := open[holding{e.Proc, e.Key}]
			if !ok {
				continue
			}
			delete(open, holding{e.Proc, e.Key})
			rep.Intervals[i].End = e.T
			rep.Intervals[i].Ended = e.Kind
			if e.Deadline != 0 && e.T > e.Deadline+int64(opts.DeadlineSlack) {
				p, paused := pausedBefore(e.Proc, e.Deadline)
				excused := paused && p.to != 0 && p.to >= e.Deadline &&
					e.T <= p.to+int64(opts.PromptAfterResume)
				if !excused {
					rep.Violations = append(rep.Violations, Violation{Kind: "late-loss",
						Detail: fmt.Sprintf("%s%s term %d saw its loss %v after its validity deadline (%s)",
							keyed(e.Key), e.Proc, e.Term, time.Duration(e.T-e.Deadline), e.Cause)})
				}
			}
		}
	}
	for h, i := range open {
		rep.Intervals[i].End = last[h.proc]
		rep.Intervals[i].Ended = "end of history"
	}

	// Overlaps.
	ivs := rep.Intervals
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].Start < ivs[j].Start })
	for i := range ivs {
		for j := i + 1; j < len(ivs); j++ {
			a, b := ivs[i], ivs[j]
			if b.Start >= a.End {
				continue
			}
			if a.Key != b.Key || (a.Term == b.Term && a.Proc == b.Proc) {
				continue
			}
			// a started first and was still live when b started.
			if p, ok := pausedBefore(a.Proc, b.Start); ok && p.from >= a.Start && p.to != 0 &&
				a.End <= p.to+int64(opts.PromptAfterResume) {
				continue // the paused-process limit; fencing answers it
			}
			if storageLost(restarts, a, b, opts.StorageLossGrace) {
				rep.StorageLossOverlaps++
				continue // storage forgot the lease; fencing answers it
			}
			rep.Violations = append(rep.Violations, Violation{Kind: "overlap",
				Detail: fmt.Sprintf("%s%s term %d live until %v after %s term %d became live (ended: %s)",
					keyed(a.Key), a.Proc, a.Term, time.Duration(a.End-b.Start), b.Proc, b.Term, a.Ended)})
		}
	}

	if opts.Capacity > 0 {
		rep.Violations = append(rep.Violations, overCapacity(ivs, opts.Capacity, func(iv Interval) int64 {
			if p, ok := pausedBefore(iv.Proc, iv.End); ok && p.from >= iv.Start && p.to != 0 &&
				iv.End <= p.to+int64(opts.PromptAfterResume) {
				return p.from // the paused-process limit: it acts no more from the pause on
			}
			return iv.End
		})...)
	}
	if opts.Reown > 0 {
		for _, k := range kills {
			for _, key := range k.keys {
				var next *Interval
				for i := range ivs {
					if ivs[i].Key == key && ivs[i].Proc != k.proc && ivs[i].Start > k.t {
						next = &ivs[i]
						break
					}
				}
				switch {
				case next == nil:
					rep.Violations = append(rep.Violations, Violation{Kind: "unowned",
						Detail: fmt.Sprintf("%s, held by %s when it was killed, never held again (want within %v)",
							key, k.proc, opts.Reown)})
				case next.Start-k.t > int64(opts.Reown):
					rep.Violations = append(rep.Violations, Violation{Kind: "unowned",
						Detail: fmt.Sprintf("%s, held by %s when it was killed, held again by %s only %v later (want within %v)",
							key, k.proc, next.Proc, time.Duration(next.Start-k.t), opts.Reown)})
				}
			}
		}
	}

	// Terms seen by each follower, in the order it saw them.
	seen := map[string]int64{}
	for _, e := range evs {
		if e.Kind != KindObserved || e.Term == 0 {
			continue // 0: no leader
		}
		if e.Term < seen[e.Proc] {
			rep.Violations = append(rep.Violations, Violation{Kind: "observed-term-order",
				Detail: fmt.Sprintf("%s saw term %d (leader %s) after term %d", e.Proc, e.Term, e.Leader, seen[e.Proc])})
			continue
		}
		seen[e.Proc] = e.Term
	}

	// The fence's decisions, in the order it made them.
	var fenced []Event
	for _, e := range evs {
		if e.Kind == KindFenced {
			fenced = append(fenced, e)
		}
	}
	sort.SliceStable(fenced, func(i, j int) bool { return fenced[i].Seq < fenced[j].Seq })
	highest := map[string]int64{}
	for _, e := range fenced {
		if !e.Accepted {
			continue
		}
		if e.Term < highest[e.Key] {
			rep.Violations = append(rep.Violations, Violation{Kind: "fence-order",
				Detail: fmt.Sprintf("fence accepted %sterm %d from %s after term %d", keyed(e.Key), e.Term, e.Proc, highest[e.Key])})
			continue
		}
		highest[e.Key] = e.Term
	}

	// Writes after a resume.
	for _, e := range evs {
		if e.Kind != KindWrite {
			continue
		}
		if p, ok := pausedBefore(e.Proc, e.T); ok && p.to != 0 && e.T >= p.to {
			if iv := intervalOf(ivs, e.Proc, e.Key, e.Term); iv != nil && iv.Start < p.from {
				rep.LateWrites++
				if e.Accepted {
					rep.LateAccepted++
				}
			}
		}
	}
	return rep
}

// storageLost reports whether b became live after a storage restart that
// came while a was live, and a ended within grace of that restart.
func storageLost(restarts []int64, a, b Interval, grace time.Duration) bool {
	for _, r := range restarts {
		if r >= a.Start && r <= b.Start && a.End <= r+int64(grace) {
			return true
		}
	}
	return false
}

func intervalOf(ivs []Interval, proc, key string, term int64) *Interval {
	for i := range ivs {
		if ivs[i].Proc == proc && ivs[i].Key == key && ivs[i].Term == term {
			return &ivs[i]
		}
	}
	return nil
}

// keyed returns "key: " for a resource's key, "" for the single lock.
func keyed(key string) string {
	if key == "" {
		return ""
	}
	return key + ": "
}

// overCapacity sweeps the intervals of keyed resources (ending at end(iv))
// and reports each stretch of time in which more than capacity of them were
// live at once, with the most live at one moment.
func overCapacity(ivs []Interval, capacity int, end func(Interval) int64) []Violation {
	type edge struct {
		t     int64
		delta int
		iv    Interval
	}
	var edges []edge
	for _, iv := range ivs {
		if iv.Key == "" {
			continue
		}
		if e := end(iv); e > iv.Start {
			edges = append(edges, edge{iv.Start, +1, iv}, edge{e, -1, iv})
		}
	}
	// Ends before starts at the same instant: a hand-over is not an overlap.
	sort.SliceStable(edges, func(i, j int) bool {
		if edges[i].t != edges[j].t {
			return edges[i].t < edges[j].t
		}
		return edges[i].delta < edges[j].delta
	})
	var vs []Violation
	live := map[Interval]bool{}
	most, from := 0, int64(0)
	var who []string
	for _, e := range edges {
		if e.delta > 0 {
			live[e.iv] = true
		} else {
			delete(live, e.iv)
		}
		n := len(live)
		switch {
		case n > capacity && n > most:
			if most == 0 {
				from = e.t
			}
			most = n
			who = who[:0]
			for iv := range live {
				who = append(who, fmt.Sprintf("%s %s term %d", iv.Proc, iv.Key, iv.Term))
			}
			sort.Strings(who)
		case n <= capacity && most > 0:
			vs = append(vs, Violation{Kind: "over-capacity",
				Detail: fmt.Sprintf("%d holders live at once for %v (capacity %d): %v",
					most, time.Duration(e.t-from), capacity, who)})
			most = 0
		}
	}
	return vs
}
