package election

import (
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// An Option configures an Election. Options are validated together by New.
type Option func(*config)

// config is an Election's configuration. Zero durations mean "the
// renewer's default"; New fills in the effective values after the renewer
// has validated them.
type config struct {
	duration        time.Duration // L
	renewInterval   time.Duration // R
	pollInterval    time.Duration // P
	releaseOnCancel bool
	log             *zap.Logger
}

// WithDuration sets the lease duration L: whole seconds from 15 s to 60 s.
// Default 15 s. A leader that dies without releasing is replaced after at
// most L plus the poll interval. Infinite leases are refused: a crashed
// leader would keep one forever.
func WithDuration(d time.Duration) Option { return func(c *config) { c.duration = d } }

// WithRenewInterval sets R, how often the leader renews its lease. Default
// L/3. It must leave room for retries before the lease's validity deadline
// (see renewer.WithRenewInterval).
func WithRenewInterval(d time.Duration) Option { return func(c *config) { c.renewInterval = d } }

// WithPollInterval sets P, how often a standby asks whether the lease is
// free, and how often Observe and Run look for a new leader; each pause is
// jittered by ±20%. Default 750 ms (renewer.DefaultPollInterval; see renewer.WithPollInterval for what P costs and buys), at least
// 10 ms. Each poll is one billed storage call.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

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

// newConfig applies opts over the defaults, and returns the renewer options
// they translate to.
func newConfig(identity string, opts []Option) (config, []renewer.Option, error) {
	c := config{releaseOnCancel: true, duration: renewer.DefaultDuration, pollInterval: renewer.DefaultPollInterval}
	for i, o := range opts {
		if o == nil {
			return config{}, nil, invalid("option " + strconv.Itoa(i) + " is nil")
		}
		o(&c)
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	if c.duration == renewer.Infinite {
		return config{}, nil, invalid("lease duration Infinite: an elected leader needs a lease that expires if it dies; want whole seconds from 15s to 60s")
	}
	ropts := []renewer.Option{
		renewer.WithIdentity(identity),
		renewer.WithDuration(c.duration),
		renewer.WithRenewInterval(c.renewInterval),
		renewer.WithPollInterval(c.pollInterval),
		renewer.WithLogger(c.log),
	}
	return c, ropts, nil
}
