package examples_test

import (
	"strings"
	"testing"
	"time"
)

// TestDemo runs the whole demo (about 20 s): a leader, a SIGKILL, a
// failover, a clean stop.
func TestDemo(t *testing.T) {
	t.Parallel()
	connString(t)
	bin := build(t, "demo")
	name := uniqueName(t, "demo")
	deleteContainers(t, name)

	p := start(t, "demo", bin, "--container", name, "--hold", "1s")
	if err := p.wait(90 * time.Second); err != nil {
		t.Fatalf("demo: %v, want exit status 0", err)
	}
	out := strings.Join(p.output(), "\n")
	for _, want := range []string{
		"elected leader, term 1",
		"with SIGKILL",
		"elected leader, term 2",
		"demo: failover took",
		"demo: done: every candidate has exited",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}

func TestDemoHelp(t *testing.T) {
	t.Parallel()
	bin := build(t, "demo")
	p := start(t, "demo", bin, "--help")
	if err := p.wait(10 * time.Second); err != nil {
		t.Errorf("demo --help: %v, want exit status 0", err)
	}
	if out := strings.Join(p.output(), "\n"); !strings.Contains(out, "usage: demo") {
		t.Errorf("demo --help printed %q, want the usage", out)
	}
}
