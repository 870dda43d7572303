package mutex

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"go.uber.org/zap"
)

// acquire takes the lease from storage for the goroutine with the turn,
// polling while someone else holds it: renewer.Acquire, the one acquire
// loop. With break-on-timeout or max-hold it watches (each poll reads the
// lease first, one storage call while it is held, as an acquire attempt
// would be), breaks a lease whose holder is dead or overdue, and stands
// aside after max-hold (see standingAside).
//
// With a waiting seat, it first waits out a stand-aside for a waiter
// elsewhere (see seat.go), holding the seat meanwhile if it can, then
// makes one acquire attempt; if the lock is held, it takes the seat and
// waits as without one; if the attempt failed otherwise, it waits
// watching (each poll a read first) and takes the seat at the first read
// that shows the lock held. It holds the seat until this wait ends.
func (m *Mutex) acquire(ctx context.Context) (*renewer.Lease, error) {
	an := m.announce(ctx)
	defer an.stop()
	if m.asideLeft(time.Now()) > 0 {
		// Standing aside because the lock is wanted elsewhere: this
		// goroutine wants it too, and announces itself at once, so that
		// the other process, once it holds the lock, stands aside in turn.
		an.start()
	}
	if !m.waitAside(ctx) {
		return nil, fmt.Errorf("mutex: lock: %w (standing aside for a waiter elsewhere)", context.Cause(ctx))
	}
	announced := false // the seat loop runs: no read is needed to start it
	if an != nil && !m.yieldPending() {
		// The first attempt without a read, as renewer.Acquire's is: a
		// lock nobody holds costs what it did without a seat.
		ls, err := m.r.TryAcquire(ctx)
		if err == nil || renewer.Permanent(err) {
			return ls, err
		}
		if errors.Is(err, renewer.ErrLeaseHeld) {
			an.start()
			announced = true
		}
	}
	var opts []renewer.AcquireOption
	if m.cfg.breakTimeout != 0 || m.cfg.maxHold != 0 || (an != nil && !announced) {
		var w watch
		opts = append(opts, renewer.Watching(func(st renewer.Status, err error) renewer.Verdict {
			if err == nil && st.Held() {
				an.start()
			}
			if m.cfg.breakTimeout == 0 && m.cfg.maxHold == 0 {
				return renewer.Verdict{}
			}
			now := time.Now()
			reason := w.observe(st, err, now, &m.cfg)
			switch {
			case err == nil && st.Held() && reason != "":
				m.log.Info("breaking the lock", zap.String("holder", st.Holder), zap.Bool("released", st.Released), zap.Int64("term", st.Term),
					zap.Int64("heartbeat", st.Heartbeat), zap.Bool("infinite", st.Infinite), zap.String("reason", reason))
				return renewer.Verdict{Break: reason}
			case err == nil && st.Held():
				return renewer.Verdict{}
			case m.standingAside(now):
				m.log.Debug("lock free; standing aside after max-hold so that waiters elsewhere take it")
				return renewer.Verdict{StandAside: true}
			}
			return renewer.Verdict{}
		}))
	}
	return m.r.Acquire(ctx, opts...)
}

// yieldPending reports whether a stand-aside after max-hold (or a loss)
// is due (see standingAside): the first attempt is then left to the
// watcher, which stands aside while it lasts.
func (m *Mutex) yieldPending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.yield
}
