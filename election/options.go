package election

import (
	"strconv"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// An Option configures an Election. Options are validated together by New.
type Option func(*config)

// config is what an Election's options set. The identity and timing are
// the Renewer's (see New).
type config struct {
	releaseOnCancel bool
	log             *zap.Logger
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

// newConfig applies opts over the defaults and checks them against r: the
// first rule broken comes back as a *renewer.OptionError.
func newConfig(r *renewer.Renewer, opts []Option) (config, error) {
	if r == nil {
		return config{}, &renewer.OptionError{Pkg: "election", Field: "renewer", Rule: "not nil"}
	}
	c := config{releaseOnCancel: true}
	for i, o := range opts {
		if o == nil {
			return config{}, &renewer.OptionError{Pkg: "election", Field: "option " + strconv.Itoa(i), Rule: "want an Option, not nil"}
		}
		o(&c)
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	if d := r.Timing().Duration; d == renewer.Infinite {
		return config{}, &renewer.OptionError{Pkg: "election", Field: "lease duration", Value: d,
			Rule: "an elected leader needs a lease that expires if it dies; want whole seconds from 15s to 60s"}
	}
	return c, nil
}
