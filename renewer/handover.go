package renewer

import (
	"context"
	"fmt"
	"math"

	"go.uber.org/zap"
)

// handOverReq is HandOver's request to the goroutine renewing a lease.
type handOverReq struct {
	ctx   context.Context
	reply chan handOverResult // buffered: the renewing goroutine never blocks on it
}

type handOverResult struct {
	next *Lease
	err  error
}

// HandOver ends this holding and starts a new one on the same storage
// lease, without letting the lease go: for passing a lock from one holder
// to the next inside one process (the mutex's local queue does).
//
// This Lease's context is cancelled first (cause ErrHandedOver), so its
// holder stops acting. Then the lease's ID is changed to a fresh one and
// the term, one more than this Lease's, is written under it; only then is
// the new Lease returned. The new holding has its own lease ID, so a
// request of this holding that reaches storage late (a heartbeat, a
// release) finds a lease it cannot touch, and its own term, so each holder
// has its own fencing number. It costs two storage calls (change lease,
// set metadata) and keeps this Lease's validity deadline; the same
// goroutine goes on renewing it.
//
// ctx bounds the hand-over (the validity deadline bounds it too). This
// Lease ends whatever happens. If the hand-over fails, because the lease
// was lost, a storage call kept failing or ctx ended (even before the
// hand-over began), HandOver releases the lease and returns an error
// (wrapping ErrLeaseLost for a loss): nothing is held. It returns an error
// at once if this Lease has already ended.
func (ls *Lease) HandOver(ctx context.Context) (*Lease, error) {
	req := handOverReq{ctx: ctx, reply: make(chan handOverResult, 1)}
	select {
	case ls.handover <- req: // taken at once, or after a renew in flight (bounded by the deadline)
	case <-ls.ctx.Done():
		return nil, fmt.Errorf("renewer: hand over: %w", context.Cause(ls.ctx))
	}
	res := <-req.reply // bounded: handOver gives up at the validity deadline
	return res.next, res.err
}

// handOver runs on the renewing goroutine, so that no renew of ls is in
// flight while its ID changes. It returns the new Lease, or nil and why
// not, having released what it could.
func (ls *Lease) handOver(ctx context.Context) (*Lease, error) {
	r := ls.r
	// The old holding ends and the new one becomes the Renewer's current
	// lease at once, so that no Acquire of the same Renewer slips between.
	r.mu.Lock()
	if !ls.end(ErrHandedOver) {
		r.mu.Unlock()
		cause := context.Cause(ls.ctx)
		ls.release(cause)
		return nil, fmt.Errorf("renewer: hand over: %w", cause)
	}
	nl := newLease(r, newLeaseID(), ls.LastRenewed(), ls.rnd)
	r.cur = nl
	r.mu.Unlock()
	var err error
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("renewer: hand over: %w", context.Cause(ctx))
	case ls.term == math.MaxInt64:
		err = fmt.Errorf("renewer: hand over: %w: term %d has no successor", ErrInvalidTerm, ls.term)
	}
	if err != nil {
		nl.end(err)
		ls.release(err)
		close(nl.stopped)
		return nil, err
	}
	nl.term = ls.term + 1
	nl.md = withHolder(ls.md, r.cfg.identity, nl.term, 0)
	if err := nl.setUp(ctx, "hand over", ls.id); err != nil {
		if definitive(err) {
			err = fmt.Errorf("%w: %w", ErrLeaseLost, err)
		}
		return nil, err
	}
	r.log.Info("lease handed over", zap.Int64("term", nl.term), zap.Int64("previous term", ls.term))
	return nl, nil
}
