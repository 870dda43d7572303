package election

import (
	"errors"
	"strings"

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
	// ErrInvalidOption wraps every validation error of New and
	// NewFromContainer; the message names the field and the value. Those
	// errors also wrap renewer.ErrInvalidOption.
	ErrInvalidOption = errors.New("election: invalid option")
)

// optionError is a validation error: it reads "election: invalid option:
// <what>", and matches both ErrInvalidOption and the renewer's error it
// came from, if any.
type optionError struct {
	msg   string
	inner error // the renewer's validation error, or nil
}

func (e *optionError) Error() string { return ErrInvalidOption.Error() + ": " + e.msg }

func (e *optionError) Unwrap() []error {
	if e.inner == nil {
		return []error{ErrInvalidOption}
	}
	return []error{ErrInvalidOption, e.inner}
}

// invalid returns a validation error saying msg.
func invalid(msg string) error { return &optionError{msg: msg} }

// fromRenewer turns the renewer's validation error into ours, without
// repeating its prefix.
func fromRenewer(err error) error {
	msg := strings.TrimPrefix(err.Error(), renewer.ErrInvalidOption.Error()+": ")
	return &optionError{msg: msg, inner: err}
}
