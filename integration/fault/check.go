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
}

// A Violation is one way a history breaks the guarantees.
type Violation struct {
	Kind   string // overlap, fence-order, late-loss, duplicate-term, term-order, observed-term-order
	Detail string
}

func (v Violation) String() string { return v.Kind + ": " + v.Detail }

// An Interval is one holder's live term: from the moment its context was
// live to the moment it saw the context done (or was killed).
type Interval struct {
	Proc       string
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

// Check reads a history and reports:
//   - overlap: two live intervals of different terms overlap on the shared
//     clock, except where the older holder was paused (SIGSTOP) and saw its
//     context done within PromptAfterResume of SIGCONT;
//   - fence-order: the fence accepted a write whose term is lower than one it
//     had accepted before;
//   - late-loss: a holder saw its context done more than DeadlineSlack after
//     its own validity deadline (unless paused across it and prompt after);
//   - duplicate-term: two holders were elected with the same term;
//   - term-order: a holder was elected with a term lower than one elected
//     before it (terms went backwards: a late write of an earlier holding
//     rewrote the term in storage);
//   - observed-term-order: a follower saw the leader's term go down.
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
	open := map[string]int{} // proc -> index in rep.Intervals of its open interval
	terms := map[int64]string{}
	var top Event // the election with the highest term so far
	for _, e := range evs {
		switch e.Kind {
		case KindElected:
			if other, ok := terms[e.Term]; ok && other != e.Proc {
				rep.Violations = append(rep.Violations, Violation{Kind: "duplicate-term",
					Detail: fmt.Sprintf("term %d elected by %s and by %s", e.Term, other, e.Proc)})
			}
			if e.Term < top.Term {
				rep.Violations = append(rep.Violations, Violation{Kind: "term-order",
					Detail: fmt.Sprintf("%s elected with term %d, %v after %s was elected with term %d",
						e.Proc, e.Term, time.Duration(e.T-top.T), top.Proc, top.Term)})
			} else {
				top = e
			}
			terms[e.Term] = e.Proc
			open[e.Proc] = len(rep.Intervals)
			rep.Intervals = append(rep.Intervals, Interval{Proc: e.Proc, Term: e.Term, Start: e.T, End: -1})
		case KindLost, KindKilled:
			i, ok := open[e.Proc]
			if !ok {
				continue
			}
			delete(open, e.Proc)
			rep.Intervals[i].End = e.T
			rep.Intervals[i].Ended = e.Kind
			if e.Kind == KindLost && e.Deadline != 0 && e.T > e.Deadline+int64(opts.DeadlineSlack) {
				p, paused := pausedBefore(e.Proc, e.Deadline)
				excused := paused && p.to != 0 && p.to >= e.Deadline &&
					e.T <= p.to+int64(opts.PromptAfterResume)
				if !excused {
					rep.Violations = append(rep.Violations, Violation{Kind: "late-loss",
						Detail: fmt.Sprintf("%s term %d saw its loss %v after its validity deadline (%s)",
							e.Proc, e.Term, time.Duration(e.T-e.Deadline), e.Cause)})
				}
			}
		}
	}
	for proc, i := range open {
		rep.Intervals[i].End = last[proc]
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
			if a.Term == b.Term && a.Proc == b.Proc {
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
				Detail: fmt.Sprintf("%s term %d live until %v after %s term %d became live (ended: %s)",
					a.Proc, a.Term, time.Duration(a.End-b.Start), b.Proc, b.Term, a.Ended)})
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
	var highest int64
	for _, e := range fenced {
		if !e.Accepted {
			continue
		}
		if e.Term < highest {
			rep.Violations = append(rep.Violations, Violation{Kind: "fence-order",
				Detail: fmt.Sprintf("fence accepted term %d from %s after term %d", e.Term, e.Proc, highest)})
			continue
		}
		highest = e.Term
	}

	// Writes after a resume.
	for _, e := range evs {
		if e.Kind != KindWrite {
			continue
		}
		if p, ok := pausedBefore(e.Proc, e.T); ok && p.to != 0 && e.T >= p.to {
			if iv := intervalOf(ivs, e.Proc, e.Term); iv != nil && iv.Start < p.from {
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

func intervalOf(ivs []Interval, proc string, term int64) *Interval {
	for i := range ivs {
		if ivs[i].Proc == proc && ivs[i].Term == term {
			return &ivs[i]
		}
	}
	return nil
}
