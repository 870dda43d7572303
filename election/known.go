package election

import (
	"context"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// IsLeader reports whether this candidate leads now: it holds a term
// whose context has not ended. It makes no storage call and is cheap
// enough for every request; it is the same answer as Leadership() != nil.
// A service must still stop acting as leader when the leadership context
// ends, and fence its writes with the term: IsLeader can be true for the
// instant before a loss is noticed, as any lease-based answer can.
func (e *Election) IsLeader() bool { return e.current() != nil }

// KnownLeader returns the leader this candidate last knew of, with no
// storage call, and the local time of the read it comes from (now while
// this candidate leads; the zero time if it has read nothing yet). The
// zero Leader means no one led at that read.
//
// It is kept fresh by the election's own reads: every poll of Campaign and
// Run (one per poll interval while a standby), every read of Observe and
// Leader, and this candidate's own terms. A process that does not
// campaign keeps it fresh by running Observe. It is for routing (forward
// a write to Leader.Payload, show who leads), never for safety.
func (e *Election) KnownLeader() (Leader, time.Time) {
	if ld := e.current(); ld != nil {
		return e.self(ld.Term()), time.Now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.forgetEndedTerm()
	return e.known, e.knownAt
}

// forgetEndedTerm replaces this candidate's own term in KnownLeader, once
// that term has ended, by no leader as of now (if wonTerm's hook has not
// already). e.mu must be held.
func (e *Election) forgetEndedTerm() {
	if e.cur != nil && e.cur.ctx.Err() != nil && e.known == e.self(e.cur.Term()) {
		e.known, e.knownAt = Leader{}, time.Now()
	}
}

// self is this candidate as leader of term.
func (e *Election) self(term int64) Leader {
	return Leader{Identity: e.identity, Term: term, Payload: e.r.Payload()}
}

// wonTerm records this candidate's own term for KnownLeader: itself while
// the term lasts, then no leader, as of the moment it ended, until a read
// says otherwise (never itself after its term: a follower forwarding to it
// would be sent back). e.mu must be held.
func (e *Election) wonTerm(ld *Leadership) {
	me := e.self(ld.Term())
	e.known, e.knownAt = me, time.Now()
	context.AfterFunc(ld.ctx, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.forgetEndedTerm()
	})
}

// saw records a successful read of the lease for KnownLeader and returns
// whom it shows leading, by the rules of Leader.
func (e *Election) saw(st renewer.Status) Leader {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil && e.cur.ctx.Err() != nil {
		e.track.ended(e.cur.Term())
	}
	l := e.track.leader(st)
	e.known, e.knownAt = l, time.Now()
	return l
}
