package renewer

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The errors of this package and of every [Leaser], one sentinel per
// meaning, each classified once (see classes below). A Leaser returns them
// wrapped, with the service's answer alongside: the Azure adapter
// (renewer/azlease) wraps the SDK's *azcore.ResponseError, so errors.As
// still reaches the service's error code. The election and mutex packages
// return these same sentinels; they have none of their own for the same
// meanings.
var (
	// ErrLeaseHeld: the lease is another's, active or breaking, so an
	// acquire was refused (TryAcquire, mutex.TryLock; a Leaser's Acquire).
	// Polling may get past it.
	ErrLeaseHeld = errors.New("lease is held by another holder")
	// ErrNoLease: no lease with the request's ID is in force: the lease
	// has another ID, is breaking or broken, or there is none (a Break of
	// an unleased container answers it too). Under a lease it means the
	// lease is lost.
	ErrNoLease = errors.New("no lease with that ID is in force")
	// ErrBroken: the lease with the request's ID is being broken or was
	// broken (a renew or a change of one's own lease refused as such).
	// It wraps ErrNoLease: errors.Is(err, ErrNoLease) holds too. Under a
	// lease it means someone broke it (an operator's break, a waiter's
	// break-on-timeout), which a holder may want to tell from other
	// losses: election's candidates stand aside after it, so that another
	// one leads.
	ErrBroken = fmt.Errorf("lease is broken or being broken: %w", ErrNoLease)
	// ErrContainerNotFound: the container does not exist (HTTP 404).
	// Acquire gives up on it.
	ErrContainerNotFound = errors.New("container not found")
	// ErrForbidden: the credentials were refused (HTTP 401 or 403). Acquire
	// gives up on it; a holder retries until its validity deadline, in case
	// a rotated credential comes back.
	ErrForbidden = errors.New("storage refused the credentials")
	// ErrThrottled: the account is over its limits or busy (HTTP 429, 500
	// OperationTimedOut, 503). Retried, like any error not listed here.
	ErrThrottled = errors.New("storage is throttling or busy")
	// ErrBadRequest: the service rejected the request as invalid (HTTP 400).
	// Acquire gives up on it.
	ErrBadRequest = errors.New("storage rejected the request")
	// ErrInvalidTerm: the term in the container's metadata is not a whole
	// number from 0 to MaxInt64-1 (written by hand or by another tool), or
	// has no successor. Terms are fencing numbers: the library will not
	// guess one. An operator must set MetadataTerm to a number at least as
	// high as any term a downstream store has seen, or remove it. Acquire
	// gives up on it.
	ErrInvalidTerm = errors.New("invalid term in metadata")

	// ErrLeaseLost is wrapped by the cause of a holding's context
	// cancelled because the lease was lost, or could no longer be proven
	// held (also a Leadership's or a mutex Held's):
	// errors.Is(context.Cause(lease.Context()), ErrLeaseLost).
	ErrLeaseLost = errors.New("lease lost")
	// ErrReleased is wrapped by the cause of a holding's context cancelled
	// by its holder: Lease.Release, Election.Resign (or the end of Run's
	// context), Held.Unlock.
	ErrReleased = errors.New("lease released")
	// ErrAbandoned is the cause of a lease context cancelled by Abandon.
	ErrAbandoned = errors.New("lease abandoned")
	// ErrHandedOver is the cause of a lease context cancelled by
	// HandOver: the storage lease lives on under the new holding.
	ErrHandedOver = errors.New("lease handed over")
	// ErrInUse: the Renewer already holds its lease or is acquiring it
	// (also from Election.Campaign and Run while the candidate campaigns or
	// leads): one holding at a time.
	ErrInUse = errors.New("already holding or acquiring the lease")
	// ErrInvalidOption is matched by every *OptionError: the errors of New,
	// of the azlease constructors and of election.New and mutex.New for a
	// bad option or argument.
	ErrInvalidOption = errors.New("invalid option")
)

// classes is the one place errors are classified. An error matching none
// of these is transient: the outcome is unknown or the trouble may pass
// (a timeout, a reset, throttling), so the call is tried again while time
// allows.
var classes = []struct {
	err error
	// settled: the service answered and the answer stands; trying the
	// same request again gets the same answer. Under a lease, the lease
	// is lost.
	settled bool
	// permanent: polling cannot get past it either; Acquire gives up
	// (see Permanent).
	permanent bool
	// name is the error's name in metrics (leasehold.result, .cause).
	name string
}{
	{ErrLeaseHeld, true, false, "held"},
	{ErrBroken, true, false, "broken"}, // before ErrNoLease, which it wraps
	{ErrNoLease, true, false, "no_lease"},
	{ErrContainerNotFound, true, true, "not_found"},
	{ErrBadRequest, true, true, "bad_request"},
	{ErrInvalidTerm, true, true, "invalid_term"},
	{ErrInUse, true, true, "in_use"},
	// A refused credential ends an acquisition, but not a holding before
	// its deadline: the credential may be rotated back in time.
	{ErrForbidden, false, true, "forbidden"},
	// Transient, as any error not listed: listed for its name.
	{ErrThrottled, false, false, "throttled"},
}

func classOf(err error) (settled, permanent bool) {
	for _, c := range classes {
		if errors.Is(err, c.err) {
			return c.settled, c.permanent
		}
	}
	return false, false
}

// definitive reports whether err is a service answer that settles the
// question, as opposed to a failure that a retry may get past.
func definitive(err error) bool {
	settled, _ := classOf(err)
	return settled
}

// Permanent reports whether an error of Acquire or TryAcquire is one that
// polling cannot get past: refused credentials, a missing container, a
// request the service rejects, a term in the metadata that is not one, or
// ErrInUse. Other errors (the lease is held, a timeout, throttling) may
// clear on a later attempt.
func Permanent(err error) bool {
	_, permanent := classOf(err)
	return permanent
}

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
