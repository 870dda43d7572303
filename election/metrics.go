package election

import (
	"context"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/leasehold/leasehold/renewer"
)

// The election's own metric, on the MeterProvider of the candidate's
// Renewer (renewer.WithMeterProvider), with its attributes
// (renewer.Renewer.MetricAttributes: leasehold.lock, the election's lock,
// and leasehold.identity, the candidate's):
//
//   - leasehold.election.leader, gauge (leasehold_election_leader): 1 while
//     this candidate leads (IsLeader), 0 otherwise, from New on, so that a
//     standby shows 0, not nothing. Across an election's candidates it
//     sums to 1 while someone leads: alert on the sum being 0 for longer
//     than a failover, or above 1 (two processes that each believe they
//     lead; at most for a safety margin's worth of a clock fault), as on
//     client-go's leader_election_master_status.
//
// The next-in-line seats record the renewer's metrics
// (leasehold.lease.held and the rest) with leasehold.role=next_in_line and
// leasehold.election set to the election's lock, and with their
// leasehold.lock under the election's ("jobs/.next-in-line"), so that a
// sum per lock never mixes elections and a standby holding a seat is not
// taken for a leader.
const metricLeader = "leasehold.election.leader"

// leadsGauge records whether this candidate leads.
type leadsGauge struct {
	g    metric.Int64Gauge
	base metric.MeasurementOption

	mu  sync.Mutex  // orders the records: a late 0 of an ended term never follows the next term's 1
	cur *Leadership // the term last recorded as started
}

// newLeadsGauge makes the gauge on r's provider, with r's attributes, and
// records 0. A provider that refuses it gets a no-op one: metrics never
// stop an election.
func newLeadsGauge(r *renewer.Renewer) *leadsGauge {
	m := r.MeterProvider().Meter("github.com/leasehold/leasehold/election")
	g, err := m.Int64Gauge(metricLeader, metric.WithUnit("{leader}"),
		metric.WithDescription("1 while this candidate leads the election, 0 otherwise"))
	if err != nil {
		g, _ = noop.Meter{}.Int64Gauge(metricLeader)
	}
	lg := &leadsGauge{g: g, base: metric.WithAttributeSet(r.MetricAttributes())}
	lg.g.Record(context.Background(), 0, lg.base)
	return lg
}

// follow records 1 for the term ld, now, and 0 once it ends (unless a
// later term has started by then).
func (lg *leadsGauge) follow(ld *Leadership) {
	if lg == nil { // an Election not made by New
		return
	}
	lg.mu.Lock()
	lg.cur = ld
	lg.g.Record(context.Background(), 1, lg.base)
	lg.mu.Unlock()
	context.AfterFunc(ld.ctx, func() {
		lg.mu.Lock()
		defer lg.mu.Unlock()
		if lg.cur == ld {
			lg.g.Record(context.Background(), 0, lg.base)
		}
	})
}

// seatMetricAttributes labels the metrics of a next-in-line seat of the
// election that r campaigns in: its election (r's lock name), its role,
// and a lock name under the election's, unless the seat's name already is
// (the Azure adapter's named locks: "eu/next-in-line" beside "eu").
func seatMetricAttributes(r *renewer.Renewer, seat renewer.Leaser) renewer.Option {
	set := r.MetricAttributes()
	v, _ := set.Value(renewer.AttrLock)
	election := v.String()
	lock := renewer.LockName(seat)
	if election != "" && !strings.HasPrefix(lock, election+"/") {
		lock = election + "/" + lock
	}
	attrs := []attribute.KeyValue{renewer.AttrRole.String(renewer.RoleNextInLine)}
	if election != "" { // a Leaser with no name (a test's fake) has none
		attrs = append(attrs, renewer.AttrLock.String(lock), renewer.AttrElection.String(election))
	}
	return renewer.WithMetricAttributes(attrs...)
}
