package integration_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"go.uber.org/zap/zaptest"
)

// newMutex returns a Mutex on the named container with its own SDK client,
// as a separate process would have, logging to the test.
func newMutex(t testing.TB, name string, ropts []renewer.Option, opts ...mutex.Option) *mutex.Mutex {
	t.Helper()
	return newMutexOn(t, newLeaser(t, name), ropts, opts...)
}

// newMutexOn returns a Mutex on l through its own Renewer with the renewer
// options ropts (identity, timing) and the mutex options opts, both
// logging to the test.
func newMutexOn(t testing.TB, l renewer.Leaser, ropts []renewer.Option, opts ...mutex.Option) *mutex.Mutex {
	t.Helper()
	log := zaptest.NewLogger(t)
	r, err := renewer.New(l, append([]renewer.Option{renewer.WithLogger(log)}, ropts...)...)
	if err != nil {
		t.Fatalf("renewer.New: %v", err)
	}
	m, err := mutex.New(r, append([]mutex.Option{mutex.WithLogger(log)}, opts...)...)
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
