package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// span is one candidate incarnation's time leading, on the bench's clock
// (the candidates run on this machine: a child's wall clock is the bench's):
// from its OnElected (client-go: OnStartedLeading; etcd: Campaign
// returning) to the end of that callback's context (etcd: the call to
// Resign; a crash: the kill). A zero end: still leading.
type span struct {
	who        string
	start, end time.Time
}

// timeline is every leading span of one election, as the candidates' own
// callbacks report them. It is safe for concurrent use.
type timeline struct {
	mu      sync.Mutex // guards spans and changed
	spans   []span
	changed chan struct{} // closed and replaced at every change
}

func newTimeline() *timeline { return &timeline{changed: make(chan struct{})} }

func (t *timeline) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// elected opens a span for who at at.
func (t *timeline) elected(who string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.spans = append(t.spans, span{who: who, start: at})
	t.notifyLocked()
}

// ended closes who's open span at at; without an open span it does
// nothing (so a kill may close a span that its callback would close later).
func (t *timeline) ended(who string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.spans) - 1; i >= 0; i-- {
		if t.spans[i].who == who && t.spans[i].end.IsZero() {
			t.spans[i].end = later(at, t.spans[i].start)
			t.notifyLocked()
			return
		}
	}
}

// leader returns whoever holds an open span (the latest to open one).
func (t *timeline) leader() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.spans) - 1; i >= 0; i-- {
		if t.spans[i].end.IsZero() {
			return t.spans[i].who, true
		}
	}
	return "", false
}

func (t *timeline) snapshot() []span {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.spans)
}

// waitFor waits until f, called with the spans under the lock, reports
// true, for up to timeout.
func (t *timeline) waitFor(ctx context.Context, timeout time.Duration, f func([]span) bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		ok, ch := f(t.spans), t.changed
		t.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return fmt.Errorf("not within %v", timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// electedAfter waits for the first span that starts at or after from and
// returns it.
func (t *timeline) electedAfter(ctx context.Context, from time.Time, timeout time.Duration) (span, error) {
	var got span
	err := t.waitFor(ctx, timeout, func(ss []span) bool {
		for _, s := range ss {
			if !s.start.Before(from) && (got.who == "" || s.start.Before(got.start)) {
				got = s
			}
		}
		return got.who != ""
	})
	if err != nil {
		return span{}, fmt.Errorf("no candidate elected: %w", err)
	}
	return got, nil
}

// leadingFrom waits until someone leads at or after at and returns the
// first such moment: at itself if a span covers it, else the start of the
// first span after it.
func (t *timeline) leadingFrom(ctx context.Context, at time.Time, timeout time.Duration) (time.Time, error) {
	var first time.Time
	err := t.waitFor(ctx, timeout, func(ss []span) bool {
		first = time.Time{}
		for _, s := range ss {
			if !s.start.After(at) && (s.end.IsZero() || s.end.After(at)) {
				first = at
				return true
			}
			if s.start.After(at) && (first.IsZero() || s.start.Before(first)) {
				first = s.start
			}
		}
		return !first.IsZero()
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("no candidate leading: %w", err)
	}
	return first, nil
}

// leaderless returns the total time within [from, to] that no span covers
// and the longest such stretch. Open spans run to to; overlapping spans
// (two candidates that both believe they lead, for a moment) count once.
func leaderless(spans []span, from, to time.Time) (total, longest time.Duration) {
	if !to.After(from) {
		return 0, 0
	}
	type iv struct{ a, b time.Time }
	var ivs []iv
	for _, s := range spans {
		end := s.end
		if end.IsZero() || end.After(to) {
			end = to
		}
		start := later(s.start, from)
		if end.After(start) {
			ivs = append(ivs, iv{start, end})
		}
	}
	slices.SortFunc(ivs, func(x, y iv) int { return x.a.Compare(y.a) })
	gap := func(a, b time.Time) {
		if d := b.Sub(a); d > 0 {
			total += d
			longest = max(longest, d)
		}
	}
	covered := from // everything before covered is accounted for
	for _, v := range ivs {
		if v.a.After(covered) {
			gap(covered, v.a)
		}
		covered = later(covered, v.b)
	}
	gap(covered, to)
	return total, longest
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
