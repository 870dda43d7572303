package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestMutexExclusion runs several Mutex instances, each with its own SDK
// client and several goroutines, around a counter incremented without
// atomics, a checker that accepts only strictly increasing terms (the
// fencing numbers), and the overlap check by validity deadlines.
func TestMutexExclusion(t *testing.T) {
	t.Parallel()
	const (
		instances  = 4
		goroutines = 2 // per instance: exercises the local queue too
		rounds     = 5 // per goroutine
	)
	name, _ := newContainer(t, "mutex-excl")
	var (
		counter int // guarded by the distributed lock only
		check   fenceChecker
		holds   overlap.Recorder
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for i := range instances {
		m := newMutex(t, name, []renewer.Option{renewer.WithIdentity(fmt.Sprintf("instance-%d", i)), renewer.WithPollInterval(50 * time.Millisecond)})
		for range goroutines {
			wg.Go(func() {
				for range rounds {
					h, err := m.Lock(ctx)
					if err != nil {
						t.Errorf("instance %d: Lock: %v", i, err)
						return
					}
					hd := holds.Begin(h.Context(), fmt.Sprintf("instance %d term %d", i, h.Term()), h.Deadline)
					check.enter(h.Term())
					v := counter
					time.Sleep(time.Millisecond) // let a second holder in, if the lock would
					counter = v + 1
					check.leave()
					holds.Stop(hd)
					if err := h.Unlock(ctx); err != nil {
						t.Errorf("instance %d: Unlock: %v", i, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()

	if want := instances * goroutines * rounds; counter != want {
		t.Errorf("counter = %d, want %d", counter, want)
	}
	if n := check.overlaps.Load(); n != 0 {
		t.Errorf("%d holders entered while another was inside", n)
	}
	if len(check.rejected) != 0 {
		t.Errorf("checker rejected terms %v: not strictly increasing", check.rejected)
	}
	holds.Check(t)
}

// TestMutexKilledHolderReplaced kills a holder without Unlock: its lease is
// neither renewed nor released. Another instance takes the lock once the
// lease expires, after the killed holder's context was cancelled.
func TestMutexKilledHolderReplaced(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "mutex-kill")
	k := leasetest.Wrap(newLeaser(t, name))
	victim := newMutexOn(t, k, []renewer.Option{renewer.WithIdentity("victim")})
	held, err := victim.Lock(t.Context())
	if err != nil {
		t.Fatalf("victim Lock: %v", err)
	}
	var holds overlap.Recorder
	vh := holds.Begin(held.Context(), "victim", held.Deadline)
	context.AfterFunc(held.Context(), func() { holds.Stop(vh) }) // stops acting when told
	k.CutOff(errKilled)
	killedAt := time.Now()

	next := newMutex(t, name, []renewer.Option{renewer.WithIdentity("next"), renewer.WithPollInterval(250 * time.Millisecond)})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	h, err := next.Lock(ctx)
	if err != nil {
		t.Fatalf("next Lock: %v", err)
	}
	took := time.Since(killedAt)
	nh := holds.Begin(h.Context(), "next", h.Deadline)
	t.Logf("replaced %v after the kill (lease 15 s)", took)

	if cause := context.Cause(held.Context()); !errors.Is(cause, renewer.ErrLeaseLost) {
		t.Errorf("killed holder's cause = %v, want ErrLost", cause)
	}
	if took > 15*time.Second+5*time.Second {
		t.Errorf("replaced after %v, want within the 15 s lease plus 5 s", took)
	}
	if h.Term() <= held.Term() {
		t.Errorf("term %d after %d: want higher", h.Term(), held.Term())
	}
	holds.Stop(nh)
	holds.Check(t)
	if err := h.Unlock(t.Context()); err != nil {
		t.Errorf("next Unlock: %v", err)
	}
	if err := held.Unlock(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
		t.Errorf("victim Unlock = %v, want ErrLost", err)
	}
}

// TestMutexInfiniteLeaseRecovered crashes the holder of an infinite lease:
// the lease never expires, and a waiter with break-on-timeout breaks it once
// the holder's heartbeat has stopped for the timeout.
func TestMutexInfiniteLeaseRecovered(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "mutex-inf")
	ropts := []renewer.Option{
		renewer.WithDuration(renewer.Infinite),
		renewer.WithPollInterval(500 * time.Millisecond),
	}
	breakOnTimeout := mutex.WithBreakOnTimeout(15 * time.Second) // 3 renew intervals of 5 s
	k := leasetest.Wrap(newLeaser(t, name))
	crashed := newMutexOn(t, k, append(ropts, renewer.WithIdentity("crashed")), breakOnTimeout)
	held, err := crashed.Lock(t.Context())
	if err != nil {
		t.Fatalf("crashed Lock: %v", err)
	}
	var holds overlap.Recorder
	ch := holds.Begin(held.Context(), "crashed", held.Deadline)
	context.AfterFunc(held.Context(), func() { holds.Stop(ch) }) // stops acting when told
	k.CutOff(errKilled)
	killedAt := time.Now()

	waiter := newMutex(t, name, append(ropts, renewer.WithIdentity("waiter")), breakOnTimeout)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	h, err := waiter.Lock(ctx)
	if err != nil {
		t.Fatalf("waiter Lock: %v", err)
	}
	took := time.Since(killedAt)
	wh := holds.Begin(h.Context(), "waiter", h.Deadline)
	t.Logf("infinite lease recovered %v after the crash (timeout 15 s + break period 15 s)", took)

	if took < 15*time.Second {
		t.Errorf("recovered after %v: broken before the 15 s timeout", took)
	}
	st, err := waiter.Status(t.Context())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.Holder != "waiter" || st.Term != h.Term() || !st.Infinite {
		t.Errorf("Status = %+v, want holder waiter, term %d, infinite", st, h.Term())
	}
	holds.Stop(wh)
	holds.Check(t)
	if err := h.Unlock(t.Context()); err != nil {
		t.Errorf("waiter Unlock: %v", err)
	}
	_ = held.Unlock(t.Context())
}
