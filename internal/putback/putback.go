// Package putback lets the deterministic simulation (internal/sim) put a
// known bug back into the library, through the context, to prove that its
// checkers can fail. It is for tests only: the key is unexported and the
// package is internal, so no user of the module can set it, and production
// code never does.
package putback

import "context"

// A Bug is a fixed bug that a test can put back.
type Bug uint

// The bugs that can be put back.
const (
	// NoReask is the lost-acquire bug: a waiting Acquire never asks again
	// with the same lease ID after an acquire whose outcome is unknown
	// (its mayHold is always false), and never gives that ID up early
	// either. A lease it took without knowing is then waited out, and a
	// candidate whose answers all come back late keeps one held by no one.
	// Read once per attempt, from the Acquire's (or TryAcquire's) context.
	NoReask Bug = iota + 1
)

// key is the context key of the set of bugs put back.
type key struct{}

// With returns a context that carries bug put back, beside any already
// carried by ctx. A nil ctx is taken as context.Background(). A Bug of 0 or
// above 64 is ignored: Has never reports it.
func With(ctx context.Context, bug Bug) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	set, _ := ctx.Value(key{}).(uint64)
	return context.WithValue(ctx, key{}, set|bit(bug))
}

// Has reports whether ctx carries bug put back.
func Has(ctx context.Context, bug Bug) bool {
	if ctx == nil {
		return false
	}
	set, _ := ctx.Value(key{}).(uint64)
	return set&bit(bug) != 0
}

// bit is bug's place in the set; 0 for a Bug out of range.
func bit(bug Bug) uint64 {
	if bug == 0 || bug > 64 {
		return 0
	}
	return 1 << (bug - 1)
}
