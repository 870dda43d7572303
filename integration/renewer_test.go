package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"go.uber.org/zap/zaptest"
)

func newRenewer(t testing.TB, name, identity string, opts ...renewer.Option) *renewer.Renewer {
	t.Helper()
	opts = append([]renewer.Option{renewer.WithIdentity(identity), renewer.WithLogger(zaptest.NewLogger(t))}, opts...)
	r, err := renewer.New(newLeaser(t, name), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRenewerHoldsAcrossDurations holds a lease for several lease durations
// and checks that it is never lost and that nobody else can take it.
func TestRenewerHoldsAcrossDurations(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "hold")
	r := newRenewer(t, name, "holder")
	ls, err := r.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ls.Term() != 1 {
		t.Errorf("first term = %d, want 1", ls.Term())
	}
	other := newRenewer(t, name, "other")
	end := time.Now().Add(3*renewer.DefaultDuration + 2*time.Second) // three durations, 47 s
	for i := 0; time.Now().Before(end) && i < 100; i++ {
		if _, err := other.TryAcquire(t.Context()); !errors.Is(err, renewer.ErrLeaseHeld) {
			t.Fatalf("other TryAcquire while held: %v, want ErrLeaseHeld", err)
		}
		select {
		case <-ls.Done():
			t.Fatalf("lease lost while holding: %v", context.Cause(ls.Context()))
		case <-time.After(5 * time.Second):
		}
	}
	if err := ls.Release(t.Context()); err != nil {
		t.Fatalf("Release: %v", err)
	}
	ls2, err := other.TryAcquire(t.Context())
	if err != nil {
		t.Fatalf("TryAcquire after release: %v", err)
	}
	defer ls2.Release(context.Background())
	if ls2.Term() != 2 {
		t.Errorf("term after hand-over = %d, want 2", ls2.Term())
	}
}

// TestRenewerExpiryHandsOver stops a holder's renewals without a release:
// its context must be cancelled before the lease could expire, and another
// renewer must hold the lease soon after it does. It logs the measured
// time from the last successful renew to the other holder's acquisition.
func TestRenewerExpiryHandsOver(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "expiry")
	cut := leasetest.Wrap(newLeaser(t, name))
	holder, err := renewer.New(cut, renewer.WithIdentity("dying"), renewer.WithLogger(zaptest.NewLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := holder.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const poll = 250 * time.Millisecond
	other := newRenewer(t, name, "survivor", renewer.WithPollInterval(poll))

	cut.CutOff(errors.New("test: holder cut off"))
	stopped := time.Now()
	lastRenewed := ls.LastRenewed()
	got := make(chan *renewer.Lease, 1)
	go func() {
		ls2, err := other.Acquire(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- ls2
	}()

	select {
	case <-ls.Done():
	case <-time.After(renewer.DefaultDuration):
		t.Fatal("holder's context not cancelled within L of its last renewal")
	}
	lost := time.Now()
	if !errors.Is(context.Cause(ls.Context()), renewer.ErrLeaseLost) {
		t.Errorf("cause = %v, want ErrLeaseLost", context.Cause(ls.Context()))
	}
	var ls2 *renewer.Lease
	select {
	case ls2 = <-got:
	case <-time.After(renewer.DefaultDuration + 10*time.Second):
		t.Fatal("no other holder within L + 10 s")
	}
	if ls2 == nil {
		t.FailNow()
	}
	acquired := time.Now()
	defer ls2.Release(context.Background())
	if !lost.Before(acquired) {
		t.Errorf("old holder's context cancelled at %v, after the new holder acquired at %v", lost, acquired)
	}
	if ls2.Term() != ls.Term()+1 {
		t.Errorf("new term %d, want %d", ls2.Term(), ls.Term()+1)
	}
	t.Logf("L=%v: stop renewing -> new holder %v (from last renew %v); holder's context cancelled %v before the new holder acquired",
		renewer.DefaultDuration, acquired.Sub(stopped).Round(time.Millisecond),
		acquired.Sub(lastRenewed).Round(time.Millisecond), acquired.Sub(lost).Round(time.Millisecond))
}

// TestRenewerNoticesBreak breaks a held lease with a period: the holder's
// context must be cancelled before the break completes.
func TestRenewerNoticesBreak(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "break")
	r := newRenewer(t, name, "holder")
	ls, err := r.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	breaker := newRenewer(t, name, "operator")
	left, err := breaker.Break(t.Context(), "test: break with the default period")
	if err != nil {
		t.Fatal(err)
	}
	breakEnds := time.Now().Add(left)
	select {
	case <-ls.Done():
	case <-time.After(left + 5*time.Second):
		t.Fatal("holder did not notice the break")
	}
	if now := time.Now(); !now.Before(breakEnds) {
		t.Errorf("holder's context cancelled %v after the break completed", now.Sub(breakEnds))
	}
	cause := context.Cause(ls.Context())
	if !errors.Is(cause, renewer.ErrLeaseLost) || !errors.Is(cause, renewer.ErrNoLease) {
		t.Errorf("cause = %v, want ErrLeaseLost and ErrNoLease", cause)
	}
	if err := ls.Release(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
		t.Errorf("Release after loss = %v, want ErrLeaseLost", err)
	}
}

// TestRenewerContention has several renewers, each with its own SDK client,
// race for one lease: exactly one holds it each round, and terms strictly
// increase across rounds.
func TestRenewerContention(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "contend")
	const n, rounds = 5, 4
	rs := make([]*renewer.Renewer, n)
	for i := range rs {
		rs[i] = newRenewer(t, name, fmt.Sprintf("c%d", i))
	}
	var lastTerm int64
	for round := range rounds {
		leases := make([]*renewer.Lease, n)
		var wg sync.WaitGroup
		for i, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ls, err := r.TryAcquire(t.Context())
				if err != nil && !errors.Is(err, renewer.ErrLeaseHeld) {
					t.Errorf("TryAcquire: %v", err)
				}
				leases[i] = ls
			}()
		}
		wg.Wait()
		var held []*renewer.Lease
		for _, ls := range leases {
			if ls != nil {
				held = append(held, ls)
			}
		}
		if len(held) != 1 {
			t.Fatalf("round %d: %d holders, want exactly 1", round, len(held))
		}
		if held[0].Term() <= lastTerm {
			t.Errorf("round %d: term %d after %d", round, held[0].Term(), lastTerm)
		}
		lastTerm = held[0].Term()
		if err := held[0].Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRenewerHandOver passes a held lease to a new holding through the real
// SDK's Change Lease: the term goes up by one in storage, the old holding's
// lease ID is refused from then on (a late release of it cannot free the
// lease), and the new holding keeps renewing past a lease duration.
func TestRenewerHandOver(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "handover")
	l := leasetest.Wrap(newLeaser(t, name))
	var mu sync.Mutex
	var ids []string // lease IDs of every acquire and renew sent
	l.SetBefore(func(_ context.Context, call leasetest.Call) error {
		if call.Op == leasetest.OpAcquire {
			mu.Lock()
			ids = append(ids, call.LeaseID)
			mu.Unlock()
		}
		return nil
	})
	r, err := renewer.New(l, renewer.WithIdentity("handover"), renewer.WithLogger(zaptest.NewLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.TryAcquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	second, err := first.HandOver(t.Context())
	if err != nil {
		t.Fatalf("HandOver: %v", err)
	}
	defer second.Release(context.Background())
	if !errors.Is(context.Cause(first.Context()), renewer.ErrHandedOver) {
		t.Errorf("first holding's cause = %v, want ErrHandedOver", context.Cause(first.Context()))
	}
	st, err := r.Inspect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if second.Term() != first.Term()+1 || st.Term != second.Term() || st.State != renewer.StateLeased {
		t.Errorf("after hand-over: terms %d -> %d, storage %+v; want +1, leased", first.Term(), second.Term(), st)
	}
	mu.Lock()
	oldID := ids[0]
	mu.Unlock()
	raw := newLeaser(t, name)
	if err := raw.Release(t.Context(), oldID); !errors.Is(err, renewer.ErrNoLease) {
		t.Errorf("late release under the first holding's ID = %v, want ErrNoLease", err)
	}
	select {
	case <-second.Done():
		t.Fatalf("second holding lost: %v", context.Cause(second.Context()))
	case <-time.After(renewer.DefaultDuration + 2*time.Second):
	}
	if err := second.Release(t.Context()); err != nil {
		t.Errorf("Release: %v", err)
	}
}
