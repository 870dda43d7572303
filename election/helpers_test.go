package election_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Timing of the unit tests: the defaults (L = 15 s, R = 5 s, P = renewer.DefaultPollInterval), on
// synctest's fake clock.
const (
	leaseL = 15 * time.Second
	pollP  = renewer.DefaultPollInterval
)

// newCandidate returns a candidate on c with identity id and the default
// timing, over a Renewer of its own, logging to t.
func newCandidate(t *testing.T, c *leasetest.Container, id string, opts ...election.Option) *election.Election {
	t.Helper()
	log := zaptest.NewLogger(t)
	r, err := renewer.New(c, renewer.WithIdentity(id), renewer.WithLogger(log))
	if err != nil {
		t.Fatalf("renewer.New(%q): %v", id, err)
	}
	opts = append([]election.Option{election.WithLogger(log)}, opts...)
	e, err := election.New(r, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", id, err)
	}
	return e
}

// recorder records callbacks as events, in the order they happen, and
// each term's time as leader, for the overlap check.
type recorder struct {
	t *testing.T

	holds overlap.Recorder // every term led, as a holding

	mu      sync.Mutex // guards the fields below
	events  []event
	running map[string]bool // candidates whose OnElected runs
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
// whichever comes first (see overlap.Holding).
func (r *recorder) callbacks(e *election.Election, work func(ctx context.Context, term int64)) election.Callbacks {
	id := e.Identity()
	return election.Callbacks{
		OnNewLeader: func(who string, term int64) {
			r.add(event{id: id, what: "new-leader", who: who, term: term})
		},
		OnElected: func(ctx context.Context, term int64) {
			var deadline func() time.Time
			if ld := e.Leadership(); ld != nil {
				deadline = ld.Deadline
			} else {
				began := time.Now() // ended before OnElected began: no time as leader
				deadline = func() time.Time { return began }
			}
			h := r.holds.Begin(ctx, fmt.Sprintf("%s term %d", id, term), deadline)
			r.mu.Lock()
			if r.running[id] {
				r.t.Errorf("%s: OnElected while its previous OnElected runs", id)
			}
			r.running[id] = true
			r.events = append(r.events, event{id: id, what: "elected", term: term})
			r.mu.Unlock()
			if work != nil {
				work(ctx, term)
			}
			<-ctx.Done()
			r.holds.Stop(h)
			r.mu.Lock()
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
	r.holds.Check(r.t)
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

// runLater runs e.Run with cb in a goroutine. The returned func cancels
// Run, waits for it to return and fails the test unless it returned nil.
func runLater(t *testing.T, e *election.Election, cb election.Callbacks) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, cb) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
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
