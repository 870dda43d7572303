package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"go.uber.org/zap/zaptest"
)

// newMutex returns a Mutex on the named container with its own SDK client,
// as a separate process would have, logging to the test.
func newMutex(t testing.TB, name string, opts ...mutex.Option) *mutex.Mutex {
	t.Helper()
	return newMutexOn(t, newLeaser(t, name), opts...)
}

// newMutexOn returns a Mutex on l, logging to the test.
func newMutexOn(t testing.TB, l renewer.Leaser, opts ...mutex.Option) *mutex.Mutex {
	t.Helper()
	m, err := mutex.New(l, append([]mutex.Option{mutex.WithLogger(zaptest.NewLogger(t))}, opts...)...)
	if err != nil {
		t.Fatalf("mutex.New: %v", err)
	}
	return m
}

// errKilled is what every call of a killed holder returns.
var errKilled = errors.New("test: holder process killed")

// fenceChecker is a downstream resource that accepts a write only with a
// fencing number (the term) higher than every one it accepted before, and
// counts the holders inside the critical section at once.
type fenceChecker struct {
	mu       sync.Mutex // guards last and rejected
	last     int64
	rejected []int64
	inside   atomic.Int32
	overlaps atomic.Int32
}

// enter records a holder entering with fencing number token; leave, its
// leaving.
func (f *fenceChecker) enter(token int64) {
	if f.inside.Add(1) != 1 {
		f.overlaps.Add(1)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if token <= f.last {
		f.rejected = append(f.rejected, token)
		return
	}
	f.last = token
}

func (f *fenceChecker) leave() { f.inside.Add(-1) }

// instant is a point on the test process's clock, with a sequence number
// that orders events at the same reading of the clock.
type instant struct {
	at  time.Time
	seq int64
}

var instantSeq atomic.Int64

func now() instant { return instant{at: time.Now(), seq: instantSeq.Add(1)} }

// before reports whether a is strictly before b.
func (a instant) before(b instant) bool {
	return a.at.Before(b.at) || a.at.Equal(b.at) && a.seq < b.seq
}

// holding is one holder's time as holder, on the test process's clock:
// from start until it stopped acting (stop; zero while it acts) or its
// validity deadline, whichever comes first. The deadline is the holder's
// own (Held.Deadline, Leadership.Deadline, as it was when the holding
// ended): the holder may act until then, whatever its context says.
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

// holdings records the holdings of a test, for the overlap check.
type holdings struct {
	mu sync.Mutex // guards hs
	hs []*holding
}

// begin records that a holder starts acting now, with deadline its
// validity deadline, read again when ctx (the holding's context) ends and
// then kept: a lease handed over goes on under the next holder.
func (r *holdings) begin(who string, ctx context.Context, deadline func() time.Time) *holding {
	hd := &holding{who: who, start: now()}
	var (
		mu    sync.Mutex
		final time.Time
	)
	context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		final = deadline()
	})
	hd.deadline = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		if final.IsZero() {
			return deadline()
		}
		return final
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hs = append(r.hs, hd)
	return hd
}

// held is begin for a mutex holding.
func (r *holdings) held(who string, h *mutex.Held) *holding {
	return r.begin(who, h.Context(), h.Deadline)
}

// end records that hd's holder stopped acting now.
func (r *holdings) end(hd *holding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hd.stop = now()
}

// liveAt counts the holdings under way at t.
func (r *holdings) liveAt(t instant) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, h := range r.hs {
		if !t.before(h.start) && t.before(h.end()) {
			n++
		}
	}
	return n
}

// check fails the test if two holdings overlap.
func (r *holdings) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := make([]holding, len(r.hs))
	for i, h := range r.hs {
		hs[i] = *h
	}
	for _, msg := range overlaps(hs) {
		t.Error(msg)
	}
}

// The overlap check finds overlaps, by stop time and by validity deadline,
// and accepts holdings that follow each other. (No storage involved.)
func TestMutexOverlapsCheck(t *testing.T) {
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
