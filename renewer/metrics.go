package renewer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Metrics. Every Renewer records these through the OpenTelemetry metric
// API, on the MeterProvider given with WithMeterProvider (default: the
// global one, otel.GetMeterProvider(), which records nothing until the
// application installs an SDK). Every measurement carries the attributes
// leasehold.lock (the lock's name: a named lock's, else the container's)
// and leasehold.identity; the others named below come from small fixed
// sets. No lease ID, URL query, key or token is ever an attribute.
//
// The names, as an OpenTelemetry instrument (and as the Prometheus
// exporter shows them):
//
//   - leasehold.lease.held, gauge (leasehold_lease_held): 1 while this
//     Renewer holds the lease, 0 after. For an election's own lease it is
//     "leads"; for a seat (leasehold.role=next_in_line), "is next in
//     line". Package election adds leasehold.election.leader
//     (leasehold_election_leader), 0/1: "this candidate leads", the one to
//     alert on.
//   - leasehold.lease.term, gauge (leasehold_lease_term): the term of the
//     latest holding.
//   - leasehold.lease.losses, counter (leasehold_lease_losses_total), by
//     cause: deadline (the validity deadline passed without a successful
//     renew), broken (the lease was broken or is being broken: an
//     operator's break, a waiter's break-on-timeout), no_lease (storage
//     answered that the lease is not ours: another ID, none), held,
//     not_found, forbidden, bad_request, invalid_term, throttled, timeout,
//     error.
//   - leasehold.renew.duration, histogram in seconds
//     (leasehold_renew_duration_seconds): each renew call, by result.
//   - leasehold.renew.failures, counter (leasehold_renew_failures_total):
//     renew calls that failed, by cause (the result values below but ok).
//   - leasehold.storage.calls, counter (leasehold_storage_calls_total):
//     every storage call, by operation (acquire, renew, change, release,
//     break, properties, set_metadata) and result (ok, held, broken,
//     no_lease, not_found, forbidden, throttled, bad_request, invalid_term,
//     timeout, canceled, error).
//   - leasehold.acquire.waiting, up-down counter
//     (leasehold_acquire_waiting): Acquire calls waiting for the lease
//     (a campaigning standby, a blocked Lock).
//
// Package mutex adds leasehold.mutex.waiting (goroutines in a Mutex's
// local queue) on the same provider, with the same attributes
// ([Renewer.MeterProvider], [Renewer.MetricAttributes]).
const (
	metricHeld         = "leasehold.lease.held"
	metricTerm         = "leasehold.lease.term"
	metricLosses       = "leasehold.lease.losses"
	metricRenewSeconds = "leasehold.renew.duration"
	metricRenewFails   = "leasehold.renew.failures"
	metricStorageCalls = "leasehold.storage.calls"
	metricWaiting      = "leasehold.acquire.waiting"

	// meterName is the instrumentation scope of the library's metrics.
	meterName = "github.com/leasehold/leasehold/renewer"
)

// Attribute keys of the library's metrics.
const (
	AttrLock      = attribute.Key("leasehold.lock")      // the lock's name: a named lock's, else the container's
	AttrIdentity  = attribute.Key("leasehold.identity")  // the Renewer's identity
	AttrElection  = attribute.Key("leasehold.election")  // the election a lease belongs to: its leader lease's lock name (WithMetricAttributes)
	AttrRole      = attribute.Key("leasehold.role")      // what a lease is for in an election: RoleLeader, RoleNextInLine (WithMetricAttributes)
	AttrOperation = attribute.Key("leasehold.operation") // a storage call: acquire, renew, ...
	AttrResult    = attribute.Key("leasehold.result")    // how a call ended: ok, held, throttled, ...
	AttrCause     = attribute.Key("leasehold.cause")     // why a renew failed or a lease was lost
)

// The values of AttrRole.
const (
	// RoleLeader labels the lease an election's candidates campaign for.
	// package election cannot add it to a Renewer made by its caller: give
	// that Renewer WithMetricAttributes(AttrRole.String(RoleLeader)) to
	// have it.
	RoleLeader = "leader"
	// RoleNextInLine labels an election's next-in-line seats, which
	// package election labels so itself, with AttrElection.
	RoleNextInLine = "next_in_line"
)

// WithMetricAttributes adds attributes to every measurement of the
// Renewer, after AttrLock and AttrIdentity; a key given again replaces the
// earlier value (an AttrLock here replaces the lock's name). For leases
// that are parts of something larger: package election labels its
// next-in-line seats with AttrElection and AttrRole. Keep values to small
// fixed sets, never a lease ID, URL query, key or token. New refuses an
// attribute without a key or a value (an *OptionError).
func WithMetricAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.metricAttrs = append(c.metricAttrs, attrs...) }
}

// LockName is the name the metrics of a Renewer of l give its lock
// (AttrLock): a named lock's Name (the Azure adapter's blob leases,
// azlease.NewBlob), else the last path element of l's String (azlease's
// is the container URL, without its query: the container's name), or ""
// if it has neither.
func LockName(l Leaser) string { return lockName(l) }

// WithMeterProvider sets the OpenTelemetry MeterProvider the Renewer
// records its metrics on (see the package documentation's list). Default
// (and nil): otel.GetMeterProvider() at New, a no-op until the application
// sets a global provider, as OpenTelemetry asks of libraries.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meters = mp }
}

// errDeadlinePassed is wrapped by the cause of a loss at the validity
// deadline, so that the loss is counted as such.
var errDeadlinePassed = errors.New("validity deadline passed")

// observability is a Renewer's metrics and its record of storage contact.
// Its methods are safe for concurrent use.
type observability struct {
	raw     Leaser                    // the Leaser given to New
	mp      metric.MeterProvider      // the provider in use
	attrs   attribute.Set             // lock and identity
	contact atomic.Pointer[time.Time] // when storage last answered usefully

	base      metric.MeasurementOption // lock and identity
	held      metric.Int64Gauge
	term      metric.Int64Gauge
	losses    metric.Int64Counter
	renewDur  metric.Float64Histogram
	renewFail metric.Int64Counter
	calls     metric.Int64Counter
	waiting   metric.Int64UpDownCounter
}

// newObservability makes the instruments on cfg's MeterProvider. An
// instrument the provider refuses is replaced by a no-op one: metrics
// never stop a Renewer.
func newObservability(l Leaser, cfg config) *observability {
	mp := cfg.meters
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(meterName)
	nm := noop.Meter{}
	attrs := attribute.NewSet(append([]attribute.KeyValue{AttrLock.String(lockName(l)), AttrIdentity.String(cfg.identity)},
		cfg.metricAttrs...)...) // the last value of a key wins
	o := &observability{raw: l, mp: mp, attrs: attrs, base: metric.WithAttributeSet(attrs)}
	var err error
	if o.held, err = m.Int64Gauge(metricHeld, metric.WithUnit("{lease}"),
		metric.WithDescription("1 while this holder holds the lease (for an election: leads), 0 after")); err != nil {
		o.held, _ = nm.Int64Gauge(metricHeld)
	}
	if o.term, err = m.Int64Gauge(metricTerm, metric.WithUnit("{term}"),
		metric.WithDescription("term (fencing number) of this holder's latest holding")); err != nil {
		o.term, _ = nm.Int64Gauge(metricTerm)
	}
	if o.losses, err = m.Int64Counter(metricLosses, metric.WithUnit("{loss}"),
		metric.WithDescription("leases lost, by cause")); err != nil {
		o.losses, _ = nm.Int64Counter(metricLosses)
	}
	if o.renewDur, err = m.Float64Histogram(metricRenewSeconds, metric.WithUnit("s"),
		metric.WithDescription("time of each renew call, by result"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)); err != nil {
		o.renewDur, _ = nm.Float64Histogram(metricRenewSeconds)
	}
	if o.renewFail, err = m.Int64Counter(metricRenewFails, metric.WithUnit("{call}"),
		metric.WithDescription("renew calls that failed, by cause")); err != nil {
		o.renewFail, _ = nm.Int64Counter(metricRenewFails)
	}
	if o.calls, err = m.Int64Counter(metricStorageCalls, metric.WithUnit("{call}"),
		metric.WithDescription("storage calls, by operation and result")); err != nil {
		o.calls, _ = nm.Int64Counter(metricStorageCalls)
	}
	if o.waiting, err = m.Int64UpDownCounter(metricWaiting, metric.WithUnit("{call}"),
		metric.WithDescription("Acquire calls waiting for the lease")); err != nil {
		o.waiting, _ = nm.Int64UpDownCounter(metricWaiting)
	}
	o.held.Record(context.Background(), 0, o.base) // a standby shows 0, not nothing
	return o
}

// lockName is the name metrics give the lock: a named lock's Name, if not
// empty (the Azure adapter's blob leases, azlease.NewBlob), else the last path
// element of the Leaser's String (azlease's is the container URL, without
// its query: the container's name), or "" if it has neither.
func lockName(l Leaser) string {
	if n, ok := l.(interface{ Name() string }); ok && n.Name() != "" {
		return n.Name()
	}
	s, ok := l.(fmt.Stringer)
	if !ok {
		return ""
	}
	name := s.String()
	if u, err := url.Parse(name); err == nil && u.Path != "" && u.Path != "/" {
		return path.Base(u.Path)
	}
	return name
}

// holding records that ls became a holding (acquired or handed over).
func (o *observability) holding(ls *Lease) {
	ctx := context.Background()
	o.held.Record(ctx, 1, o.base)
	o.term.Record(ctx, ls.term, o.base)
}

// ended records that the holding ended, however.
func (o *observability) ended() { o.held.Record(context.Background(), 0, o.base) }

// lost counts a loss by its cause.
func (o *observability) lost(cause error) {
	c := resultOf(cause)
	if errors.Is(cause, errDeadlinePassed) {
		c = "deadline"
	}
	o.losses.Add(context.Background(), 1, o.base, metric.WithAttributes(AttrCause.String(c)))
}

// waiter counts one waiting Acquire, until the returned func is called.
func (o *observability) waiter() func() {
	o.waiting.Add(context.Background(), 1, o.base)
	return func() { o.waiting.Add(context.Background(), -1, o.base) }
}

// lastContact returns when storage last answered a call usefully, or the
// zero time if it never has.
func (o *observability) lastContact() time.Time {
	if t := o.contact.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// touch records that storage answered a read made for this Renewer by
// someone else (an Observer's list).
func (o *observability) touch() {
	now := time.Now()
	o.contact.Store(&now)
}

// call records one storage call of op, started at start, that ended with
// err.
func (o *observability) call(op string, start time.Time, err error) {
	ctx := context.Background()
	res := resultOf(err)
	if err == nil || res == "held" || res == "no_lease" || res == "broken" {
		o.touch()
	}
	o.calls.Add(ctx, 1, o.base, metric.WithAttributes(AttrOperation.String(op), AttrResult.String(res)))
	if op == "renew" {
		o.renewDur.Record(ctx, time.Since(start).Seconds(), o.base, metric.WithAttributes(AttrResult.String(res)))
		if err != nil {
			o.renewFail.Add(ctx, 1, o.base, metric.WithAttributes(AttrCause.String(res)))
		}
	}
}

// resultOf names how a call ended: "ok", the name classes (errors.go) gives
// its error, "timeout", "canceled", or
// "error" for anything else (a reset connection, a refused dial).
func resultOf(err error) string {
	if err == nil {
		return "ok"
	}
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

// metered is the Leaser a Renewer calls: the given one, each call counted.
type metered struct{ o *observability }

func (m metered) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	start := time.Now()
	got, err := m.o.raw.Acquire(ctx, leaseID, d)
	m.o.call("acquire", start, err)
	return got, err
}

func (m metered) Renew(ctx context.Context, leaseID string) (string, error) {
	start := time.Now()
	got, err := m.o.raw.Renew(ctx, leaseID)
	m.o.call("renew", start, err)
	return got, err
}

func (m metered) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
	start := time.Now()
	got, err := m.o.raw.Change(ctx, leaseID, proposedID)
	m.o.call("change", start, err)
	return got, err
}

func (m metered) Release(ctx context.Context, leaseID string) error {
	start := time.Now()
	err := m.o.raw.Release(ctx, leaseID)
	m.o.call("release", start, err)
	return err
}

func (m metered) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	start := time.Now()
	left, err := m.o.raw.Break(ctx, period)
	m.o.call("break", start, err)
	return left, err
}

func (m metered) Properties(ctx context.Context) (Properties, error) {
	start := time.Now()
	p, err := m.o.raw.Properties(ctx)
	m.o.call("properties", start, err)
	return p, err
}

func (m metered) SetMetadata(ctx context.Context, leaseID string, md map[string]string) error {
	start := time.Now()
	err := m.o.raw.SetMetadata(ctx, leaseID, md)
	m.o.call("set_metadata", start, err)
	return err
}

// LastContact returns the local time at which storage last answered one
// of this Renewer's calls in a way that shows it works: a success, or an
// answer about the lease (held by another, not ours), or, for a Renewer
// waiting through an Observer (WithObserver), a list the Observer made.
// Failures, throttling and refused credentials do not count. It is the zero time before the
// first such answer. It makes no storage call; a health check compares it
// with the interval at which calls are made (election.Election.Check does).
func (r *Renewer) LastContact() time.Time { return r.obs.lastContact() }

// MeterProvider returns the MeterProvider the Renewer records its metrics
// on: the one given with WithMeterProvider, or the global one as it was at
// New. Package mutex records its own metrics there too.
func (r *Renewer) MeterProvider() metric.MeterProvider { return r.obs.mp }

// MetricAttributes returns the attributes every metric of this Renewer
// carries, AttrLock and AttrIdentity (and any WithMetricAttributes), for
// metrics of one's own about the same lock.
func (r *Renewer) MetricAttributes() attribute.Set { return r.obs.attrs }
