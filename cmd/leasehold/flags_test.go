package main

import (
	"bytes"
	"errors"
	"flag"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// These tests need no storage.

func TestParseDuration(t *testing.T) {
	tests := []struct {
		give    string
		want    time.Duration
		wantErr string
	}{
		{give: "15s", want: 15 * time.Second},
		{give: "1m30s", want: 90 * time.Second},
		{give: "500ms", want: 500 * time.Millisecond},
		{give: "0", want: 0},
		{give: " 2s ", want: 2 * time.Second},
		{give: "15", wantErr: "want a unit, e.g. 15s"},
		{give: "1.5", wantErr: "want a unit, e.g. 1.5s"},
		{give: "-3", wantErr: "want a unit"},
		{give: "", wantErr: "empty"},
		{give: "soon", wantErr: "not a duration"},
		{give: "15 s", wantErr: "not a duration"},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.give)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("parseDuration(%q) = %v, %v; want an error saying %q", tt.give, got, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.give, got, err, tt.want)
		}
	}
}

func TestFlagErrorDoubleDash(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	var d time.Duration
	durationVar(fs, &d, "lease-duration", time.Second, "")
	fs.Bool("try", false, "")
	for _, args := range [][]string{{"--bogus"}, {"-bogus"}, {"--lease-duration", "15"}, {"--lease-duration"}} {
		err := fs.Parse(args)
		if err == nil {
			t.Fatalf("%v: no error", args)
		}
		msg := flagError(err)
		if !strings.Contains(msg, " --") || strings.Contains(msg, " ---") {
			t.Errorf("%v: %q: want the flag named --name", args, msg)
		}
	}
}

// TestApplyEnv: LEASEHOLD_<FLAG> sets a flag the command line did not; the
// command line wins; a bad value names the variable, and a secret flag's
// value is not quoted.
func TestApplyEnv(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string, *time.Duration, *string) {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(&bytes.Buffer{})
		id := fs.String("id", "", "")
		var d time.Duration
		durationVar(fs, &d, "lease-duration", 15*time.Second, "")
		cs := fs.String("connection-string", "", "")
		return fs, id, &d, cs
	}
	t.Setenv("LEASEHOLD_ID", "from-env")
	t.Setenv("LEASEHOLD_LEASE_DURATION", "30s")
	fs, id, d, _ := newFS()
	if err := fs.Parse([]string{"--id", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	from, err := applyEnv("lock", fs)
	if err != nil || *id != "from-flag" || *d != 30*time.Second || from["lease-duration"] != "LEASEHOLD_LEASE_DURATION" || from["id"] != "" {
		t.Errorf("id %q, duration %v, from %v, %v; want the flag's id and the variable's duration", *id, *d, from, err)
	}

	t.Setenv("LEASEHOLD_LEASE_DURATION", "15")
	fs, _, _, _ = newFS()
	_ = fs.Parse(nil)
	_, err = applyEnv("lock", fs)
	var f *failure
	if !errors.As(err, &f) || f.code != exitUsage || !strings.Contains(f.msg, "$LEASEHOLD_LEASE_DURATION \"15\"") || !strings.Contains(f.msg, "want a unit") {
		t.Errorf("bad LEASEHOLD_LEASE_DURATION: %v; want a usage error naming the variable and the reason", err)
	}

	t.Setenv("LEASEHOLD_LEASE_DURATION", "")
	t.Setenv("LEASEHOLD_ID", "")
	t.Setenv("LEASEHOLD_CONNECTION_STRING", "AccountKey=c2VjcmV0")
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Var(refuse{}, "connection-string", "")
	_, err = applyEnv("lock", fs)
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") || !strings.Contains(err.Error(), "$LEASEHOLD_CONNECTION_STRING") {
		t.Errorf("bad LEASEHOLD_CONNECTION_STRING: %v; want the variable named and its value not shown", err)
	}

	// Inside a command leasehold runs, LEASEHOLD_CONTAINER is what
	// leasehold told it, not a setting.
	t.Setenv("LEASEHOLD_CONNECTION_STRING", "")
	t.Setenv("LEASEHOLD_CONTAINER", "outer")
	t.Setenv("LEASEHOLD_TERM", "3")
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	c := fs.String("container", "", "")
	if _, err := applyEnv("lock", fs); err != nil || *c != "" {
		t.Errorf("container %q, %v; want LEASEHOLD_CONTAINER ignored under LEASEHOLD_TERM", *c, err)
	}
}

type refuse struct{}

func (refuse) String() string     { return "" }
func (refuse) Set(s string) error { return errors.New("malformed") }

func TestCheckAccountURL(t *testing.T) {
	tests := []struct {
		give    string
		wantErr string
	}{
		{give: "https://acct.blob.core.windows.net"},
		{give: "http://127.0.0.1:10000/devstoreaccount1"},
		{give: "http://localhost:10000/devstoreaccount1"},
		{give: "http://[::1]:10000/devstoreaccount1"},
		{give: "http://acct.blob.core.windows.net", wantErr: "clear text"},
		{give: "http://10.0.0.5:10000/x", wantErr: "clear text"},
		{give: "http://127.0.0.1.example.com/x", wantErr: "clear text"},
		{give: "ftp://acct", wantErr: "want https://"},
		{give: "acct.blob.core.windows.net", wantErr: "want https://"},
	}
	for _, tt := range tests {
		err := checkAccountURL(tt.give)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("checkAccountURL(%q) = %v, want error %q", tt.give, err, tt.wantErr)
		}
	}
}

func TestVersionText(t *testing.T) {
	v := versionText()
	if !strings.HasPrefix(v, "leasehold ") || !strings.Contains(v, runtime.Version()) {
		t.Errorf("versionText() = %q, want leasehold's version and %s", v, runtime.Version())
	}
}

// TestOwner: a lease with no leasehold term is not named after anyone; a
// heartbeat that stopped is doubted; a breaking infinite lease is neither
// infinite nor fixed.
func TestOwner(t *testing.T) {
	date := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name                       string
		give                       renewer.Status
		wantOwner, wantDur, wantIn string
	}{
		{name: "leasehold", give: renewer.Status{State: renewer.StateLeased, Holder: "w1", Term: 3, LastModified: date.Add(-time.Hour), Date: date},
			wantOwner: "leasehold", wantDur: "fixed", wantIn: "leased by w1 (term 3, fixed lease, term written 1h0m0s ago)"},
		{name: "no term", give: renewer.Status{State: renewer.StateLeased, Infinite: true},
			wantOwner: "unknown", wantDur: "infinite", wantIn: "not leasehold, or by leasehold before it wrote its term"},
		{name: "holder without term", give: renewer.Status{State: renewer.StateLeased, Holder: "w1"},
			wantOwner: "unknown", wantDur: "fixed", wantIn: "not leasehold"},
		{name: "heartbeat stopped", give: renewer.Status{State: renewer.StateLeased, Infinite: true, Holder: "w1", Term: 2, Heartbeat: 9,
			LastModified: date.Add(-10 * time.Minute), Date: date},
			wantOwner: "stale", wantDur: "infinite", wantIn: "heartbeat of w1 (term 2) stopped 10m0s ago"},
		{name: "heartbeat fresh", give: renewer.Status{State: renewer.StateLeased, Infinite: true, Holder: "w1", Term: 2, Heartbeat: 9,
			LastModified: date.Add(-5 * time.Second), Date: date},
			wantOwner: "leasehold", wantDur: "infinite", wantIn: "leased by w1 (term 2, infinite lease, heartbeat 9, last heartbeat 5s ago)"},
		{name: "breaking infinite", give: renewer.Status{State: renewer.StateBreaking, Infinite: true, Holder: "w1", Term: 2},
			wantOwner: "leasehold", wantDur: "", wantIn: "breaking: the lease of w1 (term 2) is being broken"},
		{name: "released", give: renewer.Status{State: renewer.StateAvailable, Holder: "w1", Term: 2},
			wantOwner: "", wantDur: "", wantIn: "available; last held by w1 (term 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := statusOf("c", "", tt.give)
			var b bytes.Buffer
			printStatus(&b, "c", out)
			if out.Owner != tt.wantOwner || out.Duration != tt.wantDur || !strings.Contains(b.String(), tt.wantIn) || (out.Infinite && tt.wantDur != "infinite") {
				t.Errorf("owner %q, duration %q, infinite %v, printed %q; want %q, %q, printed with %q", out.Owner, out.Duration, out.Infinite, b.String(), tt.wantOwner, tt.wantDur, tt.wantIn)
			}
			if tt.wantOwner == "unknown" && strings.Contains(heldBy(out), "w1") {
				t.Errorf("heldBy = %q names the last leasehold holder as holder", heldBy(out))
			}
		})
	}
}

func TestSameHolding(t *testing.T) {
	a := statusOf("c", "", renewer.Status{State: renewer.StateLeased, Holder: "w1", Term: 3, Heartbeat: 1})
	b := statusOf("c", "", renewer.Status{State: renewer.StateLeased, Holder: "w1", Term: 3, Heartbeat: 2})
	if !sameHolding(a, b) {
		t.Error("a heartbeat counts as a change")
	}
	for _, c := range []renewer.Status{
		{State: renewer.StateBreaking, Holder: "w1", Term: 3},
		{State: renewer.StateLeased, Holder: "w2", Term: 4},
		{State: renewer.StateLeased, Holder: "w1", Term: 3, Payload: "10.0.0.1:80"},
		{State: renewer.StateAvailable, Holder: "w1", Term: 3},
	} {
		if sameHolding(a, statusOf("c", "", c)) {
			t.Errorf("%+v: not a change", c)
		}
	}
}
