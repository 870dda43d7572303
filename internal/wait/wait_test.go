package wait_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/wait"
)

func TestJitterWithin20Percent(t *testing.T) {
	ctx := wait.WithSeed(t.Context(), 7)
	synctest.Test(t, func(t *testing.T) {
		for range 1000 {
			for _, j := range []time.Duration{wait.Jitter(time.Second), wait.From(ctx).Jitter(time.Second)} {
				if j < 800*time.Millisecond || j > 1200*time.Millisecond {
					t.Fatalf("Jitter(1s) = %v, want within 800ms..1.2s", j)
				}
			}
			time.Sleep(time.Millisecond)
		}
	})
}

// draws returns n seeded jitters and backoffs, one per virtual millisecond.
func draws(t *testing.T, seed uint64, n int) []time.Duration {
	var out []time.Duration
	synctest.Test(t, func(t *testing.T) {
		src := wait.From(wait.WithSeed(context.Background(), seed))
		for i := range n {
			out = append(out, src.Jitter(time.Second), src.Spread(time.Second, 0.5, uint64(i)))
			time.Sleep(time.Millisecond)
		}
	})
	return out
}

func TestSeededSourceReplays(t *testing.T) {
	a, b, c := draws(t, 1, 50), draws(t, 1, 50), draws(t, 2, 50)
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same {
		t.Errorf("seed 1 twice: %v and %v, want the same draws", a, b)
	}
	if !differ {
		t.Errorf("seeds 1 and 2 drew the same: %v", a)
	}
}

func TestFromWithoutSeedIsGlobal(t *testing.T) {
	if got, want := wait.From(context.Background()), (wait.Source{}); got != want {
		t.Errorf("From(no seed) = %v, want the zero Source", got)
	}
	var none context.Context // bad input must not panic
	if got, want := wait.From(none), (wait.Source{}); got != want {
		t.Errorf("From(nil) = %v, want the zero Source", got)
	}
}

func TestSpread(t *testing.T) {
	for _, src := range []wait.Source{{}, wait.From(wait.WithSeed(context.Background(), 3))} {
		for i := range 1000 {
			if got := src.Spread(time.Second, 0.5, uint64(i)); got < 500*time.Millisecond || got > 1500*time.Millisecond {
				t.Fatalf("Spread(1s, 0.5) = %v, want 1s ±50%%", got)
			}
		}
	}
}

func TestSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if !wait.Sleep(t.Context(), time.Second) {
			t.Error("Sleep(1s) with a live ctx = false, want true")
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if wait.Sleep(ctx, time.Second) {
			t.Error("Sleep with a done ctx = true, want false")
		}
	})
}
