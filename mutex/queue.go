package mutex

import (
	"context"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"go.uber.org/zap"
)

// The local queue. The goroutine with the turn (Mutex.owned) is the only
// one of its Mutex that holds the lock or asks storage for it; the others
// wait in Mutex.waiters, in arrival order. The turn passes from one
// goroutine to the next with the storage lease still held when it is live;
// the goroutine that gets it makes the hand-over a holding of its own
// (renewer.Lease.HandOver: a fresh lease ID and term + 1, two storage
// calls), with no moment at which the lease is free.

// waiter is a goroutine waiting for the local turn.
type waiter struct {
	ready chan struct{} // closed, under Mutex.mu, by the goroutine that hands it the turn
}

// waitTurn returns nil once the caller has the turn, or ctx's cause if ctx
// ends first, leaving nothing held.
func (m *Mutex) waitTurn(ctx context.Context) error {
	m.mu.Lock()
	if !m.owned && m.waiters.Len() == 0 {
		m.owned = true
		m.mu.Unlock()
		return nil
	}
	w := &waiter{ready: make(chan struct{})}
	elem := m.waiters.PushBack(w)
	m.mu.Unlock()
	defer m.met.waiter()()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	m.mu.Lock()
	select {
	case <-w.ready:
		// The turn came as ctx ended: pass it on, as if it had come later.
		m.mu.Unlock()
		m.passTurn(ctx)
	default:
		m.waiters.Remove(elem)
		m.mu.Unlock()
	}
	return context.Cause(ctx)
}

// tryTurn takes the turn if no one has it or waits for it.
func (m *Mutex) tryTurn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owned || m.waiters.Len() > 0 {
		return false
	}
	m.owned = true
	return true
}

// takeOver makes the lease handed over with the turn a holding of the
// caller's: it returns a Held on a new renewer.Lease (fresh lease ID, term
// + 1; see renewer.Lease.HandOver), or nil if there is no lease to take
// over or the hand-over failed (the lease was lost; the caller then
// acquires anew: HandOver has released what it could). It returns an error
// only if ctx ended: before the hand-over began (the lease is still held,
// for passTurn to pass on) or during it (nothing is held).
func (m *Mutex) takeOver(ctx context.Context) (*Held, error) {
	m.mu.Lock()
	ls := m.lease
	if ls == nil {
		m.mu.Unlock()
		return nil, nil
	}
	if ls.Context().Err() != nil {
		m.lost()
		m.mu.Unlock()
		return nil, nil
	}
	m.mu.Unlock()
	// The waiting seat is read beside the hand-over, so that a process
	// nobody waits for pays no round trip for it.
	aside := m.readSeat(ctx)
	// Only the goroutine with the turn touches m.lease: no one else
	// changes it while HandOver runs.
	next, err := ls.HandOver(ctx)
	yield := aside()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil && ls.Context().Err() == nil {
		// ctx ended before the hand-over began: the lease is still held
		// under ls, and the caller passes it on with the turn.
		return nil, err
	}
	if err != nil {
		m.lost()
		if yield {
			m.asideUntil = time.Now().Add(2 * m.cfg.poll())
		}
		if ctx.Err() != nil {
			return nil, err
		}
		m.log.Info("local hand-over failed; acquiring anew", zap.Int64("term", ls.Term()), zap.Error(err))
		return nil, nil
	}
	if yield {
		// A waiter elsewhere holds the seat: the hand-over, already made,
		// is let go (its term is skipped: no one held the lock under it),
		// and the caller acquires anew once the stand-aside is over.
		m.lease = nil
		m.mu.Unlock()
		_ = next.Release(ctx)
		m.standAside()
		m.mu.Lock()
		return nil, nil
	}
	m.lease = next
	m.log.Debug("lock handed over locally", zap.Int64("term", next.Term()), zap.Int64("previous term", ls.Term()))
	return newHeld(m, next), nil
}

// lost forgets the lease, which has ended, so that the goroutine with the
// turn acquires anew; with max-hold, that acquisition stands aside first
// (see standingAside). m.mu must be held.
func (m *Mutex) lost() {
	m.lease = nil
	if m.cfg.maxHold > 0 {
		m.yield, m.notBefore = true, time.Time{}
	}
}

// hold records a lease newly acquired from storage by the goroutine with
// the turn and returns its Held.
func (m *Mutex) hold(ls *renewer.Lease) *Held {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lease, m.since = ls, time.Now()
	return newHeld(m, ls)
}

// passTurn gives up the turn of the calling goroutine. If another goroutine
// waits and the lease is live (and may still be handed over), the lease is
// kept and handed to it with the turn (it then calls takeOver). Otherwise the lease,
// if any, is released (ctx bounds the wait for that; the release goes on
// without it), and then the turn passes to the next waiter, who acquires
// anew, or becomes free. It returns the lease's Release error, if any.
func (m *Mutex) passTurn(ctx context.Context) error {
	m.mu.Lock()
	ls := m.lease
	if front := m.waiters.Front(); front != nil && ls != nil && ls.Context().Err() == nil && m.mayHandOver() {
		m.waiters.Remove(front)
		close(front.Value.(*waiter).ready)
		m.mu.Unlock()
		return nil
	}
	if front := m.waiters.Front(); front != nil && ls != nil && m.cfg.maxHold > 0 {
		// Let go because of max-hold, or lost, while this process still
		// wants the lock: give waiters elsewhere their turn.
		m.yield, m.notBefore = true, time.Time{}
	}
	m.lease = nil
	m.mu.Unlock()

	var err error
	if ls != nil {
		// A live holding let go: the waiting seat is read beside the
		// release (no round trip of its own), and if a waiter elsewhere
		// holds it, this Mutex stands aside before its next acquire.
		aside := func() bool { return false }
		if ls.Context().Err() == nil {
			aside = m.readSeat(ctx)
		}
		// Release ends the lease before it waits, so the next owner's
		// renewer.Acquire finds it ended and waits for its goroutine.
		err = ls.Release(ctx)
		if aside() {
			m.standAside()
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if front := m.waiters.Front(); front != nil {
		m.waiters.Remove(front)
		close(front.Value.(*waiter).ready)
	} else {
		m.owned = false
	}
	return err
}

// mayHandOver reports whether the current lease may pass to another local
// holder: always without max-hold; with it, while the storage lease is
// younger than half of max-hold, so that this process lets it go before
// waiters elsewhere would break it (see WithMaxHold). m.mu must be held.
func (m *Mutex) mayHandOver() bool {
	return m.cfg.maxHold == 0 || time.Since(m.since) < m.cfg.maxHold/2
}

// standingAside reports whether this Mutex must make no acquire attempt at
// now, although the lease looks free: for two poll intervals after it
// first looks free once this Mutex let a lease go because of max-hold (or
// lost it) while its own goroutines still waited. A waiter elsewhere, which
// reads the lease every poll interval, then sees it free and takes it, as
// max-hold promises (see WithMaxHold), instead of this process taking it
// again at once. Election's Run stands aside the same way after a Resign.
func (m *Mutex) standingAside(now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.yield {
		return false
	}
	if m.notBefore.IsZero() {
		m.notBefore = now.Add(2 * m.cfg.poll())
	}
	if now.Before(m.notBefore) {
		return true
	}
	m.yield, m.notBefore = false, time.Time{}
	return false
}
