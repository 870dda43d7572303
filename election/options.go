package election

import (
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// An Option configures an Election. Options are validated together by New.
type Option func(*config)

// config is what an Election's options set: the renewer options they
// translate to, and the election's own. The effective timing is the
// renewer's (Election.Timing).
type config struct {
	ropts           []renewer.Option
	releaseOnCancel bool
	log             *zap.Logger
}

// WithDuration sets the lease duration L: whole seconds from 15 s to 60 s.
// Default 15 s. A leader that dies without releasing is replaced after at
// most L plus the poll interval. Infinite leases are refused: a crashed
// leader would keep one forever.
func WithDuration(d time.Duration) Option {
	return func(c *config) { c.ropts = append(c.ropts, renewer.WithDuration(d)) }
}

// WithRenewInterval sets R, how often the leader renews its lease. Default
// L/3. It must leave room for retries before the lease's validity deadline
// (see renewer.WithRenewInterval).
func WithRenewInterval(d time.Duration) Option {
	return func(c *config) { c.ropts = append(c.ropts, renewer.WithRenewInterval(d)) }
}

// WithPollInterval sets P, how often a standby asks whether the lease is
// free, and how often Observe and Run look for a new leader; each pause is
// jittered by ±20%. Default 750 ms (renewer.DefaultPollInterval; see renewer.WithPollInterval for what P costs and buys), at least
// 10 ms. Each poll is one billed storage call.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) { c.ropts = append(c.ropts, renewer.WithPollInterval(d)) }
}

// WithReleaseOnCancel says whether Run releases the lease when its context
// ends while leading. Default true: Run stops the leader's work (cancels
// the leadership context and waits for OnElected to return), then releases,
// so a standby takes over at its next poll.
//
// With false, Run stops the leader's work and its renewals but leaves the
// lease to expire by itself. Hazard: failover then waits up to L plus the
// poll interval, during which there is no leader. Use it only when a
// release must never be sent, for example when the process may be a clone
// whose original still runs.
func WithReleaseOnCancel(on bool) Option { return func(c *config) { c.releaseOnCancel = on } }

// WithLogger sets the logger: Info on election, resignation and handover,
// Warn on loss, Debug per poll. Default: no logging.
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

// newRenewer applies opts over the defaults and returns the configuration
// and the candidate's Renewer, or the *renewer.OptionError of the first
// rule broken: the renewer's (timing, identity) or the election's own.
func newRenewer(l renewer.Leaser, identity string, opts []Option) (config, *renewer.Renewer, error) {
	c := config{releaseOnCancel: true}
	for i, o := range opts {
		if o == nil {
			return config{}, nil, &renewer.OptionError{Pkg: "election", Field: "option " + strconv.Itoa(i), Rule: "want an Option, not nil"}
		}
		o(&c)
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	r, err := renewer.New(l, append(c.ropts, renewer.WithIdentity(identity), renewer.WithLogger(c.log))...)
	if err != nil {
		return config{}, nil, err
	}
	if d := r.Timing().Duration; d == renewer.Infinite {
		return config{}, nil, &renewer.OptionError{Pkg: "election", Field: "lease duration", Value: d,
			Rule: "an elected leader needs a lease that expires if it dies; want whole seconds from 15s to 60s"}
	}
	return c, r, nil
}
