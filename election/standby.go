package election

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/renewer"
)

// Standby says how a candidate that does not lead waits for the lease:
// which standbys poll the leader's lease, and how often. It decides only
// WHEN a standby asks; taking the lease is always the renewer's acquire
// with a fresh lease ID, checked against the ID storage answers, so
// nothing here can make two leaders. The zero Standby is the plain
// behaviour: every standby reads the lease every poll interval P.
//
// Next in line. With Next set, the standbys compete for next-in-line
// seats: leases of their own (over Azure, blobs in the same container:
// azlease's Leaser.Blob("next-in-line"); a container lease does not block
// the leases of its blobs). Two seats by default (Next and Second), one
// with Seats: 1. A seat holder polls the leader's lease and takes over on
// a release or an expiry; when it wins it releases its seat at once.
// The two seat holders take turns on the wall clock: time is cut into
// slots of length P, seat 0 polls in the even slots and seat 1 in the odd
// ones, so the election is polled once per P at the price of one poller,
// and when one seat holder takes over, the other is already polling. A
// seat holder that finds the other seat empty polls in every slot; it
// reads the other seat when it takes its own, every Check after that, and
// at once when a poll shows a new leader (the other seat holder may have
// won: until that read answers, it polls in every slot). Clocks only set
// the phase: two hosts whose clocks disagree poll at other moments, never
// less often than each one's own slots. The others, the backbenchers,
// try one seat every Retry, the two in turn (taking it if free), and read
// the leader's lease themselves only every Check; a new campaign tries
// both seats at its first poll that finds the lease held, so a restarted
// candidate fills an empty seat at once, and polls the leader's lease
// every P for its first NextDuration + Retry whatever it found (a seat
// whose holder crashed stays held that long: after crash-restarts every
// seat may be held by the dead), about 120 calls per campaign. A standby beyond the third costs
// about 3600/Retry + 3600/Check calls an hour, whatever P is. A seat try
// that fails (a timeout, an error) is followed by another after P.
//
// Bounds at the defaults, plus a few round trips (each is stated as a
// formula in the project's design notes):
//   - graceful hand-over: within P while both seats are held; within 2P
//     right after a take-over (one seat held, until the other seat holder
//     has seen the new leader), and within P again once it has;
//   - crash: the lease's expiry (L after the last renewal) plus the same;
//   - the leader and one seat holder dying together: L + 2P;
//   - a dead seat holder's seat is free again NextDuration after its last
//     renewal and filled within 2 x 1.2 Retry (at once by a joiner);
//   - seat holders that crashed and were restarted as new candidates (a
//     crash-restart): their replacements poll every P for their first
//     NextDuration + Retry, so a leader's crash then is caught within
//     L + 1.2 P;
//   - two take-overs in a row with no candidate joining leave both seats
//     empty until a backbencher fills one (within 2 x 1.2 Retry) or reads
//     the leader's lease (within 1.2 Check): nobody is stranded.
//
// With one seat (Seats: 1) the seat is empty after every take-over until a
// backbencher fills it (up to 2 x 1.2 Retry), and a hand-over in that
// window waits for a backbencher's read (up to 1.2 Check).
//
// Heartbeats. With Heartbeats, the leader advances a heartbeat in the
// metadata after every renew (every candidate must be built with
// renewer.WithHeartbeat(true); New checks), so a poll's Last-Modified and
// the answer's Date (both storage's clock, compared only with each other)
// say when the lease would expire had the leader died after its last
// heartbeat. The polling standbys (the seat holders, or every standby
// without Next) sleep until then and poll every Burst around that moment
// (two seat holders: each every 2 Burst, taking turns) instead of every
// P: a crash is caught within about Burst of the expiry, at one read per
// 2R or so (about 300 an hour at R = 6 s), while the leader pays one more
// call per renew. A graceful release is not predictable this way: a
// hand-over waits for the standby's next predicted expiry, up to about L.
// A leader that writes no heartbeat leaves no prediction, and the standby
// then polls every P.
//
// With WithObserver on the renewer, the Observer's shared list sets the
// pace of every waiter instead (see renewer.Verdict.Next).
type Standby struct {
	// Next is the first next-in-line seat's lease, on storage the
	// candidates share (the same for every candidate of the election).
	// nil: no next in line, every standby polls the leader's lease itself.
	Next renewer.Leaser
	// Second is the second seat's lease. nil: Next's lease called
	// SecondSeatSuffix beside it, when Next is a renewer.Besider
	// (azlease's and leasetest.Named's leases are).
	Second renewer.Leaser
	// Seats is how many next-in-line seats there are: 1 or 2. 0: 2 when
	// a second seat's lease is at hand (Second, or a Next that is a
	// renewer.Besider), else 1.
	Seats int
	// NextDuration is the seat leases' duration: whole seconds from 15 s
	// to 60 s. It bounds how long a dead seat holder keeps its seat.
	// Default 60 s.
	NextDuration time.Duration
	// NextRenew is how often a seat holder renews its seat (less than
	// NextDuration minus its margin of NextDuration/5). Default
	// NextDuration*2/3: 40 s at the default duration. (A seat decides
	// nothing about who leads: a seat lost to a late renew costs only
	// polls, and its holder tries the seats again at once.)
	NextRenew time.Duration
	// Retry is how often (jittered) a backbencher tries a seat (the two
	// in turn): one call each (a few more when it takes it). Default 30 s.
	Retry time.Duration
	// Check is how often (jittered) a backbencher reads the leader's
	// lease itself (and takes it if free), and a seat holder the other
	// seat: one call each. Default 60 s.
	Check time.Duration
	// Heartbeats makes the polling standbys sleep until the leader's
	// lease would expire if the leader had died after its last heartbeat,
	// and poll every Burst around then. Every candidate's renewer must
	// write heartbeats (renewer.WithHeartbeat(true)).
	Heartbeats bool
	// Burst is the poll interval of a heartbeat-guided burst. Default
	// 250 ms.
	Burst time.Duration
}

// Defaults of Standby's fields (NextRenew's is NextDuration*2/3). A seat
// holder holds its seat through a renewer of its own, whose metrics (lease
// held, storage calls) carry the seat's name and this candidate's identity.
const (
	DefaultNextDuration = 60 * time.Second
	DefaultRetry        = 30 * time.Second
	DefaultCheck        = 60 * time.Second
	DefaultBurst        = 250 * time.Millisecond
)

// A burst starts burstLead before the earliest moment the lease can
// expire and ends burstTail after the latest: storage's clock is read at
// one-second resolution (Last-Modified and Date each truncated), the
// heartbeat is written a round trip after the renew that set the expiry,
// and the holder's and storage's clocks may run at rates 1% apart.
const (
	burstLead = 500 * time.Millisecond
	burstTail = time.Second
)

// NextInLineSuffix names the default first next-in-line seat beside the
// election's lease (renewer.Besider): over azlease, the blob
// ".next-in-line" in the election's container, or "NAME/next-in-line"
// beside a named lock NAME.
const NextInLineSuffix = "next-in-line"

// SecondSeatSuffix names the default second seat beside the first (see
// Standby.Second): over azlease, the blob ".next-in-line/second", or
// "NAME/next-in-line/second" beside a named lock NAME.
const SecondSeatSuffix = "second"

// WithStandby sets how this candidate waits while another leads (see
// Standby). Every candidate of one election should use the same Standby.
// Without WithStandby, New uses Standby{Next: the lease beside the
// election's called NextInLineSuffix} (ProfileDefault's standby: two
// seats, the second beside the first) when the renewer's Leaser can name
// one (renewer.Besider: azlease's Leasers can), so standbys beyond the
// third cost about 180 calls an hour each; with a Leaser that cannot, and
// with WithStandby(Standby{}) (no Next), every standby polls the leader's
// lease itself every P and costs 3600/P calls an hour. The seats need the
// same credentials as a named lock (over a SAS: blob permissions too; see
// docs/credentials.md); if they are refused, standbys fall back to
// polling the leader's lease. Profiles bundle tested settings: see
// Profile.
func WithStandby(s Standby) Option {
	return func(c *config) { c.standby, c.standbySet = s, true }
}

// checkStandby fills s's defaults (the second seat among them) and checks
// it against r.
func checkStandby(r *renewer.Renewer, s Standby) (Standby, error) {
	bad := func(field string, v any, rule string) error {
		return &renewer.OptionError{Pkg: "election", Field: "standby " + field, Value: v, Rule: rule}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&s.NextDuration, DefaultNextDuration)
	def(&s.NextRenew, s.NextDuration*2/3)
	def(&s.Retry, DefaultRetry)
	def(&s.Check, DefaultCheck)
	def(&s.Burst, DefaultBurst)
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"retry", s.Retry}, {"check", s.Check}, {"burst", s.Burst}} {
		if f.d < renewer.MinPollInterval {
			return s, bad(f.name, f.d, fmt.Sprintf("want at least %v", renewer.MinPollInterval))
		}
	}
	if s.Heartbeats && !r.Heartbeats() {
		return s, bad("heartbeats", true, "the leader must write heartbeats: build every candidate's renewer with renewer.WithHeartbeat(true)")
	}
	switch {
	case s.Seats < 0 || s.Seats > 2:
		return s, bad("seats", s.Seats, "want 1 or 2 (0: 2 when a second seat's lease is at hand)")
	case s.Next == nil && s.Second != nil:
		return s, bad("next", nil, "a second seat needs a first seat's lease (Next)")
	case s.Next == nil:
		s.Seats = 0 // no seats: every standby polls
		return s, nil
	case s.Seats == 1:
		s.Second = nil
		return s, nil
	}
	if s.Second == nil {
		if b, ok := s.Next.(renewer.Besider); ok {
			second, err := b.Beside(SecondSeatSuffix)
			switch {
			case err != nil && s.Seats == 2:
				return s, bad("second", nil, "the second seat's lease beside Next: "+err.Error())
			case err == nil:
				s.Second = second // else (a name too long for a lease beside it): one seat
			}
		}
	}
	if s.Second != nil && sameLeaser(s.Second, s.Next) {
		return s, bad("second", "the same Leaser as Next", "want the second seat's own lease")
	}
	switch {
	case s.Second != nil:
		s.Seats = 2
	case s.Seats == 2:
		return s, bad("second", nil, "two seats need a second seat's lease: set Second, or give a Next that is a renewer.Besider")
	default:
		s.Seats = 1
	}
	return s, nil
}

// sameLeaser reports whether a and b are the same Leaser value (never
// panicking on a type that cannot be compared).
func sameLeaser(a, b renewer.Leaser) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta != nil && ta.Comparable() && a == b
}

// standby is a candidate's waiting machinery while it does not lead: the
// seats' loop and the pacing of its polls.
type standby struct {
	cfg    Standby
	window time.Duration // the leader's lease duration L
	poll   time.Duration // the leader's lease's poll interval P
	phase  time.Duration // where this election's slots start, in [0, P)
	seats  []*renewer.Renewer
	log    *zap.Logger
	wake   chan struct{} // a backbencher that took a seat, or a seat holder left alone, polls at once
	// recheck makes a seat holder read the other seat at once (a poll
	// showed a new leader: the other seat holder may have won).
	recheck      chan struct{}
	seat         atomic.Int32  // the seat this candidate holds, -1 if none
	seatEnd      atomic.Int64  // when this candidate last stopped holding a seat (UnixNano; for Check)
	alone        atomic.Bool   // the other seat was read as empty (or there is one seat): poll in every slot
	leader       atomic.Value  // string: the holder the last poll of the leader's lease read
	noNext       atomic.Bool   // the seats were refused for good: poll the leader's lease every P, as without them
	refusedSeats atomic.Uint32 // a bit per seat storage refused for good (the seats loop retries it after Check)
	done         chan struct{} // closed when the last seats loop ended; nil before the first

	// On the campaign's goroutine only: when the campaign began, the last
	// term a poll read, and the heartbeat prediction.
	began      time.Time
	term       int64
	key        hbKey
	from, till time.Time // the burst, on the local clock
}

// hbKey tells one heartbeat of one holding from the next.
type hbKey struct {
	lm     time.Time
	holder string
	term   int64
	hb     int64
}

func newStandby(r *renewer.Renewer, s Standby, log *zap.Logger) (*standby, error) {
	sb := &standby{cfg: s, window: r.Timing().Duration, poll: r.Timing().PollInterval, log: log,
		wake: make(chan struct{}, 1), recheck: make(chan struct{}, 1)}
	sb.seat.Store(-1)
	sb.phase = phaseOf(r.Leaser(), sb.poll)
	for i, l := range []renewer.Leaser{s.Next, s.Second} {
		if l == nil || i >= s.Seats {
			break
		}
		name := "next-in-line"
		if i > 0 {
			name = "next-in-line-2"
		}
		nr, err := renewer.New(l,
			renewer.WithIdentity(r.Identity()),
			renewer.WithDuration(s.NextDuration),
			renewer.WithRenewInterval(s.NextRenew),
			renewer.WithPollInterval(s.Retry),
			renewer.WithLogger(log.With(zap.String("lease", name))),
			renewer.WithMeterProvider(r.MeterProvider()),
			seatMetricAttributes(r, l)) // leasehold.election, leasehold.role=next_in_line (metrics.go)
		if err != nil {
			if oe, ok := err.(*renewer.OptionError); ok {
				return nil, &renewer.OptionError{Pkg: "election", Field: "standby next-in-line " + oe.Field, Value: oe.Value, Rule: oe.Rule}
			}
			return nil, err
		}
		sb.seats = append(sb.seats, nr)
	}
	sb.alone.Store(len(sb.seats) < 2)
	return sb, nil
}

// phaseOf places an election's slots on the wall clock: by a hash of its
// lease's name when the Leaser has one (fmt.Stringer: azlease's give the
// URL), so that the elections of one storage account do not all poll at
// the same instants; 0 otherwise.
func phaseOf(l renewer.Leaser, p time.Duration) time.Duration {
	n, ok := l.(fmt.Stringer)
	if !ok || p <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(n.String()))
	return time.Duration(h.Sum64() % uint64(p))
}

// slotted returns the pause from now until the start of this seat
// holder's next slot of length slot: every slot when it is alone, else
// the slots of its seat's parity (seat 0 even, seat 1 odd), counted on
// the wall clock from the election's phase.
func (s *standby) slotted(now time.Time, slot time.Duration, seat int) time.Duration {
	n := now.Add(-s.phase).UnixNano()
	k := n/int64(slot) + 1 // the next slot
	if !s.alone.Load() && int(k&1) != seat&1 {
		k++
	}
	return time.Duration(k*int64(slot) - n)
}

// standbyCampaign is one campaign's use of the standby machinery: its
// seats loop, started at the first poll that finds the lease held by
// another (a candidate that wins at once, or whose reads fail, never
// competes for a seat, and never delays the standbys' first try).
type standbyCampaign struct {
	s      *standby
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when this campaign's seats loop ended; nil if none started
}

// begin starts a campaign's use of s. It waits for the previous
// campaign's seats loop to end (its release is bounded by the call
// timeout), or for ctx.
func (s *standby) begin(ctx context.Context) *standbyCampaign {
	if s.done != nil {
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	}
	s.term, s.began = 0, time.Now()
	lctx, cancel := context.WithCancel(ctx)
	return &standbyCampaign{s: s, ctx: lctx, cancel: cancel}
}

// end ends the campaign's seats loop, without waiting: the loop releases
// its seat on its own goroutine (Run waits for it before it returns, and
// the next campaign's begin).
func (c *standbyCampaign) end() {
	c.s.seat.Store(-1) // a candidate that leads holds no seat
	c.cancel()
}

// verdict paces one poll (see standby.verdict), and starts the seats loop
// at the first poll that did not find the lease free.
func (c *standbyCampaign) verdict(st renewer.Status, err error) renewer.Verdict {
	// Compete for a seat only once a read has shown the lease held by
	// another: a candidate whose read failed (or found the lease free)
	// tries the leader's lease itself, polling every P, and would
	// otherwise take a seat just as it wins, leaving it empty for the
	// others' Retry.
	if c.s.seats != nil && c.done == nil && err == nil && st.Held() && c.ctx.Err() == nil {
		c.done = make(chan struct{})
		c.s.done = c.done
		go c.s.loop(c.ctx, c.done)
	}
	if c.s.seats != nil && c.done == nil {
		// Not competing for a seat yet (the lease looked free: this poll
		// tries to acquire it): if it loses the race, the next poll, at
		// P, finds the lease held and joins the competition. A
		// backbencher's pause here would leave a leader that dies at once
		// without a fast poller.
		return renewer.Verdict{Wake: c.s.wake}
	}
	if err == nil && st.Held() {
		c.s.leader.Store(st.Holder) // before a recheck below reads it
	}
	if err == nil && st.Term != 0 {
		if c.s.term != 0 && st.Term != c.s.term && c.s.seat.Load() >= 0 && len(c.s.seats) > 1 {
			// A new leader: perhaps the other seat holder, whose seat is
			// then empty. Poll in every slot until a read of that seat
			// says otherwise.
			c.s.alone.Store(true)
			select {
			case c.s.recheck <- struct{}{}:
			default:
			}
		}
		c.s.term = st.Term
	}
	return c.s.verdict(c.ctx, st, err)
}

// wait waits for the last seats loop to end (its release of a seat is
// bounded by the call timeout and a few retries). Only the campaigning
// goroutine (Run) may call it: it reads s.done.
func (s *standby) wait() {
	if s != nil && s.done != nil {
		<-s.done
	}
}

// poke ends a pause of the campaign under way, if any.
func (s *standby) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop competes for a seat until ctx ends, holding one while it can, and
// releases it at the end. Its first round tries every seat; later rounds,
// a backbencher's, try one seat each, the seats in turn, every Retry
// (jittered). A round whose try failed (a timeout, an error: the seat may
// be free) is followed by another after P, not Retry, so that one timeout
// does not leave a seat empty for a Retry. A try is one acquire call
// (refused when the seat is held), so a backbencher's round costs what a
// read would; an acquire whose answer was lost is released by the
// renewer (renewer.Renewer.TryAcquire), and at worst that seat stays
// taken by no one for NextDuration, while the other seat serves.
func (s *standby) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	rnd := wait.From(ctx)
	turn, all := 0, true                       // the seat to try next; try every seat this round
	refused := make([]time.Time, len(s.seats)) // a seat storage refused for good is not tried before this
	for ctx.Err() == nil {
		got, failed := -1, false
		var ls *renewer.Lease
		for k := range s.tries(all) {
			i := (turn + k) % len(s.seats)
			if time.Now().Before(refused[i]) {
				continue
			}
			l, err := s.seats[i].TryAcquire(ctx)
			if err == nil {
				ls, got = l, i
				break
			}
			switch {
			case ctx.Err() != nil:
				return
			case errors.Is(err, renewer.ErrLeaseHeld):
			case renewer.Permanent(err):
				// An answer no retry can get past (refused credentials, a
				// SAS without blob permissions, a missing container): that
				// seat is left alone for a Check, as if it did not exist
				// (a seat holder counts it empty). With every seat refused,
				// poll the leader's lease every P, as a standby without
				// seats does (failover is not slowed, only dearer).
				refused[i] = time.Now().Add(rnd.Jitter(s.cfg.Check))
				if !s.seatRefused(i, true) {
					s.log.Warn("next-in-line seat cannot be taken; going on without it", zap.Int("seat", i), zap.Error(err))
				}
				if s.allRefused() && !s.noNext.Swap(true) {
					s.log.Warn("no next-in-line seat can be taken; polling the leader's lease every poll interval instead", zap.Error(err))
					s.poke() // end the backbencher's pause under way
				}
			default:
				failed = true
			}
		}
		turn = (turn + 1) % len(s.seats)
		if ls == nil {
			pause := rnd.Jitter(s.cfg.Retry)
			switch {
			case s.allRefused():
				pause = time.Until(slices.MinFunc(refused, func(a, b time.Time) int { return a.Compare(b) }))
			case failed:
				pause = rnd.Jitter(s.poll)
			}
			all = failed
			if !wait.Sleep(ctx, pause) {
				return
			}
			continue
		}
		s.noNext.Store(false)
		s.seatRefused(got, false)
		s.hold(ctx, ls, got, rnd)
		all = true // a seat lost: try every seat at once
	}
}

// seatRefused records whether seat i was refused for good, and reports
// whether it already was.
func (s *standby) seatRefused(i int, refused bool) bool {
	bit := uint32(1) << i
	for {
		old := s.refusedSeats.Load()
		nu := old &^ bit
		if refused {
			nu = old | bit
		}
		if s.refusedSeats.CompareAndSwap(old, nu) {
			return old&bit != 0
		}
	}
}

// allRefused reports whether storage refused every seat for good.
func (s *standby) allRefused() bool {
	return s.refusedSeats.Load() == uint32(1)<<len(s.seats)-1
}

// tries returns how many seats a round tries.
func (s *standby) tries(all bool) int {
	if all {
		return len(s.seats)
	}
	return 1
}

// hold holds seat i through ls until it ends or ctx does, reading the
// other seat (if any) when it takes its own, every Check, and when a poll
// saw a new leader; then it releases the seat.
func (s *standby) hold(ctx context.Context, ls *renewer.Lease, i int, rnd wait.Source) {
	if ctx.Err() == nil {
		s.seat.Store(int32(i))
	}
	s.log.Debug("next in line", zap.Int("seat", i), zap.Int64("seat term", ls.Term()))
	var other *renewer.Renewer
	if len(s.seats) > 1 {
		other = s.seats[1-i]
		s.readOther(ctx, other)
	}
	s.poke()
	check := time.NewTimer(s.otherEvery(rnd))
	defer check.Stop()
	for held := true; held; {
		select {
		case <-ls.Done():
			held = false
		case <-ctx.Done():
			held = false
		case <-check.C:
			s.readOther(ctx, other)
			check.Reset(s.otherEvery(rnd))
		case <-s.recheck:
			s.readOther(ctx, other)
		}
	}
	s.seat.Store(-1)
	s.seatEnd.Store(time.Now().UnixNano())
	_ = ls.Release(context.WithoutCancel(ctx))
}

// seatedSince reports whether this candidate has held a seat at any
// moment since t: it holds one now, or gave one up after t.
func (s *standby) seatedSince(t time.Time) bool {
	if s == nil || s.seats == nil {
		return false
	}
	return s.seat.Load() >= 0 || s.seatEnd.Load() > t.UnixNano()
}

// otherEvery is the pause before a seat holder's next read of the other
// seat: Check, or Retry while the other seat is empty (the seat holder
// then polls in every slot, 3600/P calls an hour: a read every Retry adds
// little, and the sooner it sees the seat filled, the sooner it goes back
// to polling in its own slots only).
func (s *standby) otherEvery(rnd wait.Source) time.Duration {
	if s.alone.Load() {
		return rnd.Jitter(s.cfg.Retry)
	}
	return rnd.Jitter(s.cfg.Check)
}

// readOther reads the other seat and sets whether this seat holder polls
// alone: in every slot while the other seat is empty. A read that fails
// changes nothing.
func (s *standby) readOther(ctx context.Context, other *renewer.Renewer) {
	if other == nil {
		return
	}
	st, err := other.Inspect(ctx)
	if err != nil && !renewer.Permanent(err) {
		return // a read that failed changes nothing
	}
	// A seat held by the leader is being released: its holder has just
	// won, and its release may not have landed yet.
	// A seat that cannot be read for good (refused credentials) counts as
	// empty too, and so does one held under this candidate's own identity
	// (a seat it lost to a late renew, whose release did not land).
	leader, _ := s.leader.Load().(string)
	alone := err != nil || !st.Held() || st.Holder == leader || st.Holder == other.Identity()
	if s.alone.Swap(alone) != alone && alone {
		s.poke() // poll in every slot from now, not at the end of a long pause
	}
}

// verdict paces a campaign's polls of the leader's lease: a backbencher
// waits Check, a heartbeat-guided standby waits for the predicted expiry
// and bursts around it, a seat holder polls in its slots, the rest poll
// every P.
func (s *standby) verdict(ctx context.Context, st renewer.Status, err error) renewer.Verdict {
	v := renewer.Verdict{Wake: s.wake}
	seat := int(s.seat.Load())
	now := time.Now()
	switch {
	case s.seats != nil && seat < 0 && !s.noNext.Load() && now.Sub(s.began) < s.cfg.NextDuration+s.cfg.Retry:
		// A new campaign that found every seat held polls every P for a
		// seat lease's duration and a Retry: a seat held by a holder that
		// crashed (a crash-restart, say) stays held that long, and the
		// seats' holders may all be dead. About 120 reads per campaign.
		v.Next = 0
	case s.seats != nil && seat < 0 && !s.noNext.Load():
		v.Next = wait.From(ctx).Jitter(s.cfg.Check)
	case s.cfg.Heartbeats && err == nil && st.Held():
		v.Next = s.predict(st, now)
		switch {
		case v.Next == s.cfg.Burst && seat >= 0:
			v.Next = s.slotted(now, s.cfg.Burst, seat)
		case v.Next == 0 && seat >= 0:
			v.Next = s.slotted(now, s.poll, seat)
		}
	case seat >= 0:
		v.Next = s.slotted(now, s.poll, seat)
	}
	return v
}

// predict returns the pause before the next poll of a lease read as held
// at now: until the burst around the moment it would expire if its holder
// had died after writing st.LastModified, then Burst during the burst, and
// 0 (the poll interval) once the burst has passed with no new heartbeat
// (a holder that writes none, or a storage that keeps an expired lease).
func (s *standby) predict(st renewer.Status, now time.Time) time.Duration {
	if st.LastModified.IsZero() || st.Date.IsZero() {
		return 0
	}
	k := hbKey{st.LastModified, st.Holder, st.Term, st.Heartbeat}
	if k != s.key {
		// Storage's clock only: Last-Modified against Date. The write
		// came after the renew that set the expiry, both are truncated to
		// the second, so the lease expires between left-1s (minus a round
		// trip) and left+1s from now.
		left := st.LastModified.Add(s.window).Sub(st.Date)
		s.key = k
		s.from = now.Add(left - time.Second - burstLead)
		s.till = now.Add(left + time.Second + burstTail)
	}
	switch {
	case now.Before(s.from):
		return min(s.from.Sub(now), s.window)
	case now.Before(s.till):
		return s.cfg.Burst
	}
	return 0
}

// maxPause is the longest a campaigning standby goes without a storage
// answer when all is well (for Check): the poll interval P of a standby
// that polls on its own; two of them for a seat holder (seated), which
// polls in its own slots; a backbencher's Retry; and a heartbeat-guided
// standby's sleep (about L) where that is longer.
func (s *standby) maxPause(p time.Duration, seated bool) time.Duration {
	if s == nil {
		return p
	}
	switch {
	case s.seats != nil && seated:
		p = 2 * p
	case s.seats != nil && !s.noNext.Load():
		p = max(p, s.cfg.Retry)
	}
	if s.cfg.Heartbeats {
		p = max(p, s.window)
	}
	return p
}

// lastContact is when storage last answered one of this standby's seat
// renewers (zero without seats).
func (s *standby) lastContact() time.Time {
	var last time.Time
	if s == nil {
		return last
	}
	for _, nr := range s.seats {
		if t := nr.LastContact(); t.After(last) {
			last = t
		}
	}
	return last
}

// IsNextInLine reports whether this candidate holds a next-in-line seat
// (see Standby): it is one of the standbys that poll the leader's lease
// and take over first. It makes no storage call.
func (e *Election) IsNextInLine() bool {
	return e.sb != nil && e.sb.seat.Load() >= 0
}
