package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/sim"
)

func s(d float64) time.Duration { return time.Duration(d * float64(time.Second)) }

// held returns a holding of proc from a to b seconds with fencing number term.
func held(proc string, term int64, a, b float64) sim.Holding {
	return sim.Holding{Proc: proc, Term: term, Start: s(a), End: s(b), Ended: true}
}

func timedOut(h sim.Holding) sim.Holding { h.TimedOut = true; return h }

// on makes h a holding of a group's lease, by a holder of kind k.
func on(lease string, k sim.Kind, h sim.Holding) sim.Holding { h.Lease, h.Kind = lease, k; return h }

// main is a main-lease history that breaks nothing, for the group cases.
var main = []sim.Holding{held("a", 1, 0, 160)}

func with(hs ...sim.Holding) sim.History { return append(sim.History(main), hs...) }

// TestCheck feeds the checker hand-made histories, good and bad.
func TestCheck(t *testing.T) {
	b := sim.Bounds{Drift: 0.01, Quiet: s(100), End: s(160), Gap: s(17), ShardGap: s(18),
		Released: map[sim.Holder][]time.Duration{{Proc: "r"}: {s(120.05)}}}
	tests := []struct {
		name string
		give sim.History
		want []string // violation kinds, in order
	}{
		{
			name: "back to back, terms rising, covered",
			give: sim.History{held("a", 1, 0, 50), held("b", 2, 50, 120), held("a", 3, 125, 160)},
		},
		{
			name: "local hand-overs: a term each",
			give: sim.History{held("a", 1, 90, 110), held("a", 2, 110, 130), held("a", 3, 130, 160)},
		},
		{
			name: "overlap",
			give: sim.History{held("a", 1, 90, 120), held("b", 2, 119, 160)},
			want: []string{"overlap"},
		},
		{
			name: "overlap with a holding that ended long ago's successor",
			give: sim.History{held("a", 1, 90, 150), held("b", 2, 100, 110), held("c", 3, 140, 160)},
			want: []string{"overlap", "overlap"},
		},
		{
			name: "deadline end moved by drift into the next start",
			give: sim.History{timedOut(held("a", 1, 90, 120)), held("b", 2, 120.1, 160)},
			want: []string{"overlap"},
		},
		{
			name: "deadline end moved by drift, next start after it",
			give: sim.History{timedOut(held("a", 1, 90, 120)), held("b", 2, 120.2, 160)},
		},
		{
			name: "deadline end, then the same process again: causally after",
			give: sim.History{timedOut(held("a", 1, 90, 120)), held("a", 2, 120.1, 160)},
		},
		{
			name: "deadline end, then the holder's own release, then another: causally after",
			give: sim.History{timedOut(held("r", 1, 90, 120)), held("b", 2, 120.1, 160)},
		},
		{
			name: "deadline end, another starts before the holder's release landed",
			give: sim.History{timedOut(held("r", 1, 90, 120)), held("b", 2, 120.04, 160)},
			want: []string{"overlap"},
		},
		{
			name: "term going back",
			give: sim.History{held("a", 3, 90, 120), held("b", 2, 121, 160)},
			want: []string{"fencing"},
		},
		{
			name: "term repeated",
			give: sim.History{held("a", 2, 90, 120), held("b", 2, 121, 160)},
			want: []string{"fencing"},
		},
		{
			name: "local hand-over keeping the term",
			give: sim.History{held("a", 2, 90, 120), held("a", 2, 121, 160)},
			want: []string{"fencing"},
		},
		{
			name: "no liveness: gap after quiet",
			give: sim.History{held("a", 1, 90, 110), held("b", 2, 128, 160)},
			want: []string{"liveness"},
		},
		{
			name: "no liveness: nobody holds at the end",
			give: sim.History{held("a", 1, 90, 140)},
			want: []string{"liveness"},
		},
		{
			name: "no liveness: nobody at all",
			give: nil,
			want: []string{"liveness"},
		},
		{
			name: "gaps before quiet do not count",
			give: sim.History{held("a", 1, 10, 20), held("b", 2, 90, 160)},
		},
		{
			name: "open holding runs to the end",
			give: sim.History{{Proc: "a", Term: 1, Start: s(95)}},
		},
		{
			name: "semaphore: two slots, K holders, terms per slot",
			give: with(on("sem-slot-0", sim.KindSemaphore, held("s0", 1, 10, 50)), on("sem-slot-1", sim.KindSemaphore, held("s1", 1, 20, 60)),
				on("sem-slot-0", sim.KindSemaphore, held("s2", 2, 50, 70))),
		},
		{
			name: "semaphore: two holders of one slot",
			give: with(on("sem-slot-0", sim.KindSemaphore, held("s0", 1, 10, 50)), on("sem-slot-0", sim.KindSemaphore, held("s1", 2, 40, 60))),
			want: []string{"overlap"},
		},
		{
			name: "semaphore: more than K at once, each slot fine",
			give: with(on("sem-slot-0", sim.KindSemaphore, held("s0", 1, 10, 50)), on("sem-slot-1", sim.KindSemaphore, held("s1", 1, 20, 60)),
				on("sem-slot-2", sim.KindSemaphore, held("s2", 1, 30, 70))),
			want: []string{"over-k"},
		},
		{
			name: "semaphore: idle slot after quiet is fine",
			give: with(on("sem-slot-0", sim.KindSemaphore, held("s0", 1, 10, 50))),
		},
		{
			name: "shard: partition owned to the end",
			give: with(on("grp-part-p0", sim.KindShard, held("h0", 1, 10, 120)), on("grp-part-p0", sim.KindShard, held("h1", 2, 130, 160))),
		},
		{
			name: "shard: two owners of a partition",
			give: with(on("grp-part-p0", sim.KindShard, held("h0", 1, 10, 130)), on("grp-part-p0", sim.KindShard, held("h1", 2, 125, 160))),
			want: []string{"overlap"},
		},
		{
			name: "shard: partition term going back",
			give: with(on("grp-part-p0", sim.KindShard, held("h0", 2, 10, 120)), on("grp-part-p0", sim.KindShard, held("h1", 1, 130, 160))),
			want: []string{"fencing"},
		},
		{
			name: "shard: partition unowned too long after quiet",
			give: with(on("grp-part-p0", sim.KindShard, held("h0", 1, 10, 110)), on("grp-part-p0", sim.KindShard, held("h1", 2, 129, 160))),
			want: []string{"liveness"},
		},
		{
			name: "fencing judged in start order, not input order",
			give: sim.History{held("a", 1, 120, 160), held("b", 2, 95, 110)},
			want: []string{"fencing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			vs := sim.Check(tt.give, b)
			for _, v := range vs {
				got = append(got, v.Kind)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Check = %v, want kinds %v", vs, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("Check = %v, want kinds %v", vs, tt.want)
				}
			}
		})
	}
}

// TestCheckFree feeds the checks of liveness in every state (free spans at
// storage, candidates' waits and faults) hand-made runs, good and bad.
func TestCheckFree(t *testing.T) {
	span := func(a, b float64) sim.Span { return sim.Span{From: s(a), To: s(b)} }
	cand := func(proc string, k sim.Kind, waits ...sim.Span) sim.Cand {
		return sim.Cand{Holder: sim.Holder{Proc: proc}, Kind: k, Died: s(1000), Waits: waits}
	}
	faulty := func(c sim.Cand, f ...sim.Span) sim.Cand { c.Faulty = f; return c }
	free := func(a, b float64, taker string) sim.FreeSpan {
		return sim.FreeSpan{From: s(a), To: s(b), Taker: sim.Holder{Proc: taker}, Sent: s(b - 0.01)}
	}
	released := func(f sim.FreeSpan) sim.FreeSpan { f.Released = true; return f }
	unknown := func(f sim.FreeSpan) sim.FreeSpan { f.Unknown = true; return f }
	elected := func(proc string, term int64, a, b float64) sim.Holding {
		h := held(proc, term, a, b)
		h.Kind = sim.KindElection
		return h
	}
	// A history that covers [0, 160) but for [30, 32) (or the span a case
	// frees), so that only the checks under test can fail.
	around := func(to float64, hs ...sim.Holding) sim.History {
		x := held("x", 1, 0, 30)
		if len(hs) > 0 {
			x.End = hs[0].Start
		}
		return append(sim.History{x}, append(hs, held("y", 9, to, 160))...)
	}
	tests := []struct {
		name    string
		standby sim.StandbyMode
		strict  bool
		storms  []sim.Span
		hs      sim.History
		free    []sim.FreeSpan
		slots   map[string][]sim.FreeSpan
		cands   []sim.Cand
		want    []string
	}{
		{
			name:  "a renewer waits 2 s, healthy, while the lease is free",
			hs:    around(32.1),
			free:  []sim.FreeSpan{free(30, 32, "y")},
			cands: []sim.Cand{cand("r", sim.KindRenewer, span(20, 40))},
			want:  []string{"free"},
		},
		{
			name:  "the lease taken within the poll bound",
			hs:    around(31.3),
			free:  []sim.FreeSpan{free(30, 31.2, "y")},
			cands: []sim.Cand{cand("r", sim.KindRenewer, span(20, 40))},
		},
		{
			name:  "the waiter's network faulty through the span",
			hs:    around(32.1),
			free:  []sim.FreeSpan{free(30, 32, "y")},
			cands: []sim.Cand{faulty(cand("r", sim.KindRenewer, span(20, 40)), span(29, 31), span(31.5, 33))},
		},
		{
			name:  "the waiter healthy again, then waiting too long",
			hs:    around(34.1),
			free:  []sim.FreeSpan{free(30, 34, "y")},
			cands: []sim.Cand{faulty(cand("r", sim.KindRenewer, span(20, 40)), span(29, 31))},
			want:  []string{"free"},
		},
		{
			name:   "a storm over the span",
			storms: []sim.Span{span(29, 33)},
			hs:     around(32.1),
			free:   []sim.FreeSpan{free(30, 32, "y")},
			cands:  []sim.Cand{cand("r", sim.KindRenewer, span(20, 40))},
		},
		{
			name:  "no one waits",
			hs:    around(32.1),
			free:  []sim.FreeSpan{free(30, 32, "y")},
			cands: []sim.Cand{cand("r", sim.KindRenewer, span(20, 29), span(33, 40))},
		},
		{
			name:  "its own acquire took the lease, answer lost, and it waits on",
			hs:    around(40),
			free:  []sim.FreeSpan{unknown(free(30, 30.1, "r"))},
			cands: []sim.Cand{faulty(cand("r", sim.KindRenewer, span(20, 40)), span(30.05, 30.2))},
			want:  []string{"ghost"},
		},
		{
			name:  "its own acquire took the lease, answer lost, and it asks again",
			hs:    around(31.5, held("r", 2, 31, 31.5)),
			free:  []sim.FreeSpan{unknown(free(30, 30.1, "r"))},
			cands: []sim.Cand{faulty(cand("r", sim.KindRenewer, span(20, 31)), span(30.05, 30.2))},
		},
		{
			name: "its own acquire took the lease, answer lost, but it had given that ID up for another",
			hs:   around(40),
			free: []sim.FreeSpan{func() sim.FreeSpan { f := unknown(free(30, 30.1, "r")); f.Sent, f.ID = s(29.9), 1; return f }()},
			cands: []sim.Cand{func() sim.Cand {
				c := faulty(cand("r", sim.KindRenewer, span(20, 40)), span(29.9, 30.2))
				c.Acquires = []sim.AcquireSend{{At: s(29.9), ID: 1}, {At: s(30), ID: 2}}
				return c
			}()},
			want: []string{"retired"},
		},
		{
			name:  "a copy it could not know of took the lease",
			hs:    around(40),
			free:  []sim.FreeSpan{free(30, 30.1, "r")},
			cands: []sim.Cand{cand("r", sim.KindRenewer, span(20, 40))},
		},
		{
			name:    "steady seats: two standbys healthy for long, a release answered in 1.5 s",
			standby: sim.StandbyNext,
			hs:      around(31.6),
			free:    []sim.FreeSpan{released(free(30, 31.5, "y"))},
			cands:   []sim.Cand{cand("a", sim.KindElection, span(0, 40)), cand("b", sim.KindElection, span(0, 40))},
			want:    []string{"free"},
		},
		{
			name:    "a take-over 3 s before: one seat short, 1.5 s is in time",
			standby: sim.StandbyNext,
			hs:      around(31.6, elected("c", 2, 27, 30)),
			free:    []sim.FreeSpan{released(free(30, 31.5, "y"))},
			cands:   []sim.Cand{cand("a", sim.KindElection, span(0, 40)), cand("b", sim.KindElection, span(0, 40))},
		},
		{
			name:    "one seat short, 2.5 s is late",
			standby: sim.StandbyNext,
			hs:      around(32.6, elected("c", 2, 27, 30)),
			free:    []sim.FreeSpan{released(free(30, 32.5, "y"))},
			cands:   []sim.Cand{cand("a", sim.KindElection, span(0, 40)), cand("b", sim.KindElection, span(0, 40))},
			want:    []string{"free"},
		},
		{
			name:    "two take-overs: both seats may be empty, a backbencher's read in 5 s is in time",
			standby: sim.StandbyNext,
			hs:      around(35.1, elected("c", 2, 25, 27), elected("d", 3, 27.5, 30)),
			free:    []sim.FreeSpan{released(free(30, 35, "y"))},
			cands:   []sim.Cand{cand("a", sim.KindElection, span(0, 40)), cand("b", sim.KindElection, span(0, 40))},
		},
		{
			name:    "the same in a scenario: every graceful release within 2 P + slack",
			standby: sim.StandbyNext,
			strict:  true,
			hs:      around(35.1, elected("c", 2, 25, 27), elected("d", 3, 27.5, 30)),
			free:    []sim.FreeSpan{released(free(30, 35, "y"))},
			cands:   []sim.Cand{cand("a", sim.KindElection, span(0, 40)), cand("b", sim.KindElection, span(0, 40))},
			want:    []string{"handover"},
		},
		{
			name:    "a seat holder crashed lately: one seat short",
			standby: sim.StandbyNext,
			hs:      around(32.6),
			free:    []sim.FreeSpan{free(30, 32.5, "y")},
			cands: []sim.Cand{cand("a", sim.KindElection, span(0, 40)), cand("b", sim.KindElection, span(0, 40)),
				{Holder: sim.Holder{Proc: "c"}, Kind: sim.KindElection, Died: s(20), Crashed: true, Waits: []sim.Span{span(0, 20)}}},
			want: []string{"free"},
		},
		{
			name:  "a semaphore slot free 4 s while a semaphore waiter waits, healthy",
			hs:    around(30),
			slots: map[string][]sim.FreeSpan{"sem-slot-1": {free(30, 34, "s1")}},
			cands: []sim.Cand{cand("s0", sim.KindSemaphore, span(20, 40))},
			want:  []string{"free"},
		},
		{
			name:  "a semaphore slot taken within 2.5 s (the waiter may stand aside 2 P from a slot it released)",
			hs:    around(30),
			slots: map[string][]sim.FreeSpan{"sem-slot-1": {free(30, 32.5, "s1")}},
			cands: []sim.Cand{cand("s0", sim.KindSemaphore, span(20, 40))},
		},
		{
			name:  "a semaphore slot free while no semaphore waiter waits; the renewer waiting is for the main lease",
			hs:    around(30),
			slots: map[string][]sim.FreeSpan{"sem-slot-1": {free(30, 34, "s1")}},
			cands: []sim.Cand{cand("s0", sim.KindSemaphore, span(20, 29)), cand("r", sim.KindRenewer, span(20, 40))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sim.Bounds{Quiet: s(100), End: s(160), Gap: s(17), ShardGap: s(18), Standby: tt.standby, Strict: tt.strict,
				Storms: tt.storms, Free: tt.free, SlotFree: tt.slots, Cands: tt.cands}
			var got []string
			vs := sim.Check(tt.hs, b)
			for _, v := range vs {
				got = append(got, v.Kind)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Check = %v, want kinds %v", vs, tt.want)
			}
		})
	}
}
