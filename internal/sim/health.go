package sim

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Cand is what a run saw of one process incarnation on the main lease, for
// the checks of liveness in every state (checkFree): when it lived, when
// it waited for the lease, and when its network was faulty.
type Cand struct {
	Holder
	Kind Kind
	// Born and Died bound the incarnation's life; Died is when it crashed,
	// was stopped, or the run ended.
	Born, Died time.Duration
	Crashed    bool // it died by a crash (nothing released)
	Stopped    bool // it was stopped gracefully before the run's end (a scenario's stop)
	// Waits are the spans in which it waited for the lease: in a renewer's
	// Acquire, a mutex's Lock (any of its goroutines), an election's
	// campaign (from Run's start or two poll intervals after a term ended,
	// as Run stands aside after a Resign, to the next OnElected).
	Waits []Span
	// Faulty are the spans in which its network was not normal: its
	// pauses and partitions, storage's storms, and every request of its (on
	// the lease or on a next-in-line seat) that drew a fault, from its send
	// to the last of its answer's arrival and its landings at storage.
	Faulty []Span
	// SeatFaulty are those of Faulty that can cost it a next-in-line seat:
	// pauses, partitions, and faulty requests on a seat's lease.
	SeatFaulty []Span
	// Acquires are its acquires of the main lease, in order of sending,
	// each with the number of its lease ID among those it proposed (1,
	// 2, ...; the IDs themselves are random, the numbers are not).
	Acquires []AcquireSend
	// GaveUp are its releases of lease IDs it had proposed in acquires
	// (an attempt giving its ID up), when sent.
	GaveUp []AcquireSend
}

// AcquireSend is one acquire a candidate sent: when, and with which of
// its lease IDs.
type AcquireSend struct {
	At time.Duration
	ID int
}

// Span is a span of simulated time [From, To), counted from the start.
type Span struct{ From, To time.Duration }

// window is the plan's name for a Span.
type window = Span

func (w Span) has(t time.Duration) bool { return t >= w.From && t < w.To }

func (w Span) String() string {
	if w.To == forever {
		return "[" + w.From.String() + ", end)"
	}
	return "[" + w.From.String() + ", " + w.To.String() + ")"
}

// merge returns the union of spans, sorted and disjoint.
func merge(spans []Span) []Span {
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b Span) int { return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To)) })
	var out []Span
	for _, w := range s {
		if w.To <= w.From {
			continue
		}
		if n := len(out); n > 0 && w.From <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, w.To)
			continue
		}
		out = append(out, w)
	}
	return out
}

// minus returns the parts of the sorted disjoint spans a outside every span
// of b.
func minus(a, b []Span) []Span {
	b = merge(b)
	var out []Span
	for _, w := range a {
		from := w.From
		for _, x := range b {
			if x.To <= from || x.From >= w.To {
				continue
			}
			if x.From > from {
				out = append(out, Span{from, x.From})
			}
			from = max(from, x.To)
		}
		if from < w.To {
			out = append(out, Span{from, w.To})
		}
	}
	return out
}

// overlaps reports whether any span of s meets [from, to).
func overlaps(s []Span, from, to time.Duration) bool {
	for _, w := range s {
		if w.From < to && from < w.To {
			return true
		}
	}
	return false
}

// cands records the candidates of a run, from many goroutines.
type cands struct {
	mu  sync.Mutex
	m   map[Holder]*Cand
	ids map[Holder]map[string]int // each incarnation's lease IDs, numbered
}

// releasing records that h sent a release of leaseID at t, if leaseID is
// one it proposed in an acquire: it gives that ID up.
func (c *cands) releasing(h Holder, k Kind, leaseID string, t time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.ids[h][leaseID]; ok {
		x := c.get(h, k)
		x.GaveUp = append(x.GaveUp, AcquireSend{t, n})
	}
}

// acquired records that h sent an acquire with leaseID at t, and returns
// the ID's number.
func (c *cands) acquired(h Holder, k Kind, leaseID string, t time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[Holder]map[string]int{}
	}
	if c.ids[h] == nil {
		c.ids[h] = map[string]int{}
	}
	n, ok := c.ids[h][leaseID]
	if !ok {
		n = len(c.ids[h]) + 1
		c.ids[h][leaseID] = n
	}
	x := c.get(h, k)
	x.Acquires = append(x.Acquires, AcquireSend{t, n})
	return n
}

// get returns h's record, made with kind k if new. c.mu must be held.
func (c *cands) get(h Holder, k Kind) *Cand {
	if c.m == nil {
		c.m = map[Holder]*Cand{}
	}
	x, ok := c.m[h]
	if !ok {
		x = &Cand{Holder: h, Kind: k, Died: forever}
		c.m[h] = x
	}
	return x
}

// do runs f on h's record under the lock.
func (c *cands) do(h Holder, k Kind, f func(*Cand)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.get(h, k))
}

// sentBefore returns those of as sent before end (nil if none: a seed's
// result must compare equal however its slices were made).
func sentBefore(as []AcquireSend, end time.Duration) []AcquireSend {
	var out []AcquireSend
	for _, a := range as {
		if a.At < end {
			out = append(out, a)
		}
	}
	return out
}

// list returns the records in a stable order, each one's spans sorted,
// without the acquires and give-ups sent at or after end: the run stops
// at end, and whether a poll due at that instant still sends is the
// scheduler's choice (a seed must replay).
func (c *cands) list(end time.Duration) []Cand {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Cand
	for _, x := range c.m {
		y := *x
		y.Waits, y.Faulty, y.SeatFaulty = merge(x.Waits), merge(x.Faulty), merge(x.SeatFaulty)
		y.Acquires, y.GaveUp = sentBefore(x.Acquires, end), sentBefore(x.GaveUp, end)
		slices.SortStableFunc(y.GaveUp, func(a, b AcquireSend) int { return cmp.Compare(a.At, b.At) })
		slices.SortStableFunc(y.Acquires, func(a, b AcquireSend) int { return cmp.Compare(a.At, b.At) })
		out = append(out, y)
	}
	slices.SortFunc(out, func(a, b Cand) int { return cmp.Or(cmp.Compare(a.Proc, b.Proc), cmp.Compare(a.Inc, b.Inc)) })
	return out
}
