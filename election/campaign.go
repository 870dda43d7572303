package election

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// Campaign blocks until this candidate leads, or ctx ends. Every poll
// interval (jittered) it reads the lease's state, one storage call, and
// when no lease is held it tries to acquire it. It returns the Leadership
// once the lease is acquired and the new term written.
//
// ctx bounds the campaign only: the leadership lasts until it is resigned
// or lost. A Campaign that returns an error leaves nothing held; if ctx
// ends just as the lease is won, Campaign releases it and returns the
// context's error. It gives up at once on errors polling cannot get past
// (wrapping renewer.ErrForbidden, renewer.ErrContainerNotFound,
// renewer.ErrBadRequest), and returns renewer.ErrInUse while this candidate
// already campaigns or leads.
//
// The first campaign after this candidate's lease was broken (its last
// term ended with a cause wrapping renewer.ErrBroken) makes no acquire
// attempt for BrokenStandAside poll intervals from its first poll, so that
// another live candidate leads.
func (e *Election) Campaign(ctx context.Context) (*Leadership, error) {
	return e.campaign(ctx, false, time.Time{}, func(renewer.Status, error) {})
}

// campaign is Campaign, handing every poll's result to observe, and making
// no attempt to acquire before notBefore. byRun marks the Leadership won
// as Run's (see Leadership.byRun).
func (e *Election) campaign(ctx context.Context, byRun bool, notBefore time.Time, observe func(renewer.Status, error)) (*Leadership, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	var won *Leadership
	defer func() { e.end(won) }()
	var sc *standbyCampaign // WithStandby: this campaign's next-in-line loop
	if e.sb != nil {
		sc = e.sb.begin(ctx)
		// The next-in-line lease is released as soon as this campaign
		// ends, won or not, on the loop's goroutine: a leader does not
		// wait for it (Resign waits for it through Leadership.seat, Run
		// before it returns).
		defer sc.end()
	}
	aside := e.asideAfterBreak() // our lease was broken: let another candidate lead
	// A standby cut off from storage says so through the renewer's
	// Acquire (Warn at the third failed poll in a row, then every tenth).
	watch := func(st renewer.Status, err error) renewer.Verdict {
		if ctx.Err() != nil {
			return renewer.Verdict{}
		}
		if aside > 0 { // from the first poll, which follows the broken lease's release
			notBefore = later(notBefore, time.Now().Add(aside))
			aside = 0
		}
		observe(st, err)
		if err == nil {
			e.saw(st)
		}
		var v renewer.Verdict
		if sc != nil {
			v = sc.verdict(st, err) // when to poll next: next in line, backbencher, heartbeats
		}
		if time.Now().Before(notBefore) { // a held lease is waited for anyway
			e.log.Debug("standing aside after resigning, or after our lease was broken")
			v.StandAside = true
		}
		return v
	}
	ls, err := e.r.Acquire(ctx, renewer.Watching(watch))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("election: campaign: %w", context.Cause(ctx))
		}
		return nil, err
	}
	won = newLeadership(e, ls)
	e.leads.follow(won) // leasehold.election.leader: 1 now, 0 when the term ends
	won.byRun = byRun
	if sc != nil {
		won.seat = sc.done
	}
	e.log.Info("elected", zap.Int64("term", ls.Term()))
	return won, nil
}

// begin claims the right to campaign: no campaign under way and no
// leadership live.
func (e *Election) begin() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy || (e.cur != nil && e.cur.ctx.Err() == nil) {
		return renewer.ErrInUse
	}
	e.busy, e.began = true, time.Now()
	return nil
}

func (e *Election) end(won *Leadership) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.busy = false
	if won != nil {
		e.cur = won
		e.wonTerm(won)
	}
}
