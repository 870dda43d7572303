// Package putback puts fixed bugs back, for the deterministic simulation
// (internal/sim) to show that its checker sees them. A bug is put back only
// through a context made by [With]; the key is unexported and the package
// internal, so no user of the library can set it, and production code never
// does.
package putback

import "context"

// Bug names a fixed bug that a context can put back.
type Bug int

// The bugs that can be put back.
const (
	// NoReask: a waiting Acquire whose acquire's outcome is unknown (its
	// answer lost, or it timed out) does not ask again when the lease
	// reads as held; it waits for that lease, possibly its own, to expire.
	NoReask Bug = 1 << iota
)

type key struct{}

// With returns a context that puts bug back, beside those ctx already
// puts back.
func With(ctx context.Context, bug Bug) context.Context {
	return context.WithValue(ctx, key{}, bug|bugs(ctx))
}

// Has reports whether ctx puts bug back.
func Has(ctx context.Context, bug Bug) bool { return bugs(ctx)&bug != 0 }

func bugs(ctx context.Context) Bug {
	if ctx == nil {
		return 0
	}
	b, _ := ctx.Value(key{}).(Bug)
	return b
}
