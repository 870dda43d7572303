package semaphore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// A Held is one holding of one slot, returned by Acquire and TryAcquire.
// Its holder must stop acting as holder as soon as its context is done,
// and should call Release once, even after a loss, so that the slot's
// lease is let go at once rather than left to expire.
//
// A Held is safe for concurrent use.
type Held struct {
	s     *Semaphore
	sl    *slot
	lease *renewer.Lease

	ctx      context.Context
	cancel   context.CancelCauseFunc
	released atomic.Bool
}

// heldKey marks a Held's context, so that Release recognises its own.
type heldKey struct{}

// hold makes ls a Held of sl. While it lives, sl's Renewer refuses
// another attempt (renewer.ErrInUse, with no storage call).
func (s *Semaphore) hold(sl *slot, ls *renewer.Lease) *Held {
	h := &Held{s: s, sl: sl, lease: ls}
	h.ctx, h.cancel = context.WithCancelCause(context.WithValue(ls.Context(), heldKey{}, h))
	s.log.Info("slot taken", zap.Int("slot", sl.i), zap.Int64("term", ls.Term()))
	return h
}

// Context returns a context that is cancelled when the holding ends,
// always before anyone else can take the slot. After a loss its cause
// wraps renewer.ErrLeaseLost; after Release it is renewer.ErrReleased.
func (h *Held) Context() context.Context { return h.ctx }

// Done returns a channel closed when the holding ends: Context().Done().
func (h *Held) Done() <-chan struct{} { return h.ctx.Done() }

// Slot returns the index of the slot held, from 0 to K-1.
func (h *Held) Slot() int { return h.sl.i }

// Term returns the fencing number of this holding: the term of its slot's
// lease, one more than the previous holding's of the same slot. Terms
// increase per slot, not across slots: a store fenced by a semaphore's
// holders keeps the highest term seen per slot and rejects writes that
// carry (Slot, Term) with a term lower than that slot's.
func (h *Held) Term() int64 { return h.lease.Term() }

// Deadline returns the lease's current validity deadline, on the local
// monotonic clock: the context is cancelled at this moment unless a renew
// succeeds first.
func (h *Held) Deadline() time.Time { return h.lease.Deadline() }

// Release stops the holder (the context is cancelled with
// renewer.ErrReleased), then releases the slot's lease so that anyone can
// take it at once. This Semaphore then makes no attempt on that slot for
// two poll intervals, so that a waiter elsewhere, which polls every poll
// interval, takes it first (see the package documentation on fairness).
// ctx bounds the wait for the release; a context that the release's own
// cancellation ends (the Held's context) does not cut it short, which is
// then bounded by renewer.Timing.ReleaseBound.
//
// Release returns nil if the slot was held until now; an error wrapping
// renewer.ErrLeaseLost if it had been lost before; renewer.ErrReleased if
// Release was already called.
func (h *Held) Release(ctx context.Context) error {
	if !h.released.CompareAndSwap(false, true) {
		return fmt.Errorf("semaphore: release: already released: %w", renewer.ErrReleased)
	}
	if own, _ := ctx.Value(heldKey{}).(*Held); own == h {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), h.s.timing.ReleaseBound())
		defer cancel()
	}
	lost := context.Cause(h.ctx)
	if lost == nil {
		h.s.standAside(h.sl)
	}
	h.cancel(renewer.ErrReleased)
	err := h.lease.Release(ctx)
	switch {
	case lost != nil:
		return fmt.Errorf("semaphore: release: %w", lost)
	case err != nil:
		return fmt.Errorf("semaphore: release: %w", err)
	}
	h.s.log.Info("slot released", zap.Int("slot", h.sl.i), zap.Int64("term", h.lease.Term()))
	return nil
}
