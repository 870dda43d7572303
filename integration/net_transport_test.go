package integration_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// netLeaser returns an azlease.Leaser over a fresh container whose requests
// go through a netTransport, the transport, and the container's name.
func netLeaser(t *testing.T) (*azlease.Leaser, *netTransport, string) {
	t.Helper()
	name, _ := newContainer(t, "net")
	tr := newNetTransport()
	l, err := azlease.FromConnectionString(connString(t), name, &azlease.Options{
		ClientOptions: &container.ClientOptions{ClientOptions: policy.ClientOptions{
			Transport: tr,
			Retry:     policy.RetryOptions{MaxRetries: -1},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, tr, name
}

// The transport names each SDK request as the leasetest.Call that the
// fake would see for the same Leaser call.
func TestNetTransportNamesTheSDKRequests(t *testing.T) {
	l, tr, _ := netLeaser(t)
	const (
		a = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
		c = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
	)
	var (
		mu  sync.Mutex // guards got
		got []leasetest.Call
	)
	tr.net.SetDelivery(func(call leasetest.Call) leasetest.Delivery {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, call)
		return leasetest.Delivery{}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	steps := []error{
		second(l.Acquire(ctx, a, 20*time.Second)),
		second(l.Renew(ctx, a)),
		l.SetMetadata(ctx, a, map[string]string{"k": "v"}),
		second(l.Properties(ctx)),
		second(l.Change(ctx, a, c)),
		second(l.Break(ctx, 5*time.Second)),
		second(l.Break(ctx, renewer.BreakAtExpiry)),
		l.Release(ctx, c),
		second(l.Acquire(ctx, a, renewer.Infinite)),
	}
	for i, err := range steps {
		if err != nil {
			t.Errorf("step %d: %v", i, err)
		}
	}
	want := []leasetest.Call{
		{Op: leasetest.OpAcquire, LeaseID: a, Duration: 20 * time.Second},
		{Op: leasetest.OpRenew, LeaseID: a},
		{Op: leasetest.OpSetMetadata, LeaseID: a},
		{Op: leasetest.OpProperties},
		{Op: leasetest.OpChange, LeaseID: a, ProposedID: c},
		{Op: leasetest.OpBreak, Duration: 5 * time.Second},
		{Op: leasetest.OpBreak, Duration: renewer.BreakAtExpiry},
		{Op: leasetest.OpRelease, LeaseID: c},
		{Op: leasetest.OpAcquire, LeaseID: a, Duration: renewer.Infinite},
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("calls seen:\n got %+v\nwant %+v", got, want)
	}
}

func second[T any](_ T, err error) error { return err }

// A lost answer reaches the caller through the SDK and the adapter as a
// transport failure: transient, no renewer sentinel; the acquire was made.
func TestNetTransportLostAnswerIsATransportFailure(t *testing.T) {
	l, tr, _ := netLeaser(t)
	const a = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	tr.net.SetDelivery(func(leasetest.Call) leasetest.Delivery { return leasetest.Delivery{LoseAnswer: true} })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := l.Acquire(ctx, a, 15*time.Second)
	if !errors.Is(err, leasetest.ErrAnswerLost) {
		t.Errorf("Acquire = %v, want the transport's ErrAnswerLost", err)
	}
	for _, s := range []error{renewer.ErrLeaseHeld, renewer.ErrNoLease, renewer.ErrContainerNotFound, renewer.ErrBadRequest,
		renewer.ErrForbidden, renewer.ErrThrottled} {
		if errors.Is(err, s) {
			t.Errorf("Acquire = %v, which wraps %v; want a transport failure", err, s)
		}
	}
	tr.net.SetDelivery(nil)
	if p, err := l.Properties(ctx); err != nil || p.State != renewer.StateLeased {
		t.Errorf("Properties = %v, %v; want leased: the acquire was applied", p.State, err)
	}
	if err := tr.net.Settle(ctx); err != nil {
		t.Error(err)
	}
}

// The transport sends to loopback addresses only.
func TestNetTransportRefusesOtherHosts(t *testing.T) {
	tr := newNetTransport()
	// 192.0.2.0/24 is TEST-NET-1: nothing is ever sent there.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://192.0.2.1/c?restype=container", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := tr.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("Do to a non-loopback host succeeded, want a refusal")
	}
}
