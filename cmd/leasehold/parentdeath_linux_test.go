//go:build linux

package main_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
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

// doomedScript is a command that writes its term, starts a process of its
// own (in its process group), writes both pids, then a heartbeat every 50 ms,
// all in the directory $1.
const doomedScript = `echo "$LEASEHOLD_TERM" > "$1/term.tmp"; mv "$1/term.tmp" "$1/term"
sleep 60 & echo $! > "$1/gpid.tmp"; mv "$1/gpid.tmp" "$1/gpid"
echo $$ > "$1/pid.tmp"; mv "$1/pid.tmp" "$1/pid"
while :; do date +%s%N > "$1/beat"; sleep 0.05; done`

// doomed is leasehold running doomedScript.
type doomed struct {
	lh        *background
	dir       string
	pid, gpid int // the command's and its child's
}

// startDoomed runs leasehold with args (before --) and doomedScript, and
// waits, bounded, for the script to run.
func startDoomed(t *testing.T, args ...string) *doomed {
	t.Helper()
	d := &doomed{dir: t.TempDir()}
	d.lh = start(t, append(args, "--", "sh", "-c", doomedScript, "sh", d.dir)...)
	d.pid = int(readInt(t, filepath.Join(d.dir, "pid"), 30*time.Second))
	d.gpid = int(readInt(t, filepath.Join(d.dir, "gpid"), 5*time.Second))
	// Runs before start's cleanup (which waits for stdout to close): never
	// leave an orphan behind, even when the test fails.
	t.Cleanup(func() {
		_ = syscall.Kill(-d.pid, syscall.SIGKILL)
		_ = syscall.Kill(d.pid, syscall.SIGKILL)
		_ = syscall.Kill(d.gpid, syscall.SIGKILL)
	})
	if !alive(d.pid) || !alive(d.gpid) {
		t.Fatalf("the command (pid %d) or its child (pid %d) is not running while leasehold holds; stderr:\n%s", d.pid, d.gpid, d.lh.stderr.String())
	}
	return d
}

// waitGone waits, up to 5 s after since, for process pid to be gone.
func waitGone(t *testing.T, what string, pid int, since time.Time) {
	t.Helper()
	for alive(pid) {
		if time.Since(since) > 5*time.Second {
			t.Fatalf("%s (pid %d) still runs 5 s after the SIGKILL", what, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%s was gone %v after the SIGKILL", what, time.Since(since).Round(time.Millisecond))
}

// TestCommandDiesWithLeasehold kills leasehold with SIGKILL while its
// command works, and wants the command and the process it started gone (and
// its heartbeat stopped) within a bounded time, so that it cannot overlap the
// next holder's. It also wants LEASEHOLD_TERM to be the term storage shows
// for the holding.
func TestCommandDiesWithLeasehold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give []string // leasehold's arguments before NAME
	}{
		{name: "lock", give: []string{"lock", "--id", "doomed-lock"}},
		{name: "elect", give: []string{"elect", "--id", "doomed-leader"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := uniqueName(t, "pdeath")
			d := startDoomed(t, append(append([]string{}, tt.give...), name)...)
			if term, st := readInt(t, filepath.Join(d.dir, "term"), 5*time.Second), statusOf(t, name); term < 1 || term != st.Term || !st.Held {
				t.Errorf("LEASEHOLD_TERM = %d, status = %+v: want the held lease's term", term, st)
			}

			if err := d.lh.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed := time.Now()
			waitGone(t, "the command", d.pid, killed)
			waitGone(t, "the command's child", d.gpid, killed)

			// Its heartbeat has stopped: whatever it wrote last stays.
			time.Sleep(200 * time.Millisecond) // a stray sleep 0.05 of the loop ends
			before, _ := os.ReadFile(filepath.Join(d.dir, "beat"))
			time.Sleep(300 * time.Millisecond)
			after, _ := os.ReadFile(filepath.Join(d.dir, "beat"))
			if !bytes.Equal(before, after) {
				t.Errorf("the heartbeat still advances after leasehold was killed: %q then %q", before, after)
			}
		})
	}
}

// TestCommandDiesWithLeaseholdAndItsWatcher kills the watcher, then
// leasehold: the parent-death signal alone must still kill the command
// (not the process it started: only the watcher covers that).
func TestCommandDiesWithLeaseholdAndItsWatcher(t *testing.T) {
	t.Parallel()
	d := startDoomed(t, "lock", uniqueName(t, "pdeathw"))
	watchers := childrenOf(t, d.lh.cmd.Process.Pid, "__watch-group")
	if len(watchers) != 1 {
		t.Fatalf("leasehold (pid %d) has %d watcher processes, want 1", d.lh.cmd.Process.Pid, len(watchers))
	}
	if err := syscall.Kill(watchers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "the watcher", watchers[0], time.Now())
	if err := d.lh.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "the command", d.pid, time.Now())
}

// childrenOf returns the pids of the processes whose parent is ppid and
// whose command line contains arg.
func childrenOf(t *testing.T, ppid int, arg string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) S ppid ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(ppid) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.Contains(cmdline, []byte(arg)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestWatcher drives the hidden watcher directly: it kills the group it was
// given when its stdin ends without "done", and nothing otherwise; bad
// input is a usage error, not a panic.
func TestWatcher(t *testing.T) {
	t.Parallel()
	// sleeper starts a process in a process group of its own.
	sleeper := func(t *testing.T) int {
		t.Helper()
		cmd := exec.Command("sleep", "60")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{}) // closed by the waiter goroutine
		go func() {
			defer close(done)
			_ = cmd.Wait()
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
		})
		return cmd.Process.Pid
	}
	watch := func(t *testing.T, stdin string, args ...string) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, leasehold(t), append([]string{"__watch-group"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode()
	}
	t.Run("leasehold died", func(t *testing.T) {
		pid := sleeper(t)
		if code := watch(t, strconv.Itoa(pid)+"\n"); code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		waitGone(t, "the watched group", pid, time.Now())
	})
	t.Run("command exited", func(t *testing.T) {
		pid := sleeper(t)
		if code := watch(t, strconv.Itoa(pid)+"\ndone\n"); code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		if !alive(pid) {
			t.Errorf("the watcher killed group %d after done", pid)
		}
	})
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{name: "nothing", stdin: "", want: 0},
		{name: "done at once", stdin: "done\n", want: 0},
		{name: "garbage", stdin: "garbage\n", want: exitUsage},
		{name: "group 1", stdin: "1\n", want: exitUsage},
		{name: "negative", stdin: "-5\n", want: exitUsage},
		{name: "huge", stdin: "99999999999999999999999\n", want: exitUsage},
		{name: "arguments", stdin: "", args: []string{"123"}, want: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := watch(t, tt.stdin, tt.args...); got != tt.want {
				t.Errorf("exit %d, want %d", got, tt.want)
			}
		})
	}
}
