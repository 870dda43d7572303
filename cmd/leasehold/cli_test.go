package main_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Exit codes documented in leasehold --help.
const (
	exitUsage = 2
	exitHeld  = 3
	exitLost  = 4
	exitStore = 5
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// leasehold builds the binary once per test binary run, into a temporary
// directory that TestMain removes.
func leasehold(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "leasehold-cli-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "leasehold")
		buildOut, buildErr = exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// connectionString is Azurite's (or any account's) connection string.
func connectionString(t *testing.T) string {
	t.Helper()
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		t.Fatal("AZURE_STORAGE_CONNECTION_STRING is not set: run `make test`, which starts Azurite " +
			"(or tools/azurite/with-azurite.sh go test ./cmd/...)")
	}
	return cs
}

// accountKey is the key in cs, which no output may contain.
func accountKey(cs string) string {
	for _, part := range strings.Split(cs, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(k, "AccountKey") {
			return v
		}
	}
	return ""
}

// uniqueName is a fresh container name.
func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "cli-" + prefix + "-" + hex.EncodeToString(b)
}

// result is one finished leasehold run.
type result struct {
	code           int
	stdout, stderr string
}

// run runs leasehold to completion, bounded by a minute.
func run(t *testing.T, args ...string) result {
	t.Helper()
	connectionString(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, leasehold(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("leasehold %v: %v", args, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// background is a leasehold run in progress whose stdout lines are read as
// they come.
type background struct {
	cmd    *exec.Cmd
	lines  chan string // stdout lines; closed at EOF by the reader goroutine
	stderr *syncBuffer
	done   chan struct{} // closed by the waiter goroutine
	code   int
}

func start(t *testing.T, args ...string) *background {
	t.Helper()
	return startEnv(t, nil, args...)
}

// startEnv is start with env added to the environment (a variable given
// there wins over the test process's own).
func startEnv(t *testing.T, env []string, args ...string) *background {
	t.Helper()
	connectionString(t)
	cmd := exec.Command(leasehold(t), args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	// stdout is a pipe of our own, not cmd.StdoutPipe: a command may leave
	// processes behind (a "sleep 30 &" started as SIGTERM arrived) that
	// keep the pipe open after leasehold has exited, and the run ends when
	// leasehold exits, not when they do. For the same reason WaitDelay
	// bounds how long Wait copies stderr after leasehold has exited (all
	// of leasehold's own output was written by then).
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &background{cmd: cmd, lines: make(chan string, 1000), stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = w, b.stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Start()
	w.Close() // the child has its copy
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	eof := make(chan struct{}) // closed by the reader goroutine
	go func() {
		defer close(eof)
		defer close(b.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case b.lines <- sc.Text():
			default: // nobody reads that far
			}
		}
	}()
	go func() {
		defer close(b.done)
		_ = cmd.Wait()
		b.code = cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-b.done
		out.Close() // ends the reader even if something left behind holds the pipe
		<-eof
	})
	return b
}

// expect waits, bounded, for a stdout line equal to want.
func (b *background) expect(t *testing.T, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-b.lines:
			if !ok {
				t.Fatalf("stdout closed before %q; stderr:\n%s", want, b.stderr.String())
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q on stdout within %v; stderr:\n%s", want, within, b.stderr.String())
		}
	}
}

// wait waits, bounded, for the run to end and returns its exit code.
func (b *background) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-b.done:
		return b.code
	case <-time.After(within):
		t.Fatalf("leasehold did not exit within %v; stderr:\n%s", within, b.stderr.String())
		return -1
	}
}

type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// status is the output of status --json.
type status struct {
	Container string `json:"container"`
	State     string `json:"state"`
	Held      bool   `json:"held"`
	Holder    string `json:"holder"`
	Term      int64  `json:"term"`
	Infinite  bool   `json:"infinite"`
	Duration  string `json:"duration"`
}

func statusOf(t *testing.T, name string) status {
	t.Helper()
	r := run(t, "status", name, "--json")
	if r.code != 0 {
		t.Fatalf("status --json exited %d: %s", r.code, r.stderr)
	}
	var st status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json printed %q: %v", r.stdout, err)
	}
	return st
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not a term: %q", s)
	}
	return n
}

func TestLockExcludes(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "excl")
	log := filepath.Join(t.TempDir(), "log")
	script := `echo "start $LEASEHOLD_TERM" >> "$LOG"; sleep 1; echo "end $LEASEHOLD_TERM" >> "$LOG"`
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Go(func() {
			results[i] = run(t, "lock", name, "--poll-interval", "200ms", "--", "env", "LOG="+log, "sh", "-c", script)
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d exited %d: %s", i, r.code, r.stderr)
		}
	}
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.ReplaceAll(string(got), "\n", " "))
	// Want: start T1, end T1, start T2, end T2 with T1 < T2: no overlap.
	if len(lines) != 8 || lines[0] != "start" || lines[2] != "end" || lines[4] != "start" || lines[6] != "end" ||
		lines[1] != lines[3] || lines[5] != lines[7] || atoi(t, lines[1]) >= atoi(t, lines[5]) {
		t.Fatalf("runs overlapped or terms did not increase:\n%s", got)
	}
}

func TestTryOnHeldLockAndStatus(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "try")
	holder := start(t, "lock", name, "--id", "holder-1", "--", "sh", "-c", "echo held; sleep 30")
	holder.expect(t, "held", 30*time.Second)

	st := statusOf(t, name)
	if !st.Held || st.Holder != "holder-1" || st.Term < 1 || st.State != "leased" || st.Duration != "fixed" || st.Container != name {
		t.Errorf("status --json = %+v, want held by holder-1 with a term, fixed", st)
	}

	r := run(t, "lock", name, "--try", "--", "true")
	if r.code != exitHeld || !strings.Contains(r.stderr, "holder-1") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("lock --try on a held lock: exit %d, stderr %q; want %d and one line naming holder-1", r.code, r.stderr, exitHeld)
	}
	r = run(t, "lock", name, "--timeout", "1s", "--poll-interval", "200ms", "--", "true")
	if r.code != exitHeld {
		t.Errorf("lock --timeout 1s on a held lock: exit %d, stderr %q; want %d", r.code, r.stderr, exitHeld)
	}

	// SIGTERM to leasehold goes to the command; the lock is released after.
	if err := holder.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := holder.wait(t, 30*time.Second); code != 128+int(syscall.SIGTERM) {
		t.Errorf("holder exited %d after SIGTERM, want %d (the command's); stderr:\n%s", code, 128+int(syscall.SIGTERM), holder.stderr.String())
	}
	// The last line says why: the command's status, after the signal was forwarded.
	if lines := strings.Split(strings.TrimSpace(holder.stderr.String()), "\n"); len(lines) < 2 ||
		lines[len(lines)-2] != "leasehold: lock "+name+": forwarding SIGTERM to the command" ||
		lines[len(lines)-1] != "leasehold: lock "+name+": the command exited with status 143 (killed by signal 15, terminated); released; passing its status on" {
		t.Errorf("holder's stderr after SIGTERM:\n%s\nwant the forwarding, then the command's status, last", holder.stderr.String())
	}
	if st := statusOf(t, name); st.Held {
		t.Errorf("after the holder exited, status = %+v, want not held", st)
	}
}

func TestBreakStopsHolder(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "brk")
	holder := start(t, "lock", name, "--id", "victim", "--grace", "5s", "--",
		"sh", "-c", `trap "echo got-term; exit 0" TERM; echo held; sleep 30 & wait`)
	holder.expect(t, "held", 30*time.Second)
	term := statusOf(t, name).Term

	r := run(t, "break", name, "--reason", "test break")
	if r.code != 0 || !strings.Contains(r.stderr, "victim") || !strings.Contains(r.stderr, "test break") {
		t.Fatalf("break: exit %d, stderr %q; want 0 naming the holder and the reason", r.code, r.stderr)
	}
	holder.expect(t, "got-term", 30*time.Second)
	if code := holder.wait(t, 30*time.Second); code != exitLost {
		t.Errorf("holder exited %d after a break, want %d; stderr:\n%s", code, exitLost, holder.stderr.String())
	}
	// The next holder gets a higher term.
	r = run(t, "lock", name, "--timeout", "30s", "--poll-interval", "200ms", "--", "sh", "-c", `echo "$LEASEHOLD_TERM"`)
	if r.code != 0 || atoi(t, strings.TrimSpace(r.stdout)) <= term {
		t.Fatalf("lock after break: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if st := statusOf(t, name); st.Term <= term {
		t.Errorf("term after break = %d, want more than %d", st.Term, term)
	}
}

func TestElect(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "elect")
	leader := start(t, "elect", name, "--id", "cand-a", "--exit-on-loss", "--",
		"sh", "-c", `trap "echo got-term; exit 0" TERM; echo "leading $LEASEHOLD_IDENTITY"; sleep 30 & wait`)
	leader.expect(t, "leading cand-a", 30*time.Second)
	if st := statusOf(t, name); st.Holder != "cand-a" || !st.Held {
		t.Errorf("status = %+v, want held by cand-a", st)
	}
	standby := start(t, "elect", name, "--id", "cand-b", "--profile", "fast-handover", "--", "sh", "-c", `echo "leading $LEASEHOLD_IDENTITY"`)
	if r := run(t, "break", name, "--reason", "failover test"); r.code != 0 {
		t.Fatalf("break: exit %d: %s", r.code, r.stderr)
	}
	leader.expect(t, "got-term", 30*time.Second)
	if code := leader.wait(t, 30*time.Second); code != exitLost {
		t.Errorf("deposed leader with --exit-on-loss exited %d, want %d", code, exitLost)
	}
	standby.expect(t, "leading cand-b", 40*time.Second)
	if code := standby.wait(t, 30*time.Second); code != 0 {
		t.Errorf("standby exited %d, want its command's 0; stderr:\n%s", code, standby.stderr.String())
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cs := connectionString(t)
	key := accountKey(cs)
	badKey := strings.Replace(cs, key, "c2VjcmV0LWtleS10aGF0LWlzLXdyb25nLXdyb25nLXdyb25n", 1)
	refused := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0LWtleS1yZWZ1c2Vk;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"
	name := uniqueName(t, "usage")
	tests := []struct {
		give     []string
		wantCode int
		wantMsg  string
		secret   string
	}{
		{give: []string{"lock", "--bogus", name, "--", "true"}, wantCode: exitUsage, wantMsg: "-bogus", secret: key},
		{give: []string{"lock", "Bad_Name", "--", "true"}, wantCode: exitUsage, wantMsg: "container name", secret: key},
		{give: []string{"lock", name}, wantCode: exitUsage, wantMsg: "missing command", secret: key},
		{give: []string{"lock", name, "--lease-duration", "5s", "--", "true"}, wantCode: exitUsage, wantMsg: "--lease-duration", secret: key},
		{give: []string{"status"}, wantCode: exitUsage, wantMsg: "missing container NAME", secret: key},
		{give: []string{"elect", name, "--id", "a", "--profile", "nope", "--", "true"}, wantCode: exitUsage, wantMsg: `--profile "nope": want "default", "fast-handover" or "low-cost"`, secret: key},
		{give: []string{"break", name, "--period", "90s"}, wantCode: exitUsage, wantMsg: "--period", secret: key},
		{give: []string{"elect", name, "--", "true"}, wantCode: exitUsage, wantMsg: "--id is required", secret: key},
		{give: []string{"frobnicate"}, wantCode: exitUsage, wantMsg: "unknown command", secret: key},
		{give: []string{"status", name, "--connection-string", "AccountKey=not-a-connection-string-secret"}, wantCode: exitUsage, wantMsg: "malformed", secret: "not-a-connection-string-secret"},
		{give: []string{"status", name, "--emulator", "--connection-string", cs}, wantCode: exitUsage, wantMsg: "only one", secret: key},
		{give: []string{"lock", name, "--connection-string", badKey, "--", "true"}, wantCode: exitStore, wantMsg: "refused the credentials", secret: "c2VjcmV0LWtleS10aGF0LWlzLXdyb25nLXdyb25nLXdyb25n"},
		{give: []string{"status", name, "--connection-string", refused}, wantCode: exitStore, wantMsg: "connection refused", secret: "c2VjcmV0LWtleS1yZWZ1c2Vk"},
		{give: []string{"lock", name, "--", "no-such-command-leasehold"}, wantCode: 127, wantMsg: "cannot run", secret: key},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			r := run(t, tt.give...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantMsg) || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "leasehold: ") {
				t.Errorf("stderr %q: want one line starting leasehold: and saying %q", r.stderr, tt.wantMsg)
			}
			if strings.Contains(r.stderr+r.stdout, tt.secret) {
				t.Errorf("output contains the secret: %q", r.stderr)
			}
		})
	}
}

// TestOptionErrorsNameTheFlag: a value the library refuses is reported
// with the flag that gave it, the value and the rule, on one line, exit 2.
// No storage call is made, so it needs no Azurite.
func TestOptionErrorsNameTheFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give []string
		want string // the whole of stderr
	}{
		{give: []string{"elect", "cli-opts", "--id", "a", "--poll-interval", "1ms", "--", "true"},
			want: "leasehold: elect: invalid option: --poll-interval 1ms: want at least 10ms\n"},
		{give: []string{"elect", "cli-opts", "--id", " a", "--", "true"},
			want: `leasehold: elect: invalid option: --id " a": want no leading or trailing spaces` + "\n"},
		{give: []string{"lock", "cli-opts", "--id", "a\tb", "--", "true"},
			want: `leasehold: lock: invalid option: --id "a\tb": want printable ASCII (byte 1 is 0x9)` + "\n"},
		{give: []string{"lock", "Bad_Name", "--", "true"},
			want: `leasehold: lock: invalid option: container name "Bad_Name": want only lower-case letters, digits and hyphens` +
				" (or name the lock by any text and give its container with --container C)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			args := append([]string{tt.give[0], tt.give[1], "--emulator"}, tt.give[2:]...)
			cmd := exec.CommandContext(ctx, leasehold(t), args...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no account in the environment
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			if code := cmd.ProcessState.ExitCode(); code != exitUsage || stderr.String() != tt.want || stdout.Len() != 0 {
				t.Errorf("exit %d, stderr %q, stdout %q; want %d, %q and nothing", code, stderr.String(), stdout.String(), exitUsage, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"help"}, {"lock", "--help"}, {"elect", "-h"}, {"status", "--help"}, {"break", "--help"}, {"help", "lock"}} {
		r := run(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Exit codes:") || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("leasehold %v: exit %d, stdout %q; want 0 with usage and exit codes", args, r.code, r.stdout)
		}
	}
	// lock and elect say what the term is and what happens to CMD when
	// leasehold is killed.
	for _, cmd := range []string{"lock", "elect"} {
		r := run(t, cmd, "--help")
		if !strings.Contains(r.stdout, "LEASEHOLD_TERM") || !strings.Contains(r.stdout, "Held.Term") || !strings.Contains(r.stdout, "kill -9") {
			t.Errorf("leasehold %s --help says nothing of the term or of kill -9:\n%s", cmd, r.stdout)
		}
	}
}

// TestExitsWithTheCommandNotItsLeftovers: leasehold exits, and releases,
// when its command exits, even if the command left a process behind that
// still holds leasehold's stdout (the leftover is the user's: it is not
// killed for a command that exited of its own accord).
func TestExitsWithTheCommandNotItsLeftovers(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "leftover")
	b := start(t, "lock", name, "--", "sh", "-c", `sleep 20 & echo started`)
	b.expect(t, "started", 30*time.Second)
	if code := b.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d, want the command's 0; stderr:\n%s", code, b.stderr.String())
	}
	r := run(t, "status", name, "--json")
	var st status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Held {
		t.Errorf("status after exit = %+v (%v), want released", st, err)
	}
}
