package election

import (
	"errors"

	"github.com/leasehold/leasehold/renewer"
)

// Errors of the election package. Errors from storage are returned wrapped,
// so errors.Is still reaches the renewer's sentinels (renewer.ErrForbidden,
// renewer.ErrContainerNotFound, ...) and errors.As the *azcore.ResponseError.
var (
	// ErrNoLeader is returned by [Election.Leader] when no lease is held,
	// or when a new holder has acquired the lease but not yet written its
	// term (see [Election.Leader]).
	ErrNoLeader = errors.New("election: no leader")
	// ErrLost is wrapped by the cause of a leadership context cancelled
	// because the lease was lost or could no longer be proven held; the
	// cause also wraps the renewer's (renewer.ErrLeaseLost and the reason).
	ErrLost = errors.New("election: leadership lost")
	// ErrResigned is wrapped by the cause of a leadership context cancelled
	// by Resign, or by the end of Run's context.
	ErrResigned = errors.New("election: resigned")
	// ErrInUse is returned by Campaign and Run while this Election already
	// campaigns or leads: one campaign at a time per candidate.
	ErrInUse = errors.New("election: candidate is already campaigning or leading")
	// ErrRenewalOverdue is returned by [Election.Check] when this candidate
	// leads but its last successful renewal is older than the renew
	// interval plus the tolerance.
	ErrRenewalOverdue = errors.New("election: lease renewal overdue")
	// ErrInvalidOption is renewer.ErrInvalidOption: every bad option or
	// argument of New is a *renewer.OptionError,
	// which matches it and names the field, the value and the rule.
	ErrInvalidOption = renewer.ErrInvalidOption
)
