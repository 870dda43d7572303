package renewer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// The metrics themselves are read back through the OpenTelemetry SDK's
// in-memory reader in examples/metrics (renewer_metrics_test.go), the
// module that has the SDK: the library's go.mod requires no test-only
// module.

// With no provider set, the global one (a no-op) is used: New works and
// records nothing anywhere.
func TestMetricsDefaultNoop(t *testing.T) {
	r, err := renewer.New(leasetest.New(), renewer.WithIdentity("a"), renewer.WithMeterProvider(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.LastContact() != (time.Time{}) {
		t.Errorf("LastContact before any call = %v, want zero", r.LastContact())
	}
}

// LastContact moves on answers that show storage works (a success, a lease
// held by another), not on failures.
func TestLastContact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newRenewer(t, c, "a")
		b := newRenewer(t, c, "b")
		ls := mustAcquire(t, a)
		defer ls.Release(context.Background())
		if _, err := b.TryAcquire(t.Context()); err == nil {
			t.Fatal("b acquired a held lease")
		}
		if got := b.LastContact(); !got.Equal(time.Now()) {
			t.Errorf("LastContact after a refused acquire = %v, want now (%v)", got, time.Now())
		}
		time.Sleep(time.Second)
		failing(c, leasetest.OpProperties, renewer.ErrThrottled, func() bool { return true })
		if _, err := b.Inspect(t.Context()); err == nil {
			t.Fatal("Inspect passed a throttled read")
		}
		if got := time.Since(b.LastContact()); got != time.Second {
			t.Errorf("LastContact moved on a throttled read: %v ago, want 1s", got)
		}
		// A renew refused because the lease was broken is storage
		// answering: contact.
		c.SetBefore(nil)
		if _, err := c.Break(t.Context(), 60*time.Second); err != nil {
			t.Fatal(err)
		}
		<-ls.Done()
		if got := a.LastContact(); !got.Equal(time.Now()) {
			t.Errorf("LastContact after a renew refused as broken = %v, want now (%v)", got, time.Now())
		}
	})
}

// A waiter through an Observer makes no read of its own after its first
// poll; the Observer's lists count as contact, so a standby waiting that
// way is not taken for one cut off from storage.
func TestLastContactThroughObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		c := namedLease(t, n, "orders/eu-west")
		held := mustAcquire(t, newRenewer(t, c, "holder"))
		defer held.Release(context.Background())
		waiter := newRenewer(t, c, "waiter", renewer.WithObserver(newObserver(t, n)))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = waiter.Acquire(ctx)
		}()
		time.Sleep(10 * pollEvery)
		if since := time.Since(waiter.LastContact()); since > 2*pollEvery {
			t.Errorf("LastContact %v ago while the Observer lists every poll, want within 2 polls", since)
		}
		cancel()
		<-done
	})
}

// WithMetricAttributes adds attributes after lock and identity, a key
// given again replacing the earlier value; one without a key or value is
// refused, naming the option.
func TestWithMetricAttributes(t *testing.T) {
	r, err := renewer.New(leasetest.New(), renewer.WithIdentity("a"),
		renewer.WithMetricAttributes(renewer.AttrLock.String("jobs/.next-in-line"), renewer.AttrRole.String(renewer.RoleNextInLine)))
	if err != nil {
		t.Fatal(err)
	}
	set := r.MetricAttributes()
	for key, want := range map[attribute.Key]string{renewer.AttrLock: "jobs/.next-in-line", renewer.AttrIdentity: "a", renewer.AttrRole: "next_in_line"} {
		if v, ok := set.Value(key); !ok || v.String() != want {
			t.Errorf("%s = %q, want %q", key, v.String(), want)
		}
	}
	for _, bad := range []attribute.KeyValue{{}, renewer.AttrRole.String("")} {
		_, err := renewer.New(leasetest.New(), renewer.WithMetricAttributes(bad))
		if !errors.Is(err, renewer.ErrInvalidOption) || !strings.Contains(err.Error(), "metric attribute") {
			t.Errorf("New with metric attribute %v = %v, want an invalid option naming it", bad, err)
		}
	}
}
