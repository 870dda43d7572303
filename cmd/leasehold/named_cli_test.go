package main_test

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// namedStatus is status --json of a named lock.
type namedStatus struct {
	status
	Lock string `json:"lock"`
}

// TestNamedLocks: locks named by any text in one container (--container):
// each is its own lock, the command learns its name, status shows one or
// all of them, --try on a held one exits 3, and break stops its holder.
func TestNamedLocks(t *testing.T) {
	t.Parallel()
	c := uniqueName(t, "named")
	const a, b = "orders/eu west", "Orders/EU-West" // distinct locks
	holder := start(t, "lock", a, "--container", c, "--id", "holder-a", "--grace", "5s", "--",
		"sh", "-c", `trap "echo got-term; exit 0" TERM; echo "held $LEASEHOLD_LOCK in $LEASEHOLD_CONTAINER term $LEASEHOLD_TERM"; sleep 30 & wait`)
	holder.expect(t, "held "+a+" in "+c+" term 1", 30*time.Second)

	// Another name in the same container is free.
	r := run(t, "lock", b, "--container", c, "--try", "--", "sh", "-c", `echo "$LEASEHOLD_LOCK $LEASEHOLD_TERM"`)
	if r.code != 0 || strings.TrimSpace(r.stdout) != b+" 1" {
		t.Errorf("lock %q --try: exit %d, stdout %q, stderr %q; want 0 and %q", b, r.code, r.stdout, r.stderr, b+" 1")
	}
	// The held one is not.
	r = run(t, "lock", a, "--container", c, "--try", "--", "true")
	if r.code != exitHeld || !strings.Contains(r.stderr, "holder-a") {
		t.Errorf("lock %q --try on a held lock: exit %d, stderr %q; want %d naming holder-a", a, r.code, r.stderr, exitHeld)
	}

	r = run(t, "status", a, "--container", c, "--json")
	var one namedStatus
	if err := json.Unmarshal([]byte(r.stdout), &one); r.code != 0 || err != nil {
		t.Fatalf("status %q --json: exit %d, %v; stdout %q, stderr %q", a, r.code, err, r.stdout, r.stderr)
	}
	if !one.Held || one.Holder != "holder-a" || one.Term != 1 || one.Lock != a || one.Container != c {
		t.Errorf("status %q = %+v, want held by holder-a, term 1, lock and container named", a, one)
	}
	r = run(t, "status", "--container", c, "--json")
	var all []namedStatus
	if err := json.Unmarshal([]byte(r.stdout), &all); r.code != 0 || err != nil {
		t.Fatalf("status --container --json: exit %d, %v; stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
	}
	if len(all) != 2 || all[0].Lock != b || all[1].Lock != a || !all[1].Held || all[0].Held || all[0].Term != 1 {
		t.Errorf("status --container = %+v, want %q released at term 1, then %q held", all, b, a)
	}
	r = run(t, "status", "--container", c)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, `"`+a+`": leased by holder-a`) {
		t.Errorf("status --container: exit %d, stdout %q; want two lines, %q leased by holder-a; holder's stderr:\n%s", r.code, r.stdout, a, holder.stderr.String())
	}

	r = run(t, "break", a, "--container", c, "--reason", "named break")
	if r.code != 0 || !strings.Contains(r.stderr, "holder-a") {
		t.Fatalf("break %q: exit %d, stderr %q", a, r.code, r.stderr)
	}
	holder.expect(t, "got-term", 30*time.Second)
	if code := holder.wait(t, 30*time.Second); code != exitLost {
		t.Errorf("holder exited %d after a break, want %d", code, exitLost)
	}
	r = run(t, "lock", a, "--container", c, "--timeout", "30s", "--poll-interval", "200ms", "--", "sh", "-c", `echo "$LEASEHOLD_TERM"`)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "2" {
		t.Errorf("lock after break: exit %d, stdout %q, stderr %q; want term 2", r.code, r.stdout, r.stderr)
	}
}

// TestNamedLockElect: elect works on a named lock too.
func TestNamedLockElect(t *testing.T) {
	t.Parallel()
	c := uniqueName(t, "nelect")
	leader := start(t, "elect", "ingest leader", "--container", c, "--id", "cand-a", "--",
		"sh", "-c", `trap "exit 0" TERM; echo "leading $LEASEHOLD_LOCK"; sleep 30 & wait`)
	leader.expect(t, "leading ingest leader", 30*time.Second)
	if err := leader.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := leader.wait(t, 30*time.Second); code != 0 {
		t.Errorf("leader exited %d after SIGTERM, want its command's 0", code)
	}
	r := run(t, "status", "ingest leader", "--container", c, "--json")
	var st namedStatus
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Held || st.Holder != "cand-a" || st.Term != 1 {
		t.Errorf("status after resigning = %+v (%v), want released by cand-a at term 1", st, err)
	}
}

// TestNamedLockUsageErrors: bad --container values and lock names are
// usage errors naming what was wrong; no storage call is made.
func TestNamedLockUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give []string
		want string
	}{
		{give: []string{"lock", "x", "--container", "Bad_C", "--", "true"}, want: `--container "Bad_C": want only lower-case`},
		{give: []string{"lock", "", "--container", "good-c", "--", "true"}, want: "lock name"},
		{give: []string{"lock", strings.Repeat("n", 257), "--container", "good-c", "--", "true"}, want: "want at most 256 bytes"},
		{give: []string{"lock", "bad\xff", "--container", "good-c", "--", "true"}, want: "valid UTF-8"},
		{give: []string{"lock", "--container", "good-c", "--", "true"}, want: "missing lock NAME"},
		{give: []string{"status", "--container", "Bad_C"}, want: `--container "Bad_C"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			r := run(t, tt.give...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want %d and one line saying %q", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}
