package examples_test

import (
	"syscall"
	"testing"
	"time"
)

// owned returns the shards p last logged as owned.
func owned(p *proc) []int {
	logs := p.logs("shards owned")
	if len(logs) == 0 {
		return nil
	}
	raw, _ := logs[len(logs)-1]["shards"].([]any)
	out := make([]int, 0, len(raw))
	for _, v := range raw {
		if f, ok := v.(float64); ok {
			out = append(out, int(f))
		}
	}
	return out
}

// TestShards starts worker w1 alone (it owns all 4 shards), then w2 (w1
// hands it two: 2 each), kills w1 with SIGKILL and checks that w2 takes
// over its shards once their leases expire, then stops w2 with SIGTERM and
// checks that it released them all.
func TestShards(t *testing.T) {
	t.Parallel()
	connString(t)
	bin := build(t, "shards")
	cont := uniqueName(t, "shards")
	deleteContainers(t, cont)
	args := []string{"--shards", "4", "--container", cont, "--poll", "500ms"}

	w1 := start(t, "w1", bin, append(args, "--id", "w1")...)
	eventually(t, 100, 100*time.Millisecond, "w1 to own all 4 shards", func() bool { return len(owned(w1)) == 4 })
	w2 := start(t, "w2", bin, append(args, "--id", "w2")...)
	eventually(t, 100, 100*time.Millisecond, "w1 and w2 to own 2 shards each", func() bool {
		seen := map[int]bool{}
		for _, s := range append(owned(w1), owned(w2)...) {
			seen[s] = true
		}
		return len(seen) == 4 && len(owned(w1)) == 2 && len(owned(w2)) == 2
	})
	t.Logf("w1 owns %v, w2 owns %v", owned(w1), owned(w2))

	if err := w1.stop(syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("w1 exited 0 after SIGKILL")
	}
	// The killed worker's leases expire 15 s after their last renewal.
	eventually(t, 200, 200*time.Millisecond, "w2 to take over all 4 shards", func() bool { return len(owned(w2)) == 4 })
	if err := w2.stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("w2 after SIGTERM: %v, want exit status 0", err)
	}
	if got := owned(w2); len(got) != 0 {
		t.Errorf("w2 still owns %v after SIGTERM, want it to release all", got)
	}
}
