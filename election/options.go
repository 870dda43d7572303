package election

import (
	"log/slog"
	"strconv"

	"github.com/leasehold/leasehold/internal/logbridge"

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
	standby         Standby // WithStandby, defaults filled in
	standbySet      bool
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

// WithLogger sets a *zap.Logger for the election's own entries: Info on
// election and resignation, Debug per poll. (A standby cut off from
// storage is told by the renewer's logger: Warn at the third failed poll
// in a row, then every tenth.)
// Default (and nil): the renewer's logger (renewer.WithLogger or
// renewer.WithSlog; without either, slog.Default() at Warn and above), so
// one option on the renewer configures both. WithSlog sets a *log/slog
// logger instead; the last of the two given wins.
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

// WithSlog sets a *log/slog logger for the election's own entries, as
// WithLogger sets a *zap.Logger (same levels, fields as attributes). nil
// means the default, the renewer's logger.
func WithSlog(l *slog.Logger) Option {
	return func(c *config) {
		c.log = nil
		if l != nil {
			c.log = logbridge.FromSlog(l)
		}
	}
}

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
		c.log = r.Logger() // already carries the identity and container
	} else {
		c.log = c.log.With(zap.String("identity", r.Identity()))
	}
	if d := r.Timing().Duration; d == renewer.Infinite {
		return config{}, &renewer.OptionError{Pkg: "election", Field: "lease duration", Value: d,
			Rule: "an elected leader needs a lease that expires if it dies; want whole seconds from 15s to 60s"}
	}
	if b, ok := r.Leaser().(renewer.Besider); ok && !c.standbySet {
		// By default the standbys share a next-in-line lease beside the
		// election's, when the Leaser can name one (azlease's can).
		if next, err := b.Beside(NextInLineSuffix); err == nil {
			c.standby, c.standbySet = Standby{Next: next}, true
		}
	}
	if c.standbySet {
		s, err := checkStandby(r, c.standby)
		if err != nil {
			return config{}, err
		}
		c.standby = s
	}
	return c, nil
}
