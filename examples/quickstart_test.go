package examples_test

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// says reports whether p printed a line containing s.
func says(p *proc, s string) bool {
	for _, l := range p.output() {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestQuickstartElection runs the README's election quick start twice:
// one leads; stopped with SIGTERM, it resigns, and the other leads.
func TestQuickstartElection(t *testing.T) {
	t.Parallel()
	connString(t)
	deleteContainers(t, "quickstart-leader")
	bin := build(t, "quickstart/election")
	a, b := start(t, "a", bin), start(t, "b", bin)
	eventually(t, 150, 100*time.Millisecond, "one copy leading", func() bool { return says(a, "leading, term") || says(b, "leading, term") })
	leader, other := a, b
	if !says(a, "leading, term") {
		leader, other = b, a
	}
	if err := leader.stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("the leader did not exit cleanly on SIGTERM: %v", err)
	}
	eventually(t, 50, 100*time.Millisecond, "the other copy leading within 5 s of the leader's exit", func() bool { return says(other, "leading, term") })
	if err := other.stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("the second leader did not exit cleanly on SIGTERM: %v", err)
	}
}

// TestQuickstartMutex runs the README's mutex quick start twice at once:
// both hold the lock, one after the other.
func TestQuickstartMutex(t *testing.T) {
	t.Parallel()
	connString(t)
	deleteContainers(t, "quickstart-lock")
	bin := build(t, "quickstart/mutex")
	a, b := start(t, "a", bin), start(t, "b", bin)
	for _, p := range []*proc{a, b} {
		if err := p.wait(40 * time.Second); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
	}
	for _, p := range []*proc{a, b} {
		if !says(p, "holding the lock, term") || !says(p, "done") {
			t.Errorf("%s did not hold the lock and finish: %q", p.name, p.output())
		}
	}
}
