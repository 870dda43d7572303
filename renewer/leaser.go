package renewer

import (
	"context"
	"time"
)

// Infinite, passed to [WithDuration], asks for a lease that never expires by
// itself: it lasts until it is released or broken, so a holder that crashes
// keeps it until someone breaks it. Use it only under a recovery that
// breaks a silent holder (mutex.WithBreakOnTimeout; election.New refuses
// it). Heartbeats are then always on, and each renew proves the lease for
// one break period (see [WithBreakPeriod]).
const Infinite time.Duration = -1

// BreakAtExpiry, passed to [Leaser.Break], asks the service for its default
// break period: a fixed-duration lease breaks when it would have expired and
// an infinite lease breaks at once.
const BreakAtExpiry time.Duration = -1

// Leaser is the set of storage operations the library needs from one
// container: the five lease actions, a read of the lease state and metadata,
// and a metadata write made under the lease.
//
// Implementations: azlease.Leaser (package renewer/azlease) over Azure Blob
// Storage, and leasetest.Container in memory. One conformance suite, in
// renewer/leasetest, runs against both (against Azure's on Azurite) to keep
// them following the service's state table alike.
//
// Lease IDs are passed to every call, so one Leaser can act for any ID.
// Errors are the Err* sentinels of this package, wrapped, so callers can use
// [errors.Is]; anything else (a timeout, a reset connection) is transient.
// A refused Acquire answers ErrLeaseHeld; a refused Renew, Change, Release
// or SetMetadata under an ID that is not the lease's, ErrNoLease. An error's
// message names the operation ("acquire: ..."); the Renewer adds only
// "renewer: " in front.
// Implementations must be safe for concurrent use and must return promptly
// once ctx is done.
type Leaser interface {
	// Acquire takes the lease with the proposed leaseID for d, which is a
	// whole number of seconds from 15 to 60, or Infinite. It returns the
	// lease ID the service answered with, which the caller must compare
	// with its own.
	Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error)
	// Renew restarts the active lease's duration. It returns the lease ID
	// the service answered with, which the caller must compare with its own
	// (Azurite answers a renew of an expired lease with the old holder's ID).
	Renew(ctx context.Context, leaseID string) (string, error)
	// Change replaces the active lease's ID with proposedID and returns the
	// lease ID the service answered with.
	Change(ctx context.Context, leaseID, proposedID string) (string, error)
	// Release ends the lease so that anyone can acquire it at once.
	Release(ctx context.Context, leaseID string) error
	// Break ends the lease after period (0 to 60 s, or BreakAtExpiry)
	// without knowing its ID. It returns the time left until the break
	// completes, on the service's reckoning.
	Break(ctx context.Context, period time.Duration) (time.Duration, error)
	// Properties reads the lease state and the container's metadata.
	Properties(ctx context.Context) (Properties, error)
	// SetMetadata replaces the container's metadata. With a non-empty
	// leaseID the write succeeds only while that lease is active (leased
	// or breaking).
	SetMetadata(ctx context.Context, leaseID string, metadata map[string]string) error
}

// Properties is what a read of the container says about its lease.
type Properties struct {
	// State is the lease state.
	State LeaseState
	// Infinite reports an infinite lease; it is meaningful only while
	// leased (Azurite reports no duration while a lease is breaking).
	Infinite bool
	// Metadata is the container's metadata, with lower-case keys (the
	// service treats names case-insensitively and HTTP mangles their case).
	Metadata map[string]string
	// LastModified is the service's time of the last metadata write. Lease
	// actions do not change it.
	LastModified time.Time
	// Date is the service's clock when it answered, at one-second
	// resolution. Compare it only with LastModified, never with a local
	// clock.
	Date time.Time
}

// LeaseState is the state of a container's lease, as the service reports it.
type LeaseState int

// The lease states of the service's state table.
const (
	StateAvailable LeaseState = iota // no lease; anyone can acquire
	StateLeased                      // an active lease
	StateExpired                     // a fixed lease ran out; anyone can acquire
	StateBreaking                    // being broken; no one can acquire yet
	StateBroken                      // broken; anyone can acquire
)

func (s LeaseState) String() string {
	switch s {
	case StateAvailable:
		return "available"
	case StateLeased:
		return "leased"
	case StateExpired:
		return "expired"
	case StateBreaking:
		return "breaking"
	case StateBroken:
		return "broken"
	}
	return "unknown"
}

// A Besider is a Leaser that can name a second lease kept beside its own,
// in the same place and reachable with the same credentials: for a
// container's lease, a blob in that container; for a blob's, a blob next
// to it. Every Leaser of the same lease answers the same name with the
// same lease. election.New uses it for its next-in-line lease by default
// (see election.WithStandby). azlease's Leasers and leasetest's Named
// leases implement it.
type Besider interface {
	// Beside returns the Leaser of the lease called suffix beside this one.
	Beside(suffix string) (Leaser, error)
}
