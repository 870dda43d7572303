package mutex

import (
	"context"
	"errors"
	"reflect"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// The waiting seat: how a waiter in one process tells a holder in another
// that it waits, when storage pushes nothing. The seat is a second lease,
// beside the lock's (see WithWaitingSeat). A waiter whose first poll finds
// the lock held by someone else takes the seat, if free, and holds it
// (renewed, its identity written as holder) for as long as it waits; it
// lets it go as soon as its wait ends. The holder's process reads the
// seat, one call made beside the one it makes anyway, whenever it lets its
// holding go: in Unlock, beside the release, and in the next local
// goroutine's Lock, beside the hand-over. If another process holds the
// seat, this process stands aside: the lease goes back to storage (a
// hand-over already begun is let go) and this Mutex makes no acquire
// attempt for two poll intervals, so that the waiter, which polls every
// poll interval (at most 1.2 P with jitter), takes the lock. Nothing else
// changes: who holds the lock is still decided by the acquire alone.

// WaitingSeatSuffix names the default waiting seat beside the lock's lease
// (renewer.Besider): over azlease, the blob ".waiting" in the lock's
// container, or "NAME/waiting" beside a named lock NAME.
const WaitingSeatSuffix = "waiting"

// WaitingSeatDuration is the waiting seat's lease duration (renewed every third of
// it): a waiter that dies holding the seat keeps it at most this long, and
// a holder stands aside for one seat holding (one waiter's identity and
// seat term) at most once per WaitingSeatDuration, so a dead waiter costs a
// holder's process at most one stand-aside.
const WaitingSeatDuration = renewer.MinDuration

// seat is a Mutex's waiting seat.
type seat struct {
	r *renewer.Renewer // the seat's lease; its identity is the Mutex's

	// Guarded by Mutex.mu.
	done    chan struct{} // closed when the last seat loop ended; nil before the first
	refused time.Time     // after an answer no retry changes (renewer.Permanent): no seat call before this
	warned  bool          // such an answer was logged at Warn
}

// seatPause is how long the seat goes unused after storage refused it for
// good (a SAS without blob permissions): waiters wait unannounced and
// holders read nothing, as without a seat, and try again after it.
const seatPause = time.Minute

// usable reports whether the seat may be used at now (see seatPause).
// m.mu must be held.
func (s *seat) usable(now time.Time) bool { return !now.Before(s.refused) }

// refuse records an answer of storage about the seat that no retry
// changes, and logs it at Warn the first time. m.mu must not be held.
func (m *Mutex) refuseSeat(op string, err error) {
	m.mu.Lock()
	m.seat.refused = time.Now().Add(seatPause)
	first := !m.seat.warned
	m.seat.warned = true
	m.mu.Unlock()
	msg := "waiting seat refused; waiters wait unannounced, as without a seat, and the seat is tried again later"
	if first {
		m.log.Warn(msg, zap.String("op", op), zap.Duration("retry after", seatPause), zap.Error(err))
		return
	}
	m.log.Debug(msg, zap.String("op", op), zap.Error(err))
}

// seatLeaser returns the waiting seat's Leaser: WithWaitingSeat's, or the
// lease beside r's called WaitingSeatSuffix, or nil for none. It refuses
// the lock's own Leaser as seat with a *renewer.OptionError.
func seatLeaser(r *renewer.Renewer, c *config) (renewer.Leaser, error) {
	if c.seatSet {
		if c.seat != nil && sameLeaser(c.seat, r.Leaser()) {
			return nil, invalid("waiting seat", "the lock's own lease", "want a lease other than the lock's (its waiters would hold the lock as their seat)")
		}
		return c.seat, nil
	}
	b, ok := r.Leaser().(renewer.Besider)
	if !ok {
		return nil, nil
	}
	l, err := b.Beside(WaitingSeatSuffix)
	if err != nil {
		c.log.Info("no waiting seat beside the lock: waiters elsewhere are not announced", zap.Error(err))
		return nil, nil
	}
	return l, nil
}

// sameLeaser reports whether a and b are one Leaser value (without
// panicking on a Leaser type that cannot be compared).
func sameLeaser(a, b renewer.Leaser) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// newSeat returns the waiting seat on l, held through a renewer of its own
// with r's identity, logger, metrics, call timeout and poll interval (the
// seat loop tries the seat every P while another waiter holds it).
func newSeat(r *renewer.Renewer, l renewer.Leaser, log *zap.Logger) (*seat, error) {
	t := r.Timing()
	sr, err := renewer.New(l,
		renewer.WithIdentity(r.Identity()),
		renewer.WithDuration(WaitingSeatDuration),
		renewer.WithPollInterval(t.PollInterval),
		renewer.WithCallTimeout(t.CallTimeout),
		renewer.WithLogger(log.With(zap.String("lease", "waiting seat"))),
		renewer.WithMeterProvider(r.MeterProvider()))
	if err != nil {
		var oe *renewer.OptionError
		if errors.As(err, &oe) {
			return nil, &renewer.OptionError{Pkg: "mutex", Field: "waiting seat " + oe.Field, Value: oe.Value, Rule: oe.Rule}
		}
		return nil, err
	}
	return &seat{r: sr}, nil
}

// An announcement is one wait's use of the seat: the seat loop, started at
// most once, when the wait finds the lock held by someone else, and ended
// when the wait ends. Only the goroutine with the turn uses it.
type announcement struct {
	m       *Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	started bool
}

// announce returns the announcement of a wait bounded by ctx; nil (whose
// methods do nothing) without a seat.
func (m *Mutex) announce(ctx context.Context) *announcement {
	if m.seat == nil {
		return nil
	}
	actx, cancel := context.WithCancel(ctx)
	return &announcement{m: m, ctx: actx, cancel: cancel}
}

// start starts the seat loop unless it runs.
func (a *announcement) start() {
	if a == nil || a.started {
		return
	}
	a.started = true
	m := a.m
	done := make(chan struct{})
	m.mu.Lock()
	if !m.seat.usable(time.Now()) {
		m.mu.Unlock()
		return
	}
	prev := m.seat.done
	m.seat.done = done
	m.mu.Unlock()
	go m.seatLoop(a.ctx, prev, done)
}

// stop ends the seat loop, without waiting: the loop releases the seat on
// its own goroutine (bounded by renewer.Timing.ReleaseBound), and the next
// wait's loop waits for it.
func (a *announcement) stop() {
	if a != nil {
		a.cancel()
	}
}

// seatLoop takes the seat and holds it until ctx ends, then releases it.
// While another waiter holds the seat it tries again every poll interval.
// It waits for the previous loop (prev) first, whose release may still
// run.
func (m *Mutex) seatLoop(ctx context.Context, prev, done chan struct{}) {
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
	}
	for ctx.Err() == nil {
		ls, err := m.seat.r.Acquire(ctx)
		if err != nil {
			if ctx.Err() == nil {
				// Refused for good (a SAS without blob permissions, say):
				// this wait goes on unannounced, as without a seat.
				m.refuseSeat("acquire", err)
			}
			return
		}
		m.log.Debug("waiting seat taken", zap.Int64("seat term", ls.Term()))
		select {
		case <-ls.Done():
		case <-ctx.Done():
		}
		_ = ls.Release(context.WithoutCancel(ctx))
	}
}

// seatRead is one read of the seat.
type seatRead struct {
	st  renewer.Status
	err error
}

// readSeat starts a read of the seat (one storage call, bounded by the call
// timeout and ctx) beside whatever the caller does next, and returns a func
// that waits for it and reports whether this process must stand aside (see
// yieldTo). Without a seat it makes no call and reports false.
func (m *Mutex) readSeat(ctx context.Context) func() bool {
	if m.seat == nil {
		return func() bool { return false }
	}
	m.mu.Lock()
	usable := m.seat.usable(time.Now())
	m.mu.Unlock()
	if !usable {
		return func() bool { return false }
	}
	ch := make(chan seatRead, 1)
	go func() {
		st, err := m.seat.r.Inspect(ctx)
		ch <- seatRead{st, err}
	}()
	return func() bool {
		r := <-ch
		return m.yieldTo(r.st, r.err, time.Now())
	}
}

// yieldTo reports whether the seat as read (st, or the read's error) at
// now makes this process stand aside: it does if the seat is held by
// another process (another identity, or none written yet), unless it has
// already stood aside for that same seat holding (identity and seat term)
// within the last WaitingSeatDuration. A waiter that died holding the seat thus
// costs at most one stand-aside: its seat expires within WaitingSeatDuration. A
// failed read makes no one stand aside.
func (m *Mutex) yieldTo(st renewer.Status, err error, now time.Time) bool {
	if err != nil {
		if renewer.Permanent(err) {
			m.refuseSeat("read", err)
		} else {
			m.log.Debug("read of the waiting seat failed; not standing aside", zap.Error(err))
		}
		return false
	}
	if !st.Held() || st.Holder == m.r.Identity() {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	y := m.yielded
	if y.holder == st.Holder && y.term == st.Term && now.Sub(y.at) < WaitingSeatDuration {
		return false
	}
	m.yielded = yielded{holder: st.Holder, term: st.Term, at: now}
	m.log.Info("standing aside: a waiter elsewhere holds the waiting seat",
		zap.String("waiter", st.Holder), zap.Int64("seat term", st.Term), zap.Duration("for", 2*m.cfg.poll()))
	return true
}

// yielded is the seat holding this process last stood aside for.
type yielded struct {
	holder string
	term   int64
	at     time.Time
}

// standAside starts a stand-aside of two poll intervals from now: no
// acquire attempt of this Mutex until it ends (see waitAside).
func (m *Mutex) standAside() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asideUntil = time.Now().Add(2 * m.cfg.poll())
}

// asideLeft returns how long the stand-aside under way lasts from now, or
// 0 if none.
func (m *Mutex) asideLeft(now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return max(0, m.asideUntil.Sub(now))
}

// waitAside waits out the stand-aside under way, if any. It reports false
// if ctx ended first.
func (m *Mutex) waitAside(ctx context.Context) bool {
	d := m.asideLeft(time.Now())
	if d == 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
