package election

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// A Leadership is one term of this candidate as leader. Its context is
// cancelled, with a cause, when the term ends:
//
//   - errors.Is(cause, ErrLost): the lease was lost or could no longer be
//     proven held (the cause also wraps renewer.ErrLeaseLost and the
//     reason). The context is cancelled as soon as the renewer's is, which
//     is before the lease could pass to anyone else (the renewer's validity
//     deadline, a safety margin before the lease could expire).
//   - errors.Is(cause, ErrResigned): Resign was called, or Run's context
//     ended.
//
// A leader must stop acting as leader when the context is done, and should
// carry Term as a fencing token on every write it makes as leader.
//
// A Leadership is safe for concurrent use.
type Leadership struct {
	e     *Election
	lease *renewer.Lease

	ctx    context.Context         // cancelled when the term ends
	cancel context.CancelCauseFunc // first cause wins
	unhook func() bool             // stops the hook from the lease's context
}

// newLeadership wraps a lease just acquired. Its context follows the
// lease's, and can end before it (Resign stops acting, then releases).
func newLeadership(e *Election, ls *renewer.Lease) *Leadership {
	ld := &Leadership{e: e, lease: ls}
	ld.ctx, ld.cancel = context.WithCancelCause(context.Background())
	ld.unhook = context.AfterFunc(ls.Context(), func() {
		ld.cancel(fmt.Errorf("%w: %w", ErrLost, context.Cause(ls.Context())))
	})
	return ld
}

// Context returns the leadership context: cancelled when the term ends,
// with a cause wrapping ErrLost or ErrResigned.
func (ld *Leadership) Context() context.Context { return ld.ctx }

// Done returns a channel closed when the term ends: Context().Done().
func (ld *Leadership) Done() <-chan struct{} { return ld.ctx.Done() }

// Term returns the term: one more than the previous leader's, written to
// the container under the lease before this Leadership was handed out.
// Terms strictly increase across leaders, so the term is a fencing token:
// a store that rejects writes carrying a lower term than the highest it
// has seen rejects a deposed leader's late writes.
func (ld *Leadership) Term() int64 { return ld.lease.Term() }

// Identity returns the leader's identity: this candidate's.
func (ld *Leadership) Identity() string { return ld.e.identity }

// LastRenewed returns the local time the lease was last acquired or
// renewed (the send time of that call).
func (ld *Leadership) LastRenewed() time.Time { return ld.lease.LastRenewed() }

// Resign ends the term: it cancels the leadership context first (cause
// ErrResigned), so the leader stops acting, then releases the lease so that
// a standby takes over at its next poll. It waits for the release, or for
// ctx; a failed release is logged, and the lease then expires by itself.
//
// Resign does not wait for work started under the context to stop: code
// that must finish before anyone else leads should run in Run's OnElected,
// which Run waits for before it releases on shutdown.
//
// Resign returns nil if the term lasted until Resign, or the cause of its
// loss (wrapping ErrLost) if it had ended before. It is idempotent.
func (ld *Leadership) Resign(ctx context.Context) error {
	if ld.stop(ErrResigned) {
		ld.e.log.Info("resigning", zap.Int64("term", ld.Term()))
	}
	return ld.release(ctx)
}

// Resign resigns this candidate's current leadership, if any (see
// [Leadership.Resign]): it stops acting first, then releases, so a standby
// takes over at its next poll. It returns nil if this candidate does not
// lead. Under Run, Run goes on campaigning after a pause (see Run).
func (e *Election) Resign(ctx context.Context) error {
	ld := e.current()
	if ld == nil {
		return nil
	}
	return ld.Resign(ctx)
}

// stop cancels the leadership context with cause, unless it has already
// ended, and reports whether it did.
func (ld *Leadership) stop(cause error) bool {
	if ld.ctx.Err() != nil {
		return false
	}
	ld.cancel(cause)
	return errors.Is(context.Cause(ld.ctx), cause)
}

// release releases the lease once the leadership context has ended, and
// waits for the renewer to finish. It returns nil if the term ended by
// resignation, else the loss cause.
func (ld *Leadership) release(ctx context.Context) error {
	err := ld.lease.Release(ctx)
	ld.unhook()
	cause := context.Cause(ld.ctx)
	switch {
	case !errors.Is(cause, ErrResigned):
		return cause
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("election: resign: %w", err)
	case err != nil:
		// Lost between our cancel and the release: the term had ended
		// as a resignation all the same.
		ld.e.log.Debug("lease lost while resigning", zap.Int64("term", ld.Term()), zap.Error(err))
	}
	return nil
}

// abandon stops renewing without releasing: the lease expires by itself.
// The leadership context must already have ended.
func (ld *Leadership) abandon() {
	_ = ld.lease.Abandon(context.Background())
	ld.unhook()
	ld.e.log.Info("stopped renewing; the lease expires by itself", zap.Int64("term", ld.Term()))
}

// isResigned reports whether ld's term ended by resignation.
func isResigned(ld *Leadership) bool { return errors.Is(context.Cause(ld.ctx), ErrResigned) }
