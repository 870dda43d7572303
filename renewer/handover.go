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
// ctx bounds the hand-over (the validity deadline bounds it too). If it
// fails, because the lease was lost, a storage call kept failing or ctx
// ended, HandOver releases the lease and returns an error (wrapping
// ErrLeaseLost for a loss): nothing is held. It returns an error at once if
// this Lease has already ended.
func (ls *Lease) HandOver(ctx context.Context) (*Lease, error) {
	req := handOverReq{ctx: ctx, reply: make(chan handOverResult, 1)}
	select {
	case ls.handover <- req:
	case <-ls.ctx.Done():
		return nil, fmt.Errorf("renewer: hand over: %w", context.Cause(ls.ctx))
	case <-ctx.Done():
		return nil, fmt.Errorf("renewer: hand over: %w", context.Cause(ctx))
	}
	res := <-req.reply // bounded: handOver gives up at the validity deadline
	return res.next, res.err
}

// handOver runs on the renewing goroutine, so that no renew of ls is in
// flight while its ID changes. It returns the new Lease, or nil and why
// not, having released what it could.
func (ls *Lease) handOver(ctx context.Context) (*Lease, error) {
	r := ls.r
	if !ls.end(ErrHandedOver) {
		cause := context.Cause(ls.ctx)
		ls.release(cause)
		return nil, fmt.Errorf("renewer: hand over: %w", cause)
	}
	if ls.term == math.MaxInt64 {
		err := fmt.Errorf("renewer: hand over: %w: term %d has no successor", ErrInvalidTerm, ls.term)
		ls.release(err)
		return nil, err
	}
	nl := newLease(r, newLeaseID(), ls.LastRenewed())
	nl.term = ls.term + 1
	nl.md = withHolder(ls.md, r.cfg.identity, nl.term, 0)
	err := nl.underLease(ctx, "hand over", func(cctx context.Context) error {
		got, err := r.l.Change(cctx, ls.id, nl.id)
		switch {
		case err != nil:
			return fmt.Errorf("change lease ID: %w", err)
		case !sameID(got, nl.id):
			return fmt.Errorf("change lease ID: answered with another lease ID: %w", ErrLeaseIDMismatch)
		}
		return nil
	})
	if err == nil {
		err = nl.writeTerm(ctx, "hand over")
	}
	if err != nil {
		if definitive(err) {
			err = fmt.Errorf("%w: %w", ErrLeaseLost, err)
		}
		nl.end(err)
		// The change may or may not have been applied: release under
		// both IDs (one answers that the ID does not match).
		ls.release(err)
		nl.release(err)
		close(nl.stopped)
		return nil, err
	}
	r.mu.Lock()
	r.cur = nl
	r.mu.Unlock()
	r.log.Info("lease handed over", zap.Int64("term", nl.term), zap.Int64("previous term", ls.term))
	return nl, nil
}
