package main

import (
	"context"
	"testing"
	"time"
)

func TestLeaderless(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC)
	const open = -1000 // a span's end: still leading
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	sp := func(who string, a, b float64) span {
		s := span{who: who, start: at(a)}
		if b != open {
			s.end = at(b)
		}
		return s
	}
	for _, tc := range []struct {
		name           string
		spans          []span
		from, to       float64
		total, longest float64
	}{
		{"no spans", nil, 0, 10, 10, 10},
		{"ended before the window", []span{sp("a", -5, -1)}, 0, 10, 10, 10},
		{"empty window", []span{sp("a", -5, open)}, 0, 0, 0, 0},
		{"leader throughout", []span{sp("a", -5, 20)}, 0, 10, 0, 0},
		{"open span", []span{sp("a", -5, 3), sp("b", 4.5, open)}, 0, 10, 1.5, 1.5},
		{"two gaps", []span{sp("a", -5, 2), sp("b", 3, 6), sp("c", 8.5, 12)}, 0, 10, 3.5, 2.5},
		{"overlap counts once", []span{sp("a", -5, 4), sp("b", 3, 5), sp("c", 4.5, 6)}, 0, 10, 4, 4},
		{"nested span", []span{sp("a", -5, 9), sp("b", 1, 2)}, 0, 10, 1, 1},
		{"unsorted", []span{sp("c", 8, open), sp("a", -5, 2), sp("b", 3, 6)}, 0, 10, 3, 2},
		{"gap at the start", []span{sp("a", 1, open)}, 0, 10, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total, longest := leaderless(tc.spans, at(tc.from), at(tc.to))
			if secs(total) != tc.total || secs(longest) != tc.longest {
				t.Errorf("leaderless = %v, longest %v; want %vs, %vs", total, longest, tc.total, tc.longest)
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	tl := newTimeline()
	t0 := time.Now()
	tl.elected("a", t0)
	if w, ok := tl.leader(); !ok || w != "a" {
		t.Fatalf("leader = %q, %v; want a", w, ok)
	}
	tl.ended("b", t0.Add(time.Second)) // b never led: nothing changes
	tl.ended("a", t0.Add(-time.Second))
	if ss := tl.snapshot(); len(ss) != 1 || !ss[0].end.Equal(t0) {
		t.Fatalf("spans %+v: want a's closed at its start (an end before the start is the start)", ss)
	}
	if _, ok := tl.leader(); ok {
		t.Fatal("a leader after a's span ended")
	}
	ctx := context.Background()
	if _, err := tl.electedAfter(ctx, t0.Add(time.Millisecond), 50*time.Millisecond); err == nil {
		t.Fatal("electedAfter found a span that started before from")
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		tl.elected("b", t0.Add(3*time.Second))
		tl.elected("c", t0.Add(2*time.Second))
	}()
	sp, err := tl.electedAfter(ctx, t0.Add(time.Millisecond), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if sp.who != "b" && sp.who != "c" {
		t.Fatalf("electedAfter = %+v", sp)
	}
	if err := tl.waitFor(ctx, 5*time.Second, func(ss []span) bool { return len(ss) == 3 }); err != nil {
		t.Fatal(err)
	}
	if sp, _ := tl.electedAfter(ctx, t0.Add(time.Millisecond), time.Second); sp.who != "c" {
		t.Fatalf("electedAfter = %q: want the first to start after from, c", sp.who)
	}
	// Someone leads at t0+2.5 s (c, open): leadingFrom is that moment; at
	// t0+0.5 s no one did, so it is c's start.
	if got, err := tl.leadingFrom(ctx, t0.Add(2500*time.Millisecond), time.Second); err != nil || !got.Equal(t0.Add(2500*time.Millisecond)) {
		t.Fatalf("leadingFrom(2.5 s) = %v, %v", got.Sub(t0), err)
	}
	if got, err := tl.leadingFrom(ctx, t0.Add(500*time.Millisecond), time.Second); err != nil || !got.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("leadingFrom(0.5 s) = %v, %v", got.Sub(t0), err)
	}
}

func TestCountDist(t *testing.T) {
	d := newCountDist([]int64{5, 1, 3, 2, 4, 10, 6, 7, 8, 9})
	if d != (countDist{P50: 5, P95: 10, Max: 10}) {
		t.Fatalf("newCountDist = %+v", d)
	}
	if (newCountDist(nil) != countDist{}) {
		t.Fatal("empty: not zero")
	}
}

func TestRollOptionsCheck(t *testing.T) {
	good := rollOptions{Rollouts: 10, Lanes: 5, Candidates: 5, GapRuns: 10, GapCands: 4, Down: 5 * time.Second,
		Settle: 10 * time.Second, Pause: 5 * time.Second, Timeout: 3 * time.Minute}
	if err := good.check(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []func(*rollOptions){
		func(o *rollOptions) { o.Rollouts = 0 },
		func(o *rollOptions) { o.Lanes = 11 },
		func(o *rollOptions) { o.Candidates = 1 },
		func(o *rollOptions) { o.GapCands = 2 },
		func(o *rollOptions) { o.Down = -time.Second },
		func(o *rollOptions) { o.Timeout = time.Second },
		func(o *rollOptions) { o.Jitter = -time.Second },
	} {
		o := good
		bad(&o)
		if err := o.check(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
