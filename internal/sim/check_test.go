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

// TestCheck feeds the checker hand-made histories, good and bad.
func TestCheck(t *testing.T) {
	b := sim.Bounds{Drift: 0.01, Quiet: s(100), End: s(160), Gap: s(17),
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
