package mutex

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"go.uber.org/zap"
)

// A Mutex is a lock held through one container's lease: at most one holder
// at a time across every Mutex, in every process, that locks the same
// container. Lock and TryLock return a [Held], whose context is cancelled
// when the lock is lost and whose Term is a fencing number.
//
// Goroutines of one process that lock the same Mutex queue locally, first
// come first served: only the goroutine at the head of the queue asks
// storage, and when a holder unlocks while another goroutine waits, the
// lease is handed over without being let go: the next goroutine's holding
// gets a fresh lease ID and the next term (one Change Lease call and one
// metadata write; see Held.Term). Give each process one
// Mutex per container and share it. The queue does not extend across
// processes; the waiting seat (see WithWaitingSeat and the package
// documentation) makes a busy process stand aside for a waiter elsewhere
// at its first release after that waiter announced itself.
//
// A Mutex is safe for concurrent use. It must not be copied after first use.
type Mutex struct {
	r   *renewer.Renewer
	cfg config
	log *zap.Logger
	met metrics // metrics.go

	mu      sync.Mutex     // guards the fields below
	owned   bool           // a goroutine has the local turn: it holds the lock or is acquiring it
	waiters list.List      // of *waiter, in arrival order, waiting for the local turn
	lease   *renewer.Lease // the lease of the goroutine with the turn, kept for hand-over; nil when none
	since   time.Time      // when the storage lease was acquired (not handed over), on the local monotonic clock

	// With max-hold: after a lease is let go because of max-hold, or lost,
	// with local goroutines still waiting, the next acquisition stands
	// aside (standingAside).
	yield     bool
	notBefore time.Time // end of the stand-aside; zero until it starts

	// The waiting seat (seat.go); seat is nil without one.
	seat       *seat
	asideUntil time.Time // a stand-aside for a waiter elsewhere lasts until then: no acquire attempt before
	yielded    yielded   // the seat holding stood aside for last
}

// New returns a Mutex on the lease r holds, with r's identity and timing
// (renewer.WithIdentity, WithDuration, WithBreakPeriod, WithPollInterval
// and the rest: see package renewer; every Mutex on one container must use
// the same timing). r must not be used by anything else: the Mutex
// acquires, renews, hands over and releases through it. New checks the
// mutex's own options against r's timing and returns a
// *renewer.OptionError naming the field, value and rule at fault.
//
// Over Azure:
//
//	l, err := azlease.FromConnectionString(conn, "nightly-report-lock", nil)
//	...
//	r, err := renewer.New(l, renewer.WithIdentity(host))
//	...
//	m, err := mutex.New(r)
func New(r *renewer.Renewer, opts ...Option) (*Mutex, error) {
	cfg, err := newConfig(r, opts)
	if err != nil {
		return nil, err
	}
	m := &Mutex{r: r, cfg: cfg, log: cfg.log, met: newMetrics(r)}
	l, err := seatLeaser(r, &cfg)
	if err != nil {
		return nil, err
	}
	if l != nil {
		if m.seat, err = newSeat(r, l, cfg.log); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Lock blocks until the lock is held or ctx ends. While someone else holds
// it, the goroutine at the head of this Mutex's local queue asks storage
// every poll interval, holds the waiting seat (if any) so that the holder
// stands aside at its next release, and, with WithBreakOnTimeout or
// WithMaxHold, breaks a lease whose holder is dead or held it too long.
// While this Mutex stands aside for a waiter elsewhere (at most two poll
// intervals after its last release), Lock waits that out first. ctx bounds the wait only:
// the lock is held until Unlock or loss. If ctx ends first, Lock returns an
// error wrapping ctx's cause and nothing is held. It gives up at once on
// answers that no retry can change (renewer.ErrForbidden,
// renewer.ErrContainerNotFound, renewer.ErrBadRequest).
func (m *Mutex) Lock(ctx context.Context) (*Held, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("mutex: lock: %w", context.Cause(ctx))
	}
	if err := m.waitTurn(ctx); err != nil {
		return nil, fmt.Errorf("mutex: lock: %w", err)
	}
	h, err := m.takeOver(ctx)
	switch {
	case h != nil:
		return h, nil
	case err != nil:
		m.passTurn(ctx)
		return nil, err
	}
	ls, err := m.acquire(ctx)
	if err != nil {
		m.passTurn(ctx)
		return nil, err
	}
	return m.hold(ls), nil
}

// TryLock makes one attempt to take the lock, without waiting. It returns an
// error wrapping renewer.ErrLeaseHeld if someone else holds it: another goroutine of
// this Mutex (answered without a storage call) or another holder of the
// container's lease, or while this Mutex stands aside (after max-hold, or
// for a waiter elsewhere that holds the waiting seat). It never breaks a
// lease. An attempt that fails leaves
// nothing held.
func (m *Mutex) TryLock(ctx context.Context) (*Held, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("mutex: trylock: %w", context.Cause(ctx))
	}
	if !m.tryTurn() {
		return nil, fmt.Errorf("mutex: %w (in this process)", renewer.ErrLeaseHeld)
	}
	if m.standingAside(time.Now()) {
		m.passTurn(ctx)
		return nil, fmt.Errorf("mutex: %w (this process stands aside after max-hold, so that waiters elsewhere take the lock)", renewer.ErrLeaseHeld)
	}
	if left := m.asideLeft(time.Now()); left > 0 {
		m.passTurn(ctx)
		return nil, fmt.Errorf("mutex: %w (this process stands aside for %v, so that the waiter elsewhere that holds the waiting seat takes the lock)", renewer.ErrLeaseHeld, left.Round(time.Millisecond))
	}
	ls, err := m.r.TryAcquire(ctx)
	if err != nil {
		m.passTurn(ctx)
		return nil, err
	}
	return m.hold(ls), nil
}

// Break breaks the container's lease, whoever holds it, with the configured
// break period, and logs at Warn what it broke and why. It is for operators:
// the holder sees the break at its next renew and its context is cancelled
// before the break completes. No one else can acquire until the break
// completes, or until the holder, having stopped, releases the lease (a
// release ends a breaking lease at once). It returns the time until the
// break completes.
func (m *Mutex) Break(ctx context.Context, reason string) (time.Duration, error) {
	if reason == "" {
		reason = "operator break (no reason given)"
	}
	left, err := m.r.Break(ctx, reason)
	if err != nil {
		return 0, err
	}
	return left, nil
}

// Status reads the lock's state and its last holder's identity and term
// with one storage call, holding nothing.
func (m *Mutex) Status(ctx context.Context) (renewer.Status, error) {
	st, err := renewer.Inspect(ctx, m.r.Leaser())
	if err != nil {
		return renewer.Status{}, err
	}
	return st, nil
}

// Identity returns the identity this Mutex writes as holder.
func (m *Mutex) Identity() string { return m.r.Identity() }
