package overlap_test

import (
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/overlap"
)

// TestFind checks that Find finds overlaps, by stop time and by validity
// deadline, and accepts holdings that follow each other; and that Live
// counts two holders at an instant inside an overlap.
func TestFind(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int, seq int64) overlap.Instant {
		return overlap.Instant{At: t0.Add(time.Duration(s) * time.Second), Seq: seq}
	}
	dl := func(s int) func() time.Time {
		return func() time.Time { return t0.Add(time.Duration(s) * time.Second) }
	}
	tests := []struct {
		name     string
		give     []overlap.Holding
		want     int             // overlaps found
		liveAt   overlap.Instant // an instant to count the live holdings at
		wantLive int
	}{
		{name: "one after the other", give: []overlap.Holding{
			{Who: "a", Start: at(0, 1), Stop: at(5, 2), Deadline: dl(20)},
			{Who: "b", Start: at(5, 3), Stop: at(9, 4), Deadline: dl(30)},
		}, want: 0, liveAt: at(5, 3), wantLive: 1},
		{name: "next began before the previous stopped", give: []overlap.Holding{
			{Who: "a", Start: at(0, 1), Stop: at(5, 3), Deadline: dl(20)},
			{Who: "b", Start: at(5, 2), Stop: at(9, 4), Deadline: dl(30)},
		}, want: 1, liveAt: at(5, 2), wantLive: 2},
		{name: "next began after the previous deadline, though it acted on", give: []overlap.Holding{
			{Who: "a", Start: at(0, 1), Stop: at(25, 4), Deadline: dl(12)},
			{Who: "b", Start: at(13, 2), Stop: at(30, 5), Deadline: dl(40)},
		}, want: 0, liveAt: at(20, 3), wantLive: 1},
		{name: "next began at the previous deadline", give: []overlap.Holding{
			{Who: "a", Start: at(0, 1), Deadline: dl(12)},
			{Who: "b", Start: at(12, 2), Stop: at(30, 5), Deadline: dl(40)},
		}, want: 0, liveAt: at(12, 2), wantLive: 1},
		{name: "next began before the deadline of one that never stopped", give: []overlap.Holding{
			{Who: "a", Start: at(0, 1), Deadline: dl(12)},
			{Who: "b", Start: at(11, 2), Stop: at(30, 5), Deadline: dl(40)},
		}, want: 1, liveAt: at(11, 3), wantLive: 2},
		{name: "three at once", give: []overlap.Holding{
			{Who: "a", Start: at(0, 1), Stop: at(10, 6), Deadline: dl(20)},
			{Who: "b", Start: at(1, 2), Stop: at(10, 5), Deadline: dl(20)},
			{Who: "c", Start: at(2, 3), Stop: at(10, 4), Deadline: dl(20)},
		}, want: 3, liveAt: at(3, 0), wantLive: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := overlap.Find(tt.give); len(got) != tt.want {
				t.Errorf("Find = %q, want %d overlaps", got, tt.want)
			}
			if got := overlap.Live(tt.give, tt.liveAt); got != tt.wantLive {
				t.Errorf("Live(%v) = %d, want %d", tt.liveAt, got, tt.wantLive)
			}
		})
	}
}
