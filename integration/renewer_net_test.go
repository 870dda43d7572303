package integration_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"go.uber.org/zap/zaptest"
)

// TestRenewerLateReleaseThroughTheNetwork: a Renewer's release is held in
// the network (the SDK's own HTTP request) for longer than the lease lasts;
// the Renewer acquires again once the lease expired; then the release
// reaches Azurite. It must be refused and the new holding must stay: no
// other holder can acquire. (With one lease ID for every holding, the late
// release freed the new holding: two live holders.) About 25 s.
func TestRenewerLateReleaseThroughTheNetwork(t *testing.T) {
	t.Parallel()
	l, tr, name := netLeaser(t)
	var (
		mu   sync.Mutex // guards late
		late []leasetest.Landing
	)
	tr.net.SetLanded(func(ld leasetest.Landing) {
		if ld.Late {
			mu.Lock()
			late = append(late, ld)
			mu.Unlock()
		}
	})
	r, err := renewer.New(l, renewer.WithIdentity("a"), renewer.WithLogger(zaptest.NewLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.TryAcquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	releaseDelay := renewer.DefaultDuration + 8*time.Second
	tr.net.SetDelivery(func(c leasetest.Call) leasetest.Delivery {
		if c.Op == leasetest.OpRelease {
			return leasetest.Delivery{RequestDelay: releaseDelay}
		}
		return leasetest.Delivery{}
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	_ = first.Release(ctx) // gives up after 1 s; the request is on its way
	cancel()
	tr.net.SetDelivery(nil)

	var second *renewer.Lease
	for range 30 {
		if ls, err := r.TryAcquire(t.Context()); err == nil {
			second = ls
			break
		}
		time.Sleep(time.Second)
	}
	if second == nil {
		t.Fatal("the Renewer did not acquire again within 30 s")
	}
	defer second.Release(context.Background())
	sctx, scancel := context.WithTimeout(t.Context(), releaseDelay+10*time.Second)
	defer scancel()
	if err := tr.net.Settle(sctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := late
	mu.Unlock()
	if len(got) != 1 || got[0].Call.Op != leasetest.OpRelease || !errors.Is(got[0].Err, renewer.ErrNoLease) {
		t.Fatalf("late landings %+v, want the release, refused with ErrNoLease", got)
	}
	if err := second.Context().Err(); err != nil {
		t.Errorf("second holding ended: %v", context.Cause(second.Context()))
	}
	other, err := renewer.New(newLeaser(t, name), renewer.WithIdentity("b"))
	if err != nil {
		t.Fatal(err)
	}
	if ls, err := other.TryAcquire(t.Context()); err == nil {
		_ = ls.Release(context.Background())
		t.Error("another holder acquired while the second holding was live: two holders")
	}
	if err := second.Release(t.Context()); err != nil {
		t.Errorf("Release of the second holding: %v", err)
	}
}
