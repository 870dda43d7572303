package leasetest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// Faulty wraps any Leaser, a real one over Azure as well as a Container, so
// that a hook can refuse or delay its calls: a holder that crashed or was cut
// off from storage, or a slow link, while others reach the same container
// unharmed through their own Leasers.
//
// A Faulty is safe for concurrent use.
type Faulty struct {
	l     renewer.Leaser
	calls atomic.Int64 // every call made, refused or not

	mu     sync.Mutex // guards before
	before func(ctx context.Context, call Call) error
}

var _ renewer.Leaser = (*Faulty)(nil)

// Wrap returns a Faulty over l with no hook: every call passes through.
func Wrap(l renewer.Leaser) *Faulty { return &Faulty{l: l} }

// SetBefore sets a hook that runs before each call; if it returns an error,
// the call returns that error without reaching the wrapped Leaser. It may
// block to model latency. A nil f removes the hook. The hook must be safe for
// concurrent use.
func (f *Faulty) SetBefore(fn func(ctx context.Context, call Call) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = fn
}

// CutOff makes every call fail with err from now on, as for a holder that
// crashed or lost its network: it neither renews nor releases. A nil err
// restores the link.
func (f *Faulty) CutOff(err error) {
	if err == nil {
		f.SetBefore(nil)
		return
	}
	f.SetBefore(func(context.Context, Call) error { return err })
}

// Calls returns how many calls were made through f, refused ones included.
func (f *Faulty) Calls() int64 { return f.calls.Load() }

func (f *Faulty) check(ctx context.Context, call Call) error {
	f.calls.Add(1)
	f.mu.Lock()
	before := f.before
	f.mu.Unlock()
	if before == nil {
		return nil
	}
	return before(ctx, call)
}

// Acquire implements renewer.Leaser.
func (f *Faulty) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	if err := f.check(ctx, Call{Op: OpAcquire, LeaseID: leaseID, Duration: d}); err != nil {
		return "", err
	}
	return f.l.Acquire(ctx, leaseID, d)
}

// Renew implements renewer.Leaser.
func (f *Faulty) Renew(ctx context.Context, leaseID string) (string, error) {
	if err := f.check(ctx, Call{Op: OpRenew, LeaseID: leaseID}); err != nil {
		return "", err
	}
	return f.l.Renew(ctx, leaseID)
}

// Change implements renewer.Leaser.
func (f *Faulty) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
	if err := f.check(ctx, Call{Op: OpChange, LeaseID: leaseID, ProposedID: proposedID}); err != nil {
		return "", err
	}
	return f.l.Change(ctx, leaseID, proposedID)
}

// Release implements renewer.Leaser.
func (f *Faulty) Release(ctx context.Context, leaseID string) error {
	if err := f.check(ctx, Call{Op: OpRelease, LeaseID: leaseID}); err != nil {
		return err
	}
	return f.l.Release(ctx, leaseID)
}

// Break implements renewer.Leaser.
func (f *Faulty) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	if err := f.check(ctx, Call{Op: OpBreak, Duration: period}); err != nil {
		return 0, err
	}
	return f.l.Break(ctx, period)
}

// Properties implements renewer.Leaser.
func (f *Faulty) Properties(ctx context.Context) (renewer.Properties, error) {
	if err := f.check(ctx, Call{Op: OpProperties}); err != nil {
		return renewer.Properties{}, err
	}
	return f.l.Properties(ctx)
}

// SetMetadata implements renewer.Leaser.
func (f *Faulty) SetMetadata(ctx context.Context, leaseID string, metadata map[string]string) error {
	if err := f.check(ctx, Call{Op: OpSetMetadata, LeaseID: leaseID}); err != nil {
		return err
	}
	return f.l.SetMetadata(ctx, leaseID, metadata)
}
