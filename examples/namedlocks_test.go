package examples_test

import (
	"syscall"
	"testing"
	"time"
)

// lastCalls returns p's last "calls" report: the calls by kind and the
// locks held.
func lastCalls(p *proc) (map[string]float64, float64) {
	logs := p.logs("calls")
	if len(logs) == 0 {
		return nil, 0
	}
	last := logs[len(logs)-1]
	out := map[string]float64{}
	if m, ok := last["calls"].(map[string]any); ok {
		for k, v := range m {
			if f, ok := v.(float64); ok {
				out[k] = f
			}
		}
	}
	held, _ := last["held"].(float64)
	return out, held
}

// TestNamedLocks starts w1, which takes and keeps all 20 named locks of
// one container, then w2, which waits on all 20 through one observer:
// while w1 holds them w2 lists the container once per poll and makes no
// other call after its first try per lock. When w1 stops, w2 takes all 20.
func TestNamedLocks(t *testing.T) {
	t.Parallel()
	connString(t)
	bin := build(t, "namedlocks")
	c := uniqueName(t, "named")
	deleteContainers(t, c)
	args := []string{"--container", c, "--locks", "20", "--poll", "500ms", "--report", "1s"}

	w1 := start(t, "w1", bin, append(args, "--id", "w1")...)
	eventually(t, 100, 200*time.Millisecond, "w1 to hold 20 locks", func() bool { return len(w1.logs("acquired")) == 20 })
	w2 := start(t, "w2", bin, append(args, "--id", "w2")...)
	eventually(t, 100, 200*time.Millisecond, "w2 to report calls 5 times", func() bool { return len(w2.logs("calls")) >= 5 })
	calls, held := lastCalls(w2)
	t.Logf("w2 waiting on 20 held locks: %v", calls)
	if held != 0 || calls["lease acquire"] != 20 || calls["properties"] != 0 || calls["list"] < 2 || calls["list"] > 14 {
		t.Errorf("w2 waiting on 20 held locks for about 5 s made %v (held %v): want 20 acquires (one per lock), no reads, one list per 500 ms poll", calls, held)
	}

	if err := w1.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("w1 after SIGTERM: %v, want exit status 0", err)
	}
	eventually(t, 100, 200*time.Millisecond, "w2 to take all 20 locks", func() bool { return len(w2.logs("acquired")) == 20 })
	for _, l := range w2.logs("acquired") {
		if term, _ := l["term"].(float64); term != 2 {
			t.Errorf("w2 acquired %v with term %v, want 2", l["lock"], l["term"])
		}
	}
	if err := w2.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("w2 after SIGTERM: %v, want exit status 0", err)
	}
}
