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
// the Container is unchanged. f may block, for example to model latency or a
// server that hangs (select on ctx.Done() and time.After); if ctx is done
// when f returns nil, the call returns ctx's error unapplied. A nil f removes
// the hook. The hook must be safe for concurrent use.
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

// do runs one call: it counts it, checks ctx, runs the before hook, applies
// the call under the lock with the time now, and runs the after hook.
func (c *Container) do(ctx context.Context, call Call, apply func(now time.Time) error) error {
	c.mu.Lock()
	c.calls[call.Op]++
	before, after := c.before, c.after
	c.mu.Unlock()

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("leasetest: %s: %w", call.Op, err)
	}
	if before != nil {
		if err := before(ctx, call); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("leasetest: %s: %w", call.Op, err)
		}
	}
	c.mu.Lock()
	err := apply(time.Now())
	c.mu.Unlock()
	if after != nil {
		err = after(ctx, call, err)
	}
	return err
}
