// Package wait holds the two waiting helpers every polling loop of the
// library shares.
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
func Jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}
