package mutex

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/leasehold/leasehold/internal/logbridge"
	"github.com/leasehold/leasehold/renewer"
	"go.uber.org/zap"
)

// An Option configures a Mutex. Options are validated together by New.
//
// Every Mutex on one container must use the same timing options (duration,
// break period, renew interval, break-on-timeout, max-hold): a waiter judges
// the holder's signs of life by its own settings.
type Option func(*config)

// config is what a Mutex's options set: the renewer options they translate
// to, and the mutex's own. The timing in effect is the renewer's, set by
// New.
type config struct {
	log          *zap.Logger
	breakTimeout time.Duration  // 0 = off
	maxHold      time.Duration  // 0 = off
	seat         renewer.Leaser // WithWaitingSeat's; nil = none
	seatSet      bool           // WithWaitingSeat was given
	timing       renewer.Timing // the renewer's validated timing
}

// WithLogger sets a *zap.Logger for the mutex's own entries. Breaks are
// logged at Warn with what was broken and why. Default (and nil): the
// renewer's logger (renewer.WithLogger or renewer.WithSlog; without
// either, slog.Default() at Warn and above), so one option on the renewer
// configures both. WithSlog sets a *log/slog logger instead; the last of
// the two given wins.
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

// WithSlog sets a *log/slog logger for the mutex's own entries, as
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

// WithBreakOnTimeout makes a waiting Lock break an infinite lease whose
// holder has shown no sign of life for longer than d, measured on the
// waiter's own clock. A sign of life is any change of the holder, the term or
// the heartbeat that an infinite lease's holder advances after every renew.
// The break uses the break period (see renewer.WithBreakPeriod), so a live holder
// that is merely slow sees its context cancelled before the break
// completes; the waiter then acquires the lock.
//
// The waiter counts only what it has watched without interruption, since
// its view of the container lags the lease: a new holder acquires first
// and writes its identity and term after, so for a moment the metadata
// still names the previous, perhaps dead, holder. The rule:
//
//   - the count starts over whenever a read shows any state but leased
//     (breaking, broken, expired, available), when a read fails, and when
//     two reads are further apart than 2 poll intervals plus 3 call
//     timeouts (the waiter, paused or cut off, may have missed such a
//     state);
//   - a break is made only when the silence already exceeded d at a read
//     at least two poll intervals earlier, so a new holder has that long to
//     write its term, which counts as a sign of life.
//
// A waiter therefore breaks a dead holder between d + 2 poll intervals and
// d + 2 poll intervals + 2 jittered polls after it started watching, and a
// break completes a break period later.
//
// d must be at least 3 renew intervals, so that a live holder, which
// advances its heartbeat every renew interval, is never broken; 0 turns it
// off. It is required with an infinite lease. Fixed-duration leases of dead
// holders expire by themselves, so it does not apply to them (see
// WithMaxHold).
func WithBreakOnTimeout(d time.Duration) Option { return func(c *config) { c.breakTimeout = d } }

// WithMaxHold makes a waiting Lock break the lease of a holder that has held
// the lock for longer than d, measured on the waiter's own clock, even
// though it keeps renewing: a stuck job. It applies to fixed and infinite
// leases. d must be at least the validity window (the lease duration, or the
// break period of an infinite lease); 0 (the default) turns it off.
//
// A holder is known by its identity (see renewer.WithIdentity, which must differ
// between processes): a process that takes the lock again and again under
// new terms, or hands it over locally, is one holder for as long as the
// waiter sees the lease held by that identity at every read. The count
// starts over, and a break is confirmed, as for WithBreakOnTimeout.
//
// Max-hold also bounds the holder's own process. A Mutex with max-hold
// stops handing its lease over locally once the term is older than d/2,
// and releases it instead; having let a lease go that way (or lost it)
// while its own goroutines still wait, it stands aside: it makes no acquire
// attempt, in Lock or TryLock, until two poll intervals after it first
// sees the lock free, so that a waiter elsewhere, which reads every poll
// interval, takes it, as election's Run does after a Resign.
//
// The bound, P being the poll interval: a waiter elsewhere whose reads
// succeed gets the lock within d/2 + the longest local hold + 3 P of
// starting to wait when the holder's process is busy with brief local
// holds, and within d + 6 P + the break period (plus a few round trips) in
// every case: a longer hold is broken. Without a waiting seat, a holder
// that releases and takes the lock again between two reads of the waiter,
// with no local waiter, is not made to stand aside by max-hold: the waiter
// either takes the lock in that moment or breaks the holder at max-hold.
// With a waiting seat (see WithWaitingSeat), the waiter gets the lock
// within 2 P of the holder's first release anyway.
func WithMaxHold(d time.Duration) Option { return func(c *config) { c.maxHold = d } }

// WithWaitingSeat sets the waiting seat: a second lease, on storage every
// process of the lock shares, that a waiter holds while it waits, so that
// a process holding the lock, which reads the seat each time it lets a
// holding go (in Unlock, or as it hands the lock to another of its
// goroutines), sees that someone elsewhere waits and stands aside for two
// poll intervals instead of taking the lock again at once. The seat
// decides only who stands aside; who holds the lock is decided by the
// acquire alone. nil turns it off.
//
// Default (without WithWaitingSeat): the lease beside the lock's called
// WaitingSeatSuffix, when the renewer's Leaser can name one
// (renewer.Besider: azlease's Leasers and leasetest's Named leases can);
// with a Leaser that cannot, no seat. Without a seat, a process that
// unlocks and locks again, or whose goroutines queue for the lock, keeps
// it from waiters elsewhere for as long as it does (see WithMaxHold for a
// bound). Every Mutex of one lock should use the same seat. Over a SAS,
// the seat needs blob permissions (see docs/credentials.md); if it is
// refused, waiters wait unannounced, as without one. The package
// documentation gives the bound and the cost.
func WithWaitingSeat(l renewer.Leaser) Option {
	return func(c *config) { c.seat, c.seatSet = l, true }
}

// newConfig applies opts and checks the mutex's own rules against r's
// validated timing: the first rule broken comes back as a
// *renewer.OptionError.
func newConfig(r *renewer.Renewer, opts []Option) (config, error) {
	if r == nil {
		return config{}, invalid("renewer", nil, "not nil")
	}
	var c config
	for i, o := range opts {
		if o == nil {
			return config{}, invalid("option "+strconv.Itoa(i), nil, "want an Option, not nil")
		}
		o(&c)
	}
	if c.log == nil {
		c.log = r.Logger() // already carries the identity and container
	} else {
		c.log = c.log.With(zap.String("identity", r.Identity()))
	}
	c.timing = r.Timing()
	if err := c.validate(); err != nil {
		return config{}, err
	}
	return c, nil
}

// validate checks the mutex's own rules against the renewer's timing.
func (c *config) validate() error {
	t := c.timing
	switch {
	case t.Duration == renewer.Infinite && c.breakTimeout == 0:
		return invalid("lease duration", t.Duration, "want WithBreakOnTimeout too, or a crashed holder keeps the lock forever")
	case t.Duration != renewer.Infinite && t.BreakPeriod < t.Duration:
		return invalid("break period", t.BreakPeriod, fmt.Sprintf("want at least the lease duration %v, so that a broken holder stops before the break completes", t.Duration))
	case c.breakTimeout < 0:
		return invalid("break-on-timeout", c.breakTimeout, "want 0 (off) or more")
	case c.breakTimeout > 0 && c.breakTimeout < 3*t.RenewInterval:
		return invalid("break-on-timeout", c.breakTimeout, fmt.Sprintf("want at least 3 renew intervals (%v), or a live holder may be broken", 3*t.RenewInterval))
	case c.maxHold < 0:
		return invalid("max hold", c.maxHold, "want 0 (off) or more")
	case c.maxHold > 0 && c.maxHold < t.Window():
		return invalid("max hold", c.maxHold, fmt.Sprintf("want at least the validity window %v", t.Window()))
	}
	return nil
}

// invalid returns the *renewer.OptionError of a rule of this package.
func invalid(field string, value any, rule string) error {
	return &renewer.OptionError{Pkg: "mutex", Field: field, Value: value, Rule: rule}
}

// poll is the effective poll interval.
func (c *config) poll() time.Duration { return c.timing.PollInterval }
