package renewer_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestAcquireWatching: with a Watcher every poll reads the lease first and
// hands the watcher who holds it; a Break verdict breaks the lease, a
// StandAside verdict makes no attempt on a free lease, and the acquire
// follows once the watcher lets it.
func TestAcquireWatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		holder := mustAcquire(t, newRenewer(t, c, "holder"))
		var seen []string
		broke, aside := false, 2
		w := func(st renewer.Status, err error) renewer.Verdict {
			if err != nil {
				t.Errorf("watcher got a read error: %v", err)
			}
			seen = append(seen, st.State.String()+"/"+st.Holder)
			switch {
			case st.Held() && !broke:
				broke = true
				return renewer.Verdict{Break: "test: holder is stuck"}
			case !st.Held() && aside > 0:
				aside--
				return renewer.Verdict{StandAside: true}
			}
			return renewer.Verdict{}
		}
		waiter := newRenewer(t, c, "waiter", renewer.WithBreakPeriod(0))
		ls, err := waiter.Acquire(t.Context(), renewer.Watching(w))
		if err != nil {
			t.Fatal(err)
		}
		defer ls.Release(context.Background())
		if !errors.Is(context.Cause(holder.Context()), renewer.ErrLeaseLost) {
			// The holder learns of the break at its next renew.
			time.Sleep(renewEvery)
			if !errors.Is(context.Cause(holder.Context()), renewer.ErrLeaseLost) {
				t.Errorf("broken holder's cause = %v, want ErrLeaseLost", context.Cause(holder.Context()))
			}
		}
		want := []string{"leased/holder", "broken/holder", "broken/holder", "broken/holder"}
		if len(seen) != len(want) {
			t.Fatalf("watcher saw %q, want %q", seen, want)
		}
		for i := range want {
			if seen[i] != want[i] {
				t.Fatalf("watcher saw %q, want %q", seen, want)
			}
		}
		if got := c.Calls(leasetest.OpAcquire); got != 2 {
			t.Errorf("acquire calls = %d, want 2 (the holder's, then one after standing aside twice)", got)
		}
	})
}

// TestAcquireWonAsContextEndsHoldsNothing: an Acquire whose ctx ends just
// as it wins releases what it won.
func TestAcquireWonAsContextEndsHoldsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ctx, cancel := context.WithCancel(t.Context())
		c.SetAfter(func(_ context.Context, call leasetest.Call, err error) error {
			if call.Op == leasetest.OpSetMetadata && err == nil {
				cancel() // the term is written: the lease is won, and ctx ends
			}
			return err
		})
		ls, err := newRenewer(t, c, "a").Acquire(ctx)
		if err == nil || ls != nil {
			t.Fatalf("Acquire = %v, %v; want ctx's error", ls, err)
		}
		synctest.Wait()
		if c.State() != renewer.StateAvailable {
			t.Errorf("state = %v, want available: nothing held", c.State())
		}
	})
}

// TestAcquireWatchingReadFails: a read that fails, even for good (the
// container is missing), does not end a watching Acquire: the acquire
// attempt decides, as it may create the container.
func TestAcquireWatchingReadFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpProperties && c.Calls(leasetest.OpAcquire) == 0 {
				return renewer.ErrContainerNotFound
			}
			return nil
		})
		var errs int
		ls, err := newRenewer(t, c, "a").Acquire(t.Context(), renewer.Watching(func(_ renewer.Status, err error) renewer.Verdict {
			if err != nil {
				errs++
			}
			return renewer.Verdict{}
		}))
		if err != nil {
			t.Fatalf("Acquire after a failed read = %v, want the lease", err)
		}
		defer ls.Release(context.Background())
		if errs != 1 {
			t.Errorf("watcher saw %d read errors, want 1", errs)
		}
	})
}

// TestAcquireVerdictNextAndWake: a verdict's Next replaces the poll
// interval as the pause before the next poll, and its Wake ends that pause
// early; neither changes what a poll does.
func TestAcquireVerdictNextAndWake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		holder := mustAcquire(t, newRenewer(t, c, "holder"))
		wake := make(chan struct{}, 1)
		var at []time.Duration
		start := time.Now()
		w := func(st renewer.Status, err error) renewer.Verdict {
			at = append(at, time.Since(start).Round(time.Millisecond))
			switch len(at) {
			case 1, 2:
				return renewer.Verdict{Next: 40 * time.Second}
			case 3:
				// A minute's pause, cut short by Wake after 10 s.
				time.AfterFunc(10*time.Second, func() { wake <- struct{}{} })
				return renewer.Verdict{Next: time.Minute, Wake: wake}
			}
			_ = holder.Release(context.Background())
			return renewer.Verdict{Next: time.Hour}
		}
		ls, err := newRenewer(t, c, "waiter").Acquire(t.Context(), renewer.Watching(w))
		if err != nil {
			t.Fatal(err)
		}
		defer ls.Release(context.Background())
		// Polls at 0, 40 s, 80 s, then 90 s (woken); the fourth releases
		// the holder and waits an hour before the fifth acquires.
		want := []time.Duration{0, 40 * time.Second, 80 * time.Second, 90 * time.Second, 90*time.Second + time.Hour}
		if len(at) != len(want) {
			t.Fatalf("polls at %v, want %v", at, want)
		}
		for i := range want {
			if d := at[i] - want[i]; d < 0 || d > 100*time.Millisecond {
				t.Fatalf("polls at %v, want %v", at, want)
			}
		}
	})
}
