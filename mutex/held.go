package mutex

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// A Held is one holding of the lock, returned by Lock and TryLock. Its
// holder must stop acting as holder as soon as its context is done, and
// must call Unlock exactly once, even after the lock is lost: until then,
// other goroutines of the same Mutex keep waiting.
//
// A Held is safe for concurrent use.
type Held struct {
	m     *Mutex
	lease *renewer.Lease // this holding's own: handed over, it ends

	ctx      context.Context         // child of lease.Context(): cancelled, with its cause, when the lease ends
	cancel   context.CancelCauseFunc // cancels ctx with renewer.ErrReleased on Unlock
	unlocked atomic.Bool             // Unlock was called
}

// heldKey is the context key under which a Held's context carries the
// Held, so that Unlock recognises its own context (or one derived from it),
// which its own cancellation ends.
type heldKey struct{}

func newHeld(m *Mutex, ls *renewer.Lease) *Held {
	h := &Held{m: m, lease: ls}
	h.ctx, h.cancel = context.WithCancelCause(context.WithValue(ls.Context(), heldKey{}, h))
	return h
}

// Context returns a context that is cancelled when the lock ends, always
// before anyone else can take it. After a loss its cause wraps renewer.ErrLeaseLost (and
// the reason):
//
//	errors.Is(context.Cause(held.Context()), renewer.ErrLeaseLost)
//
// After Unlock its cause is renewer.ErrReleased. Cancellation is synchronous with
// the renewer's: there is no extra goroutine between the loss and this
// context.
func (h *Held) Context() context.Context { return h.ctx }

// Done returns a channel closed when the lock ends: Context().Done().
func (h *Held) Done() <-chan struct{} { return h.ctx.Done() }

// Term returns the fencing number of this holding: its term, one more
// than the previous holding's, written to the container (where others read
// it with Mutex.Status) under this holding's own lease ID before Lock or
// TryLock returned. Every holding of the lock gets the next term, local
// hand-overs included: a hand-over changes the lease's ID to a fresh one
// and writes term + 1 under it (one Change Lease call and one metadata
// write), so terms strictly increase across every holding, in every
// process. (A hand-over let go because a waiter elsewhere holds the
// waiting seat skips a term: no one held the lock under it.) It is the same number the leasehold CLI passes as
// LEASEHOLD_TERM, so Go and CLI holders of one lock fence each other. A
// downstream store that rejects writes carrying a term lower than the
// highest it has seen rejects a stale holder's late writes.
func (h *Held) Term() int64 { return h.lease.Term() }

// Deadline returns the lease's current validity deadline, on the local
// monotonic clock: the context is cancelled at this moment unless a renew
// succeeds first.
func (h *Held) Deadline() time.Time { return h.lease.Deadline() }

// Unlock stops the holder (the context is cancelled with renewer.ErrReleased), then
// hands the lock to the next goroutine waiting on the same Mutex, keeping
// the lease (that goroutine's Lock makes it a holding of its own: a fresh
// lease ID and the next term, see Held.Term), or, if none waits, releases the lease
// so that anyone can take it at once. Beside the release or the
// hand-over, one read of the waiting seat (if any) says whether a waiter
// elsewhere holds it: the lease then goes back to storage even if a local
// goroutine waits, and this Mutex stands aside for two poll intervals (see
// the package documentation). ctx bounds only the wait for the
// release, which goes on without it; a failed release is logged, and the
// lease then expires by itself.
//
// The natural call in a defer, Unlock(h.Context()), works: a context that
// Unlock's own cancellation ends (the Held's context, or one derived from
// it) does not cut the wait short; Unlock then waits without it, bounded
// by the release's own bound (renewer.Timing.ReleaseBound).
//
// Unlock returns nil if the lock was held until now; an error wrapping
// renewer.ErrLeaseLost if it had been lost before; renewer.ErrReleased if Unlock was already
// called; or ctx's cause, wrapped, if ctx ended before the release
// completed. Whatever it returns, this hold is over.
func (h *Held) Unlock(ctx context.Context) error {
	if !h.unlocked.CompareAndSwap(false, true) {
		return fmt.Errorf("mutex: unlock: already unlocked: %w", renewer.ErrReleased)
	}
	if own, _ := ctx.Value(heldKey{}).(*Held); own == h {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), h.m.cfg.timing.ReleaseBound())
		defer cancel()
	}
	lost := context.Cause(h.ctx) // nil unless the lease ended first
	h.cancel(renewer.ErrReleased)
	err := h.m.passTurn(ctx)
	switch {
	case lost != nil:
		return fmt.Errorf("mutex: unlock: %w", lost)
	case err != nil:
		return fmt.Errorf("mutex: unlock: %w", err)
	}
	return nil
}
