package sim_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/sim"
	"github.com/leasehold/leasehold/renewer"
)

// oneID is a Leaser wrapper that puts the one-ID bug back: every lease ID
// its holder sends becomes one fixed ID, the same for every holding, and
// answers carrying that ID are mapped back to the ID the holder sent. A
// late request of an earlier holding then acts on a later one.
type oneID struct {
	l  renewer.Leaser
	id string
}

var oneIDs atomic.Uint64

func newOneID(l renewer.Leaser) renewer.Leaser {
	n := oneIDs.Add(1)
	return &oneID{l: l, id: fmt.Sprintf("00000000-0000-4000-8000-%012x", n)}
}

// back maps the fixed ID in an answer to the ID the holder sent.
func (o *oneID) back(got, sent string) string {
	if strings.EqualFold(got, o.id) {
		return sent
	}
	return got
}

func (o *oneID) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	got, err := o.l.Acquire(ctx, o.id, d)
	return o.back(got, id), err
}

func (o *oneID) Renew(ctx context.Context, id string) (string, error) {
	got, err := o.l.Renew(ctx, o.id)
	return o.back(got, id), err
}

func (o *oneID) Change(ctx context.Context, id, proposed string) (string, error) {
	got, err := o.l.Change(ctx, o.id, o.id)
	return o.back(got, proposed), err
}

func (o *oneID) Release(ctx context.Context, id string) error { return o.l.Release(ctx, o.id) }

func (o *oneID) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	return o.l.Break(ctx, period)
}

func (o *oneID) Properties(ctx context.Context) (renewer.Properties, error) {
	return o.l.Properties(ctx)
}

func (o *oneID) SetMetadata(ctx context.Context, id string, md map[string]string) error {
	if id != "" {
		id = o.id
	}
	return o.l.SetMetadata(ctx, id, md)
}

// TestSimFindsOneIDBug runs the simulation with every holder forced back to
// one lease ID for all its holdings (the one-ID bug) and wants a violation
// within a budget of seeds: the simulation can see the bug.
func TestSimFindsOneIDBug(t *testing.T) {
	const budget = 1000
	for seed := uint64(1); seed <= budget; seed++ {
		res := runSeed(t, seed, sim.Options{Wrap: newOneID})
		if len(res.Violations) > 0 {
			t.Logf("seed %d (of a budget of %d): %v", seed, budget, res.Violations[0])
			return
		}
	}
	t.Fatalf("no violation in %d seeds with one lease ID per holder: the simulation cannot see the bug", budget)
}

// refuseLate is a Leaser wrapper whose acquires and renews all fail once
// faults have stopped (a storage that never grants the lease again): no
// one can hold, and a holder of that moment loses its lease.
type refuseLate struct {
	renewer.Leaser
	start time.Time
}

func (r refuseLate) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	if time.Since(r.start) > sim.FaultPhase {
		return "", fmt.Errorf("refused: %w", renewer.ErrLeaseHeld)
	}
	return r.Leaser.Acquire(ctx, id, d)
}

func (r refuseLate) Renew(ctx context.Context, id string) (string, error) {
	if time.Since(r.start) > sim.FaultPhase {
		return "", fmt.Errorf("refused: %w", renewer.ErrNoLease)
	}
	return r.Leaser.Renew(ctx, id)
}

// TestSimSeesNoHolder runs a seed whose storage stops granting the lease
// when faults stop, and wants a liveness violation.
func TestSimSeesNoHolder(t *testing.T) {
	var res sim.Result
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		res = sim.Run(1, sim.Options{Wrap: func(l renewer.Leaser) renewer.Leaser { return refuseLate{l, start} }})
	})
	for _, v := range res.Violations {
		if v.Kind == "liveness" {
			return
		}
	}
	t.Fatalf("no liveness violation when no one can acquire after the faults: %v\n%v", res.Violations, res.History)
}
