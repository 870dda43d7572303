package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// Transient errors the network and storage give. The renewer retries them.
var (
	errDead      = errors.New("sim: process is dead: nothing sent")
	errLost      = errors.New("sim: connection reset: the answer was lost")
	errTimedOut  = errors.New("sim: connection timed out")
	errBusy      = fmt.Errorf("sim: 503 server busy: %w", renewer.ErrThrottled)
	errInternal  = errors.New("sim: 500 internal error")
	partitionCap = 30 * time.Second // a request lost in a partition fails after this, if ctx allows
)

// link is one process incarnation's network to storage: a renewer.Leaser
// over the shared container that delays, loses, duplicates and defers
// requests as its procPlan says. Every request is applied by its own
// goroutine at its arrival time, whether or not the caller still waits:
// a caller that gives up (its ctx ends) does not stop a request already
// sent. A link is safe for concurrent use.
type link struct {
	store renewer.Leaser // the container; every call gets a context that never ends
	w     *world
	p     *procPlan
	id    uint64 // process number
	inc   uint64 // incarnation
	dead  *atomic.Bool
	salt  uint64    // a group lease's: tells the draws of its requests from those of the incarnation's other leases; 0 for the main container
	next  bool      // the link to one of the elections' next-in-line seats (Plan.Standby)
	seat  string    // the seat's name in traces: "next-in-line" or "second"
	log   *leaseLog // the lease's log at storage: the main lease's, the first seat's, a semaphore slot's; nil for the others
}

// unknownKey marks, in the context a request is applied with, that its
// sender will not learn what it did (its answer lost or too late). A
// duplicate's copy is applied without it: its sender had the first copy's
// answer.
type unknownKey struct{}

// secondSalt salts the draws of the second seat's requests.
const secondSalt = 0x7365636f6e64

// nextSalt salts the draws of the next-in-line lease's requests.
const nextSalt = 0x6e657874

// name names the link in traces.
func (l *link) name() string {
	if l.next {
		return fmt.Sprintf("%s/%d %s", l.p.Name, l.inc, l.seat)
	}
	return fmt.Sprintf("%s/%d", l.p.Name, l.inc)
}

var _ renewer.Leaser = (*link)(nil)

type answer struct {
	v   any
	err error
}

// call sends one request whose effect on storage is apply; d is an
// acquire's duration or a break's period (for the lease's log).
func (l *link) call(ctx context.Context, op uint64, d time.Duration, apply func(context.Context) (any, error)) (any, error) {
	return l.callID(ctx, op, d, 0, apply)
}

// callID is call for an acquire of the incarnation's id-th lease ID (see
// cands.acquired).
func (l *link) callID(ctx context.Context, op uint64, d time.Duration, id int, apply func(context.Context) (any, error)) (any, error) {
	if l.log != nil {
		sent, inner := l.w.since(), apply
		apply = func(c context.Context) (any, error) {
			unknown, _ := c.Value(unknownKey{}).(bool)
			return l.log.apply(op, l.holder(), sent, d, unknown, id, func() (any, error) { return inner(c) })
		}
	}
	a, err := l.send(ctx, op, apply)
	if err != nil {
		l.w.trace("%s %s answered: %v", l.name(), opNames[op], err)
	}
	return a, err
}

// holder names the link's process incarnation.
func (l *link) holder() Holder { return Holder{l.p.Name, int(l.inc)} }

// tainted records that a request of this link, sent at from, was faulty
// until to (its answer's arrival or its last landing at storage, whichever
// is later): the incarnation's network was not normal then. Only the
// main lease's links, the seats' and the semaphore slots' count.
func (l *link) tainted(from, to time.Duration) {
	if l.log == nil && !l.next {
		return
	}
	l.w.cands.do(l.holder(), l.p.Kind, func(c *Cand) {
		c.Faulty = append(c.Faulty, Span{from, to})
		if l.next {
			c.SeatFaulty = append(c.SeatFaulty, Span{from, to})
		}
	})
}

func (l *link) send(ctx context.Context, op uint64, apply func(context.Context) (any, error)) (any, error) {
	if l.dead.Load() {
		return nil, errDead
	}
	if ctx.Err() != nil { // a client sends nothing for a done context
		return nil, fmt.Errorf("sim: %w", context.Cause(ctx))
	}
	now := l.w.since()
	r := newRand(l.w.plan.Seed, l.id, l.inc, op, uint64(now))
	if l.salt != 0 {
		r = newRand(l.w.plan.Seed, l.id, l.inc, op, uint64(now), l.salt)
	}
	faulty := now < FaultPhase
	send := now
	if w, ok := inAny(l.p.Pauses, send); ok {
		send = w.To + between(r, 0, time.Millisecond) // queued until the process runs again
	}
	if _, ok := inAny(l.p.Partitions, send); ok {
		giveUp := send + partitionCap
		if dl, ok := ctx.Deadline(); ok {
			giveUp = min(giveUp, max(send, l.w.sinceAt(dl)))
		}
		l.tainted(now, giveUp)
		return l.wait(ctx, l.w.at(send+partitionCap), errTimedOut)
	}
	oneWay := func() time.Duration { return between(r, 100*time.Microsecond, 30*time.Millisecond) }
	switch lat := l.w.plan.Latency; {
	case lat > 0:
		oneWay = func() time.Duration { return between(r, lat/10, lat) }
	case !faulty:
		oneWay = func() time.Duration { return between(r, 100*time.Microsecond, tailDelay) }
	}
	delay := oneWay()
	fault := false // a fault was drawn for this request
	if faulty {
		switch x := r.Float64(); {
		case x < l.p.PLate:
			// Applied after the caller gave up, when its ctx has a deadline.
			late := between(r, time.Second, 5*time.Second)
			if dl, ok := ctx.Deadline(); ok {
				late += max(0, l.w.sinceAt(dl)-send)
			}
			delay = min(late, MaxLate-3*time.Second)
			fault = true
		case x < l.p.PLate+l.p.PSlow:
			delay = between(r, 200*time.Millisecond, 3*time.Second)
			fault = true
		}
	}
	arrive := send + delay
	if _, ok := inAny(l.w.plan.Storms, arrive); ok && r.Float64() < 0.8 {
		back := arrive + oneWay()
		l.tainted(now, back)
		return l.wait(ctx, l.w.at(back), errBusy)
	}
	if faulty && r.Float64() < l.p.P5xx {
		back := arrive + oneWay()
		l.tainted(now, back)
		return l.wait(ctx, l.w.at(back), errInternal)
	}
	lost := faulty && r.Float64() < l.p.PLost
	back := arrive + oneWay()
	if w, ok := inAny(l.p.Pauses, back); ok {
		back = w.To + between(r, 0, time.Millisecond) // read when the process runs again
	}
	taint := max(back, arrive)
	if faulty && r.Float64() < l.p.PDup {
		again := arrive + between(r, time.Millisecond, 3*time.Second)
		fault, taint = true, max(taint, again)
		l.w.spawn(func() {
			sleepUntil(l.w.at(again))
			_, err := apply(context.Background())
			l.w.trace("%s %s (duplicate) applied: %v", l.name(), opNames[op], err)
		})
	}
	if fault || lost {
		l.tainted(now, taint)
	}
	// Whether the caller will learn what this request did: not if its
	// answer is lost, or comes after the caller gave up.
	unknown := lost
	if dl, ok := ctx.Deadline(); ok && l.w.at(back).After(dl) {
		unknown = true
	}
	ch := make(chan answer, 1)
	l.w.spawn(func() {
		sleepUntil(l.w.at(arrive))
		v, err := apply(context.WithValue(context.Background(), unknownKey{}, unknown))
		l.w.trace("%s %s sent at %v applied: %v (answer lost: %v)", l.name(), opNames[op], now, err, lost)
		if lost {
			v, err = nil, errLost
		}
		sleepUntil(l.w.at(back))
		ch <- answer{v, err}
	})
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("sim: %w", context.Cause(ctx))
	}
}

// wait returns err at t, or ctx's cause if ctx ends first.
func (l *link) wait(ctx context.Context, t time.Time, err error) (any, error) {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil, err
	case <-ctx.Done():
		return nil, fmt.Errorf("sim: %w", context.Cause(ctx))
	}
}

func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}

// Operation numbers, mixed into each request's random draws.
const (
	opAcquire = iota + 1
	opRenew
	opChange
	opRelease
	opBreak
	opProperties
	opSetMetadata
)

var opNames = [...]string{"", "acquire", "renew", "change", "release", "break", "properties", "set-metadata"}

// Acquire implements renewer.Leaser.
func (l *link) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	id := 0
	if l.log != nil && l.log == l.w.log {
		id = l.w.cands.acquired(l.holder(), l.p.Kind, leaseID, l.w.since())
	}
	v, err := l.callID(ctx, opAcquire, d, id, func(c context.Context) (any, error) { return l.store.Acquire(c, leaseID, d) })
	s, _ := v.(string)
	return s, err
}

// Renew implements renewer.Leaser.
func (l *link) Renew(ctx context.Context, leaseID string) (string, error) {
	v, err := l.call(ctx, opRenew, 0, func(c context.Context) (any, error) { return l.store.Renew(c, leaseID) })
	s, _ := v.(string)
	return s, err
}

// Change implements renewer.Leaser.
func (l *link) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
	v, err := l.call(ctx, opChange, 0, func(c context.Context) (any, error) { return l.store.Change(c, leaseID, proposedID) })
	s, _ := v.(string)
	return s, err
}

// Release implements renewer.Leaser.
func (l *link) Release(ctx context.Context, leaseID string) error {
	if l.log != nil && l.log == l.w.log {
		l.w.cands.releasing(l.holder(), l.p.Kind, leaseID, l.w.since())
	}
	_, err := l.call(ctx, opRelease, 0, func(c context.Context) (any, error) {
		err := l.store.Release(c, leaseID)
		if err == nil && !l.next { // a next in line releases its seat as it starts to lead: not after a holding
			l.w.releasedBy(l.p, l.inc)
		}
		return nil, err
	})
	if l.log != nil && l.log == l.w.log {
		l.w.relMu.Lock()
		l.w.relReturned[l.holder()] = append(l.w.relReturned[l.holder()], l.w.since())
		l.w.relMu.Unlock()
	}
	return err
}

// Break implements renewer.Leaser.
func (l *link) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	v, err := l.call(ctx, opBreak, period, func(c context.Context) (any, error) { return l.store.Break(c, period) })
	d, _ := v.(time.Duration)
	return d, err
}

// Properties implements renewer.Leaser.
func (l *link) Properties(ctx context.Context) (renewer.Properties, error) {
	v, err := l.call(ctx, opProperties, 0, func(c context.Context) (any, error) { return l.store.Properties(c) })
	p, _ := v.(renewer.Properties)
	return p, err
}

// SetMetadata implements renewer.Leaser.
func (l *link) SetMetadata(ctx context.Context, leaseID string, md map[string]string) error {
	md = maps.Clone(md) // as sent: the caller may reuse its map
	_, err := l.call(ctx, opSetMetadata, 0, func(c context.Context) (any, error) { return nil, l.store.SetMetadata(c, leaseID, md) })
	return err
}
