package overlap

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Recorder records the holdings of a test, for [Find] and [Live]. The zero
// value is ready to use; a Recorder is safe for concurrent use and must not
// be copied after first use.
type Recorder struct {
	mu sync.Mutex // guards hs and the Stop of each of them
	hs []*Holding
}

// Begin records that holder who starts acting now, under ctx (the
// holding's context), with deadline its validity deadline. The deadline is
// read again when ctx ends and then kept: a lease handed over goes on
// under the next holder, whose deadline is not this one's. Begin returns
// the holding, for [Recorder.Stop].
func (r *Recorder) Begin(ctx context.Context, who string, deadline func() time.Time) *Holding {
	h := &Holding{Who: who, Start: Now()}
	var (
		mu    sync.Mutex // guards final
		final time.Time
	)
	context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		final = deadline()
	})
	h.Deadline = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		if final.IsZero() {
			return deadline()
		}
		return final
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hs = append(r.hs, h)
	return h
}

// Stop records that h's holder stopped acting now.
func (r *Recorder) Stop(h *Holding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h.Stop = Now()
}

// Live returns how many of the recorded holdings are under way at t.
func (r *Recorder) Live(t Instant) int {
	return Live(r.holdings(), t)
}

// Check fails t (with t.Error) once for every pair of recorded holdings
// that overlap; see [Find].
func (r *Recorder) Check(t testing.TB) {
	t.Helper()
	for _, msg := range Find(r.holdings()) {
		t.Error(msg)
	}
}

// holdings returns a copy of the recorded holdings.
func (r *Recorder) holdings() []Holding {
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := make([]Holding, len(r.hs))
	for i, h := range r.hs {
		hs[i] = *h
	}
	return hs
}
