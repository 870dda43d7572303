package leasetest

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// Faulty wraps any Leaser, a real one over Azure as well as a Container, so
// that a hook can refuse or delay its calls: a holder that crashed or was cut
// off from storage, or a slow link, while others reach the same container
// unharmed through their own Leasers. Its [Network] can make a call reach
// the wrapped Leaser late, twice, or without its answer coming back.
//
// A call goes: counted; refused by the before hook ([Faulty.SetBefore],
// [Faulty.CutOff]) if it says so; then carried to the wrapped Leaser by the
// Network. A call whose context ended before it was made is not sent. A call
// whose context ended while the before hook held it (a slow link) was sent:
// it still reaches the wrapped Leaser, later, and its caller gets the
// context's error.
//
// A Faulty is safe for concurrent use and must not be copied after first
// use.
type Faulty struct {
	l     renewer.Leaser
	calls atomic.Int64 // every call made, refused or not
	net   Network

	mu     sync.Mutex // guards before
	before func(ctx context.Context, call Call) error
}

var _ renewer.Leaser = (*Faulty)(nil)

// Wrap returns a Faulty over l with no hook and a Network that carries
// every call at once: every call passes through.
func Wrap(l renewer.Leaser) *Faulty { return &Faulty{l: l} }

// SetBefore sets a hook that runs before each call; if it returns an error,
// the call returns that error without reaching the wrapped Leaser. It may
// block to model latency: if the caller's context ends while it blocks and
// it then returns nil, the request was on its way and still reaches the
// wrapped Leaser (see [Faulty]). A nil f removes the hook. The hook must be
// safe for concurrent use.
func (f *Faulty) SetBefore(fn func(ctx context.Context, call Call) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = fn
}

// CutOff makes every call fail with err from now on, as for a holder that
// crashed or lost its network: it neither renews nor releases. A nil err
// restores the link. Requests already on their way (see [Faulty.Network])
// still land.
func (f *Faulty) CutOff(err error) {
	if err == nil {
		f.SetBefore(nil)
		return
	}
	f.SetBefore(func(context.Context, Call) error { return err })
}

// Network returns the network between f's callers and the wrapped Leaser,
// for [Network.SetDelivery], [Network.SetLanded] and [Network.Settle].
func (f *Faulty) Network() *Network { return &f.net }

// Calls returns how many calls were made through f, refused ones included.
func (f *Faulty) Calls() int64 { return f.calls.Load() }

// call runs one call through the before hook and the network.
func call[T any](f *Faulty, ctx context.Context, c Call, send func(context.Context) (T, error)) (T, error) {
	f.calls.Add(1)
	live := ctx.Err() == nil
	f.mu.Lock()
	before := f.before
	f.mu.Unlock()
	if before != nil {
		if err := before(ctx, c); err != nil {
			var zero T
			return zero, err
		}
	}
	if !live {
		// Never sent. The wrapped Leaser says so in its own words, as
		// it did before Faulty had a network.
		return send(ctx)
	}
	return deliver(ctx, &f.net, c, send)
}

// Acquire implements renewer.Leaser.
func (f *Faulty) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	return call(f, ctx, Call{Op: OpAcquire, LeaseID: leaseID, Duration: d}, func(ctx context.Context) (string, error) {
		return f.l.Acquire(ctx, leaseID, d)
	})
}

// Renew implements renewer.Leaser.
func (f *Faulty) Renew(ctx context.Context, leaseID string) (string, error) {
	return call(f, ctx, Call{Op: OpRenew, LeaseID: leaseID}, func(ctx context.Context) (string, error) {
		return f.l.Renew(ctx, leaseID)
	})
}

// Change implements renewer.Leaser.
func (f *Faulty) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
	return call(f, ctx, Call{Op: OpChange, LeaseID: leaseID, ProposedID: proposedID}, func(ctx context.Context) (string, error) {
		return f.l.Change(ctx, leaseID, proposedID)
	})
}

// Release implements renewer.Leaser.
func (f *Faulty) Release(ctx context.Context, leaseID string) error {
	_, err := call(f, ctx, Call{Op: OpRelease, LeaseID: leaseID}, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f.l.Release(ctx, leaseID)
	})
	return err
}

// Break implements renewer.Leaser.
func (f *Faulty) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	return call(f, ctx, Call{Op: OpBreak, Duration: period}, func(ctx context.Context) (time.Duration, error) {
		return f.l.Break(ctx, period)
	})
}

// Properties implements renewer.Leaser.
func (f *Faulty) Properties(ctx context.Context) (renewer.Properties, error) {
	return call(f, ctx, Call{Op: OpProperties}, func(ctx context.Context) (renewer.Properties, error) {
		return f.l.Properties(ctx)
	})
}

// SetMetadata implements renewer.Leaser.
func (f *Faulty) SetMetadata(ctx context.Context, leaseID string, metadata map[string]string) error {
	md := maps.Clone(metadata) // the caller may change its map while the request is on its way
	_, err := call(f, ctx, Call{Op: OpSetMetadata, LeaseID: leaseID}, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f.l.SetMetadata(ctx, leaseID, md)
	})
	return err
}
