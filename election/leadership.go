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
//   - errors.Is(cause, renewer.ErrLeaseLost): the lease was lost or could no longer be
//     proven held (the cause also wraps renewer.ErrLeaseLost and the
//     reason). The context is cancelled as soon as the renewer's is, which
//     is before the lease could pass to anyone else (the renewer's validity
//     deadline, a safety margin before the lease could expire).
//   - errors.Is(cause, renewer.ErrReleased): Resign was called, or Run's context
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

	// byRun is set, before Run's OnElected starts, when Run leads with this
	// Leadership: Run, not Resign, then releases the lease, once OnElected
	// has returned, and closes released after it.
	byRun    bool
	won      time.Time       // when it was handed out
	seat     <-chan struct{} // closed once the next-in-line loop of the campaign that won ended (its seat released); nil if none ran
	released chan struct{}
}

// holdingKey is the context key under which a leadership context carries
// its Leadership, so that Resign recognises its own context (or one derived
// from it), which its own cancellation ends.
type holdingKey struct{}

// newLeadership wraps a lease just acquired. Its context follows the
// lease's, and can end before it (Resign stops acting, then releases).
func newLeadership(e *Election, ls *renewer.Lease) *Leadership {
	ld := &Leadership{e: e, lease: ls, released: make(chan struct{}), won: time.Now()}
	ld.ctx, ld.cancel = context.WithCancelCause(context.WithValue(context.Background(), holdingKey{}, ld))
	ld.unhook = context.AfterFunc(ls.Context(), func() {
		ld.cancel(context.Cause(ls.Context())) // wraps renewer.ErrLeaseLost (or ends a term already ended)
	})
	context.AfterFunc(ld.ctx, func() { // for Check: a term that ended with no storage contact since
		e.mu.Lock()
		e.ledUntil = time.Now()
		e.mu.Unlock()
	})
	return ld
}

// Context returns the leadership context: cancelled when the term ends,
// with a cause wrapping renewer.ErrLeaseLost or renewer.ErrReleased.
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

// Deadline returns the lease's validity deadline, on the local monotonic
// clock: the last renewal's send time (LastRenewed) plus the lease duration
// less the safety margin. The leadership context is cancelled at this
// moment at the latest, unless a renewal succeeds first; it may end before
// (Resign, loss).
func (ld *Leadership) Deadline() time.Time { return ld.lease.Deadline() }

// Resign ends the term: it cancels the leadership context first (cause
// renewer.ErrReleased), so the leader stops acting, then releases the lease so that
// a standby takes over at its next poll. A failed release is logged, and
// the lease then expires by itself.
//
// Resign waits for the release, bounded by ctx. The natural call in a
// defer, Resign(ld.Context()), works too: a context that Resign's own
// cancellation ends (the leadership context, or one derived from it) does
// not cut the wait short; Resign then waits without it, bounded by the
// release's own bound (renewer.Timing.ReleaseBound).
//
// Under Run, Run does the release, once OnElected has returned (see
// Callbacks), so that nobody else leads while OnElected winds down: Resign
// cancels the leadership context and waits for that release, bounded by
// ctx. Called with OnElected's own context (or one derived from it), as
// from inside OnElected, Resign does not wait, since the release can only
// follow OnElected's return; it returns at once. With any other context,
// Resign called from inside OnElected waits until that context ends.
//
// Resign does not wait for work started under the context to stop: code
// that must finish before anyone else leads should run in Run's OnElected.
//
// Resign returns nil if the term lasted until Resign, or the cause of its
// loss (wrapping renewer.ErrLeaseLost) if it had ended before; an error wrapping ctx's
// cause if ctx ended before the release. It is idempotent.
func (ld *Leadership) Resign(ctx context.Context) error {
	if ld.stop(renewer.ErrReleased) {
		ld.e.log.Info("resigning", zap.Int64("term", ld.Term()))
	}
	own := ld.owns(ctx)
	if ld.byRun {
		if own {
			return ld.outcome()
		}
		select {
		case <-ld.released:
		case <-ctx.Done():
			if err := ld.outcome(); err != nil {
				return err
			}
			return fmt.Errorf("election: resign: waiting for Run to release the lease once OnElected returns: %w", context.Cause(ctx))
		}
		return ld.outcome()
	}
	if own {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), ld.e.timing.ReleaseBound())
		defer cancel()
	}
	err := ld.release(ctx)
	if ld.seat != nil { // the winning campaign's next-in-line seat, released when it won
		select {
		case <-ld.seat:
		case <-ctx.Done():
		}
	}
	return err
}

// owns reports whether ctx is ld's context or derived from it: a context
// that ld's own end cancels.
func (ld *Leadership) owns(ctx context.Context) bool {
	own, _ := ctx.Value(holdingKey{}).(*Leadership)
	return own == ld
}

// Resign resigns this candidate's current leadership, if any (see
// [Leadership.Resign]): it stops acting first, then releases, so a standby
// takes over at its next poll. It returns nil if this candidate does not
// lead. Under Run, the release waits for OnElected to return, and Run goes
// on campaigning after a pause (see Run); Resign waits for the release as
// [Leadership.Resign] does, and returns at once when ctx is OnElected's own
// context.
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
// waits for the renewer to finish, bounded by ctx. It returns nil if the
// term ended by resignation, else the loss cause.
func (ld *Leadership) release(ctx context.Context) error {
	err := ld.lease.Release(ctx)
	ld.unhook()
	if err != nil && ctx.Err() != nil && isResigned(ld) {
		return err
	}
	if err != nil && isResigned(ld) {
		// Lost between our cancel and the release: the term had ended
		// as a resignation all the same.
		ld.e.log.Debug("lease lost while resigning", zap.Int64("term", ld.Term()), zap.Error(err))
	}
	return ld.outcome()
}

// outcome is what Resign returns once the term is over: nil if it ended
// by resignation, else the loss cause.
func (ld *Leadership) outcome() error {
	if cause := context.Cause(ld.ctx); !errors.Is(cause, renewer.ErrReleased) {
		return cause
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
func isResigned(ld *Leadership) bool { return errors.Is(context.Cause(ld.ctx), renewer.ErrReleased) }
