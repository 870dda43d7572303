package leasetest

import (
	"context"
	"fmt"
	"time"
)

// Op names a [renewer.Leaser] method, as counted by [Container.Calls] and
// seen by hooks.
type Op string

// The operations of a Container.
const (
	OpAcquire     Op = "acquire"
	OpRenew       Op = "renew"
	OpChange      Op = "change"
	OpRelease     Op = "release"
	OpBreak       Op = "break"
	OpProperties  Op = "properties"
	OpSetMetadata Op = "set metadata"
)

// Call describes one call on a Container, for hooks.
type Call struct {
	// Op is the operation.
	Op Op
	// LeaseID is the caller's lease ID: the proposed ID of an acquire, the
	// current ID of a renew, change or release, the condition of a metadata
	// write ("" for none). Empty for break and properties.
	LeaseID string
	// ProposedID is the new lease ID of a change; empty otherwise.
	ProposedID string
	// Duration is the lease duration of an acquire or the break period of a
	// break; zero otherwise.
	Duration time.Duration
}

// SetBefore sets a hook that runs before each call is applied, outside the
// Container's lock. If f returns an error, the call returns that error and
// the Container is unchanged: the request never arrived. f may block, for
// example to model latency or a server that hangs (select on ctx.Done() and
// time.After, and return ctx.Err() to drop the request). If f returns nil
// the request arrived and is applied, even when ctx ended while f blocked:
// it was sent, and storage applies what reaches it whether or not its
// sender still waits; the caller then gets ctx's error. A nil f removes the
// hook. The hook must be safe for concurrent use.
//
// For requests that outlive their caller's wait, duplicates and lost
// answers without blocking the caller, wrap the Container in a [Faulty] and
// use its [Network].
func (c *Container) SetBefore(f func(ctx context.Context, call Call) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.before = f
}

// SetAfter sets a hook that runs after each call was applied, outside the
// Container's lock, with the call's error (nil on success). Its result
// replaces that error: returning an error for a call that succeeded models
// an answer lost on its way back, the change made all the same. When f
// returns an error, the call returns zero values with it; when f returns
// nil, the call returns its own results. A nil f removes the hook. The hook
// must be safe for concurrent use.
func (c *Container) SetAfter(f func(ctx context.Context, call Call, err error) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after = f
}

// do runs one call: it counts it, refuses it unsent if ctx has ended, runs
// the before hook, applies the call under the lock with the time now, and
// runs the after hook. A call whose ctx ended during the before hook is
// applied all the same (it was sent) and answers ctx's error.
func (c *Container) do(ctx context.Context, call Call, apply func(now time.Time) error) error {
	c.mu.Lock()
	c.calls[call.Op]++
	before, after := c.before, c.after
	c.mu.Unlock()

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("leasetest: %s: not sent: %w", call.Op, err)
	}
	if before != nil {
		if err := before(ctx, call); err != nil {
			return err
		}
	}
	c.mu.Lock()
	err := apply(time.Now())
	c.mu.Unlock()
	if after != nil {
		err = after(ctx, call, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("leasetest: %s: applied after the caller gave up: %w", call.Op, cerr)
	}
	return err
}
