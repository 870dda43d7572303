package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// held returns the leasehold.lease.held points of ps, by their attributes.
func held(ps map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range ps {
		if rest, ok := strings.CutPrefix(k, "leasehold.lease.held{"); ok {
			out["{"+rest] = v
		}
	}
	return out
}

// TestElectionMetricLabels: two elections side by side, three candidates
// each, with the default next-in-line seats. Each seat's held gauge is
// labelled with its election and role next_in_line, and a lock name of its
// election's own, so that summing held leases per lock never mixes
// elections nor counts a seat as the lock; leasehold.election.leader is 1
// for the one leader of each election and 0 for every standby.
func TestElectionMetricLabels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rd := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
		n := leasetest.NewNamed()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var runs []chan struct{}
		for _, svc := range []string{"billing", "orders"} {
			main, err := n.Lease(svc)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				r := newRenewer(t, main, fmt.Sprintf("%s-%d", svc, i), renewer.WithMeterProvider(mp),
					renewer.WithMetricAttributes(renewer.AttrRole.String(renewer.RoleLeader)))
				e, err := election.New(r)
				if err != nil {
					t.Fatal(err)
				}
				done := make(chan struct{})
				runs = append(runs, done)
				go func() {
					defer close(done)
					_ = e.Run(ctx, election.Callbacks{OnElected: func(ctx context.Context, _ int64) { <-ctx.Done() }})
				}()
				if i == 0 {
					time.Sleep(time.Second) // the first candidate leads
				}
			}
		}
		time.Sleep(2 * time.Minute) // the standbys take the seats
		ps := points(t, rd)
		hs := held(ps)
		perLock := map[string]float64{}
		for k, v := range hs {
			for _, kv := range strings.Split(strings.Trim(k, "{}"), ",") {
				if lock, ok := strings.CutPrefix(kv, "leasehold.lock="); ok {
					perLock[lock] += v
				}
			}
		}
		for _, svc := range []string{"billing", "orders"} {
			if got := perLock[svc]; got != 1 {
				t.Errorf("held leases of lock %s = %v, want 1 (its leader, no seat); all:\n%s", svc, got, dump(hs))
			}
			seats := sum(ps, "leasehold.lease.held", "leasehold.election="+svc+",", "leasehold.role=next_in_line")
			if seats != 2 {
				t.Errorf("seats of election %s held = %v, want 2; all:\n%s", svc, seats, dump(hs))
			}
			if got := sum(ps, "leasehold.election.leader", "leasehold.lock="+svc+","); got != 1 {
				t.Errorf("leasehold.election.leader summed over %s's candidates = %v, want 1; all:\n%s", svc, got, dump(ps))
			}
			if got := sum(ps, "leasehold.election.leader", "leasehold.identity="+svc+"-0,"); got != 1 {
				t.Errorf("leasehold.election.leader of %s-0, the leader = %v, want 1", svc, got)
			}
			for i := 1; i < 3; i++ {
				if got, ok := ps[fmt.Sprintf("leasehold.election.leader{leasehold.identity=%s-%d,leasehold.lock=%s,leasehold.role=leader}", svc, i, svc)]; !ok || got != 0 {
					t.Errorf("leasehold.election.leader of standby %s-%d = %v (recorded %v), want 0", svc, i, got, ok)
				}
			}
		}
		for k := range hs {
			if strings.Contains(k, "leasehold.lock=.next-in-line") || strings.Contains(k, "leasehold.lock=next-in-line") {
				t.Errorf("a seat labelled with a lock name that every election shares: %s", k)
			}
		}
		cancel()
		for _, done := range runs {
			<-done
		}
		ps = points(t, rd)
		if got := sum(ps, "leasehold.election.leader"); got != 0 {
			t.Errorf("leasehold.election.leader summed after every Run ended = %v, want 0; all:\n%s", got, dump(ps))
		}
	})
}
