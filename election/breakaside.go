package election

import (
	"context"
	"errors"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// BrokenStandAside is how long, in poll intervals, a candidate whose
// lease was broken (a loss whose cause wraps renewer.ErrBroken: an
// operator's `leasehold break`, or another process's Renewer.Break) stands
// aside when it campaigns again: its campaign polls as usual but makes no
// acquire attempt for BrokenStandAside poll intervals (2.25 s at the
// default 750 ms), so that another live candidate takes the lease. A
// candidate that polls the leader's lease every poll interval (a plain
// candidate, jittered up to 1.2 P; a next-in-line standby) finds it free
// and completes its acquisition (three storage calls) well within that.
// If none does, the candidate that was broken leads again once the pause
// is over. A backbencher of WithStandby reads the leader's lease only
// every Standby.Check, so with both next-in-line seats empty the broken
// candidate may win again.
//
// The pause counts from the campaign's first poll, which comes after the
// broken lease was released (the renewer releases a broken lease at once,
// so that no one waits for the break period).
const BrokenStandAside = 3

// breakAside is the Election's memory of a term that ended by a break,
// for the next campaign's stand-aside.
type breakAside struct {
	taken int64 // the last term whose stand-aside a campaign has taken
}

// asideAfterBreak returns how long the campaign starting now stands aside
// because this candidate's last term ended by a break of its lease, or 0.
// Only the first campaign after such a term stands aside. e.mu must not be
// held.
func (e *Election) asideAfterBreak() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	ld := e.cur
	if ld == nil || ld.ctx.Err() == nil || ld.Term() <= e.aside.taken ||
		!errors.Is(context.Cause(ld.lease.Context()), renewer.ErrBroken) {
		return 0
	}
	e.aside.taken = ld.Term()
	return BrokenStandAside * e.timing.PollInterval
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
