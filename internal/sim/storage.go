package sim

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// forever stands for a time that never comes: the end of an infinite lease,
// or of a span still open when the run ended.
const forever = time.Duration(1<<63 - 1)

// FreeSpan is a span in which the lease was free at storage: no one could
// have held it, and anyone asking would have got it. It starts when storage
// applied a release or a break completed (an event), or when the lease
// expired (the end of its last acquire or renew, on storage's clock); it
// ends when storage applied the next successful acquire, by Taker.
type FreeSpan struct {
	From, To time.Duration // To is forever if the lease was still free when the run ended
	Released bool          // it began with a release storage applied (a graceful release), not an expiry or a break
	Taker    Holder        // the process incarnation whose acquire ended it
	Sent     time.Duration // when Taker sent that acquire
	// Unknown: Taker did not learn that its acquire took the lease (the
	// answer was lost, or came after Taker had given up). Not so for a
	// duplicate's copy: its sender had the first copy's answer, and
	// cannot know of the second.
	Unknown bool
	// ID numbers the lease ID of Taker's acquire among the IDs Taker's
	// incarnation proposed (see Cand.Acquires); 0 if not known.
	ID int
}

func (f FreeSpan) String() string {
	how := "expired or broken"
	if f.Released {
		how = "released"
	}
	if f.To == forever {
		return fmt.Sprintf("free [%v, end) (%s)", f.From, how)
	}
	unknown := ""
	if f.Unknown {
		unknown = ", whose answer it did not get"
	}
	return fmt.Sprintf("free [%v, %v) (%s; taken by %s/%d's acquire sent at %v%s)", f.From, f.To, how, f.Taker.Proc, f.Taker.Inc, f.Sent, unknown)
}

// leaseLog follows one lease at storage from the requests storage applied:
// when it was free, and who held it. Every request on the lease is applied
// under mu (a Container answers without blocking), so the log sees them in
// storage's order.
type leaseLog struct {
	w  *world
	c  *leasetest.Container
	mu sync.Mutex
	// busyUntil is when the lease is free if nothing else happens: the end
	// of the last acquire or renew, a break's end, the time of a release;
	// in the past once it is free.
	busyUntil time.Duration
	released  bool          // the lease became free by a release (at busyUntil)
	dur       time.Duration // the duration of the last acquire
	holder    Holder        // who took the lease when it was last free
	free      []FreeSpan    // closed free spans, in order
	broken    string        // the first mismatch between this log and the Container's state, if any
}

func newLeaseLog(w *world, c *leasetest.Container) *leaseLog { return &leaseLog{w: w, c: c} }

func isFree(s renewer.LeaseState) bool {
	return s == renewer.StateAvailable || s == renewer.StateExpired || s == renewer.StateBroken
}

// apply runs one request on the lease and logs its effect: op, by who, sent
// at sent, with the duration of an acquire or the period of a break.
func (g *leaseLog) apply(op uint64, who Holder, sent, d time.Duration, unknown bool, id int, f func() (any, error)) (any, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.w.since()
	wasFree := isFree(g.c.State())
	wasLeased := g.c.State() == renewer.StateLeased
	v, err := f()
	if err != nil {
		return v, err
	}
	end := func(d time.Duration) time.Duration {
		if d == renewer.Infinite {
			return forever
		}
		return now + d
	}
	switch op {
	case opAcquire, opRenew:
		if op == opAcquire {
			g.dur = d
		}
		if wasFree {
			g.free = append(g.free, FreeSpan{From: g.busyUntil, To: now, Released: g.released, Taker: who, Sent: sent, Unknown: unknown && op == opAcquire, ID: id})
			g.holder = who
		} else if op == opAcquire && who != g.holder {
			g.note(now, "acquire by %v of a lease held by %v succeeded", who, g.holder)
		}
		g.busyUntil, g.released = end(g.dur), false
	case opRelease:
		if !wasFree {
			g.busyUntil, g.released = now, true
		}
	case opBreak:
		switch {
		case isFree(g.c.State()):
			if !wasFree {
				g.busyUntil = now
			}
		case wasLeased && d == renewer.BreakAtExpiry:
		default:
			g.busyUntil = min(g.busyUntil, now+d)
		}
	}
	if free := isFree(g.c.State()); free != (g.busyUntil <= now) {
		g.note(now, "after %s the container's lease is %v, the log says free from %v", opNames[op], g.c.State(), g.busyUntil)
	}
	return v, err
}

// note keeps the first mismatch between the log and the Container.
func (g *leaseLog) note(now time.Duration, format string, args ...any) {
	if g.broken == "" {
		g.broken = fmt.Sprintf("%v: ", now) + fmt.Sprintf(format, args...)
	}
}

// heldBy returns who holds the lease at storage at now (who took it when it
// was last free), if anyone does.
func (g *leaseLog) heldBy(now time.Duration) (Holder, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.holder, g.busyUntil > now && len(g.free) > 0
}

// spans returns the free spans until end, with one still open at end.
func (g *leaseLog) spans(end time.Duration) []FreeSpan {
	g.mu.Lock()
	defer g.mu.Unlock()
	free := slices.Clone(g.free)
	if g.busyUntil < end {
		free = append(free, FreeSpan{From: g.busyUntil, To: forever, Released: g.released})
	}
	return free
}
