package renewer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Limits and defaults of the lease timing. See the package documentation for
// how they combine into the validity deadline.
const (
	// MinDuration and MaxDuration bound a fixed lease's duration, as the
	// service does.
	MinDuration = 15 * time.Second
	MaxDuration = 60 * time.Second
	// MaxBreakPeriod is the longest break period the service accepts.
	MaxBreakPeriod = 60 * time.Second
	// DefaultDuration is the lease duration unless WithDuration says otherwise.
	DefaultDuration = 15 * time.Second
	// DefaultInfiniteBreakPeriod is the break period of infinite leases
	// unless WithBreakPeriod says otherwise. (A fixed lease's default break
	// period is its duration.)
	DefaultInfiniteBreakPeriod = 15 * time.Second
	// DefaultPollInterval is how often Acquire asks for a held lease,
	// unless WithPollInterval says otherwise.
	DefaultPollInterval = 750 * time.Millisecond
	// MinMargin is the smallest safety margin: it must cover the time a
	// holder takes to stop once its context is cancelled (a scheduler
	// delay, a GC pause) plus the difference between its clock's rate and
	// the service's (the library assumes at most 1%: 0.6 s over a 60 s
	// window).
	MinMargin = time.Second
	// MinRenewInterval and MinCallTimeout are the smallest renew interval
	// and call timeout accepted: below them a call cannot complete.
	MinRenewInterval = time.Millisecond
	MinCallTimeout   = time.Millisecond
	// defaultMinCallTimeout is the least default call timeout (half the
	// renew interval, unless that is shorter).
	defaultMinCallTimeout = 100 * time.Millisecond
	// maxIdentity bounds the identity, which travels as a metadata header.
	maxIdentity = 256
)

// An Option configures a Renewer. Options are validated together by New.
type Option func(*config)

// config is the Renewer's validated configuration. Zero durations mean
// "derive the default".
type config struct {
	duration      time.Duration // L: the lease duration, or Infinite
	renewInterval time.Duration // R
	margin        time.Duration // M
	breakPeriod   time.Duration // break period; for infinite leases, also the validity per renew
	breakSet      bool          // WithBreakPeriod was given (0 is a valid period)
	pollInterval  time.Duration // P
	callTimeout   time.Duration // bound of one storage call
	identity      string
	identitySet   bool // WithIdentity was given, even with ""
	heartbeat     bool
	log           *zap.Logger
}

// WithDuration sets the lease duration L: whole seconds from 15 s to 60 s, or
// Infinite. Default 15 s. An infinite lease never expires by itself, so a
// crashed holder keeps it until someone breaks it: use one only with a
// break-on-timeout recovery above (the mutex package's), never alone.
func WithDuration(d time.Duration) Option { return func(c *config) { c.duration = d } }

// WithRenewInterval sets R, how often the holder renews. Zero means the
// default: a third of
// the lease's validity window (L, or the break period for infinite leases).
// R must leave room for retries before the validity deadline: R < window - M,
// and at least 1 ms.
func WithRenewInterval(d time.Duration) Option { return func(c *config) { c.renewInterval = d } }

// WithMargin sets M, the safety margin: the holder stops counting itself as
// holder M before the earliest moment its lease could pass to anyone else.
// At least MinMargin (1 s), less than half the validity window.
// It must cover the time the holder needs to stop acting once its context
// is cancelled, plus any rate difference between its clock and the
// service's. Zero means the default: a fifth of the validity window (3 s at L = 15 s).
func WithMargin(d time.Duration) Option { return func(c *config) { c.margin = d } }

// WithBreakPeriod sets the break period of [Renewer.Break]: whole seconds
// from 0 to 60.
//
// For a fixed lease the default is the lease duration: the break then
// completes no sooner than the lease would have expired, so it stops the
// holder's renewals without ever cutting its validity short, even while the
// holder cannot reach storage. A shorter period is for a holder known to be
// dead: a live holder whose renewals are failing may still be acting when
// such a break completes.
//
// For an infinite lease the default is 15 s (at least 15 s is required), and
// the period is also the validity window of each renew: a break started
// after a successful renew completes no sooner than one period later, so
// every breaker of the lease must use at least this period (the mutex's
// break-on-timeout does).
func WithBreakPeriod(d time.Duration) Option {
	return func(c *config) { c.breakPeriod, c.breakSet = d, true }
}

// WithPollInterval sets P, the pause between attempts of a blocking
// Acquire while someone else holds the lease; each pause is jittered by
// ±20%. Default 750 ms. P sets what a standby costs and how fast it takes
// over: 3600/P billed calls an hour (4,800 at the default, about $1.50 a
// month at list price), a graceful hand-over within about 1.2 P plus a few
// round trips (p95 under 1 s at the default), and a crash failover within
// L + 1.2 P. Raise it to save calls: at 2 s a standby makes 1,800 calls an
// hour and a hand-over takes up to about 2.4 s.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// WithCallTimeout bounds each storage call (a try, not the retries): at
// least 1 ms. Zero means the default: half the renew interval, but at least
// 100 ms. Calls made while holding are
// also bounded by the validity deadline, whichever comes first.
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.callTimeout = d } }

// WithIdentity sets the holder's identity, written to the container's
// metadata on every acquisition so that others can see who holds the lease:
// printable ASCII, at most 256 bytes. Default: hostname-pid.
func WithIdentity(id string) Option {
	return func(c *config) { c.identity, c.identitySet = id, true }
}

// WithHeartbeat makes the holder advance a counter in the container's
// metadata after every renew (one more storage call per renew), so that
// others can see it is alive. Always on for infinite leases.
func WithHeartbeat(on bool) Option { return func(c *config) { c.heartbeat = on } }

// WithLogger sets the logger: Info on acquire and release, Warn on loss and
// break, Debug per renew. Default: no logging.
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

func defaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "leasehold"
	}
	id := host + "-" + strconv.Itoa(os.Getpid())
	if validateIdentity(id) != nil {
		return "leasehold-" + strconv.Itoa(os.Getpid())
	}
	return id
}

// newConfig applies opts over the defaults and validates the result.
func newConfig(opts []Option) (config, error) {
	c := config{duration: DefaultDuration, pollInterval: DefaultPollInterval}
	for _, o := range opts {
		if o == nil {
			return config{}, fmt.Errorf("%w: nil Option", ErrInvalidOption)
		}
		o(&c)
	}
	if !c.identitySet {
		c.identity = defaultIdentity()
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	if c.duration == Infinite {
		c.heartbeat = true
	}
	if !c.breakSet {
		c.breakPeriod = c.duration
		if c.duration == Infinite {
			c.breakPeriod = DefaultInfiniteBreakPeriod
		}
	}
	if err := c.validate(); err != nil {
		return config{}, err
	}
	return c, nil
}

// window is how long one successful renew proves the lease held, counted
// from the moment the renew was sent: L for fixed leases; for infinite
// leases the break period, since only a break can end them.
func (c *config) window() time.Duration {
	if c.duration == Infinite {
		return c.breakPeriod
	}
	return c.duration
}

func (c *config) validate() error {
	if c.duration != Infinite && (c.duration < MinDuration || c.duration > MaxDuration || c.duration%time.Second != 0) {
		return invalid("lease duration", c.duration, "want whole seconds from 15s to 60s, or Infinite")
	}
	if c.breakPeriod < 0 || c.breakPeriod > MaxBreakPeriod || c.breakPeriod%time.Second != 0 {
		return invalid("break period", c.breakPeriod, "want whole seconds from 0s to 60s")
	}
	if c.duration == Infinite && c.breakPeriod < MinDuration {
		return invalid("break period", c.breakPeriod, "an infinite lease needs at least 15s, its validity window per renew")
	}
	w := c.window()
	if c.margin == 0 {
		c.margin = w / 5
	}
	if c.renewInterval == 0 {
		c.renewInterval = w / 3
	}
	if c.callTimeout == 0 {
		c.callTimeout = max(c.renewInterval/2, defaultMinCallTimeout)
	}
	switch {
	case c.margin < MinMargin || c.margin >= w/2:
		return invalid("margin", c.margin, fmt.Sprintf("want at least %v and less than half the validity window %v", MinMargin, w))
	case c.renewInterval < MinRenewInterval || c.renewInterval >= w-c.margin:
		return invalid("renew interval", c.renewInterval, fmt.Sprintf("want at least %v and less than the validity window minus the margin (%v)", MinRenewInterval, w-c.margin))
	case c.callTimeout < MinCallTimeout:
		return invalid("call timeout", c.callTimeout, fmt.Sprintf("want at least %v", MinCallTimeout))
	case c.pollInterval < 10*time.Millisecond:
		return invalid("poll interval", c.pollInterval, "want at least 10ms")
	}
	return validateIdentity(c.identity)
}

func invalid(field string, v time.Duration, want string) error {
	return fmt.Errorf("%w: %s %v: %s", ErrInvalidOption, field, v, want)
}

func validateIdentity(id string) error {
	if id == "" {
		return fmt.Errorf("%w: identity is empty", ErrInvalidOption)
	}
	if len(id) > maxIdentity {
		return fmt.Errorf("%w: identity is %d bytes long: want at most %d", ErrInvalidOption, len(id), maxIdentity)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return fmt.Errorf("%w: identity %q: want printable ASCII (byte %d is %#x)", ErrInvalidOption, id, i, id[i])
		}
	}
	if strings.TrimSpace(id) != id {
		return fmt.Errorf("%w: identity %q: want no leading or trailing spaces", ErrInvalidOption, id)
	}
	return nil
}
