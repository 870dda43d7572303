package mutex

import (
	"context"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/leasehold/leasehold/renewer"
)

// metricWaiting is the mutex's own metric, on its renewer's MeterProvider
// with its attributes (the renewer's metrics are listed in package
// renewer): goroutines of this process waiting in the Mutex's local queue
// for their turn, as leasehold_mutex_waiting in Prometheus. The one
// goroutine with the turn that waits for storage is counted by the
// renewer's leasehold.acquire.waiting.
const metricWaiting = "leasehold.mutex.waiting"

// metrics is a Mutex's instruments.
type metrics struct {
	waiting metric.Int64UpDownCounter
	attrs   metric.MeasurementOption
}

func newMetrics(r *renewer.Renewer) metrics {
	m := r.MeterProvider().Meter("github.com/leasehold/leasehold/mutex")
	w, err := m.Int64UpDownCounter(metricWaiting, metric.WithUnit("{goroutine}"),
		metric.WithDescription("goroutines waiting in the local queue of a Mutex"))
	if err != nil {
		w, _ = noop.Meter{}.Int64UpDownCounter(metricWaiting)
	}
	return metrics{waiting: w, attrs: metric.WithAttributeSet(r.MetricAttributes())}
}

// waiter counts one goroutine in the local queue until the returned func is
// called.
func (m metrics) waiter() func() {
	m.waiting.Add(context.Background(), 1, m.attrs)
	return func() { m.waiting.Add(context.Background(), -1, m.attrs) }
}
