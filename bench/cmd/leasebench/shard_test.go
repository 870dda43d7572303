package main

import (
	"strings"
	"testing"
	"time"
)

func ev(m, kind, p string, term, t int64) shardEvent {
	return shardEvent{Member: m, shardLine: shardLine{Ev: kind, P: p, Term: term, T: t}}
}

// TestCheckOwnershipClean: hand-overs with increasing terms, none
// overlapping, pass.
func TestCheckOwnershipClean(t *testing.T) {
	log := []shardEvent{
		ev("m1", "own", "p0", 1, 10), ev("m1", "drop", "p0", 1, 20),
		ev("m2", "own", "p0", 2, 20), ev("m2", "drop", "p0", 2, 30),
		ev("m1", "own", "p1", 1, 10),
		{Member: "m1", shardLine: shardLine{Ev: "kill", T: 40}, Dead: 41},
		ev("m3", "own", "p1", 2, 50),
	}
	ivs := intervals(log, 100)
	if len(ivs) != 4 {
		t.Fatalf("intervals: got %d, want 4: %+v", len(ivs), ivs)
	}
	if bad := checkOwnership(ivs); len(bad) != 0 {
		t.Fatalf("clean log reported: %v", bad)
	}
}

// TestCheckOwnershipOverlap plants two owners of one partition at once:
// the checker must report it.
func TestCheckOwnershipOverlap(t *testing.T) {
	log := []shardEvent{
		ev("m1", "own", "p0", 1, 10), ev("m1", "drop", "p0", 1, 30),
		ev("m2", "own", "p0", 2, 25), ev("m2", "drop", "p0", 2, 40),
	}
	bad := checkOwnership(intervals(log, 100))
	if len(bad) != 1 || !strings.Contains(bad[0], "m2 (term 2) owned it from") {
		t.Fatalf("overlap: got %v, want one violation naming m2", bad)
	}
}

// TestCheckOwnershipKilledOwner: a killed member's open ownership lasts
// until its process was reaped, so a taker before that is reported.
func TestCheckOwnershipKilledOwner(t *testing.T) {
	log := []shardEvent{
		ev("m1", "own", "p0", 1, 10),
		{Member: "m1", shardLine: shardLine{Ev: "kill", T: 40}, Dead: 45},
		ev("m2", "own", "p0", 2, 44),
	}
	if bad := checkOwnership(intervals(log, 100)); len(bad) != 1 {
		t.Fatalf("killed owner: got %v, want one violation", bad)
	}
	// An owner that never returned and was not killed is open to the end.
	log = []shardEvent{ev("m1", "own", "p0", 1, 10), ev("m2", "own", "p0", 2, 50)}
	if bad := checkOwnership(intervals(log, 100)); len(bad) != 1 {
		t.Fatalf("open owner: got %v, want one violation", bad)
	}
}

// TestCheckOwnershipTerm plants a later owner whose term does not
// increase (and a nested interval hidden behind a long one).
func TestCheckOwnershipTerm(t *testing.T) {
	log := []shardEvent{
		ev("m1", "own", "p0", 3, 10), ev("m1", "drop", "p0", 3, 20),
		ev("m2", "own", "p0", 3, 20), ev("m2", "drop", "p0", 3, 30),
	}
	bad := checkOwnership(intervals(log, 100))
	if len(bad) != 1 || !strings.Contains(bad[0], "not above") {
		t.Fatalf("term: got %v, want one term violation", bad)
	}
	log = []shardEvent{
		ev("m1", "own", "p0", 1, 10), ev("m1", "drop", "p0", 1, 100),
		ev("m2", "own", "p0", 2, 20), ev("m2", "drop", "p0", 2, 30),
		ev("m3", "own", "p0", 3, 40), ev("m3", "drop", "p0", 3, 50),
	}
	if bad := checkOwnership(intervals(log, 200)); len(bad) != 2 {
		t.Fatalf("nested: got %v, want two overlaps (m2 and m3 inside m1)", bad)
	}
}

// TestAnalyzeEvent replays a join of a third member to 2 members of 4
// partitions: one partition handed over, balanced when it is taken.
func TestAnalyzeEvent(t *testing.T) {
	log := []shardEvent{
		ev("a", "start", "", 0, 0), ev("b", "start", "", 0, 0),
		ev("a", "own", "p0", 1, 1), ev("a", "own", "p1", 1, 1),
		ev("b", "own", "p2", 1, 1), ev("b", "own", "p3", 1, 1),
		ev("c", "start", "", 0, 100), // the join
		ev("a", "drop", "p1", 1, 150),
		ev("c", "own", "p1", 2, 400),
	}
	d, first, moved, minimum, ok := analyzeEvent(log, 6, 1000, 4)
	if !ok || d != 300 || first != 300 || moved != 1 || minimum != 1 {
		t.Fatalf("join: got %v (first %v), %d moved, minimum %d, ok %v; want 300ns, 300ns, 1, 1, true", d, first, moved, minimum, ok)
	}
	// Not balanced at the end (c owns nothing): not ok.
	if _, _, _, _, ok := analyzeEvent(log[:8], 6, 1000, 4); ok {
		t.Fatal("unbalanced group reported balanced")
	}
	// A kill: the dead member's partitions count as moved to the minimum,
	// and a line it stamped after the kill does not make it an owner.
	log = []shardEvent{
		ev("a", "start", "", 0, 0), ev("b", "start", "", 0, 0),
		ev("a", "own", "p0", 1, 1), ev("b", "own", "p1", 1, 1),
		{Member: "b", shardLine: shardLine{Ev: "kill", T: 10}, Dead: 11},
		ev("b", "own", "p2", 1, 11),
		ev("a", "own", "p1", 2, int64(15*time.Second)),
	}
	d, first, moved, minimum, ok = analyzeEvent(log, 4, int64(20*time.Second), 2)
	if !ok || d != 15*time.Second-10 || first != d || moved != 1 || minimum != 1 {
		t.Fatalf("kill: got %v (first %v), %d moved, minimum %d, ok %v", d, first, moved, minimum, ok)
	}
}
