package mutex

import (
	"fmt"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// watch is a waiter's record of the lease holder's signs of life, on the
// waiter's own monotonic clock; it never compares clocks across machines.
// It is used by one goroutine: the one polling storage.
//
// The waiter's view of the container lags the lease: a new holder acquires
// first and writes its identity and term after, so for a round trip or more
// the metadata still names the previous holder, with its old term and
// heartbeat. A waiter that kept counting the previous holder's silence
// across that moment would break a fresh, healthy holder. So the watch
// counts only what it has seen without interruption:
//
//   - any state but Leased (breaking, broken, expired, available), a failed
//     read, or two reads further apart than gapBound (the waiter may have
//     missed such a state) starts the watch over;
//   - a break is decided only when its reason held at two reads at least
//     two poll intervals apart (confirm), so that a new holder has that
//     long to write its identity and term, which starts the watch over.
type watch struct {
	seen      bool
	last      time.Time // when the last read was made
	holder    string
	released  bool // holder released (renewer.Status.Released): another client holds it now
	term      int64
	heartbeat int64
	changed   time.Time // when (holder, term, heartbeat) was first seen as they are: the start of the silence
	since     time.Time // when holder was first seen holding, under any term: the start of its hold
	over      time.Time // first read at which a break reason held, zero if none since
}

// gapBound is the longest time between two reads of one waiter that still
// counts as watching without interruption: two poll intervals, plus three
// call timeouts for the read and for the break (a read and a break call)
// that may come between two reads.
func (c *config) gapBound() time.Duration { return 2*c.poll() + 3*c.timing.CallTimeout }

// confirm is how long a break reason must have held, between the first
// read that showed it and the read that acts on it.
func (c *config) confirm() time.Duration { return 2 * c.poll() }

// observe records the result of a read made at now (st, or the read's
// error) and returns why the lease should be broken, or "" if it should
// not:
//   - break-on-timeout: an infinite lease whose holder, term and heartbeat
//     have not changed for longer than the timeout (a live holder advances
//     its heartbeat every renew interval, and the timeout is at least three
//     of them);
//   - max-hold: the same holder identity seen holding for longer than
//     max-hold, under any number of terms (a busy process that acquires
//     again and again, or hands over locally, is one holder).
//
// A lease already being broken is never broken again.
func (w *watch) observe(st renewer.Status, err error, now time.Time, cfg *config) string {
	if err != nil || st.State != renewer.StateLeased || (w.seen && now.Sub(w.last) > cfg.gapBound()) {
		*w = watch{}
	}
	if err != nil || st.State != renewer.StateLeased {
		return ""
	}
	switch {
	case !w.seen || st.Holder != w.holder || st.Released != w.released:
		*w = watch{seen: true, holder: st.Holder, released: st.Released, term: st.Term, heartbeat: st.Heartbeat, changed: now, since: now}
	case st.Term != w.term || st.Heartbeat != w.heartbeat:
		w.term, w.heartbeat, w.changed = st.Term, st.Heartbeat, now
	}
	w.last = now
	reason := w.reason(st, now, cfg)
	switch {
	case reason == "":
		w.over = time.Time{}
		return ""
	case w.over.IsZero():
		w.over = now
		return ""
	case now.Sub(w.over) < cfg.confirm():
		return ""
	}
	return reason
}

// reason returns why the lease seen in st at now should be broken, before
// confirmation, or "".
func (w *watch) reason(st renewer.Status, now time.Time, cfg *config) string {
	if silent := now.Sub(w.changed); st.Infinite && cfg.breakTimeout > 0 && silent > cfg.breakTimeout {
		return fmt.Sprintf("break-on-timeout: infinite lease of %s, term %d, heartbeat %d showed no sign of life for %v (timeout %v)",
			holderOf(st), st.Term, st.Heartbeat, silent.Round(time.Millisecond), cfg.breakTimeout)
	}
	if held := now.Sub(w.since); cfg.maxHold > 0 && held > cfg.maxHold {
		return fmt.Sprintf("max-hold: %s has held the lock for %v (max hold %v; now term %d)",
			holderOf(st), held.Round(time.Millisecond), cfg.maxHold, st.Term)
	}
	return ""
}

// holderOf names the holder of a held lease for a break's reason: the
// identity written with the term, unless that holder released it (then
// another client holds it, and the metadata names only who held it
// before).
func holderOf(st renewer.Status) string {
	if st.Released {
		return fmt.Sprintf("a client that is not leasehold (after holder %q released term %d)", st.Holder, st.Term)
	}
	return fmt.Sprintf("holder %q", st.Holder)
}
