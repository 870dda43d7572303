package main

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeElection is an election in memory for the rollout sections' tests:
// candidates queue in the order they started; a graceful stop of the
// leader hands the lead to the first in the queue after handover, a
// crash after expiry. The first in the queue holds the one seat.
type fakeElection struct {
	handover, expiry time.Duration
	tl               *timeline

	mu     sync.Mutex // guards the fields below
	queue  []*fakeMember
	leader *fakeMember
	killed []string
	stops  int // graceful stops of a leader
}

type fakeMember struct {
	e   *fakeElection
	who string
	n   int64 // its calls
}

func (e *fakeElection) system() system {
	return system{Name: "fake", Setting: settingDefaults,
		newMember: func(_ context.Context, _, who string, tl *timeline) (member, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.tl = tl
			m := &fakeMember{e: e, who: who}
			if e.leader == nil && len(e.queue) == 0 {
				e.leader = m
				tl.elected(who, time.Now())
			} else {
				e.queue = append(e.queue, m)
			}
			return m, nil
		}}
}

// promoteLocked makes the first in the queue the leader after d.
func (e *fakeElection) promoteLocked(d time.Duration) {
	e.leader = nil
	time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.leader == nil && len(e.queue) > 0 {
			e.leader, e.queue = e.queue[0], e.queue[1:]
			e.tl.elected(e.leader.who, time.Now())
		}
	})
}

func (m *fakeMember) leave(d time.Duration) {
	e := m.e
	e.mu.Lock()
	defer e.mu.Unlock()
	m.n += 3
	if e.leader == m {
		e.tl.ended(m.who, time.Now())
		if d == e.handover {
			e.stops++
		}
		e.promoteLocked(d)
		return
	}
	e.queue = slices.DeleteFunc(e.queue, func(x *fakeMember) bool { return x == m })
}

func (m *fakeMember) stop() (int64, error) {
	m.leave(m.e.handover)
	m.e.mu.Lock()
	defer m.e.mu.Unlock()
	return m.n, nil
}

func (m *fakeMember) kill() {
	m.e.mu.Lock()
	m.e.killed = append(m.e.killed, m.who)
	m.e.mu.Unlock()
	m.leave(m.e.expiry)
}

// calls counts itself: one call.
func (m *fakeMember) calls() (int64, error) {
	m.e.mu.Lock()
	defer m.e.mu.Unlock()
	m.n++
	return m.n, nil
}

func (m *fakeMember) nextInLine() (bool, error) {
	m.e.mu.Lock()
	defer m.e.mu.Unlock()
	return len(m.e.queue) > 0 && m.e.queue[0] == m, nil
}

func testRollOptions() rollOptions {
	return rollOptions{Rollouts: 3, Lanes: 1, Candidates: 4, GapRuns: 1, GapCands: 4, Down: 5 * time.Second, Up: 5 * time.Second,
		Settle: 10 * time.Second, Jitter: 30 * time.Second, Pause: 5 * time.Second, PauseRand: 2 * time.Second, Timeout: time.Minute}
}

// Each graceful stop of a leader in a rollout is one hand-over without a
// leader; nothing else is; every incarnation's calls are counted.
func TestRollLane(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := &fakeElection{handover: 700 * time.Millisecond, expiry: 15 * time.Second}
		o := testRollOptions()
		o.Rollouts = 6
		ss, err := rollLane(t.Context(), e.system(), "fake", o.Rollouts, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != o.Rollouts {
			t.Fatalf("%d samples, want %d", len(ss), o.Rollouts)
		}
		var sum time.Duration
		for i, s := range ss {
			sum += time.Duration(s.LeaderlessS * float64(time.Second))
			if s.LeaderlessS < 0.7 || s.LongestS != 0.7 {
				t.Errorf("rollout %d: leaderless %v s, longest %v s; want at least one hand-over of 0.7 s, the longest 0.7 s", i, s.LeaderlessS, s.LongestS)
			}
			if s.LeaderPos < 1 || s.LeaderPos > o.Candidates {
				t.Errorf("rollout %d: leader position %d", i, s.LeaderPos)
			}
			// Each old incarnation makes 3 calls between the count at the
			// start and its stop; each new one, 1 (the count at the end).
			if s.Calls != 16 {
				t.Errorf("rollout %d: %d calls, want 16", i, s.Calls)
			}
			// 4 × 5 s down, 3 × 5 s up between them; a leader at the
			// last restart (one that went last handed over while down).
			if s.DurationS != 35 {
				t.Errorf("rollout %d: duration %v s, want 35 s", i, s.DurationS)
			}
		}
		// The lane's end stops the last leader, outside any rollout.
		if want := time.Duration(e.stops-1) * e.handover; sum != want {
			t.Errorf("leaderless in all %v, want %d hand-overs of %v: %v", sum, e.stops-1, e.handover, want)
		}
	})
}

func TestCrashResignOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := &fakeElection{handover: 400 * time.Millisecond, expiry: 15 * time.Second}
		first, gap, err := crashResignOnce(t.Context(), e.system(), "fake", testRollOptions())
		if err != nil {
			t.Fatal(err)
		}
		if first != 15*time.Second || gap != 400*time.Millisecond {
			t.Fatalf("first %v, gap %v; want 15s, 400ms", first, gap)
		}
	})
}

// The second victim is the seat holder (the first in the queue), so the
// next leader is the one after it.
func TestTwoCrashesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := &fakeElection{handover: 400 * time.Millisecond, expiry: 15 * time.Second}
		_, gap, err := twoCrashesOnce(t.Context(), e.system(), "fake", testRollOptions())
		if err != nil {
			t.Fatal(err)
		}
		if gap != 15*time.Second {
			t.Fatalf("gap %v, want 15s", gap)
		}
		slices.Sort(e.killed)
		if !slices.Equal(e.killed, []string{"c0-1", "c1-1"}) {
			t.Fatalf("killed %v, want the leader c0-1 and the seat holder c1-1", e.killed)
		}
	})
}
