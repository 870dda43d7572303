// Package wait holds the waiting helpers every polling loop of the library
// shares, and the one seam through which a simulation fixes their
// randomness (see [WithSeed]).
package wait

import (
	"context"
	mrand "math/rand/v2"
	"time"
)

// Sleep waits d or until ctx ends, and reports whether it waited d.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Jitter spreads d uniformly over ±20%, so that pollers do not ask in step.
// It draws from the global random source; code that has a context should
// use From(ctx).Jitter, which a simulation can make deterministic.
func Jitter(d time.Duration) time.Duration { return Source{}.Jitter(d) }

// seedKey is the context key of a Source's seed. It is unexported and the
// package is internal, so only this module can set it.
type seedKey struct{}

// WithSeed returns a context whose [Source] (see [From]) is deterministic:
// every draw is a pure function of seed, the clock's reading (virtual under
// testing/synctest) and what is drawn for. It is for the deterministic
// simulation (internal/sim) only; production code never sets it.
func WithSeed(ctx context.Context, seed uint64) context.Context {
	return context.WithValue(ctx, seedKey{}, seed)
}

// From returns the random source that ctx carries: the seeded one set by
// [WithSeed], or else the global one. A Source is a small value: keep it
// (for example in a holding that outlives ctx) rather than ctx itself.
func From(ctx context.Context) Source {
	if ctx == nil {
		return Source{}
	}
	if s, ok := ctx.Value(seedKey{}).(uint64); ok {
		return Source{seed: s, seeded: true}
	}
	return Source{}
}

// Source decides jitter. The zero value draws from the global random
// source. A seeded Source (see [WithSeed]) needs no state and no lock, so
// goroutines that share it cannot change each other's draws: two draws
// differ if they are made at different times or for different purposes.
// A Source is safe for concurrent use.
type Source struct {
	seed   uint64
	seeded bool
}

// float64 returns a number in [0, 1); salt tells draws made at the same
// instant apart.
func (s Source) float64(salt uint64) float64 {
	if !s.seeded {
		return mrand.Float64()
	}
	h := mix(s.seed ^ mix(uint64(time.Now().UnixNano())^mix(salt)))
	return float64(h>>11) / (1 << 53)
}

// Jitter spreads d uniformly over ±20%.
func (s Source) Jitter(d time.Duration) time.Duration { return s.Spread(d, 0.2, uint64(d)) }

// Spread spreads d uniformly over ±frac (0 <= frac < 1); salt tells draws
// made at the same instant for different purposes apart.
func (s Source) Spread(d time.Duration, frac float64, salt uint64) time.Duration {
	return time.Duration(float64(d) * (1 - frac + 2*frac*s.float64(salt)))
}

// mix is SplitMix64's finalizer: a fast, well-spread 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
