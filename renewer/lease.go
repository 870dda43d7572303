package renewer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/leasehold/leasehold/internal/wait"

	"go.uber.org/zap"
)

// A Lease is one holding of a container's lease, kept alive by a background
// goroutine that renews it. Its context is cancelled, with a cause, when the
// lease is released or lost, and always before the lease could pass to
// anyone else: at the latest at the validity deadline, the send time of the
// last successful acquire or renew plus the validity window, less the
// margin.
//
// A holder must stop acting as holder when the context is done:
//
//	errors.Is(context.Cause(lease.Context()), renewer.ErrLeaseLost)
//
// A Lease is safe for concurrent use.
type Lease struct {
	r    *Renewer
	id   string      // this holding's lease ID, used by no other holding
	term int64       // fixed before the Lease is handed out; every metadata write under id carries it
	rnd  wait.Source // jitter of retries: the acquiring ctx's (seeded only in internal/sim)

	ctx      context.Context
	cancel   context.CancelCauseFunc
	stopped  chan struct{}    // closed by the renewing goroutine when it is done with this holding, after any release call
	handover chan handOverReq // HandOver's requests to the renewing goroutine

	mu          sync.Mutex // guards the fields below
	ended       bool       // ctx is cancelled; nothing may extend the lease any more
	lastRenewed time.Time  // send time of the last successful acquire or renew
	deadline    time.Time  // validity deadline: lastRenewed + window - margin
	watchdog    *time.Timer
	lastErr     error // last failed renew, for the loss cause

	// Used only by the goroutine that owns the lease (the acquirer, then run).
	md        map[string]string // metadata last written under the lease
	heartbeat int64
}

// newLease starts a holding with lease ID id whose last successful acquire
// or renew was sent at sent.
//
// rnd is the random source of its retries (internal/wait): the acquiring
// ctx's, seeded only in the deterministic simulation (internal/sim).
func newLease(r *Renewer, id string, sent time.Time, rnd wait.Source) *Lease {
	ls := &Lease{r: r, id: id, rnd: rnd, stopped: make(chan struct{}), handover: make(chan handOverReq)}
	ls.ctx, ls.cancel = context.WithCancelCause(context.Background())
	ls.lastRenewed = sent
	ls.deadline = sent.Add(r.cfg.Window() - r.cfg.Margin)
	ls.watchdog = time.AfterFunc(time.Until(ls.deadline), ls.expire)
	return ls
}

// Context returns a context that is cancelled when the lease ends. Its cause
// wraps ErrLeaseLost (and the reason) on loss, or is ErrReleased after
// Release.
func (ls *Lease) Context() context.Context { return ls.ctx }

// Done returns a channel closed when the lease ends: Context().Done().
func (ls *Lease) Done() <-chan struct{} { return ls.ctx.Done() }

// Term returns the lease's term, the fencing number of this holding: one
// more than the previous holding's, written under the lease before the
// Lease was handed out, and fixed for the Lease's life. Terms strictly
// increase across holdings (hand-overs included), so a store that rejects
// writes carrying a term lower than the highest it has seen rejects a stale
// holder's late writes.
func (ls *Lease) Term() int64 { return ls.term }

// Identity returns the identity the holder wrote with its term.
func (ls *Lease) Identity() string { return ls.r.cfg.identity }

// LastRenewed returns the send time, on the local monotonic clock, of the
// last successful acquire or renew.
func (ls *Lease) LastRenewed() time.Time {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.lastRenewed
}

// Deadline returns the current validity deadline: the context is cancelled
// at this moment unless a renew succeeds first.
func (ls *Lease) Deadline() time.Time {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.deadline
}

// Release stops the holder first (the context is cancelled with
// ErrReleased), then writes the released marker under the lease (one
// call, see MetadataReleased and Status.Released; skipped when less than a
// call timeout is left before the validity deadline), then releases the
// lease so that another holder can acquire it at once, and waits for the
// background goroutine, or for ctx. The release is tried up to three times
// while its answer is transient, in all (the marker included) at most
// Timing.ReleaseBound; if it fails, the lease expires by itself and the
// failure is logged.
//
// Release returns nil if the lease was held until released (or handed
// over), or the loss cause (wrapping ErrLeaseLost) if it had been lost
// before. It is idempotent: later calls return the same. Release of a
// Lease that was handed over releases nothing: the new Lease holds.
func (ls *Lease) Release(ctx context.Context) error { return ls.stop(ctx, ErrReleased, "release") }

// Abandon stops the holder (the context is cancelled with ErrAbandoned) and
// stops renewing, without releasing: the lease stays with the service until
// it expires (after at most one lease duration) or is broken. An infinite
// lease never expires: it stays until someone breaks it. It is for
// holders that must not hand the lease over early, such as an election with
// release-on-cancel off. Like Release it waits for the background goroutine,
// or for ctx, and returns the loss cause if the lease had been lost before.
func (ls *Lease) Abandon(ctx context.Context) error { return ls.stop(ctx, ErrAbandoned, "abandon") }

// stop ends the lease with cause (ErrReleased or ErrAbandoned; the run
// goroutine releases or not accordingly), waits for that goroutine or ctx,
// and returns the loss cause if the lease had been lost before.
func (ls *Lease) stop(ctx context.Context, cause error, op string) error {
	ls.end(cause)
	select {
	case <-ls.stopped:
	case <-ctx.Done():
		return fmt.Errorf("renewer: %s: %w", op, context.Cause(ctx))
	}
	if got := context.Cause(ls.ctx); !errors.Is(got, ErrReleased) && !errors.Is(got, ErrAbandoned) && !errors.Is(got, ErrHandedOver) {
		return got
	}
	return nil
}

// end cancels the context with cause unless it has already ended, and
// reports whether it did.
func (ls *Lease) end(cause error) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.ended {
		return false
	}
	ls.ended = true
	ls.watchdog.Stop()
	ls.cancel(cause)
	ls.r.obs.ended()
	return true
}

// lose ends the lease with a loss cause, logged at Warn.
func (ls *Lease) lose(cause error) {
	if ls.end(cause) {
		ls.r.obs.lost(cause)
		ls.r.log.Warn("lease lost", zap.Int64("term", ls.term), zap.Error(cause))
	}
}

// expire runs on the watchdog timer at the validity deadline.
func (ls *Lease) expire() {
	ls.mu.Lock()
	last := ls.lastErr
	ls.mu.Unlock()
	if last == nil {
		last = errors.New("no renew answered")
	}
	ls.lose(fmt.Errorf("%w: %w without a successful renew: %w", ErrLeaseLost, errDeadlinePassed, last))
}

// extend records a successful acquire or renew sent at sent, and moves the
// validity deadline. It reports false if the lease had already ended.
func (ls *Lease) extend(sent time.Time) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.ended {
		return false
	}
	ls.lastRenewed = sent
	ls.deadline = sent.Add(ls.r.cfg.Window() - ls.r.cfg.Margin)
	ls.lastErr = nil
	ls.watchdog.Reset(time.Until(ls.deadline))
	return true
}

func (ls *Lease) setLastErr(err error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.lastErr = err
}

// callContext bounds one storage call made under the lease: by the call
// timeout and by parent, which the lease's context (cancelled at the
// validity deadline) must bound.
func (ls *Lease) callContext(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, ls.r.cfg.CallTimeout)
}

// writeTerm (unless the term is already fixed) reads the previous term once, fixes this holding's term at one
// more, and writes it with the holder's identity under the lease, keeping
// other metadata keys. Transient errors are retried, with the same term,
// until the validity deadline or until ctx, the caller's, ends.
//
// The term is fixed before the first write so that every metadata write
// under this lease ID carries it: a write that reaches storage late or
// twice can only write this holding's own term again, and only while this
// lease is active. (Recomputing it per try could let a duplicated earlier
// try land after a later one and leave a lower term behind.)
func (ls *Lease) writeTerm(ctx context.Context, op string) error {
	return ls.underLease(ctx, op, func(cctx context.Context) error {
		if ls.md == nil {
			p, err := ls.r.l.Properties(cctx)
			if err != nil {
				return fmt.Errorf("read term: %w", err)
			}
			if err := checkProtocol(p.Metadata); err != nil {
				return err
			}
			prev, err := parseTerm(p.Metadata[MetadataTerm])
			if err != nil {
				return err
			}
			ls.term, ls.md = prev+1, withPayload(withHolder(p.Metadata, ls.r.cfg.identity, prev+1, 0), ls.r.cfg.payload)
		}
		if err := ls.r.l.SetMetadata(cctx, ls.id, ls.md); err != nil {
			return fmt.Errorf("write term: %w", err)
		}
		return nil
	})
}

// underLease runs call, each try bounded by the call timeout, retrying
// transient errors with backoff until call succeeds, the lease ends (at the
// validity deadline at the latest) or ctx ends.
func (ls *Lease) underLease(ctx context.Context, op string, call func(context.Context) error) error {
	wctx, cancel := context.WithCancelCause(ls.ctx)
	defer cancel(nil)
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	defer stop()
	b := ls.r.newBackOff(ls.rnd)
	for {
		cctx, cancelCall := ls.callContext(wctx)
		err := call(cctx)
		cancelCall()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("renewer: %s: %w", op, context.Cause(ctx))
		case ls.ctx.Err() != nil:
			return fmt.Errorf("renewer: %s: %w", op, context.Cause(ls.ctx))
		case definitive(err) || Permanent(err):
			// Permanent: a credential refused while setting up a holding
			// (a SAS without read permission) ends the acquisition at
			// once, as it would before the acquire; a holder's renewals
			// alone retry it until the validity deadline.
			return fmt.Errorf("renewer: %s: %w", op, err)
		}
		ls.setLastErr(err)
		ls.r.log.Debug("storage call under the lease failed; retrying", zap.Error(err))
		wait.Sleep(wctx, b.NextBackOff()) // if wctx ended, the next try fails at once and the checks above say why
	}
}

// setUp makes ls a holding of the storage lease that prevID holds: it
// changes the lease's ID from prevID to ls.id, then writes the term under
// ls.id. The acquisition (prevID: the ID just acquired with) and the
// hand-over (prevID: the previous holding's) both use it, so no metadata
// write is ever made under an ID that was sent in an acquire: a late
// duplicate of an acquire can make its ID active again after its holding
// ended, and a late write under it would then put an old term back.
//
// If it fails, ls ends and both IDs are released (one of the two answers
// that it does not match), so nothing stays held; the error says why.
func (ls *Lease) setUp(ctx context.Context, op, prevID string) error {
	err := ls.underLease(ctx, op, func(cctx context.Context) error {
		got, err := ls.r.l.Change(cctx, prevID, ls.id)
		switch {
		case err != nil:
			return err
		case !sameID(got, ls.id):
			return fmt.Errorf("change: answered with another lease ID: %w", ErrNoLease)
		}
		return nil
	})
	if err == nil {
		err = ls.writeTerm(ctx, op)
	}
	if err == nil {
		ls.r.obs.holding(ls)
	}
	if err != nil {
		ls.end(err)
		ls.releaseID(prevID, err)
		ls.release(err)
		close(ls.stopped)
	}
	return err
}

// run renews the lease, and the leases it is handed over to, until the
// last of them ends.
func (ls *Lease) run() {
	for ls != nil {
		ls = ls.hold()
	}
}

// hold renews the lease every renew interval until it ends, then releases
// it if that can help; or, asked by HandOver, passes the storage lease to a
// new holding and returns that holding's Lease, which the same goroutine
// goes on renewing. It closes ls.stopped when it is done with ls.
func (ls *Lease) hold() (next *Lease) {
	defer close(ls.stopped)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		t.Reset(time.Until(ls.LastRenewed().Add(ls.r.cfg.RenewInterval)))
		select {
		case <-ls.ctx.Done():
			cause := context.Cause(ls.ctx)
			if errors.Is(cause, ErrReleased) {
				ls.markReleased()
			}
			ls.release(cause)
			return nil
		case req := <-ls.handover:
			next, err := ls.handOver(req.ctx)
			req.reply <- handOverResult{next, err}
			return next
		case <-t.C:
		}
		if ls.renew() {
			ls.beat()
		}
	}
}

// renew renews the lease, retrying transient errors with backoff until it
// succeeds, the lease is lost, or the lease ends. It reports success.
func (ls *Lease) renew() bool {
	r := ls.r
	b := r.newBackOff(ls.rnd)
	for failures := 0; ; failures++ {
		cctx, cancel := ls.callContext(ls.ctx)
		sent := time.Now()
		got, err := r.l.Renew(cctx, ls.id)
		cancel()
		switch {
		case ls.ctx.Err() != nil:
			return false
		case err == nil && !sameID(got, ls.id):
			ls.lose(fmt.Errorf("%w: renew answered with another holder's lease ID: %w", ErrLeaseLost, ErrNoLease))
			return false
		case err == nil:
			ok := ls.extend(sent)
			ls.logRenewed(ok, failures)
			return ok
		case definitive(err):
			ls.lose(fmt.Errorf("%w: %w", ErrLeaseLost, err))
			return false
		}
		ls.setLastErr(err)
		ls.logRenewFailed(failures, err)
		if !wait.Sleep(ls.ctx, b.NextBackOff()) {
			return false
		}
	}
}

// beat advances the heartbeat in the container's metadata, if heartbeats
// are on. A definitive failure means the lease is gone; a transient one is
// logged and the next renew tries again.
func (ls *Lease) beat() {
	r := ls.r
	if !r.cfg.heartbeat {
		return
	}
	md := withHolder(ls.md, r.cfg.identity, ls.term, ls.heartbeat+1)
	cctx, cancel := ls.callContext(ls.ctx)
	err := r.l.SetMetadata(cctx, ls.id, md)
	cancel()
	switch {
	case err == nil:
		ls.md, ls.heartbeat = md, ls.heartbeat+1
	case ls.ctx.Err() != nil:
	case definitive(err):
		ls.lose(fmt.Errorf("%w: heartbeat: %w", ErrLeaseLost, err))
	default:
		r.log.Warn("heartbeat failed", zap.Int64("term", ls.term), zap.Error(err))
	}
}

// markReleased writes the released marker (MetadataReleased: this
// holding's term) under the lease, just before the release, so that a
// reader can tell "the holder named here released" from "holds it now"
// once someone else, leasehold or not, takes the lease (Status.Released).
// It costs one storage call per release, one try bounded by the call
// timeout, and is skipped when less than a call timeout is left before the
// validity deadline (the lease may be lapsing; the release matters more).
// A failed write is logged at Debug and the release goes on.
//
// The write carries this holding's own lease ID, never one sent in an
// acquire, and this holding's term unchanged: storage refuses it unless
// this holding's lease is active, so a late copy of it cannot mark a later
// holding (another ID) as released, nor change any term.
func (ls *Lease) markReleased() {
	r := ls.r
	if time.Until(ls.Deadline()) < r.cfg.CallTimeout || ls.md == nil {
		r.log.Debug("release: no time left for the released marker", zap.Int64("term", ls.term))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.CallTimeout)
	err := r.l.SetMetadata(ctx, ls.id, withReleased(ls.md, ls.term))
	cancel()
	if err != nil {
		r.log.Debug("release: the released marker was not written", zap.Int64("term", ls.term), zap.Error(err))
	}
}

// release gives the lease back after it ended (unless abandoned), bounded
// by Timing.ReleaseBound. It is sent even after an answer that the lease is
// not ours (ErrNoLease): a lease that is breaking or broken still has our
// ID, and releasing it frees it at once, not at the end of the break; and a
// release under our own retired ID can only end a lease of that ID.
func (ls *Lease) release(cause error) { ls.releaseID(ls.id, cause) }

// releaseID releases the lease under id (this holding's, or the one it was
// set up from), as release does.
func (ls *Lease) releaseID(id string, cause error) {
	r := ls.r
	if errors.Is(cause, ErrAbandoned) {
		r.log.Info("lease abandoned; it will expire by itself", zap.Int64("term", ls.term))
		return
	}
	err := r.releaseRetired(id, ls.rnd)
	switch {
	case err == nil && errors.Is(cause, ErrReleased):
		r.log.Info("lease released", zap.Int64("term", ls.term))
	case err == nil:
		r.log.Info("lease released after loss", zap.Int64("term", ls.term))
	case errors.Is(err, ErrNoLease):
		// Someone else holds it now, or a retried release had already
		// succeeded: either way it is not ours.
		r.log.Debug("lease release: not ours any more", zap.Int64("term", ls.term), zap.Error(err))
	default:
		r.log.Warn("lease release failed; it will expire by itself", zap.Int64("term", ls.term), zap.Error(err))
	}
}
