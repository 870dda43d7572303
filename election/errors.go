package election

import "errors"

// The errors of this package. Everything else an Election returns, or
// puts in a leadership context's cause, is the renewer's: renewer.ErrLeaseLost
// (leadership lost), renewer.ErrReleased (resigned), renewer.ErrInUse (a
// second Campaign), renewer.ErrInvalidOption (a bad option), and the
// storage sentinels (renewer.ErrForbidden, renewer.ErrContainerNotFound,
// ...); errors.As reaches the SDK's *azcore.ResponseError.
var (
	// ErrNoLeader is returned by [Election.Leader] when no lease is held,
	// or when a new holder has acquired the lease but not yet written its
	// term (see [Election.Leader]).
	ErrNoLeader = errors.New("election: no leader")
	// ErrRenewalOverdue is returned by [Election.Check] when this candidate
	// leads but its last successful renewal is older than the renew
	// interval plus the tolerance.
	ErrRenewalOverdue = errors.New("election: lease renewal overdue")
)
