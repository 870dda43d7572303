package mutex

import (
	"context"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/internal/wait"

	"github.com/leasehold/leasehold/renewer"
	"go.uber.org/zap"
)

// acquire takes the lease from storage for the goroutine with the turn,
// polling while someone else holds it. Without break-on-timeout or max-hold
// it is renewer.Acquire; with them it reads the lease's status each poll
// (one storage call while the lease is held, as the renewer's acquire
// attempt would be) and breaks a lease whose holder is dead or overdue.
func (m *Mutex) acquire(ctx context.Context) (*renewer.Lease, error) {
	if m.cfg.breakTimeout == 0 && m.cfg.maxHold == 0 {
		ls, err := m.r.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("mutex: lock: %w", err)
		}
		return ls, nil
	}
	var w watch
	for attempt := 1; ; attempt++ {
		st, err := m.inspect(ctx)
		now := time.Now()
		reason := w.observe(st, err, now, &m.cfg)
		switch {
		case err == nil && st.Held():
			if reason != "" {
				m.breakFor(ctx, st, reason)
			}
		case err != nil && renewer.Permanent(err):
			return nil, fmt.Errorf("mutex: lock: %w", err)
		case m.standingAside(now):
			m.log.Debug("lock free; standing aside after max-hold so that waiters elsewhere take it", zap.Int("attempt", attempt))
		default: // free, or unknown after a transient error: try
			ls, aerr := m.r.TryAcquire(ctx)
			if aerr == nil {
				return ls, nil
			}
			if renewer.Permanent(aerr) && ctx.Err() == nil {
				return nil, fmt.Errorf("mutex: lock: %w", aerr)
			}
			err = aerr
		}
		if err != nil {
			m.log.Debug("lock not acquired; polling", zap.Int("attempt", attempt), zap.Error(err))
		}
		if !wait.Sleep(ctx, wait.From(ctx).Jitter(m.cfg.poll())) {
			return nil, fmt.Errorf("mutex: lock: %w", context.Cause(ctx))
		}
	}
}

// inspect reads the lease's status, bounded by the call timeout.
func (m *Mutex) inspect(ctx context.Context) (renewer.Status, error) {
	return m.r.Inspect(ctx)
}

// breakFor breaks the lease described by st for reason. The renewer logs
// the break, with the holder and term it read and the reason, at Warn; a
// failure is logged too and the next poll looks again.
func (m *Mutex) breakFor(ctx context.Context, st renewer.Status, reason string) {
	m.log.Info("breaking the lock", zap.String("holder", st.Holder), zap.Int64("term", st.Term),
		zap.Int64("heartbeat", st.Heartbeat), zap.Bool("infinite", st.Infinite), zap.String("reason", reason))
	_, _ = m.r.Break(ctx, reason) // logged by the renewer
}
