package mutex

import (
	"context"
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
func (m *Mutex) acquire(ctx context.Context) (*renewer.Lease, error) {
	var opts []renewer.AcquireOption
	if m.cfg.breakTimeout != 0 || m.cfg.maxHold != 0 {
		var w watch
		opts = append(opts, renewer.Watching(func(st renewer.Status, err error) renewer.Verdict {
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
