package election_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Timing of the unit tests: the defaults (L = 15 s, R = 5 s, P = renewer.DefaultPollInterval), on
// synctest's fake clock.
const (
	leaseL = 15 * time.Second
	pollP  = renewer.DefaultPollInterval
)

// newCandidate returns a candidate on c, logging to t.
func newCandidate(t *testing.T, c *leasetest.Container, id string, opts ...election.Option) *election.Election {
	t.Helper()
	opts = append([]election.Option{election.WithLogger(zaptest.NewLogger(t))}, opts...)
	e, err := election.New(c, id, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", id, err)
	}
	return e
}

// recorder records callbacks as events, in the order they happen, and
// each term's time as leader, for the overlap check.
type recorder struct {
	t *testing.T

	mu      sync.Mutex // guards the fields below
	events  []event
	running map[string]bool // candidates whose OnElected runs
	terms   []*holding      // every term led, in the order OnElected began
}

// event is one callback call, or the return of OnElected ("returned").
type event struct {
	id   string // the candidate
	what string // "new-leader", "elected", "returned", "demoted"
	who  string // new-leader: the leader's identity
	term int64
}

func (e event) String() string {
	switch e.what {
	case "new-leader":
		return fmt.Sprintf("%s: new-leader %q %d", e.id, e.who, e.term)
	case "elected", "returned":
		return fmt.Sprintf("%s: %s %d", e.id, e.what, e.term)
	}
	return e.id + ": " + e.what
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, running: map[string]bool{}}
}

func (r *recorder) add(ev event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// callbacks returns the callbacks of candidate e. work runs inside
// OnElected; nil means wait for ctx. A term counts as led from the start
// of OnElected until it returns or the leadership's validity deadline,
// whichever comes first (see overlaps).
func (r *recorder) callbacks(e *election.Election, work func(ctx context.Context, term int64)) election.Callbacks {
	id := e.Identity()
	return election.Callbacks{
		OnNewLeader: func(who string, term int64) {
			r.add(event{id: id, what: "new-leader", who: who, term: term})
		},
		OnElected: func(ctx context.Context, term int64) {
			h := &holding{who: fmt.Sprintf("%s term %d", id, term), start: now()}
			if ld := e.Leadership(); ld != nil {
				h.deadline = ld.Deadline
			} else {
				h.deadline = func() time.Time { return h.start.at } // ended before OnElected began
			}
			r.mu.Lock()
			if r.running[id] {
				r.t.Errorf("%s: OnElected while its previous OnElected runs", id)
			}
			r.running[id] = true
			r.terms = append(r.terms, h)
			r.events = append(r.events, event{id: id, what: "elected", term: term})
			r.mu.Unlock()
			if work != nil {
				work(ctx, term)
			}
			<-ctx.Done()
			r.mu.Lock()
			h.stop = now()
			delete(r.running, id)
			r.events = append(r.events, event{id: id, what: "returned", term: term})
			r.mu.Unlock()
		},
		OnDemoted: func() {
			r.add(event{id: id, what: "demoted"})
		},
	}
}

// checkNoOverlap fails the test if two terms' times as leader overlap.
func (r *recorder) checkNoOverlap() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := make([]holding, len(r.terms))
	for i, h := range r.terms {
		hs[i] = *h
	}
	for _, msg := range overlaps(hs) {
		r.t.Error(msg)
	}
}

// instant is a point on the test's clock, with a sequence number that
// orders events at the same (synctest) instant.
type instant struct {
	at  time.Time
	seq int64
}

var seq atomic.Int64

func now() instant { return instant{at: time.Now(), seq: seq.Add(1)} }

// before reports whether a is strictly before b.
func (a instant) before(b instant) bool {
	return a.at.Before(b.at) || a.at.Equal(b.at) && a.seq < b.seq
}

// holding is one holder's time as holder: from start until it stopped
// acting (stop; zero while it acts) or its validity deadline, whichever
// comes first. The deadline is the holder's own (Leadership.Deadline):
// the holder may act until then, whatever its context says.
type holding struct {
	who      string
	start    instant
	stop     instant
	deadline func() time.Time
}

// end is when the holding ended: it stopped acting, or its validity
// deadline passed. A deadline ends it before anything that happens at that
// instant.
func (h holding) end() instant {
	d := instant{at: h.deadline()}
	if h.stop.at.IsZero() || d.before(h.stop) {
		return d
	}
	return h.stop
}

// overlaps returns a message for every pair of holdings whose times
// overlap: one began before the other ended.
func overlaps(hs []holding) []string {
	var out []string
	for i := range hs {
		for j := range hs {
			a, b := hs[i], hs[j]
			if i == j || b.start.before(a.start) {
				continue
			}
			if end := a.end(); b.start.before(end) {
				out = append(out, fmt.Sprintf("%s began %v before %s ended (stopped or its validity deadline passed): two holders at once",
					b.who, end.at.Sub(b.start.at), a.who))
			}
		}
	}
	return out
}

// of returns the events of candidate id, as strings.
func (r *recorder) of(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		if ev.id == id {
			out = append(out, ev.String())
		}
	}
	return out
}

// elected returns the terms of all OnElected calls, in order.
func (r *recorder) elected() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, ev := range r.events {
		if ev.what == "elected" {
			out = append(out, ev.term)
		}
	}
	return out
}

// checkOrder checks the order of Callbacks for candidate id: OnElected(T)
// right after OnNewLeader(id, T); OnDemoted right after OnElected returned
// and never otherwise; no OnNewLeader repeating the previous one.
func (r *recorder) checkOrder(id string) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var prev *event
	var lastLeader *event
	for i := range r.events {
		ev := &r.events[i]
		if ev.id != id {
			continue
		}
		switch ev.what {
		case "new-leader":
			if lastLeader != nil && lastLeader.who == ev.who && lastLeader.term == ev.term {
				r.t.Errorf("%s: repeated %v", id, ev)
			}
			lastLeader = ev
		case "elected":
			if prev == nil || prev.what != "new-leader" || prev.who != id || prev.term != ev.term {
				r.t.Errorf("%s: %v not right after new-leader %q %d (after %v)", id, ev, id, ev.term, prev)
			}
		case "returned":
			if prev == nil || prev.what != "elected" || prev.term != ev.term {
				r.t.Errorf("%s: %v not right after elected (after %v)", id, ev, prev)
			}
		case "demoted":
			if prev == nil || prev.what != "returned" {
				r.t.Errorf("%s: demoted not right after OnElected returned (after %v)", id, prev)
			}
		}
		prev = ev
	}
	if prev != nil && (prev.what == "elected") {
		r.t.Errorf("%s: ended with OnElected still running", id)
	}
}

// recv receives one value from ch within d, or fails the test.
func recv[T any](t *testing.T, ch <-chan T, d time.Duration) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed")
		}
		return v
	case <-time.After(d):
		t.Fatalf("nothing received within %v", d)
	}
	var zero T
	return zero
}

// The overlap check finds overlaps, by stop time and by validity deadline,
// and accepts holdings that follow each other.
func TestOverlapsCheck(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int, seq int64) instant { return instant{at: t0.Add(time.Duration(s) * time.Second), seq: seq} }
	dl := func(s int) func() time.Time {
		return func() time.Time { return t0.Add(time.Duration(s) * time.Second) }
	}
	tests := []struct {
		name string
		give []holding
		want int
	}{
		{name: "one after the other", give: []holding{
			{who: "a", start: at(0, 1), stop: at(5, 2), deadline: dl(20)},
			{who: "b", start: at(5, 3), stop: at(9, 4), deadline: dl(30)},
		}, want: 0},
		{name: "next began before the previous stopped", give: []holding{
			{who: "a", start: at(0, 1), stop: at(5, 3), deadline: dl(20)},
			{who: "b", start: at(5, 2), stop: at(9, 4), deadline: dl(30)},
		}, want: 1},
		{name: "next began after the previous deadline, though it acted on", give: []holding{
			{who: "a", start: at(0, 1), stop: at(25, 4), deadline: dl(12)},
			{who: "b", start: at(13, 2), stop: at(30, 5), deadline: dl(40)},
		}, want: 0},
		{name: "next began before the deadline of one that never stopped", give: []holding{
			{who: "a", start: at(0, 1), deadline: dl(12)},
			{who: "b", start: at(11, 2), stop: at(30, 5), deadline: dl(40)},
		}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := overlaps(tt.give); len(got) != tt.want {
				t.Errorf("overlaps = %q, want %d", got, tt.want)
			}
		})
	}
}
