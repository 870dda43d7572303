package examples_test

import (
	"sort"
	"testing"
	"time"
)

// TestSemaphore runs two processes of 3 workers each on one semaphore of 2
// slots: 8 jobs of 300 ms each per process. From the processes' own
// acquired/released lines, never more than 2 jobs run at once (a holder
// logs "acquired" only once it holds, and "released" once it has let go,
// so the log's intervals contain the real ones), each slot's terms rise,
// and every job ran.
func TestSemaphore(t *testing.T) {
	t.Parallel()
	connString(t)
	bin := build(t, "semaphore")
	c := uniqueName(t, "sem")
	deleteContainers(t, c)
	args := []string{"--container", c, "--name", "render-jobs", "--slots", "2", "--workers", "3", "--jobs", "8", "--work", "300ms", "--poll", "200ms"}
	p1 := start(t, "p1", bin, append(args, "--id", "p1")...)
	p2 := start(t, "p2", bin, append(args, "--id", "p2")...)
	for _, p := range []*proc{p1, p2} {
		if err := p.wait(2 * time.Minute); err != nil {
			t.Fatalf("a process: %v", err)
		}
	}
	type edge struct {
		at   time.Time
		up   bool
		slot float64
		term float64
	}
	var edges []edge
	for _, p := range []*proc{p1, p2} {
		for _, kind := range []string{"acquired", "released"} {
			for _, l := range p.logs(kind) {
				ts, _ := l["ts"].(float64)
				slot, _ := l["slot"].(float64)
				term, _ := l["term"].(float64)
				edges = append(edges, edge{at: time.Unix(0, int64(ts*1e9)), up: kind == "acquired", slot: slot, term: term})
			}
		}
	}
	sort.SliceStable(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return !edges[i].up && edges[j].up // a release and an acquire at one instant: release first
	})
	ups, live, most := 0, 0, 0
	lastTerm := map[float64]float64{}
	for _, e := range edges {
		if e.up {
			ups++
			live++
			if e.term <= lastTerm[e.slot] {
				t.Errorf("slot %v: term %v after term %v", e.slot, e.term, lastTerm[e.slot])
			}
			lastTerm[e.slot] = e.term
		} else {
			live--
		}
		most = max(most, live)
	}
	if ups != 16 {
		t.Errorf("%d jobs acquired a slot, want 16", ups)
	}
	if most > 2 {
		t.Errorf("%d jobs ran at once, want at most 2", most)
	}
	t.Logf("16 jobs on 2 slots from 2 processes; at most %d at once; terms per slot %v", most, lastTerm)
}
