package election

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrStorageUnreachable is returned by [Election.Check] when this
// candidate campaigns as a standby but storage has not answered its polls
// for longer than the bound Check states: it could not take over, and
// what it knows of the leader is stale.
var ErrStorageUnreachable = errors.New("election: storage not reached")

// Check reports whether this candidate's view of the election is current,
// with no storage call. It follows the candidate's last contact with
// storage (the last answer that showed storage works, to any of its
// calls) across every change of role, and is never reset by a change of
// role or a new campaign: a candidate cut off from storage stays
// unhealthy until storage answers it again.
//
//   - leading: its last successful renewal is no older than the renew
//     interval R plus tolerance, else an error wrapping ErrRenewalOverdue. A
//     leader whose renewals are overdue cannot reach storage and will lose
//     the lease at its validity deadline.
//   - a term that ended with no storage contact since (a leader cut off,
//     whose term ran out): the leader's bound still holds, R plus
//     tolerance from the last contact, else an error wrapping
//     ErrStorageUnreachable, whether it campaigns again or not.
//   - campaigning (a standby under Campaign or Run): storage answered one
//     of its calls within its role's longest pause, times 1.2 (the most a
//     jittered pause waits), plus 2 call timeouts (a read and an acquire)
//     plus tolerance, else an error wrapping ErrStorageUnreachable. The
//     longest pause is P for a standby polling on its own (WithStandby
//     of no seats); 2P for a holder of a next-in-line seat, or one that
//     held a seat since its last contact; a backbencher's Retry (its seat
//     tries reach storage too); and with heartbeats, at least L. At the
//     defaults: 6.8 s for a seat holder, 41 s for a backbencher, plus
//     tolerance. Such a standby could not take over, and what it reports
//     about the leader is stale. A campaign that began after a time
//     without any (and without a term since its last contact) is given
//     its first bound from its start.
//   - neither (not campaigning, or between two terms under Run, with no
//     term ended since its last contact): nil; there is nothing to be
//     late with. ReadyHandler tells this state apart.
//
// The error says how long ago storage was last reached and the bound. A
// probe that restarts a failing replica is a choice, like client-go's
// HealthzAdaptor; a tolerance of a few seconds, or a fraction of the lease
// duration, avoids failing on one slow call.
//
// Check is safe for concurrent use.
func (e *Election) Check(tolerance time.Duration) error {
	if ld := e.current(); ld != nil {
		since := time.Since(ld.LastRenewed())
		if since > e.timing.RenewInterval+tolerance {
			return fmt.Errorf("%w: term %d last renewed %v ago; renew interval %v, tolerance %v",
				ErrRenewalOverdue, ld.Term(), since.Round(time.Millisecond), e.timing.RenewInterval, tolerance)
		}
		return nil
	}
	e.mu.Lock()
	busy, began, cur, ended := e.busy, e.began, e.cur, e.ledUntil
	e.mu.Unlock()
	last := e.r.LastContact()
	if nl := e.sb.lastContact(); nl.After(last) {
		last = nl // a backbencher reaches storage through the seats
	}
	seen := func() string {
		if last.IsZero() {
			return "never"
		}
		return time.Since(last).Round(time.Millisecond).String() + " ago"
	}
	// A term that ran out (ended at its validity deadline: no renewal
	// succeeded for a whole window) with no storage answer since its
	// deadline: this candidate was cut off as leader. The leader's bound
	// holds until storage answers again, through every role that follows.
	// A term that ended sooner (a resign, a break, another's ID: answers
	// from storage) does not count.
	cut := false
	if cur != nil && cur.ctx.Err() != nil {
		if ended.Before(cur.won) {
			ended = time.Now() // the term has just ended; its end is not recorded yet
		}
		dl := cur.Deadline()
		cut = !ended.Before(dl) && last.Before(dl)
	}
	if cut && time.Since(last) > e.timing.RenewInterval+tolerance {
		return fmt.Errorf("%w: storage last reached %s, before this candidate's last term ended; bound %v (the renew interval %v + tolerance %v, as while leading)",
			ErrStorageUnreachable, seen(), (e.timing.RenewInterval + tolerance).Round(time.Millisecond), e.timing.RenewInterval, tolerance)
	}
	if !busy {
		return nil
	}
	from := last
	if from.Before(began) && !cut {
		from = began // a campaign is given its first bound from its start
	}
	seated := e.sb.seatedSince(last)
	if since := time.Since(from); since > e.standbyBound(seated)+tolerance {
		pause := "poll intervals"
		if p := e.sb.maxPause(e.timing.PollInterval, seated); p != e.timing.PollInterval {
			pause = fmt.Sprintf("x %v, the longest pause of this standby's role", p)
			if seated {
				pause = fmt.Sprintf("x %v, a seat holder's longest pause", p)
			}
		}
		return fmt.Errorf("%w: a standby's calls last reached storage %s; bound %v (1.2 %s + 2 call timeouts + tolerance %v)",
			ErrStorageUnreachable, seen(), (e.standbyBound(seated) + tolerance).Round(time.Millisecond), pause, tolerance)
	}
	return nil
}

// standbyBound is the most time that passes between two answers storage
// gives a campaigning standby: its role's longest pause, jittered (at
// most 1.2 times), and a read and an acquire attempt, each bounded by the
// call timeout. seated: the standby holds a next-in-line seat, or held
// one since its last contact.
func (e *Election) standbyBound(seated bool) time.Duration {
	return e.sb.maxPause(e.timing.PollInterval, seated)*6/5 + 2*e.timing.CallTimeout
}

// HealthHandler returns an http.Handler for a liveness probe: it answers
// 200 "ok" when Check(tolerance) passes, and 500 with Check's error when
// it does not (a leader whose renewals are overdue, a standby cut off from
// storage).
func (e *Election) HealthHandler(tolerance time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := e.Check(tolerance); err != nil {
			reply(w, http.StatusInternalServerError, err.Error())
			return
		}
		reply(w, http.StatusOK, "ok")
	})
}

// ReadyHandler returns an http.Handler for a readiness probe of a replica
// that serves whether or not it leads (it forwards to the leader, or
// serves reads): 200 while this candidate campaigns or leads and
// Check(tolerance) passes, saying whom it knows as leader; 503 with the
// reason otherwise (not campaigning, storage not reached, renewals
// overdue). It makes no storage call.
func (e *Election) ReadyHandler(tolerance time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := e.Check(tolerance); err != nil {
			reply(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		if !e.campaigning() {
			reply(w, http.StatusServiceUnavailable, "not ready: not campaigning (Run or Campaign is not under way)")
			return
		}
		if ld := e.current(); ld != nil {
			reply(w, http.StatusOK, fmt.Sprintf("ok: leading, term %d", ld.Term()))
			return
		}
		reply(w, http.StatusOK, "ok: following, "+e.describeKnown())
	})
}

// LeaderReadyHandler returns an http.Handler for a readiness probe of a
// service that must take traffic on the leader only: 200 while this
// candidate leads and Check(tolerance) passes; 503 otherwise, naming the
// leader it knows of. It makes no storage call.
func (e *Election) LeaderReadyHandler(tolerance time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		err := e.Check(tolerance)
		ld := e.current()
		switch {
		case err != nil:
			reply(w, http.StatusServiceUnavailable, err.Error())
		case ld == nil:
			reply(w, http.StatusServiceUnavailable, "not ready: not leading; "+e.describeKnown())
		default:
			reply(w, http.StatusOK, fmt.Sprintf("ok: leading, term %d", ld.Term()))
		}
	})
}

// campaigning reports whether a Campaign or Run is under way, or this
// candidate leads.
func (e *Election) campaigning() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy || e.runs > 0 || (e.cur != nil && e.cur.ctx.Err() == nil)
}

// describeKnown says whom this candidate knows as leader, for a probe of
// a candidate that does not lead.
func (e *Election) describeKnown() string {
	l, seen := e.KnownLeader()
	switch {
	case seen.IsZero():
		return "leader not known yet"
	case l == (Leader{}):
		return fmt.Sprintf("no leader (seen %v ago)", time.Since(seen).Round(time.Millisecond))
	}
	return fmt.Sprintf("leader %q term %d (seen %v ago)", l.Identity, l.Term, time.Since(seen).Round(time.Millisecond))
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}
