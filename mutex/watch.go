package mutex

import (
	"fmt"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// watch is a waiter's record of the lease holder's signs of life, on the
// waiter's own monotonic clock; it never compares clocks across machines.
// It is used by one goroutine: the one polling storage.
type watch struct {
	seen      bool
	holder    string
	term      int64
	heartbeat int64
	changed   time.Time // when (holder, term, heartbeat) was first seen as they are
	termSince time.Time // when (holder, term) was first seen
}

// observe records st, a held lease seen at now, and returns why the lease
// should be broken, or "" if it should not:
//   - break-on-timeout: an infinite lease whose holder, term and heartbeat
//     have not changed for longer than the timeout (a live holder advances
//     its heartbeat every renew interval, and the timeout is at least three
//     of them);
//   - max-hold: the same holder and term seen held for longer than max-hold.
//
// A lease already being broken is never broken again.
func (w *watch) observe(st renewer.Status, now time.Time, cfg *config) string {
	if !w.seen || st.Holder != w.holder || st.Term != w.term {
		*w = watch{seen: true, holder: st.Holder, term: st.Term, heartbeat: st.Heartbeat, changed: now, termSince: now}
		return ""
	}
	if st.Heartbeat != w.heartbeat {
		w.heartbeat, w.changed = st.Heartbeat, now
	}
	if st.State != renewer.StateLeased {
		return ""
	}
	if silent := now.Sub(w.changed); st.Infinite && cfg.breakTimeout > 0 && silent > cfg.breakTimeout {
		return fmt.Sprintf("break-on-timeout: infinite lease of holder %q, term %d, heartbeat %d showed no sign of life for %v (timeout %v)",
			st.Holder, st.Term, st.Heartbeat, silent.Round(time.Millisecond), cfg.breakTimeout)
	}
	if held := now.Sub(w.termSince); cfg.maxHold > 0 && held > cfg.maxHold {
		return fmt.Sprintf("max-hold: holder %q has held term %d for %v (max hold %v)",
			st.Holder, st.Term, held.Round(time.Millisecond), cfg.maxHold)
	}
	return ""
}
