package sim_test

import (
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
