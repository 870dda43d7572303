package integration_test

import (
	"context"
	"errors"
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

// errKilled is what every call of a killed killableLeaser returns.
var errKilled = errors.New("test: holder process killed")

// killableLeaser passes calls to a real Leaser until kill, after which every
// call fails: the holder's process is gone, as far as storage can tell (its
// lease is neither renewed nor released). It counts the calls made.
type killableLeaser struct {
	renewer.Leaser
	killed atomic.Bool
	calls  atomic.Int64
}

func (k *killableLeaser) kill() { k.killed.Store(true) }

func (k *killableLeaser) check() error {
	k.calls.Add(1)
	if k.killed.Load() {
		return errKilled
	}
	return nil
}

func (k *killableLeaser) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	return k.Leaser.Acquire(ctx, id, d)
}

func (k *killableLeaser) Renew(ctx context.Context, id string) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	return k.Leaser.Renew(ctx, id)
}

func (k *killableLeaser) Change(ctx context.Context, id, proposed string) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	return k.Leaser.Change(ctx, id, proposed)
}

func (k *killableLeaser) Release(ctx context.Context, id string) error {
	if err := k.check(); err != nil {
		return err
	}
	return k.Leaser.Release(ctx, id)
}

func (k *killableLeaser) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	if err := k.check(); err != nil {
		return 0, err
	}
	return k.Leaser.Break(ctx, period)
}

func (k *killableLeaser) Properties(ctx context.Context) (renewer.Properties, error) {
	if err := k.check(); err != nil {
		return renewer.Properties{}, err
	}
	return k.Leaser.Properties(ctx)
}

func (k *killableLeaser) SetMetadata(ctx context.Context, id string, md map[string]string) error {
	if err := k.check(); err != nil {
		return err
	}
	return k.Leaser.SetMetadata(ctx, id, md)
}

// fenceChecker is a downstream resource that accepts a write only with a
// fencing token higher than every token it accepted before, and counts the
// holders inside the critical section at once.
type fenceChecker struct {
	mu       sync.Mutex // guards last and rejected
	last     int64
	rejected []int64
	inside   atomic.Int32
	overlaps atomic.Int32
}

// enter records a holder entering with token; leave, its leaving.
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
