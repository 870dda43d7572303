package sim

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/semaphore"
	"github.com/leasehold/leasehold/shard"
)

// groupWork runs one incarnation of a group process (a semaphore holder or
// a shard member) until ctx ends. leasers gives the group's leases through
// this incarnation's network.
func (w *world) groupWork(ctx context.Context, pp *procPlan, leasers func(string) (renewer.Leaser, error), id, inc uint64) {
	time.Sleep(between(newRand(w.plan.Seed, id, inc, 5), 0, 10*time.Millisecond))
	base := Holding{Proc: pp.Name, Inc: int(inc), Kind: pp.Kind}
	ropts := []renewer.Option{renewer.WithIdentity(fmt.Sprintf("%s.%d", pp.Name, inc)), renewer.WithPollInterval(Poll)}
	switch pp.Kind {
	case KindSemaphore:
		s, err := semaphore.New(SemName, SemSlots, leasers, semaphore.WithRenewerOptions(ropts...))
		if err != nil {
			panic(err) // a fixed, valid configuration
		}
		var g sync.WaitGroup
		for gi := range pp.Goroutines {
			g.Go(func() {
				gctx := wait.WithSeed(ctx, hash(w.plan.Seed, id, inc, uint64(gi), 0x5e4a))
				b := base
				b.Goroutine = gi
				r := newRand(w.plan.Seed, id, inc, 6, uint64(gi))
				time.Sleep(between(r, 0, 10*time.Millisecond))
				w.semLoop(gctx, s, b, r)
			})
		}
		g.Wait()
	case KindShard:
		// A restarted process joins under a new identity: its previous
		// incarnation stays live for up to L, and Run would refuse the same.
		ropts = append(ropts, renewer.WithPollInterval(ShardPoll))
		m, err := shard.New(ShardGroup, shardParts(), leasers, shard.WithRenewerOptions(ropts...),
			shard.WithMaxMembers(ShardMembers))
		if err != nil {
			panic(err) // a fixed, valid configuration
		}
		_ = m.Run(ctx, func(pctx context.Context, p shard.Partition) {
			h := base
			h.Term, h.Lease = p.Term, shard.PartitionName(ShardGroup, p.Name)
			w.track(pctx, h)
			<-pctx.Done()
		})
	}
}

// shardParts are the partitions of the simulated shard groups.
func shardParts() []string {
	ps := make([]string, ShardParts)
	for i := range ps {
		ps[i] = fmt.Sprintf("p%d", i)
	}
	return ps
}

// semLoop takes a slot, holds it 0..10 s, releases it, idles 0..2 s, until
// ctx ends; a quarter of its attempts are TryAcquire.
func (w *world) semLoop(ctx context.Context, s *semaphore.Semaphore, base Holding, r *mrand.Rand) {
	for ctx.Err() == nil {
		acquire := func(ctx context.Context) (*semaphore.Held, error) {
			from := w.since()
			defer w.waited(base, from)
			return s.Acquire(ctx)
		}
		if r.IntN(4) == 0 {
			acquire = s.TryAcquire
		}
		held, err := acquire(ctx)
		if err != nil {
			wait.Sleep(ctx, between(r, Poll/2, 2*Poll))
			continue
		}
		h := base
		h.Term, h.Lease = held.Term(), semaphore.SlotName(SemName, held.Slot())
		w.track(held.Context(), h)
		if !holdFor(ctx, held.Context(), between(r, 0, 10*time.Second)) {
			if errors.Is(context.Cause(ctx), errStop) {
				_ = held.Release(context.Background())
			}
			return // crashed: no release, no more requests
		}
		_ = held.Release(context.Background())
		wait.Sleep(ctx, between(r, 0, 2*time.Second))
	}
}
