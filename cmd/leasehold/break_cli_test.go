package main_test

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBreakSaysWhatHappens: break on a live leasehold holder says when the
// holder will notice and when others can take the lock, and it is so: the
// lock is free within the time said (the holder releases once its renew
// fails), not only when the break completes.
func TestBreakSaysWhatHappens(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "brkmsg")
	holder := start(t, "lock", name, "--id", "victim", "--", "sh", "-c", "echo held; sleep 60")
	holder.expect(t, "held", 30*time.Second)

	r := run(t, "break", name)
	brokeAt := time.Now()
	if r.code != 0 || strings.Contains(r.stderr, "no one can take it for") {
		t.Fatalf("break: exit %d, stderr %q; want 0, without claiming no one can take it for the whole break", r.code, r.stderr)
	}
	m := regexp.MustCompile(`victim notices at its next renew, within about ([0-9]+s), and releases the lease: others can take it from then, ` +
		`at the latest in ([0-9.]+s), when the break completes\. A leader under 'leasehold elect'.* stands aside for 3 poll intervals`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("break said %q; want when the holder notices, when others can take it, and the stand-aside", r.stderr)
	}
	notice, _ := time.ParseDuration(m[1])
	latest, _ := time.ParseDuration(m[2])
	if notice <= 0 || notice > latest {
		t.Errorf("break said notice within %v, at the latest %v", notice, latest)
	}
	var freeAfter time.Duration
	for range 60 {
		if st := statusOf(t, name); !st.Held {
			freeAfter = time.Since(brokeAt)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The holder's renew plus its release, and one status round trip.
	if freeAfter == 0 || freeAfter > notice+2*time.Second {
		t.Errorf("the lock was free %v after the break; break said the holder notices within about %v", freeAfter, notice)
	}
	if code := holder.wait(t, 30*time.Second); code != exitLost {
		t.Errorf("holder exited %d, want %d", code, exitLost)
	}
}

// TestBrokenElectLeaderStandsAside: breaking the lease of an 'elect'
// leader makes another live candidate lead, not the broken one again.
func TestBrokenElectLeaderStandsAside(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "brkelect")
	a := start(t, "elect", name, "--id", "a", "--", "sh", "-c", "echo led-a; sleep 120")
	a.expect(t, "led-a", 30*time.Second)
	b := start(t, "elect", name, "--id", "b", "--", "sh", "-c", "echo led-b; sleep 120")
	time.Sleep(2 * time.Second) // b campaigns
	if r := run(t, "break", name); r.code != 0 {
		t.Fatalf("break: exit %d: %s", r.code, r.stderr)
	}
	b.expect(t, "led-b", 30*time.Second)
	const aside = "the lease was broken: campaigning again after standing aside for 2.25s"
	for i := 0; i < 40 && !strings.Contains(a.stderr.String(), aside); i++ {
		time.Sleep(250 * time.Millisecond)
	}
	if !strings.Contains(a.stderr.String(), aside) {
		t.Errorf("a's stderr does not say it stands aside:\n%s", a.stderr.String())
	}
	time.Sleep(3 * time.Second) // past a's stand-aside: b leads, a waits
	select {
	case line := <-a.lines:
		t.Errorf("a printed %q after its lease was broken: it led again instead of b", line)
	default:
	}
}
