package renewer

import "errors"

// Errors a [Leaser] returns, wrapped, for the service's answers. The Azure
// adapter (renewer/azlease) wraps the SDK's *azcore.ResponseError
// alongside, so errors.As still reaches it.
var (
	// ErrLeaseAlreadyPresent: another lease is active (or breaking).
	ErrLeaseAlreadyPresent = errors.New("renewer: another lease is present")
	// ErrLeaseIDMismatch: the lease ID does not match the container's lease.
	ErrLeaseIDMismatch = errors.New("renewer: lease ID does not match")
	// ErrLeaseNotPresent: the container has no active lease.
	ErrLeaseNotPresent = errors.New("renewer: no lease is present")
	// ErrLeaseBreaking: the lease is being broken and cannot be acquired or
	// changed until the break period is over.
	ErrLeaseBreaking = errors.New("renewer: lease is being broken")
	// ErrLeaseBroken: the lease is breaking or broken and cannot be renewed.
	ErrLeaseBroken = errors.New("renewer: lease is broken")
	// ErrContainerNotFound: the container does not exist (HTTP 404).
	ErrContainerNotFound = errors.New("renewer: container not found")
	// ErrForbidden: the credentials were refused (HTTP 401 or 403).
	ErrForbidden = errors.New("renewer: storage refused the credentials")
	// ErrThrottled: the account is over its limits or busy (HTTP 429, 500
	// OperationTimedOut, 503). Transient.
	ErrThrottled = errors.New("renewer: storage is throttling or busy")
	// ErrBadRequest: the service rejected the request as invalid (HTTP 400).
	ErrBadRequest = errors.New("renewer: storage rejected the request")
)

// Errors of the Renewer itself.
var (
	// ErrLeaseLost is wrapped by the cause of a lease context cancelled
	// because the lease was lost, or could no longer be proven held:
	// errors.Is(context.Cause(lease.Context()), ErrLeaseLost).
	ErrLeaseLost = errors.New("renewer: lease lost")
	// ErrReleased is wrapped by the cause of a lease context cancelled by
	// Release.
	ErrReleased = errors.New("renewer: lease released")
	// ErrAbandoned is the cause of a lease context cancelled by Abandon.
	ErrAbandoned = errors.New("renewer: lease abandoned")
	// ErrHandedOver is the cause of a lease context cancelled by
	// HandOver: the storage lease lives on under the new holding.
	ErrHandedOver = errors.New("renewer: lease handed over")
	// ErrInvalidTerm: the term in the container's metadata is not a whole
	// number from 0 to MaxInt64-1 (written by hand or by another tool), or
	// has no successor. Terms are fencing numbers: the library will not
	// guess one. An operator must set MetadataTerm to a number at least as
	// high as any term a downstream store has seen, or remove it.
	ErrInvalidTerm = errors.New("renewer: invalid term in metadata")
	// ErrLeaseHeld: someone else holds the lease (TryAcquire).
	ErrLeaseHeld = errors.New("renewer: lease is held by another holder")
	// ErrInUse: the Renewer already holds its lease; release it first.
	ErrInUse = errors.New("renewer: this renewer already holds the lease")
	// ErrInvalidOption wraps every validation error of New and of the
	// adapter constructors; the message names the field and the value.
	ErrInvalidOption = errors.New("renewer: invalid option")
)

// definitive reports whether err is a service answer that settles the
// question, as opposed to a failure that a retry may get past.
func definitive(err error) bool {
	for _, d := range []error{ErrLeaseAlreadyPresent, ErrLeaseIDMismatch, ErrLeaseNotPresent,
		ErrLeaseBreaking, ErrLeaseBroken, ErrContainerNotFound, ErrBadRequest, ErrInvalidTerm} {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}
