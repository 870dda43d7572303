package main

// The renewer's metrics, read back through the OpenTelemetry SDK's
// in-memory reader. They live in this module, which has the SDK, so that
// the library's go.mod requires no test-only module.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// renewEvery is the renew interval at the default L = 15 s.
const renewEvery = 5 * time.Second

func newRenewer(t *testing.T, l renewer.Leaser, identity string, opts ...renewer.Option) *renewer.Renewer {
	t.Helper()
	opts = append([]renewer.Option{renewer.WithIdentity(identity), renewer.WithLogger(zap.NewNop())}, opts...)
	r, err := renewer.New(l, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustAcquire(t *testing.T, r *renewer.Renewer) *renewer.Lease {
	t.Helper()
	ls, err := r.TryAcquire(t.Context())
	if err != nil {
		t.Fatalf("TryAcquire: %v", err)
	}
	return ls
}

// failing makes every call of op fail with err while on reports true.
func failing(c *leasetest.Container, op leasetest.Op, err error, on func() bool) {
	c.SetBefore(func(_ context.Context, call leasetest.Call) error {
		if call.Op == op && on() {
			return err
		}
		return nil
	})
}

// named is a Leaser whose String is a container URL with a SAS token, as
// an azlease.Leaser's would be if it showed one.
type named struct{ *leasetest.Container }

func (named) String() string {
	return "https://127.0.0.1:10000/devstoreaccount1/orders-lock?sv=2024&sig=SECRET"
}

// points reads every data point from rd as "name{k=v,...}" -> value: the
// sum or gauge value, or a histogram's count.
func points(t *testing.T, rd *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := rd.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		sort.Strings(kv)
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Count)
				}
			default:
				t.Errorf("metric %s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// sum adds the values of the points whose key starts with name{ and
// contains every one of parts.
func sum(ps map[string]float64, name string, parts ...string) float64 {
	var n float64
next:
	for k, v := range ps {
		if !strings.HasPrefix(k, name+"{") {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(k, p) {
				continue next
			}
		}
		n += v
	}
	return n
}

func dump(ps map[string]float64) string {
	var lines []string
	for k, v := range ps {
		lines = append(lines, fmt.Sprintf("%s %v", k, v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestSumFailsOnMissingPoint(t *testing.T) {
	ps := map[string]float64{"a.b{x=1}": 2, "a.bc{x=1}": 5}
	if sum(ps, "a.b", "x=2") != 0 || sum(ps, "a.b") != 2 {
		t.Fatalf("sum matched the wrong points: %v %v", sum(ps, "a.b", "x=2"), sum(ps, "a.b"))
	}
}

// The renewer's metrics, read back through an in-memory reader: held and
// term per holder, storage calls by operation and result, renew latency,
// renew failures and the loss by cause, and waiting Acquires.
func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rd := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
		c := leasetest.New()
		l := named{c}
		a := newRenewer(t, l, "a", renewer.WithMeterProvider(mp))
		b := newRenewer(t, l, "b", renewer.WithMeterProvider(mp))
		ls := mustAcquire(t, a)
		time.Sleep(renewEvery + time.Second) // one renew

		done := make(chan *renewer.Lease)
		go func() {
			lb, err := b.Acquire(t.Context())
			if err != nil {
				t.Error(err)
			}
			done <- lb
		}()
		time.Sleep(2 * time.Second)
		ps := points(t, rd)
		for _, tt := range []struct {
			name  string
			parts []string
			want  float64
		}{
			{"leasehold.lease.held", []string{"leasehold.identity=a", "leasehold.lock=orders-lock"}, 1},
			{"leasehold.lease.term", []string{"leasehold.identity=a"}, 1},
			{"leasehold.acquire.waiting", []string{"leasehold.identity=b"}, 1},
			{"leasehold.storage.calls", []string{"identity=a", "operation=acquire", "result=ok"}, 1},
			{"leasehold.storage.calls", []string{"identity=a", "operation=renew", "result=ok"}, 1},
			{"leasehold.renew.duration", []string{"identity=a", "result=ok"}, 1},
		} {
			if got := sum(ps, tt.name, tt.parts...); got != tt.want {
				t.Errorf("%s %v = %v, want %v; all:\n%s", tt.name, tt.parts, got, tt.want, dump(ps))
			}
		}
		if got := sum(ps, "leasehold.storage.calls", "identity=b", "operation=acquire", "result=held"); got < 1 {
			t.Errorf("b's refused acquires = %v, want at least 1; all:\n%s", got, dump(ps))
		}

		failing(c, leasetest.OpRenew, renewer.ErrThrottled, func() bool { return true })
		<-ls.Done()
		c.SetBefore(nil)
		_ = ls.Release(context.Background())
		lb := <-done
		defer lb.Release(context.Background())
		ps = points(t, rd)
		for _, tt := range []struct {
			name  string
			parts []string
			want  float64
		}{
			{"leasehold.lease.held", []string{"identity=a"}, 0},
			{"leasehold.lease.held", []string{"identity=b"}, 1},
			{"leasehold.lease.term", []string{"identity=b"}, 2},
			{"leasehold.lease.losses", []string{"identity=a", "cause=deadline"}, 1},
			{"leasehold.lease.losses", []string{"identity=b"}, 0},
			{"leasehold.acquire.waiting", []string{"identity=b"}, 0},
		} {
			if got := sum(ps, tt.name, tt.parts...); got != tt.want {
				t.Errorf("%s %v = %v, want %v; all:\n%s", tt.name, tt.parts, got, tt.want, dump(ps))
			}
		}
		if got := sum(ps, "leasehold.renew.failures", "identity=a", "cause=throttled"); got < 2 {
			t.Errorf("renew failures = %v, want several; all:\n%s", got, dump(ps))
		}
		if got := sum(ps, "leasehold.renew.duration", "identity=a", "result=throttled"); got < 2 {
			t.Errorf("throttled renew latencies = %v, want several", got)
		}
		for k := range ps {
			if strings.Contains(k, "SECRET") || strings.Contains(k, "sig") || strings.Contains(k, "127.0.0.1") {
				t.Errorf("attribute shows the URL or its query: %s", k)
			}
		}
	})
}

// The mutex's own metric: goroutines waiting in its local queue, on the
// renewer's MeterProvider with the renewer's attributes.
func TestMutexWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rd := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
		r := newRenewer(t, named{leasetest.New()}, "a", renewer.WithMeterProvider(mp))
		m, err := mutex.New(r)
		if err != nil {
			t.Fatal(err)
		}
		first, err := m.Lock(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan *mutex.Held, 2)
		for range 2 {
			go func() {
				h, err := m.Lock(t.Context())
				if err != nil {
					t.Error(err)
				}
				got <- h
			}()
		}
		synctest.Wait()
		want := "leasehold.mutex.waiting"
		if n := sum(points(t, rd), want, "leasehold.identity=a", "leasehold.lock=orders-lock"); n != 2 {
			t.Errorf("%s = %v with two goroutines queued, want 2; all:\n%s", want, n, dump(points(t, rd)))
		}
		if err := first.Unlock(t.Context()); err != nil {
			t.Fatal(err)
		}
		second := <-got
		synctest.Wait()
		if n := sum(points(t, rd), want); n != 1 {
			t.Errorf("%s = %v after one hand-over, want 1", want, n)
		}
		_ = second.Unlock(t.Context())
		third := <-got
		_ = third.Unlock(t.Context())
		if n := sum(points(t, rd), want); n != 0 {
			t.Errorf("%s = %v with no one queued, want 0", want, n)
		}
	})
}
