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
//     until the holder has locked again (or for a few seconds), then lands;
//   - lost acquire answer: storage grants a waiter's acquire and the answer
//     is lost (reset) or comes after the call timeout; the waiter's release
//     of the uncertain acquire is held until it has acquired again, then
//     lands;
//   - late term write: a new holder's first term write is held (it retries
//     and becomes holder), the lock goes round until that process holds
//     again, then the old write lands, and the lock is handed on.
//
// A late release that frees a later holding makes two live holders; a late
// term write that lands in a later holding makes terms go backwards. Both
// are violations of the checker. With a fresh lease ID per holding the late
// requests find a lease they cannot touch (409/412) and cost only time.
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
		lateRelease(t, s)
		answerAfter := time.Duration(0) // odd runs: the answer is lost; even runs: it comes late
		if run%2 == 0 {
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

// lateRelease: the holder unlocks and its release is held until it has
// locked again (with one lease ID per process it can: storage still holds
// the lease under that ID), then lands.
func lateRelease(t *testing.T, s *fault.Scenario) {
	h := settle(t, s)
	before, _ := h.Link.LateStats()
	h.Link.DelayReleases(true)
	from := fault.Now()
	h.Resign()
	if !waitHeld(h, before+1, 10*time.Second) {
		t.Fatalf("%s: no release held within 10 s of unlocking", h.ID)
	}
	held := fault.Now()
	// Unlock waits out the release's call timeout, the holder pauses 1 s
	// and locks again: about 3.6 s. Give it 6.
	again, relocked := electedBy(s, h.ID, from, 6*time.Second)
	landed := h.Link.FlushDelayed(10 * time.Second)
	h.Link.DelayReleases(false)
	flushed := fault.Now()
	next, ok := electedBy(s, "", flushed, timing.Duration+timing.Poll+slack)
	t.Logf("late release: %s relocked while its release was held: %v (term %d, %v after the hold); the release landed %v after it was sent: %v; next term %d by %s %v after",
		h.ID, relocked, again.Term, d(again.T-held), d(flushed-held), landed, next.Term, next.Proc, d(next.T-flushed))
	if !ok {
		t.Errorf("no holder within L + P + slack of the late release landing")
	}
}

// lostAcquireAnswer: the holder unlocks; the waiter's acquire is granted and
// its answer lost or late; the waiter releases its uncertain acquire, and
// that release is held until the waiter has acquired again, then lands.
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
	if !waitHeld(w, heldBefore+1, answerAfter+10*time.Second) {
		_, lost := w.Link.LateStats()
		t.Logf("lost acquire answer: step skipped: %s's link held no release (answers lost: %d); holders %v",
			w.ID, lost-lostBefore, holders(s))
		w.Link.FlushDelayed(10 * time.Second)
		return
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
	t.Logf("lost acquire answer (answer after %v; 0 = reset): %d answers withheld; %s acquired again while its release was held: %v (term %d); the release landed %v after it was sent: %v; next term %d by %s %v after",
		answerAfter, lost-lostBefore, w.ID, reacquired, again.Term, d(flushed-held), landed, next.Term, next.Proc, d(next.T-flushed))
	if !ok {
		t.Errorf("no holder within L + P + slack of the late release landing")
	}
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
	t.Logf("late term write: %s's first term %d; it held again with term %d when its held write landed: %v; next term %d by %s",
		v.ID, first.Term, cur.Term, landed, next.Term, next.Proc)
	if !ok {
		t.Errorf("no holder within 10 s of the late term write landing")
	}
	time.Sleep(time.Second) // the next holder writes to the fence
}
