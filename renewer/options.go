package renewer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// maxIdentity bounds the identity, which travels as a metadata header.
const maxIdentity = 256

// An Option configures a Renewer. Options are validated together by New.
type Option func(*config)

// config is the Renewer's configuration: its Timing (see timing.go for the
// rules and defaults) and the rest. Zero durations mean "derive the
// default".
type config struct {
	Timing
	breakSet    bool // WithBreakPeriod was given (0 is a valid period)
	identity    string
	identitySet bool // WithIdentity was given, even with ""
	heartbeat   bool
	log         *zap.Logger
	meters      metric.MeterProvider // nil: the global one
	metricAttrs []attribute.KeyValue // WithMetricAttributes
	payload     string               // published with the term (payload.go)
	observer    *Observer            // WithObserver, or nil
	observerKey string               // the Renewer's lease's key in observer's Lister
}

// WithDuration sets the lease duration L: whole seconds from 15 s to 60 s, or
// Infinite. Default 15 s. An infinite lease never expires by itself, so a
// crashed holder keeps it until someone breaks it: use one only with a
// break-on-timeout recovery above (the mutex package's), never alone.
func WithDuration(d time.Duration) Option { return func(c *config) { c.Duration = d } }

// WithRenewInterval sets R, how often the holder renews. Zero means the
// default: a third of
// the lease's validity window (L, or the break period for infinite leases).
// R must leave room for retries before the validity deadline: R < window - M,
// and at least 1 ms.
func WithRenewInterval(d time.Duration) Option { return func(c *config) { c.RenewInterval = d } }

// WithMargin sets M, the safety margin: the holder stops counting itself as
// holder M before the earliest moment its lease could pass to anyone else.
// At least MinMargin (1 s), less than half the validity window.
// It must cover the time the holder needs to stop acting once its context
// is cancelled, plus any rate difference between its clock and the
// service's. Zero means the default: a fifth of the validity window (3 s at L = 15 s).
func WithMargin(d time.Duration) Option { return func(c *config) { c.Margin = d } }

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
	return func(c *config) { c.BreakPeriod, c.breakSet = d, true }
}

// WithPollInterval sets P, the pause between attempts of a blocking
// Acquire while someone else holds the lease; each pause is jittered by
// ±20%. Default 750 ms. P sets what a standby costs and how fast it takes
// over: 3600/P billed calls an hour (4,800 at the default, about $1.50 a
// month at list price), a graceful hand-over within about 1.2 P plus a few
// round trips (p95 under 1 s at the default), and a crash failover within
// L + 1.2 P. Raise it to save calls: at 2 s a standby makes 1,800 calls an
// hour and a hand-over takes up to about 2.4 s. At least MinPollInterval.
// An election's standbys need not all pay it: election.WithStandby (and
// its profiles, election.Profile) lets one standby poll every P and the
// others wait for a few calls an hour.
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.PollInterval = d } }

// WithCallTimeout bounds each storage call (a try, not the retries): at
// least 1 ms. Zero means the default: half the renew interval, but at least
// 100 ms. Calls made while holding are
// also bounded by the validity deadline, whichever comes first.
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.CallTimeout = d } }

// WithIdentity names this holder. The identity is written with the term
// into the container's metadata at every acquisition, so that everyone who
// reads the lease sees who holds it (election.Leader.Identity, the CLI's
// status, Status.Holder), and it labels this Renewer's logs and metrics.
// Give each process (each replica, each job) its own: two holders with one
// identity cannot be told apart by readers, though the lease still keeps
// them from holding at once. Printable ASCII, at most 256 bytes, no leading
// or trailing spaces. Default: hostname-pid.
func WithIdentity(id string) Option {
	return func(c *config) { c.identity, c.identitySet = id, true }
}

// WithHeartbeat makes the holder advance a counter in the container's
// metadata after every renew (one more storage call per renew), so that
// others can see it is alive. Always on for infinite leases.
func WithHeartbeat(on bool) Option { return func(c *config) { c.heartbeat = on } }

// WithLogger sets a *zap.Logger (WithSlog sets a *log/slog one; the last
// of the two given wins): Warn on a loss (with its cause), a break, a renew
// that failed twice in a row and a failed release; Info on acquire, release
// and hand-over; Debug per renew and per poll. Default (and nil): slog.Default(),
// Warn and above only, so losses, breaks and persistent storage failures
// reach stderr with no configuration and nothing is logged per renew. To
// silence it, pass zap.NewNop().
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

// newConfig applies opts over the defaults, derives the defaults of the
// timing fields left zero, and validates the result.
func newConfig(opts []Option) (config, error) {
	c := config{Timing: Timing{Duration: DefaultDuration, PollInterval: DefaultPollInterval}}
	for i, o := range opts {
		if o == nil {
			return config{}, &OptionError{Field: fmt.Sprintf("option %d", i), Rule: "want an Option, not nil"}
		}
		o(&c)
	}
	if !c.identitySet {
		c.identity = defaultIdentity()
	}
	if c.log == nil {
		c.log = defaultLogger()
	}
	if c.Duration == Infinite {
		c.heartbeat = true
	}
	c.Timing = c.Timing.withDefaults(c.breakSet)
	if err := c.Validate(); err != nil {
		return config{}, err
	}
	if err := validateIdentity(c.identity); err != nil {
		return config{}, err
	}
	if err := validatePayload(c.payload); err != nil {
		return config{}, err
	}
	for _, kv := range c.metricAttrs {
		if !kv.Valid() || kv.Value.String() == "" {
			return config{}, &OptionError{Field: "metric attribute", Value: string(kv.Key), Rule: "want a non-empty key and value"}
		}
	}
	return c, nil
}

func validateIdentity(id string) error {
	bad := func(rule string) error { return &OptionError{Field: "identity", Value: id, Rule: rule} }
	if id == "" {
		return bad("want a non-empty string")
	}
	if len(id) > maxIdentity {
		return bad(fmt.Sprintf("want at most %d bytes, not %d", maxIdentity, len(id)))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return bad(fmt.Sprintf("want printable ASCII (byte %d is %#x)", i, id[i]))
		}
	}
	if strings.TrimSpace(id) != id {
		return bad("want no leading or trailing spaces")
	}
	return nil
}
