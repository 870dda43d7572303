package main

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// worker holds shards, one goroutine per shard, at most max at once. It is
// safe for concurrent use.
type worker struct {
	log   *zap.Logger
	poll  time.Duration
	slots chan struct{} // one token per shard held or being acquired; capacity max

	mu    sync.Mutex    // guards owned
	owned map[int]int64 // shard -> term, for the shards held now
}

func newWorker(log *zap.Logger, max int, poll time.Duration) *worker {
	return &worker{log: log, poll: poll, slots: make(chan struct{}, max), owned: map[int]int64{}}
}

// run holds shards until ctx ends, then releases them all and returns nil;
// or returns early, having released them all, when storage answers in a
// way polling cannot get past (refused credentials, a rejected request).
func (w *worker) run(ctx context.Context, renewers []*renewer.Renewer) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, r := range renewers {
		wg.Go(func() {
			if err := w.hold(ctx, i, r); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// hold is shard i's goroutine: whenever the worker has room, it tries to
// acquire the shard, and holds it until it is lost or ctx ends.
func (w *worker) hold(ctx context.Context, i int, r *renewer.Renewer) error {
	for {
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		ls, err := r.TryAcquire(ctx)
		switch {
		case err == nil:
			w.work(ctx, i, ls)
		case ctx.Err() != nil:
		case renewer.Permanent(err):
			<-w.slots
			return fmt.Errorf("shard %d: %w", i, err)
		case !errors.Is(err, renewer.ErrLeaseHeld):
			w.log.Warn("shard not acquired; will retry", zap.Int("shard", i), zap.Error(err))
		}
		<-w.slots
		if !sleep(ctx, jitter(w.poll)) {
			return nil
		}
	}
}

// work holds shard i until its lease ends or ctx does, then releases it.
func (w *worker) work(ctx context.Context, i int, ls *renewer.Lease) {
	w.set(i, ls.Term(), true)
	// Real work on the shard goes here: it must stop when ls.Context() is
	// done, and carry ls.Term() as a fencing token on every write.
	select {
	case <-ls.Done():
		w.log.Warn("shard lost", zap.Int("shard", i), zap.Int64("term", ls.Term()),
			zap.NamedError("cause", context.Cause(ls.Context())))
	case <-ctx.Done():
		_ = ls.Release(context.Background()) // bounded by the renewer's call timeout; a failure is logged
		w.log.Info("shard released", zap.Int("shard", i), zap.Int64("term", ls.Term()))
	}
	w.set(i, ls.Term(), false)
}

// set records that shard i is held (or no longer) and logs the worker's
// shards.
func (w *worker) set(i int, term int64, held bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if held {
		w.owned[i] = term
		w.log.Info("shard acquired", zap.Int("shard", i), zap.Int64("term", term))
	} else {
		delete(w.owned, i)
	}
	shards := make([]int, 0, len(w.owned))
	for s := range w.owned {
		shards = append(shards, s)
	}
	slices.Sort(shards)
	w.log.Info("shards owned", zap.Ints("shards", shards), zap.Int("count", len(shards)))
}

// sleep waits d or until ctx ends, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// jitter spreads d by ±20% so that workers do not poll in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}
