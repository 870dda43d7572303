package leasetest

import (
	"fmt"
	"strings"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// The service's error codes for the refusals the Container makes, each
// mapped to the renewer sentinel the Azure adapter maps it to.
const (
	codeAlreadyPresent        = "LeaseAlreadyPresent"
	codeMismatchLease         = "LeaseIdMismatchWithLeaseOperation"
	codeMismatchContainer     = "LeaseIdMismatchWithContainerOperation"
	codeNotPresentLease       = "LeaseNotPresentWithLeaseOperation"
	codeNotPresentContainer   = "LeaseNotPresentWithContainerOperation"
	codeBreakingCannotAcquire = "LeaseIsBreakingAndCannotBeAcquired"
	codeBreakingCannotChange  = "LeaseIsBreakingAndCannotBeChanged"
	codeBrokenCannotRenew     = "LeaseIsBrokenAndCannotBeRenewed"
	codeInvalidHeader         = "InvalidHeaderValue"
	codeInvalidMetadata       = "InvalidMetadata"
	codeMetadataTooLarge      = "MetadataTooLarge"
	codeLeaseIDMissing        = "LeaseIdMissing"
)

var sentinels = map[string]error{
	codeAlreadyPresent:        renewer.ErrLeaseHeld,
	codeMismatchLease:         renewer.ErrNoLease,
	codeMismatchContainer:     renewer.ErrNoLease,
	codeNotPresentLease:       renewer.ErrNoLease,
	codeNotPresentContainer:   renewer.ErrNoLease,
	codeBreakingCannotAcquire: renewer.ErrLeaseHeld,
	codeBreakingCannotChange:  renewer.ErrBroken,
	codeBrokenCannotRenew:     renewer.ErrBroken,
	codeInvalidHeader:         renewer.ErrBadRequest,
	codeInvalidMetadata:       renewer.ErrBadRequest,
	codeMetadataTooLarge:      renewer.ErrBadRequest,
	codeLeaseIDMissing:        renewer.ErrNoLease,
}

// refuse is the service's refusal of op with code, for example
// "leasetest: renew: LeaseIsBrokenAndCannotBeRenewed: no lease with that ID is in force".
func refuse(op Op, code string) error {
	return fmt.Errorf("leasetest: %s: %s: %w", op, code, sentinels[code])
}

// badRequest is a refusal of invalid input, saying what was wrong.
func badRequest(op Op, code, format string, args ...any) error {
	return fmt.Errorf("leasetest: %s: %s: %s: %w", op, code, fmt.Sprintf(format, args...), sentinels[code])
}

// checkID refuses a lease ID that is not a GUID in the 8-4-4-4-12 form.
func checkID(op Op, what, id string) error {
	if !isGUID(id) {
		return badRequest(op, codeInvalidHeader, "%s %q is not a GUID", what, id)
	}
	return nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
				return false
			}
		}
	}
	return true
}

// checkDuration refuses a lease duration other than 15..60 whole seconds or
// renewer.Infinite.
func checkDuration(op Op, d time.Duration) error {
	if d == renewer.Infinite {
		return nil
	}
	if d < 15*time.Second || d > 60*time.Second || d%time.Second != 0 {
		return badRequest(op, codeInvalidHeader, "lease duration %v: want 15s to 1m0s in whole seconds, or Infinite", d)
	}
	return nil
}

// checkBreakPeriod refuses a break period other than 0..60 whole seconds or
// renewer.BreakAtExpiry.
func checkBreakPeriod(op Op, d time.Duration) error {
	if d == renewer.BreakAtExpiry {
		return nil
	}
	if d < 0 || d > 60*time.Second || d%time.Second != 0 {
		return badRequest(op, codeInvalidHeader, "break period %v: want 0s to 1m0s in whole seconds, or BreakAtExpiry", d)
	}
	return nil
}

// sameID compares lease IDs as the service does: ignoring case.
func sameID(a, b string) bool { return a != "" && strings.EqualFold(a, b) }
