package election

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// An Election is one candidate's place in the election for the lease of one
// container: it campaigns (Campaign, Run), resigns, and observes who leads
// (Leader, Observe). Every candidate of one election uses the same
// container and its own identity.
//
// An Election is safe for concurrent use. It campaigns at most once at a
// time: a second Campaign or Run while one is under way, or while this
// candidate leads, returns renewer.ErrInUse. Leader, Observe, Check and Resign may
// be called at any time.
type Election struct {
	r        *renewer.Renewer
	identity string
	cfg      config
	log      *zap.Logger

	timing renewer.Timing // the renewer's effective timing
	sb     *standby       // WithStandby's machinery, or nil
	leads  *leadsGauge    // leasehold.election.leader (metrics.go)

	mu    sync.Mutex  // guards the fields below
	busy  bool        // a Campaign (or Run) is under way
	cur   *Leadership // the latest leadership won; live until its context ends
	track tracker     // what Leader and KnownLeader have seen
	aside breakAside  // a term that ended by a break (breakaside.go)

	began    time.Time // when the campaign under way began (for Check)
	ledUntil time.Time // when this candidate's latest term ended (for Check); zero if none has
	runs     int       // Runs under way (a second one returns ErrInUse at once)
	known    Leader    // the leader the last read showed (KnownLeader)
	knownAt  time.Time // when that read was made; zero before the first

	refresh   chan struct{} // one Refresh read at a time (a token)
	refreshed time.Time     // when Refresh last read the lease; guarded by refresh
}

// New returns a candidate in the election for the lease r holds, with r's
// identity and timing (renewer.WithIdentity, WithDuration, WithPollInterval
// and the rest: see package renewer). The identity is written to the
// container's metadata while this candidate leads, for everyone to read,
// and must be unique among the candidates. r must not be used by anything
// else: the Election acquires, renews and releases through it. New returns
// a *renewer.OptionError naming the field, value and rule at fault (an
// infinite lease is refused: a crashed leader would keep it forever). It
// makes no storage call.
//
// Over Azure:
//
//	l, err := azlease.FromConnectionString(conn, "my-service-leader", nil)
//	...
//	r, err := renewer.New(l, renewer.WithIdentity(podName))
//	...
//	e, err := election.New(r)
func New(r *renewer.Renewer, opts ...Option) (*Election, error) {
	cfg, err := newConfig(r, opts)
	if err != nil {
		return nil, err
	}
	e := &Election{
		r:        r,
		timing:   r.Timing(),
		identity: r.Identity(),
		cfg:      cfg,
		log:      cfg.log,
		leads:    newLeadsGauge(r),
		refresh:  make(chan struct{}, 1),
	}
	if cfg.standbySet {
		if e.sb, err = newStandby(r, cfg.standby, cfg.log); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Identity returns this candidate's identity.
func (e *Election) Identity() string { return e.identity }

// Timing returns the effective lease timing, defaults filled in.
func (e *Election) Timing() renewer.Timing { return e.timing }

// Leadership returns this candidate's current leadership, or nil if it
// does not lead. Under Run it is the Leadership whose context OnElected
// was given, for its Deadline and LastRenewed; a leader that must know how
// long it may still act reads Deadline. Once the term has ended it returns
// nil.
func (e *Election) Leadership() *Leadership { return e.current() }

// current returns the leadership this candidate holds, or nil.
func (e *Election) current() *Leadership {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil || e.cur.ctx.Err() != nil {
		return nil
	}
	return e.cur
}
