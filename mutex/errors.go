package mutex

import (
	"errors"

	"github.com/leasehold/leasehold/renewer"
)

// The errors of this package. Storage errors are wrapped as they come from
// the renewer package, so errors.Is reaches renewer's sentinels (for example
// renewer.ErrForbidden, renewer.ErrContainerNotFound) and errors.As reaches
// the SDK's *azcore.ResponseError.
var (
	// ErrLocked: someone else holds the lock, in this process or another
	// (TryLock). When another process holds it, the error also wraps
	// renewer.ErrLeaseHeld.
	ErrLocked = errors.New("mutex: locked by another holder")
	// ErrUnlocked: the Held was already unlocked (Unlock called twice). It is
	// also the cause of a Held's context after Unlock:
	// errors.Is(context.Cause(held.Context()), ErrUnlocked).
	ErrUnlocked = errors.New("mutex: already unlocked")
	// ErrLost is wrapped by the cause of a Held's context cancelled because
	// the lock was lost (or could no longer be proven held), and by the error
	// of Unlock on such a Held. It is renewer.ErrLeaseLost, so either
	// sentinel matches.
	ErrLost = renewer.ErrLeaseLost
	// ErrInvalidOption is renewer.ErrInvalidOption: every bad option or
	// argument of New is a *renewer.OptionError,
	// which matches it and names the field, the value and the rule.
	ErrInvalidOption = renewer.ErrInvalidOption
)
