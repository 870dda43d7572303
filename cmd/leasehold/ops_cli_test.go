package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// runEnv runs leasehold to completion with exactly env (plus PATH),
// bounded by a minute.
func runEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, leasehold(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("leasehold %v: %v", args, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// saysGaveUp reports whether line contains before, a whole number of
// seconds no less than atLeast, then after: "gave up: ... for 3s (...)".
func saysGaveUp(line, before, after string, atLeast time.Duration) bool {
	m := regexp.MustCompile(regexp.QuoteMeta(before) + `([0-9]+s)` + regexp.QuoteMeta(after)).FindStringSubmatch(line)
	if m == nil {
		return false
	}
	d, err := time.ParseDuration(m[1])
	return err == nil && d >= atLeast
}

// blobEndpoint is the blob endpoint in connection string cs.
func blobEndpoint(t *testing.T, cs string) string {
	t.Helper()
	for _, part := range strings.Split(cs, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(k, "BlobEndpoint") {
			return v
		}
	}
	t.Fatalf("no BlobEndpoint in the connection string")
	return ""
}

// TestEnvironment: LEASEHOLD_<FLAG> sets a flag, the command line wins, a
// bad value is an error naming the variable; AZURE_STORAGE_ACCOUNT and
// AZURE_STORAGE_KEY with --account-url authorize with the key, which is never
// printed.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	cs := connectionString(t)
	key := accountKey(cs)
	name := uniqueName(t, "env")
	csEnv := "AZURE_STORAGE_CONNECTION_STRING=" + cs

	r := runEnv(t, []string{csEnv, "LEASEHOLD_ID=env-holder", "LEASEHOLD_LEASE_DURATION=20s"}, "lock", name, "--", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "identity env-holder") {
		t.Errorf("lock with LEASEHOLD_ID: exit %d, stderr %q; want 0, identity env-holder", r.code, r.stderr)
	}
	r = runEnv(t, []string{csEnv, "LEASEHOLD_ID=env-holder"}, "lock", name, "--id", "flag-holder", "--", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "identity flag-holder") {
		t.Errorf("lock with LEASEHOLD_ID and --id: exit %d, stderr %q; want the flag's identity", r.code, r.stderr)
	}
	r = runEnv(t, []string{csEnv, "LEASEHOLD_JSON=true"}, "status", name)
	var st status
	if err := json.Unmarshal([]byte(r.stdout), &st); r.code != 0 || err != nil || st.Holder != "flag-holder" || st.Term != 2 {
		t.Errorf("status with LEASEHOLD_JSON=true: exit %d, stdout %q (%v); want JSON naming flag-holder at term 2", r.code, r.stdout, err)
	}

	for _, tt := range []struct {
		env  string
		want string
	}{
		{env: "LEASEHOLD_LEASE_DURATION=15", want: `$LEASEHOLD_LEASE_DURATION "15": a number without a unit is ambiguous: want a unit, e.g. 15s`},
		{env: "LEASEHOLD_TRY=maybe", want: "$LEASEHOLD_TRY"},
		{env: "LEASEHOLD_GIVE_UP=0s", want: "--give-up (from $LEASEHOLD_GIVE_UP) 0s: want more than 0"},
		{env: "LEASEHOLD_TIMEOUT=5s", want: "--try and --timeout (from $LEASEHOLD_TIMEOUT) together"},
	} {
		args := []string{"lock", name, "--try", "--", "true"}
		if strings.HasPrefix(tt.env, "LEASEHOLD_TRY=") {
			args = []string{"lock", name, "--", "true"} // else the flag wins
		}
		r := runEnv(t, []string{csEnv, tt.env}, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want %d, one line saying %q", tt.env, r.code, r.stderr, exitUsage, tt.want)
		}
	}

	// The account by name and key, at the emulator's URL.
	endpoint := blobEndpoint(t, cs)
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	acctEnv := []string{"AZURE_STORAGE_ACCOUNT=devstoreaccount1", "AZURE_STORAGE_KEY=" + key}
	r = runEnv(t, acctEnv, "status", name, "--account-url", "http://"+u.Host)
	if r.code != 0 || !strings.Contains(r.stdout, "last held by flag-holder (term 2)") {
		t.Errorf("status by AZURE_STORAGE_ACCOUNT and KEY: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	bad := []string{"AZURE_STORAGE_ACCOUNT=devstoreaccount1", "AZURE_STORAGE_KEY=c2VjcmV0LWtleS10aGF0LWlzLXdyb25n"}
	r = runEnv(t, bad, "status", name, "--account-url", "http://"+u.Host)
	if r.code != exitStore || !strings.Contains(r.stderr, "refused the credentials") || strings.Contains(r.stderr+r.stdout, "c2VjcmV0LWtleS10aGF0LWlzLXdyb25n") {
		t.Errorf("a wrong AZURE_STORAGE_KEY: exit %d, stderr %q; want %d, refused, the key not shown", r.code, r.stderr, exitStore)
	}
	r = runEnv(t, []string{"AZURE_STORAGE_KEY=" + key}, "status", name, "--account-url", "http://"+u.Host)
	if r.code != exitUsage || !strings.Contains(r.stderr, "AZURE_STORAGE_ACCOUNT") || strings.Contains(r.stderr, key) {
		t.Errorf("AZURE_STORAGE_KEY without the account: exit %d, stderr %q; want %d asking for AZURE_STORAGE_ACCOUNT", r.code, r.stderr, exitUsage)
	}
	r = runEnv(t, []string{"AZURE_STORAGE_ACCOUNT=Bad_Acct"}, "status", name)
	if r.code != exitUsage || !strings.Contains(r.stderr, `$AZURE_STORAGE_ACCOUNT "Bad_Acct": want an account name`) {
		t.Errorf("a bad AZURE_STORAGE_ACCOUNT: exit %d, stderr %q; want %d naming the variable", r.code, r.stderr, exitUsage)
	}
	r = runEnv(t, nil, "status", name)
	if r.code != exitUsage || !strings.Contains(r.stderr, "AZURE_STORAGE_ACCOUNT") {
		t.Errorf("no account at all: exit %d, stderr %q; want %d naming the variables", r.code, r.stderr, exitUsage)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := runEnv(t, nil, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "leasehold ") || !strings.Contains(r.stdout, runtime.Version()) {
			t.Errorf("leasehold %v: exit %d, stdout %q; want the version and %s", args, r.code, r.stdout, runtime.Version())
		}
	}
}

// TestHelpOneFlagStyle: every help text names flags with two dashes.
func TestHelpOneFlagStyle(t *testing.T) {
	t.Parallel()
	single := regexp.MustCompile(`(^|[\s(\[,'"])-[a-z]`)
	for _, cmd := range []string{"", "lock", "elect", "status", "observe", "break"} {
		args := []string{"--help"}
		if cmd != "" {
			args = []string{cmd, "--help"}
		}
		r := runEnv(t, nil, args...)
		if r.code != 0 {
			t.Errorf("leasehold %v: exit %d", args, r.code)
		}
		for i, l := range strings.Split(r.stdout, "\n") {
			if single.MatchString(l) {
				t.Errorf("leasehold %v, line %d: a single-dash flag: %q", args, i+1, l)
			}
		}
		if cmd != "" && !strings.Contains(r.stdout, "$LEASEHOLD_GIVE_UP") {
			t.Errorf("leasehold %v names no LEASEHOLD_ variable", args)
		}
	}
	// The checker catches a single-dash flag.
	if !single.MatchString("  -timeout duration") || single.MatchString("  --timeout duration") {
		t.Fatal("the single-dash checker is broken")
	}
	r := runEnv(t, nil, "break", "--help")
	if !strings.Contains(r.stdout, "until its next renew fails") || strings.Contains(r.stdout, "up to its lease duration") {
		t.Errorf("break --help does not state the window a broken holder may act in:\n%s", r.stdout)
	}
}

// TestRejected: what is refused, with the reason, before any storage call.
func TestRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give []string
		want string
	}{
		{give: []string{"status", "x-y-z", "--account-url", "http://acct.blob.core.windows.net"}, want: "http:// would send the credential in clear text"},
		{give: []string{"status", "x-y-z", "--account-url", "http://10.1.2.3:10000/acct", "--sas"}, want: "clear text"},
		{give: []string{"lock", "x-y-z", "--lease-duration", "15", "--", "true"}, want: `"15" for flag --lease-duration: a number without a unit is ambiguous: want a unit, e.g. 15s`},
		{give: []string{"break", "x-y-z", "--period", "30"}, want: "want a unit, e.g. 30s"},
		{give: []string{"lock", "x-y-z", "--try", "--timeout", "5s", "--", "true"}, want: "--try and --timeout together"},
		{give: []string{"lock", "x-y-z", "--try", "--timeout", "0", "--", "true"}, want: "--try and --timeout together"},
		{give: []string{"status", "x-y-z", "--interval", "1s"}, want: "go with --watch"},
		{give: []string{"observe", "x-y-z", "--interval", "1ms"}, want: "--interval of at least 100ms"},
		{give: []string{"lock", "--bogus", "x-y-z", "--", "true"}, want: "not defined: --bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			r := runEnv(t, []string{"AZURE_STORAGE_SAS_TOKEN=sv=1&sig=abc"}, append(tt.give, "--emulator")...)
			if strings.Contains(strings.Join(tt.give, " "), "--account-url") {
				r = runEnv(t, []string{"AZURE_STORAGE_SAS_TOKEN=sv=1&sig=abc"}, tt.give...)
			}
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want %d and one line saying %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}

// blackhole is a loopback listener that accepts connections and never
// answers.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex // guards conns
		conns []net.Conn
	)
	done := make(chan struct{}) // closed by the accept goroutine
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestGiveUp: storage that never answers ends every command with exit 5
// and the reason after --give-up, not a retry for ever.
func TestGiveUp(t *testing.T) {
	t.Parallel()
	addr := blackhole(t)
	cs := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0LWtleS1naXZlLXVw;BlobEndpoint=http://" + addr + "/devstoreaccount1;"
	for _, args := range [][]string{
		{"status", "cli-giveup"},
		{"status", "--container", "cli-giveup", "--watch"},
		{"observe", "cli-giveup"},
		{"lock", "cli-giveup", "--", "true"},
		{"elect", "cli-giveup", "--id", "a", "--", "true"},
		{"break", "cli-giveup"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			// One at a time (about 1 s each): the suite runs many leasehold
			// processes at once already, and holders starved of CPU lose
			// their leases.
			start := time.Now()
			r := runEnv(t, []string{"AZURE_STORAGE_CONNECTION_STRING=" + cs, "LEASEHOLD_GIVE_UP=1s"}, args...)
			took := time.Since(start)
			if r.code != exitStore || !strings.Contains(lastLine(r.stderr), "leasehold: ") || strings.Contains(r.stderr, "c2VjcmV0LWtleS1naXZlLXVw") {
				t.Errorf("exit %d after %v, stderr %q; want %d with the reason", r.code, took, r.stderr, exitStore)
			}
			if !saysGaveUp(lastLine(r.stderr), "gave up: no answer from storage for ", " (--give-up (from $LEASEHOLD_GIVE_UP) 1s)", time.Second) {
				t.Errorf("last line %q: want it to say storage did not answer for 1s or more", lastLine(r.stderr))
			}
			t.Logf("gave up after %v: %s", took.Round(time.Millisecond), lastLine(r.stderr))
		})
	}
}

// TestObserve: observe prints the current state, then a line per change,
// as text or JSON; with --count it stops after that many lines and says so.
func TestObserve(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "obs")
	obs := start(t, "observe", name, "--json", "--interval", "100ms")
	next := func() (observedLine, bool) {
		t.Helper()
		select {
		case l, ok := <-obs.lines:
			if !ok {
				return observedLine{}, false
			}
			var o observedLine
			if err := json.Unmarshal([]byte(l), &o); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			return o, true
		case <-time.After(30 * time.Second):
			t.Fatalf("no line within 30s; stderr %s", obs.stderr.String())
		}
		return observedLine{}, false
	}
	if first, _ := next(); first.State != "available" || first.Term != 0 || first.Time == "" {
		t.Fatalf("first line %+v: want the current state, never held, with a time", first)
	}
	r := run(t, "lock", name, "--id", "obs-holder", "--", "sleep", "1")
	if r.code != 0 {
		t.Fatalf("lock: exit %d: %s", r.code, r.stderr)
	}
	// Until the lease is free again (bounded: 30 s a line). A poll may fall
	// between the acquire and the term write and show the lease leased
	// with no term (owner unknown): a true state, left out of the check.
	var got []observedLine
	for len(got) < 2 {
		o, ok := next()
		if !ok {
			t.Fatalf("observe ended early; lines %+v; stderr %s", got, obs.stderr.String())
		}
		if o.State == "leased" && o.Term == 0 {
			continue
		}
		got = append(got, o)
	}
	if got[0].State != "leased" || got[0].Holder != "obs-holder" || got[0].Term != 1 || got[0].Owner != "leasehold" ||
		got[1].State != "available" || got[1].Holder != "obs-holder" {
		t.Errorf("observe: lines %+v; want leased by obs-holder at term 1, then available", got)
	}

	once := run(t, "observe", name, "--count", "1")
	if l := lastLine(once.stderr); once.code != 0 || !strings.Contains(l, "1 lines shown (--count 1)") {
		t.Errorf("observe --count 1: exit %d, last stderr line %q: want 0 and why it exited", once.code, l)
	}
}

type observedLine struct {
	Time string `json:"time"`
	status
	Owner string `json:"owner"`
}

// expectStderr waits (bounded by within) until b's stderr contains want.
func (b *background) expectStderr(t *testing.T, want string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); !strings.Contains(b.stderr.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("stderr does not contain %q within %v: %s", want, within, b.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStatusWatch: --watch shows a table per refresh (not on a terminal:
// one after another), until --count.
func TestStatusWatch(t *testing.T) {
	t.Parallel()
	c := uniqueName(t, "watch")
	for _, n := range []string{"alpha", "beta/2"} {
		if r := run(t, "lock", n, "--container", c, "--id", "w-"+n, "--", "true"); r.code != 0 {
			t.Fatalf("lock %s: exit %d: %s", n, r.code, r.stderr)
		}
	}
	r := run(t, "status", "--container", c, "--watch", "--interval", "100ms", "--count", "2")
	if r.code != 0 {
		t.Fatalf("status --watch: exit %d: %s", r.code, r.stderr)
	}
	tables := strings.Split(strings.TrimSpace(r.stdout), "\n\n")
	row := regexp.MustCompile(`(?m)^"beta/2"\s+available\s+w-beta/2\s+1\s+\d+s\s+last holder, released$`)
	if len(tables) != 2 || strings.Contains(r.stdout, "\x1b[") {
		t.Fatalf("status --watch --count 2 printed %d tables (or terminal codes):\n%s", len(tables), r.stdout)
	}
	for _, tb := range tables {
		lines := strings.Split(tb, "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[1], "LOCK") || !row.MatchString(tb) {
			t.Errorf("table:\n%s\nwant a title, a header and two rows, beta/2 released by w-beta/2 at term 1", tb)
		}
	}
	if l := lastLine(r.stderr); !strings.Contains(l, "2 tables shown (--count 2)") {
		t.Errorf("last stderr line %q", l)
	}
	r = run(t, "status", "--container", c, "--watch", "--json", "--interval", "100ms", "--count", "2")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, l := range lines {
		var all []namedStatus
		if err := json.Unmarshal([]byte(l), &all); err != nil || len(all) != 2 {
			t.Errorf("status --watch --json line %q: %v; want an array of two locks", l, err)
		}
	}
	if r.code != 0 || len(lines) != 2 {
		t.Errorf("status --watch --json: exit %d, %d lines; want 0, 2", r.code, len(lines))
	}
}

// TestForeignLease: a lease taken by a client that is not leasehold is not
// reported as the last leasehold holder's, by status, --try and break; a
// breaking infinite lease is reported as breaking, not infinite.
func TestForeignLease(t *testing.T) {
	t.Parallel()
	cs := connectionString(t)
	name := uniqueName(t, "foreign")
	if r := run(t, "lock", name, "--id", "old-holder", "--", "true"); r.code != 0 {
		t.Fatalf("lock: exit %d: %s", r.code, r.stderr)
	}
	cc, err := container.NewClientFromConnectionString(cs, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another client's lease on a container whose metadata it clears
	// (a tool that resets what it finds).
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := cc.SetMetadata(ctx, &container.SetMetadataOptions{Metadata: map[string]*string{}}); err != nil {
		t.Fatal(err)
	}
	lc, err := lease.NewContainerClient(cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AcquireLease(ctx, -1, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = lc.BreakLease(ctx, &lease.ContainerBreakOptions{BreakPeriod: to.Ptr(int32(0))})
	})
	const want = "leased by a client that is not leasehold, or by leasehold before it wrote its term"
	st := statusOf(t, name)
	r := run(t, "status", name)
	if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "infinite lease: it never expires") || !st.Held || st.Duration != "infinite" {
		t.Errorf("status of another client's lease: %q, %+v; want %q, and that the infinite lease never expires", r.stdout, st, want)
	}
	r = run(t, "lock", name, "--try", "--", "true")
	if r.code != exitHeld || !strings.Contains(lastLine(r.stderr), want) {
		t.Errorf("lock --try: exit %d, stderr %q; want %d saying %q", r.code, r.stderr, exitHeld, want)
	}

	// Breaking: neither infinite nor fixed.
	if _, err := lc.BreakLease(ctx, &lease.ContainerBreakOptions{BreakPeriod: to.Ptr(int32(30))}); err != nil {
		t.Fatal(err)
	}
	st = statusOf(t, name)
	if st.State != "breaking" || st.Infinite || st.Duration != "" {
		t.Errorf("status of a breaking infinite lease = %+v; want breaking, not infinite, no duration", st)
	}
	r = run(t, "status", name)
	if !strings.HasPrefix(r.stdout, name+": breaking: ") || strings.Contains(r.stdout, "infinite") || strings.Contains(r.stdout, "fixed") {
		t.Errorf("status of a breaking infinite lease: %q; want breaking, neither infinite nor fixed", r.stdout)
	}
}

// TestLastLine: the last stderr line says why leasehold exited, for every
// way it exits.
func TestLastLine(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "last")
	tests := []struct {
		name     string
		give     []string
		wantCode int
		want     string // regexp for the last line
	}{
		{name: "command status", give: []string{"lock", name, "--", "sh", "-c", "exit 3"}, wantCode: 3,
			want: `^leasehold: lock ` + name + `: the command exited with status 3; released; passing its status on$`},
		{name: "command killed", give: []string{"elect", name, "--id", "e", "--", "sh", "-c", "kill -KILL $$"}, wantCode: 137,
			want: `^leasehold: elect ` + name + `: the command exited with status 137 \(killed by signal 9, killed\); resigned; passing its status on$`},
		{name: "usage", give: []string{"lock", name, "--grace", "-1s", "--", "true"}, wantCode: exitUsage,
			want: `^leasehold: lock: --grace -1s: want 0 or more$`},
		{name: "not found", give: []string{"lock", name, "--", "no-such-command-leasehold"}, wantCode: 127,
			want: `^leasehold: lock ` + name + `: cannot run no-such-command-leasehold`},
		{name: "storage", give: []string{"status", name, "--connection-string",
			"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"},
			wantCode: exitStore, want: `^leasehold: status ` + name + `: cannot reach storage at 127.0.0.1:1: connection refused$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.give...)
			if r.code != tt.wantCode || !regexp.MustCompile(tt.want).MatchString(lastLine(r.stderr)) {
				t.Errorf("exit %d, last line %q; want %d and %s", r.code, lastLine(r.stderr), tt.wantCode, tt.want)
			}
		})
	}

	// Held, timeout, signal while waiting, signal forwarded, loss.
	holder := start(t, "lock", name, "--id", "last-holder", "--grace", "5s", "--",
		"sh", "-c", `trap "exit 0" TERM; echo held; sleep 30 & wait`)
	holder.expect(t, "held", 30*time.Second)
	r := run(t, "lock", name, "--try", "--", "true")
	if r.code != exitHeld || lastLine(r.stderr) != "leasehold: lock "+name+": held by last-holder (term 3)" {
		t.Errorf("--try: exit %d, last line %q", r.code, lastLine(r.stderr))
	}
	// --timeout long enough for the first storage calls on a loaded
	// machine (one that expires before storage answers exits 3 too, but
	// says so instead of who holds the lock).
	r = run(t, "lock", name, "--timeout", "2s", "--poll-interval", "100ms", "--", "true")
	if r.code != exitHeld || lastLine(r.stderr) != "leasehold: lock "+name+": gave up after --timeout 2s: held by last-holder (term 3)" {
		t.Errorf("--timeout: exit %d, last line %q", r.code, lastLine(r.stderr))
	}
	waiter := start(t, "lock", name, "--poll-interval", "100ms", "--", "true")
	time.Sleep(300 * time.Millisecond) // let it wait; the outcome is the same if it has not started waiting yet
	if err := waiter.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := waiter.wait(t, 30*time.Second); code != 128+int(syscall.SIGTERM) ||
		!regexp.MustCompile(`^leasehold: lock `+name+`: interrupted by SIGTERM while waiting$`).MatchString(lastLine(waiter.stderr.String())) {
		t.Errorf("a waiter interrupted: exit %d, last line %q", code, lastLine(waiter.stderr.String()))
	}
	if r := run(t, "break", name, "--reason", "last line test"); r.code != 0 {
		t.Fatalf("break: exit %d: %s", r.code, r.stderr)
	}
	if code := holder.wait(t, 30*time.Second); code != exitLost ||
		lastLine(holder.stderr.String()) != "leasehold: lock "+name+": lock lost; the command was stopped (its status: 0)" {
		t.Errorf("a broken holder: exit %d, last line %q", code, lastLine(holder.stderr.String()))
	}
}

// cutProxy forwards loopback connections to target until cut: then it
// closes them and accepts new ones that it never answers.
type cutProxy struct {
	addr string
	mu   sync.Mutex // guards cut and conns
	cut  bool
	conn []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conn = append(p.conn, c)
			cut := p.cut
			p.mu.Unlock()
			if cut {
				continue // never answered
			}
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conn = append(p.conn, up)
			p.mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(up, c); up.Close() })
			wg.Go(func() { _, _ = io.Copy(c, up); c.Close() })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.cutOff()
		wg.Wait()
	})
	return p
}

// cutOff closes every connection; new ones are never answered.
func (p *cutProxy) cutOff() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conn {
		c.Close()
	}
	p.conn = nil
}

// TestGiveUpWhileWaiting: a lock waiter, a standby and an observer whose
// storage stops answering give up after --give-up with exit 5, instead of
// polling for ever.
func TestGiveUpWhileWaiting(t *testing.T) {
	t.Parallel()
	cs := connectionString(t)
	u, err := url.Parse(blobEndpoint(t, cs))
	if err != nil {
		t.Fatal(err)
	}
	name := uniqueName(t, "gwait")
	holder := start(t, "elect", name, "--id", "gw-holder", "--", "sh", "-c", `trap "exit 0" TERM; echo held; sleep 30 & wait`)
	holder.expect(t, "held", 30*time.Second)

	p := newCutProxy(t, u.Host)
	viaProxy := strings.Replace(cs, u.Host, p.addr, 1)
	env := []string{"AZURE_STORAGE_CONNECTION_STRING=" + viaProxy, "LEASEHOLD_GIVE_UP=2s"}
	type outcome struct {
		args []string
		b    *background
		r    result
	}
	outs := []*outcome{
		{args: []string{"lock", name, "--verbose", "--poll-interval", "100ms", "--", "true"}},
		{args: []string{"elect", name, "--verbose", "--id", "gw-standby", "--poll-interval", "100ms", "--", "true"}},
		{args: []string{"observe", name, "--interval", "100ms"}},
	}
	for _, o := range outs {
		o.b = startEnv(t, env, o.args...)
	}
	// Cut storage off only once each is waiting (a poll logged, or the
	// first state shown): one cut off earlier fails its first call, which
	// is another exit (a storage error), not giving up while waiting.
	for _, o := range outs[:2] {
		o.b.expectStderr(t, "; polling", 30*time.Second)
	}
	select {
	case <-outs[2].b.lines:
	case <-time.After(30 * time.Second):
		t.Fatalf("observe showed no state within 30s; stderr %s", outs[2].b.stderr.String())
	}
	p.cutOff()
	for _, o := range outs {
		o.r = result{code: o.b.wait(t, 30*time.Second), stderr: o.b.stderr.String()}
	}
	// The figure is the silence measured when the command gave up: the
	// bound or more (a loaded machine notices late).
	const bound = " (--give-up (from $LEASEHOLD_GIVE_UP) 2s)"
	want := map[string][2]string{
		"lock":    {"gave up: no useful answer from storage for ", bound + " while waiting for the lock"},
		"elect":   {"gave up: no useful answer from storage for ", bound + " while campaigning"},
		"observe": {"gave up: no answer from storage for ", bound},
	}
	for _, o := range outs {
		w := want[o.args[0]]
		if o.r.code != exitStore || !saysGaveUp(lastLine(o.r.stderr), w[0], w[1], 2*time.Second) {
			t.Errorf("%v: exit %d, stderr %q; want %d, the last line saying %q, 2s or more, %q", o.args, o.r.code, o.r.stderr, exitStore, w[0], w[1])
		}
	}
}

// TestSaysGaveUp: the check of the give-up line refuses a figure below the
// bound and text that differs.
func TestSaysGaveUp(t *testing.T) {
	const before, after = "gave up: no answer from storage for ", " (--give-up 2s)"
	for line, want := range map[string]bool{
		"leasehold: x: gave up: no answer from storage for 2s (--give-up 2s)":   true,
		"leasehold: x: gave up: no answer from storage for 13s (--give-up 2s)":  true,
		"leasehold: x: gave up: no answer from storage for 1s (--give-up 2s)":   false,
		"leasehold: x: gave up: no answer from storage for 2s (--give-up 3s)":   false,
		"leasehold: x: gave up: no answer from storage for 2.5s (--give-up 2s)": false,
	} {
		if got := saysGaveUp(line, before, after, 2*time.Second); got != want {
			t.Errorf("saysGaveUp(%q) = %v, want %v", line, got, want)
		}
	}
}

// TestTimeoutBeforeStorageAnswers: --timeout that expires before storage
// has answered at all exits 3, as every expired --timeout does, and says
// that storage had not answered (not who holds the lock: no one knows).
func TestTimeoutBeforeStorageAnswers(t *testing.T) {
	t.Parallel()
	addr := blackhole(t)
	cs := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0LWtleS10aW1lb3V0;BlobEndpoint=http://" + addr + "/devstoreaccount1;"
	r := runEnv(t, []string{"AZURE_STORAGE_CONNECTION_STRING=" + cs}, "lock", "cli-timeout-first", "--timeout", "500ms", "--", "true")
	want := "leasehold: lock cli-timeout-first: gave up after --timeout 500ms: storage at " + addr + " did not answer in time"
	if r.code != exitHeld || lastLine(r.stderr) != want || strings.Contains(r.stderr, "c2VjcmV0LWtleS10aW1lb3V0") {
		t.Errorf("exit %d, stderr %q; want %d, the last line %q", r.code, r.stderr, exitHeld, want)
	}
}
