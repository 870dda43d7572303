package leasetest

import (
	"context"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// phase is what the last lease action left. The state the service reports
// also depends on the time: a fixed lease past its end is Expired, a break
// past its end is Broken.
type phase int

const (
	phaseAvailable phase = iota // no lease ID attached
	phaseLeased                 // Leased; Expired once a fixed lease's end has passed
	phaseBreaking               // Breaking; Broken once breakEnd has passed
	phaseBroken                 // Broken
)

// lease is the container's lease. The zero value is Available.
type lease struct {
	phase    phase
	id       string        // the lease ID attached, kept after expiry and break
	duration time.Duration // fixed duration, or renewer.Infinite
	end      time.Time     // a fixed lease's end (phaseLeased)
	breakEnd time.Time     // when the break completes (phaseBreaking)
}

// state is the lease state at now.
func (l *lease) state(now time.Time) renewer.LeaseState {
	switch l.phase {
	case phaseLeased:
		if l.duration != renewer.Infinite && !now.Before(l.end) {
			return renewer.StateExpired
		}
		return renewer.StateLeased
	case phaseBreaking:
		if !now.Before(l.breakEnd) {
			return renewer.StateBroken
		}
		return renewer.StateBreaking
	case phaseBroken:
		return renewer.StateBroken
	}
	return renewer.StateAvailable
}

// take leases the container to id for d from now.
func (l *lease) take(now time.Time, id string, d time.Duration) {
	*l = lease{phase: phaseLeased, id: id, duration: d, end: now.Add(d)}
}

// Acquire implements [renewer.Leaser]: it leases the container to leaseID
// for d when no other lease is active, or restarts leaseID's own lease with
// duration d.
func (c *Container) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	var got string
	err := c.do(ctx, Call{Op: OpAcquire, LeaseID: leaseID, Duration: d}, func(now time.Time) error {
		if err := checkDuration(OpAcquire, d); err != nil {
			return err
		}
		if err := checkID(OpAcquire, "proposed lease ID", leaseID); err != nil {
			return err
		}
		l := &c.lease
		switch l.state(now) {
		case renewer.StateLeased:
			if !sameID(leaseID, l.id) {
				return refuse(OpAcquire, codeAlreadyPresent)
			}
		case renewer.StateBreaking:
			if sameID(leaseID, l.id) {
				return refuse(OpAcquire, codeBreakingCannotAcquire)
			}
			return refuse(OpAcquire, codeAlreadyPresent)
		}
		l.take(now, leaseID, d)
		got = l.id
		return nil
	})
	if err != nil {
		return "", err
	}
	return got, nil
}

// Renew implements [renewer.Leaser]: it restarts the lease's duration if
// leaseID holds it, or held it and it expired since. With [EmulateAzurite],
// a renew of an Expired lease with any ID revives the old holder's lease.
func (c *Container) Renew(ctx context.Context, leaseID string) (string, error) {
	var got string
	err := c.do(ctx, Call{Op: OpRenew, LeaseID: leaseID}, func(now time.Time) error {
		if err := checkID(OpRenew, "lease ID", leaseID); err != nil {
			return err
		}
		l := &c.lease
		switch l.state(now) {
		case renewer.StateAvailable:
			return refuse(OpRenew, codeMismatchLease)
		case renewer.StateLeased:
			if !sameID(leaseID, l.id) {
				return refuse(OpRenew, codeMismatchLease)
			}
		case renewer.StateExpired:
			if !sameID(leaseID, l.id) && !c.azurite {
				return refuse(OpRenew, codeMismatchLease)
			}
		default: // Breaking, Broken
			if sameID(leaseID, l.id) {
				return refuse(OpRenew, codeBrokenCannotRenew)
			}
			return refuse(OpRenew, codeMismatchLease)
		}
		l.take(now, l.id, l.duration)
		got = l.id
		return nil
	})
	if err != nil {
		return "", err
	}
	return got, nil
}

// Change implements [renewer.Leaser]: it gives the active lease the ID
// proposedID, keeping its end. A change to the ID the lease already has
// succeeds whatever leaseID says, so a retried change is harmless.
func (c *Container) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
	var got string
	err := c.do(ctx, Call{Op: OpChange, LeaseID: leaseID, ProposedID: proposedID}, func(now time.Time) error {
		if err := checkID(OpChange, "lease ID", leaseID); err != nil {
			return err
		}
		if err := checkID(OpChange, "proposed lease ID", proposedID); err != nil {
			return err
		}
		l := &c.lease
		switch l.state(now) {
		case renewer.StateLeased:
			if !sameID(leaseID, l.id) && !sameID(proposedID, l.id) {
				return refuse(OpChange, codeMismatchLease)
			}
		case renewer.StateBreaking:
			if sameID(leaseID, l.id) {
				return refuse(OpChange, codeBreakingCannotChange)
			}
			return refuse(OpChange, codeMismatchLease)
		default: // Available, Expired, Broken
			return refuse(OpChange, codeNotPresentLease)
		}
		l.id = proposedID
		got = l.id
		return nil
	})
	if err != nil {
		return "", err
	}
	return got, nil
}

// Release implements [renewer.Leaser]: it makes the container Available if
// leaseID is the lease ID attached to it, in any state but Available.
func (c *Container) Release(ctx context.Context, leaseID string) error {
	return c.do(ctx, Call{Op: OpRelease, LeaseID: leaseID}, func(now time.Time) error {
		if err := checkID(OpRelease, "lease ID", leaseID); err != nil {
			return err
		}
		l := &c.lease
		if l.state(now) == renewer.StateAvailable || !sameID(leaseID, l.id) {
			return refuse(OpRelease, codeMismatchLease)
		}
		*l = lease{}
		return nil
	})
}

// Break implements [renewer.Leaser]. On a Leased container it starts a break
// of min(period, time left) for a fixed lease and of period for an infinite
// one; BreakAtExpiry breaks a fixed lease when it would have expired and an
// infinite one at once. On a Breaking container the break ends at the
// earlier of its current end and period from now (BreakAtExpiry keeps it);
// an Expired container breaks at once; a Broken one stays broken. It returns
// the time left until the break completes, rounded to whole seconds (0 when
// broken).
func (c *Container) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	var left time.Duration
	err := c.do(ctx, Call{Op: OpBreak, Duration: period}, func(now time.Time) error {
		if err := checkBreakPeriod(OpBreak, period); err != nil {
			return err
		}
		l := &c.lease
		end := now // when the break completes
		switch l.state(now) {
		case renewer.StateAvailable:
			return refuse(OpBreak, codeNotPresentLease)
		case renewer.StateLeased:
			switch {
			case period == renewer.BreakAtExpiry && l.duration != renewer.Infinite:
				end = l.end
			case period != renewer.BreakAtExpiry:
				end = now.Add(period)
				if l.duration != renewer.Infinite && l.end.Before(end) {
					end = l.end
				}
			}
		case renewer.StateBreaking:
			end = l.breakEnd
			if period != renewer.BreakAtExpiry && now.Add(period).Before(end) {
				end = now.Add(period)
			}
		}
		if end.After(now) {
			*l = lease{phase: phaseBreaking, id: l.id, breakEnd: end}
			left = end.Sub(now).Round(time.Second)
			return nil
		}
		*l = lease{phase: phaseBroken, id: l.id}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return left, nil
}
