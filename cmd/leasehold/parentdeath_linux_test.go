//go:build linux

package main_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether process pid exists and is not a zombie (a killed
// orphan that nobody has reaped yet is gone for our purposes).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	return stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// readInt waits, bounded, for path to hold a number followed by a newline.
func readInt(t *testing.T, path string, within time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b, err := os.ReadFile(path)
		if s := string(b); err == nil && strings.HasSuffix(s, "\n") {
			return atoi(t, strings.TrimSpace(s))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no number within %v (read %q, %v)", filepath.Base(path), within, b, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCommandDiesWithLeasehold kills leasehold with SIGKILL while its
// command works, and wants the command gone (and its heartbeat stopped)
// within a bounded time, so that it cannot overlap the next holder's. It
// also wants LEASEHOLD_TERM to be the term storage shows for the holding.
func TestCommandDiesWithLeasehold(t *testing.T) {
	t.Parallel()
	// The command writes its pid and term, then a heartbeat every 50 ms.
	const script = `echo "$LEASEHOLD_TERM" > "$1/term.tmp"; mv "$1/term.tmp" "$1/term"
echo $$ > "$1/pid.tmp"; mv "$1/pid.tmp" "$1/pid"
while :; do date +%s%N > "$1/beat"; sleep 0.05; done`
	tests := []struct {
		name string
		give []string // leasehold's arguments before --
	}{
		{name: "lock", give: []string{"lock", "--id", "doomed-lock"}},
		{name: "elect", give: []string{"elect", "--id", "doomed-leader"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := uniqueName(t, "pdeath")
			dir := t.TempDir()
			args := append(append([]string{}, tt.give...), name, "--", "sh", "-c", script, "sh", dir)
			lh := start(t, args...)
			pid := int(readInt(t, filepath.Join(dir, "pid"), 30*time.Second))
			// Runs before start's cleanup (which waits for stdout to close):
			// never leave an orphan behind, even when the test fails.
			t.Cleanup(func() {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			})

			if term, st := readInt(t, filepath.Join(dir, "term"), 5*time.Second), statusOf(t, name); term < 1 || term != st.Term || !st.Held {
				t.Errorf("LEASEHOLD_TERM = %d, status = %+v: want the held lease's term", term, st)
			}
			if !alive(pid) {
				t.Fatalf("the command (pid %d) is not running while leasehold holds; stderr:\n%s", pid, lh.stderr.String())
			}

			if err := lh.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			for alive(pid) {
				if time.Since(killed) > 5*time.Second {
					t.Fatalf("the command (pid %d) still runs 5 s after leasehold was killed with SIGKILL", pid)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("the command was gone %v after SIGKILL to leasehold", time.Since(killed).Round(time.Millisecond))

			// Its heartbeat has stopped: whatever it wrote last stays.
			time.Sleep(200 * time.Millisecond) // a stray sleep 0.05 of the loop ends
			before, _ := os.ReadFile(filepath.Join(dir, "beat"))
			time.Sleep(300 * time.Millisecond)
			after, _ := os.ReadFile(filepath.Join(dir, "beat"))
			if !bytes.Equal(before, after) {
				t.Errorf("the heartbeat still advances after leasehold was killed: %q then %q", before, after)
			}
		})
	}
}
