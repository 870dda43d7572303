package fault_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/leasehold/leasehold/integration/fault"
)

// Scenario 8: late delivery. Two lock holders (mutex mode, each holding
// until told to unlock) whose HTTP path to storage delays requests and
// loses answers, so that a request of an earlier holding reaches storage
// during a later holding of the same process:
//
//   - late release: the holder unlocks, its release is held by the link
//     until a later holding is live (odd runs) or for 3 s (even runs), then
//     lands;
//   - lost acquire answer: storage grants a waiter's acquire and the answer
//     is lost (reset, odd runs) or comes after the call timeout (even runs);
//     if the waiter releases the uncertain acquire, that release is held
//     until the waiter has acquired again, then lands;
//   - late term write: a new holder's first term write is held (it retries
//     and becomes holder), the lock goes round until that process holds
//     again, then the old write lands, and the lock is handed on.
//
// With one lease ID per process (an earlier design) a late release frees
// a later holding of the same process: two live holders for up to a renew
// interval; and a late term write lands in a later holding: the next
// holder's term is lower than the one before. The checker reports both
// (overlap, term-order). With a fresh lease ID per holding a late request
// finds the lease under another ID (409/412) or ends only the holding it
// belongs to, which nobody holds any more: it costs time, never safety.
func TestLateDelivery(t *testing.T) {
	repeat(t, "8 late delivery", runs(1, 4), func(t *testing.T, s *fault.Scenario) time.Duration {
		run := lateRun(t.Name())
		args := []string{"-hold-min", "10m", "-hold-max", "10m", "-relock-after", "1s"}
		from := fault.Now()
		s.Start("m1", "mutex", args...)
		s.Start("m2", "mutex", args...)
		if _, ok := s.WaitElected(from, "", 30*time.Second); !ok {
			t.Fatal("no holder within 30 s of starting the holders")
		}
		// Odd runs (the short form is run 1): the release lands during a
		// later holding, the acquire's answer is lost. Even runs: the
		// release lands 3 s late, the answer 4 s late.
		odd := run%2 == 1
		lateRelease(t, s, odd)
		answerAfter := time.Duration(0)
		if !odd {
			answerAfter = 4 * time.Second
		}
		lostAcquireAnswer(t, s, answerAfter)
		lateTermWrite(t, s)
		return 0
	})
}

// lateRun returns the run number in a subtest name ending in run-N.
func lateRun(name string) int {
	var n int
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '-' {
			_, _ = fmt.Sscanf(name[i+1:], "%d", &n)
			break
		}
	}
	return n
}

// holders returns the processes whose latest term is live in the history.
func holders(s *fault.Scenario) []string {
	live := map[string]bool{}
	for _, e := range s.History() {
		switch e.Kind {
		case fault.KindElected:
			live[e.Proc] = true
		case fault.KindLost, fault.KindKilled:
			delete(live, e.Proc)
		}
	}
	var out []string
	for _, id := range []string{"m1", "m2"} {
		if live[id] {
			out = append(out, id)
		}
	}
	return out
}

// settle waits until exactly one process holds (a holder a late request
// deposed finds out at its next renew, within R) and returns it.
func settle(t *testing.T, s *fault.Scenario) *fault.Proc {
	t.Helper()
	limit := timing.Duration + timing.Poll + slack
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if h := holders(s); len(h) == 1 {
			return s.Proc(h[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no single holder within %v: holders %v", limit, holders(s))
	return nil
}

func otherOf(s *fault.Scenario, p *fault.Proc) *fault.Proc {
	if p.ID == "m1" {
		return s.Proc("m2")
	}
	return s.Proc("m1")
}

// electedBy waits (at most timeout) for a term won by proc ("" for anyone)
// after `after`.
func electedBy(s *fault.Scenario, proc string, after int64, timeout time.Duration) (fault.Event, bool) {
	return s.WaitFor(after, timeout, func(e fault.Event) bool {
		return e.Kind == fault.KindElected && (proc == "" || e.Proc == proc)
	})
}

// findElected returns the first term won by proc after `after` in the
// history so far.
func findElected(s *fault.Scenario, proc string, after int64) (fault.Event, bool) {
	for _, e := range s.History() {
		if e.T > after && e.Kind == fault.KindElected && e.Proc == proc {
			return e, true
		}
	}
	return fault.Event{}, false
}

// waitHeld waits until p's link has held n requests in all, for at most
// timeout.
func waitHeld(p *fault.Proc, n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if held, _ := p.Link.LateStats(); held >= n {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// lateRelease: the holder unlocks and its release is held. With untilLater
// the release lands once a later holding is live: with one lease ID per
// process the holder itself locks again within seconds (storage still holds
// the lease under that ID); with a fresh ID per holding, whoever acquires
// once the old lease has expired. Otherwise it lands 3 s late, after the
// holder's call has given up.
func lateRelease(t *testing.T, s *fault.Scenario, untilLater bool) {
	h := settle(t, s)
	before, _ := h.Link.LateStats()
	h.Link.DelayReleases(true)
	defer h.Link.DelayReleases(false)
	from := fault.Now()
	h.Resign()
	if !waitHeld(h, before+1, 10*time.Second) {
		t.Fatalf("%s: no release held within 10 s of unlocking", h.ID)
	}
	held := fault.Now()
	later := "none"
	if untilLater {
		e, ok := electedBy(s, "", from, timing.Duration+timing.Poll+slack)
		if !ok {
			t.Fatalf("late release: no later holding within L + P + slack of %s unlocking", h.ID)
		}
		later = fmt.Sprintf("term %d by %s, %v after the release was held", e.Term, e.Proc, d(e.T-held))
	} else {
		time.Sleep(3 * time.Second)
	}
	landed := h.Link.FlushDelayed(10 * time.Second)
	h.Link.DelayReleases(false)
	flushed := fault.Now()
	limit := 3 * time.Second // with untilLater, a holder is live already
	if !untilLater {
		limit = timing.Duration + timing.Poll + slack
	}
	next, ok := electedBy(s, "", flushed, limit)
	after := "none"
	if ok {
		after = fmt.Sprintf("term %d by %s, %v later", next.Term, next.Proc, d(next.T-flushed))
	}
	t.Logf("late release of %s (until a later holding: %v): later holding: %s; the release landed %v late: %v; next holding: %s",
		h.ID, untilLater, later, d(flushed-held), landed, after)
	if !ok && !untilLater {
		t.Errorf("no holder within L + P + slack of the late release landing")
	}
}

// lostAcquireAnswer: the holder unlocks; the waiter's acquire is granted and
// its answer lost or late. A waiter that releases its uncertain acquire has
// that release held until it has acquired again, then landing; a waiter
// that retries the same acquire (same lease ID) simply holds.
func lostAcquireAnswer(t *testing.T, s *fault.Scenario, answerAfter time.Duration) {
	h := settle(t, s)
	w := otherOf(s, h)
	heldBefore, lostBefore := w.Link.LateStats()
	w.Link.LoseAcquireAnswers(1, answerAfter)
	w.Link.DelayReleases(true)
	defer w.Link.DelayReleases(false)
	defer w.Link.LoseAcquireAnswers(0, 0)
	from := fault.Now()
	h.Resign()
	// Either the waiter gives the uncertain acquire up and releases it
	// (held by the link), or it retries the same acquire and holds.
	deadline := time.Now().Add(answerAfter + 10*time.Second)
	for {
		if n, _ := w.Link.LateStats(); n > heldBefore {
			break
		}
		if e, ok := findElected(s, w.ID, from); ok {
			_, lost := w.Link.LateStats()
			t.Logf("lost acquire answer (%s): %d answers withheld; %s retried the same acquire, sent no release, and holds term %d, %v after the unlock",
				answerMode(answerAfter), lost-lostBefore, w.ID, e.Term, d(e.T-from))
			return
		}
		if time.Now().After(deadline) {
			_, lost := w.Link.LateStats()
			t.Logf("lost acquire answer: step skipped: %s neither released nor acquired (answers withheld: %d); holders %v",
				w.ID, lost-lostBefore, holders(s))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	held := fault.Now()
	// The release of the uncertain acquire waits out its call timeout, the
	// waiter polls and acquires again: about 3 s. Give it 6.
	again, reacquired := electedBy(s, w.ID, from, d(held-from)+6*time.Second)
	landed := w.Link.FlushDelayed(10 * time.Second)
	w.Link.DelayReleases(false)
	flushed := fault.Now()
	next, ok := electedBy(s, "", flushed, timing.Duration+timing.Poll+slack)
	_, lost := w.Link.LateStats()
	reacquire := "no"
	if reacquired {
		reacquire = fmt.Sprintf("yes, term %d", again.Term)
	}
	t.Logf("lost acquire answer (%s): %d answers withheld; %s released the uncertain acquire and acquired again while that release was held: %s; the release landed %v late: %v; next term %d by %s, %v later",
		answerMode(answerAfter), lost-lostBefore, w.ID, reacquire, d(flushed-held), landed, next.Term, next.Proc, d(next.T-flushed))
	if !ok {
		t.Errorf("no holder within L + P + slack of the late release landing")
	}
}

func answerMode(after time.Duration) string {
	if after == 0 {
		return "answer lost: reset"
	}
	return fmt.Sprintf("answer %v late", after)
}

// lateTermWrite: a new holder's first term write is held; it retries and
// holds. The lock goes round until that process holds again, then the held
// write lands, and the lock is handed on: with one lease ID per process the
// write rewrites the term in storage and the next holder's term is lower
// than the one before.
func lateTermWrite(t *testing.T, s *fault.Scenario) {
	h := settle(t, s)
	v := otherOf(s, h)
	heldBefore, _ := v.Link.LateStats()
	v.Link.DelayMetadataWrites(1)
	defer v.Link.DelayMetadataWrites(0)
	from := fault.Now()
	h.Resign()
	first, ok := electedBy(s, v.ID, from, 10*time.Second)
	if held, _ := v.Link.LateStats(); !ok || held == heldBefore {
		t.Logf("late term write: step skipped: %s elected: %v, term writes held: %d; holders %v", v.ID, ok, held-heldBefore, holders(s))
		v.Link.FlushDelayed(10 * time.Second)
		return
	}
	// Hand the lock round until v holds again (bounded).
	cur := first
	for i := 0; i < 4 && (cur.Proc != v.ID || cur.Term == first.Term); i++ {
		p := settle(t, s)
		at := fault.Now()
		p.Resign()
		e, ok := electedBy(s, "", at, 10*time.Second)
		if !ok {
			t.Fatalf("late term write: no holder within 10 s of %s unlocking", p.ID)
		}
		cur = e
	}
	landed := v.Link.FlushDelayed(10 * time.Second)
	flushed := fault.Now()
	p := settle(t, s)
	p.Resign()
	next, ok := electedBy(s, "", flushed, 10*time.Second)
	t.Logf("late term write: %s's first term %d, written by a retry; it held again with term %d when the held write landed: %v; next term %d by %s",
		v.ID, first.Term, cur.Term, landed, next.Term, next.Proc)
	if !ok {
		t.Errorf("no holder within 10 s of the late term write landing")
	}
	time.Sleep(time.Second) // the next holder writes to the fence
}
