package main_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHandOverAfterTakeOver runs what a rolling deploy after a crash does
// to three candidates of `leasehold elect` at the default profile: the
// leader is killed with SIGKILL, another takes over when its lease
// expires, and that new leader is then stopped with SIGTERM at once. The
// third must lead within 2 s of the SIGTERM: it holds the other
// next-in-line seat and already polls. (With a single seat, that seat is
// empty right after the take-over, and the hand-over waited for the third
// candidate's slow reads: 11 to 18 s measured.)
func TestHandOverAfterTakeOver(t *testing.T) {
	t.Parallel()
	name := uniqueName(t, "handover")
	type line struct {
		id   string
		text string
		at   time.Time
	}
	lines := make(chan line, 100)
	cands := map[string]*background{}
	for i := range 3 {
		id := fmt.Sprintf("cand-%d", i)
		b := start(t, "elect", name, "--id", id, "--",
			"sh", "-c", `trap "exit 0" TERM; echo "leading $LEASEHOLD_IDENTITY"; sleep 60 & wait`)
		cands[id] = b
		go func() {
			for l := range b.lines {
				lines <- line{id, l, time.Now()}
			}
		}()
	}
	// leading waits, bounded, for the next "leading" line.
	leading := func(within time.Duration) line {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case l := <-lines:
				if strings.HasPrefix(l.text, "leading ") {
					return l
				}
			case <-deadline:
				t.Fatalf("nobody led within %v", within)
			}
		}
	}
	first := leading(30 * time.Second)
	time.Sleep(3 * time.Second) // the standbys take their seats
	killed := time.Now()
	if err := cands[first.id].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := leading(45 * time.Second)
	if second.id == first.id {
		t.Fatalf("%s led again after it was killed", second.id)
	}
	t.Logf("%s killed; %s led %v later", first.id, second.id, second.at.Sub(killed).Round(time.Millisecond))
	stopped := time.Now()
	if err := cands[second.id].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	third := leading(2 * time.Minute)
	gap := third.at.Sub(stopped)
	t.Logf("%s stopped with SIGTERM right after it took over; %s led %v later", second.id, third.id, gap.Round(time.Millisecond))
	if third.id == first.id || third.id == second.id {
		t.Fatalf("%s led, want the third candidate", third.id)
	}
	if gap > 2*time.Second {
		t.Errorf("hand-over right after a take-over took %v, want at most 2 s", gap.Round(time.Millisecond))
	}
	if code := cands[second.id].wait(t, 30*time.Second); code != 0 {
		t.Errorf("the stopped leader exited %d, want 0 (its command's)", code)
	}
}
