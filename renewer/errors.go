package renewer

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

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
	// ErrInvalidOption is matched by every *OptionError: the errors of New,
	// of the azlease constructors and of election.New and mutex.New for a
	// bad option or argument.
	ErrInvalidOption = errors.New("renewer: invalid option")
)

// An OptionError reports an option, or an argument of a constructor, that
// breaks a rule. New and the azlease constructors return one for bad input,
// and so do election.New and mutex.New, for the renewer's rules and for
// their own (one error, never wrapped in another). It matches
// ErrInvalidOption, and errors.As reaches its fields:
//
//	var oe *renewer.OptionError
//	if errors.As(err, &oe) {
//		// oe.Field, oe.Value, oe.Rule
//	}
//
// Its message reads "<Pkg>: invalid option: <Field> <Value>: <Rule>", for
// example "renewer: invalid option: lease duration 14s: want whole seconds
// from 15s to 1m0s, or Infinite".
type OptionError struct {
	// Pkg is the package whose rule it is: "renewer" (also when empty),
	// "azlease", "election" or "mutex".
	Pkg string
	// Field names what the option or argument sets, as its documentation
	// does: "lease duration", "margin", "identity", "max hold", ...
	Field string
	// Value is the value given: a time.Duration for the timing fields, a
	// string for names. It is nil when the value was nil or must not be
	// shown (a connection string), and then the message leaves it out.
	Value any
	// Rule says what the field must be, with the bounds in effect.
	Rule string
}

func (e *OptionError) Error() string {
	pkg := e.Pkg
	if pkg == "" {
		pkg = "renewer"
	}
	if e.Value == nil {
		return pkg + ": invalid option: " + e.Field + ": " + e.Rule
	}
	return pkg + ": invalid option: " + e.Field + " " + showValue(e.Value) + ": " + e.Rule
}

// Is reports whether target is ErrInvalidOption.
func (e *OptionError) Is(target error) bool { return target == ErrInvalidOption }

// showValue formats an option's value: strings quoted (their first 64
// characters), Infinite by name.
func showValue(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 64 {
			return fmt.Sprintf("%.64q...", v)
		}
		return strconv.Quote(v)
	case time.Duration:
		if v == Infinite {
			return "Infinite"
		}
	}
	return fmt.Sprint(v)
}

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
