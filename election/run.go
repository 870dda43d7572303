package election

import (
	"context"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// Callbacks are what Run calls as leadership comes and goes. Any of them
// may be nil.
//
// Order. Run calls the callbacks one at a time, never two at once:
// OnNewLeader and OnDemoted on Run's goroutine, OnElected on a goroutine
// of its own that Run waits for. For each term this candidate wins:
//
//  1. OnNewLeader(identity, term): this candidate, reported as soon as it
//     is elected;
//  2. OnElected(ctx, term), with the leadership context;
//  3. the term ends: ctx is cancelled (lost, resigned, or Run's context
//     ended);
//  4. OnElected returns: Run waits for it, and while it waits the lease is
//     still renewed (also after a Resign, or after Run's context ended), so
//     nobody else leads while OnElected winds down;
//  5. Run releases the lease (or, with WithReleaseOnCancel(false) when
//     Run's context ended, leaves it to expire); a Resign waiting for the
//     release returns;
//  6. OnDemoted();
//  7. OnNewLeader with whoever leads next, once a poll sees it (unless
//     Run's context has ended).
//
// So OnDemoted is called only after an OnElected has returned, once per
// OnElected. OnNewLeader is called whenever the observed leader changes,
// including to no leader ("", 0), and once at the start with the first
// observation; it is driven by polling every poll interval, so a standby
// learns of a change up to a poll interval late (a backbencher under
// WithStandby: up to 1.2 Standby.Check), and may miss a leader that came
// and went between two polls.
type Callbacks struct {
	// OnElected runs the leader's work. It must stop acting as leader,
	// and return soon, once ctx is done: Run waits for it before it
	// releases the lease or campaigns again. Election.Leadership returns
	// the Leadership behind ctx, for its Deadline.
	OnElected func(ctx context.Context, term int64)
	// OnDemoted is called after each OnElected has returned and the
	// term has ended.
	OnDemoted func()
	// OnNewLeader is called when the observed leader changes; identity
	// is "" and term 0 when no one leads.
	OnNewLeader func(identity string, term int64)
}

// Run campaigns in a loop and calls cb as leadership comes and goes (see
// Callbacks for the order) until ctx ends; then, if this candidate leads,
// it cancels the leadership context, waits for OnElected to return, and
// releases the lease (see WithReleaseOnCancel) before it returns nil.
//
// After a term ends by Resign, Run waits two poll intervals before it
// tries to acquire again, so that a standby polling at the same interval
// takes over; after its lease was broken (renewer.ErrBroken), it stands
// aside BrokenStandAside poll intervals, so that another live candidate
// leads (with none, it leads again after that pause); after any other loss
// it campaigns again at once.
//
// Run returns early with an error only when campaigning cannot go on:
// renewer.ErrInUse, or storage answers that polling cannot get past (refused
// credentials, a missing container). It leaves nothing held.
func (e *Election) Run(ctx context.Context, cb Callbacks) error {
	e.mu.Lock()
	e.runs++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.runs--
		e.mu.Unlock()
	}()
	defer e.sb.wait() // the next-in-line lease is released before Run returns
	var (
		t         tracker
		n         = notifier{f: cb.OnNewLeader}
		notBefore time.Time // no acquire attempt before this (after a Resign)
	)
	observe := func(st renewer.Status, err error) {
		if err == nil {
			n.report(t.leader(st))
		}
	}
	for {
		ld, err := e.campaign(ctx, true, notBefore, observe)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		n.report(e.self(ld.Term()))
		resigned := e.lead(ctx, ld, cb)
		t.ended(ld.Term())
		if ctx.Err() != nil {
			return nil
		}
		notBefore = time.Time{}
		if resigned {
			notBefore = time.Now().Add(2 * e.timing.PollInterval)
		}
	}
}

// lead runs one term (steps 2 to 6 of the order in Callbacks), and reports
// whether it ended by a Resign.
func (e *Election) lead(ctx context.Context, ld *Leadership, cb Callbacks) (resigned bool) {
	done := make(chan struct{}) // closed by the OnElected goroutine
	go func() {
		defer close(done)
		if cb.OnElected != nil {
			cb.OnElected(ld.ctx, ld.Term())
		}
	}()
	byCtx := false // Run's ctx ended the term
	select {
	case <-ld.Done():
	case <-ctx.Done():
		byCtx = ld.stop(fmt.Errorf("%w: %w", renewer.ErrReleased, context.Cause(ctx)))
	}
	<-done
	if byCtx && !e.cfg.releaseOnCancel {
		ld.abandon()
	} else {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.timing.Duration)
		_ = ld.release(rctx)
		cancel()
	}
	close(ld.released) // a Resign waiting for the release returns
	if cb.OnDemoted != nil {
		cb.OnDemoted()
	}
	return isResigned(ld)
}

// notifier calls f when the leader it is told of differs from the last
// one it reported.
type notifier struct {
	f        func(identity string, term int64)
	last     Leader
	reported bool
}

func (n *notifier) report(l Leader) {
	if n.reported && l == n.last {
		return
	}
	n.last, n.reported = l, true
	if n.f != nil {
		n.f(l.Identity, l.Term)
	}
}
