package election

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/renewer"
)

// Standby says how a candidate that does not lead waits for the lease:
// which standby polls the leader's lease, and how often. It decides only
// WHEN a standby asks; taking the lease is always the renewer's acquire
// with a fresh lease ID, checked against the ID storage answers, so
// nothing here can make two leaders. The zero Standby is the plain
// behaviour: every standby reads the lease every poll interval P.
//
// Next in line. With Next set, the standbys compete for a second lease,
// Next (over Azure, a blob in the same container: azlease's
// Leaser.Blob("next-in-line"); a container lease does not block the
// leases of its blobs). The one that holds it, the next in line, polls the
// leader's lease every P (or by heartbeat, below) and takes over on a
// release or an expiry; when it wins it releases Next at once. The others,
// the backbenchers, read Next every Retry (taking it if free) and read the
// leader's lease themselves only every Check, so a standby beyond the
// first costs about 3600/Retry + 3600/Check calls an hour, whatever P is;
// a read of Next that fails, or that finds it free, is followed by
// another after P, so that a timeout or a lost race does not leave the
// seat empty for a Retry (while storage fails, every standby pays 3600/P
// an hour for Next, as a plain standby does for the lease). Bounds (plus
// a few round trips): a dead next in line is replaced within NextDuration
// + 1.2 Retry; after the next in line takes over, a backbencher becomes
// next in line within 1.2 Retry, and until then a freed lease waits for a
// backbencher's read (1.2 Check); if the leader and the next in line die
// together, a new leader is elected within min(L + 1.2 Check,
// max(L, NextDuration + 1.2 Retry) + 1.2 P): nobody is stranded, as every
// backbencher still reads the leader's lease every Check.
//
// Heartbeats. With Heartbeats, the leader advances a heartbeat in the
// metadata after every renew (every candidate must be built with
// renewer.WithHeartbeat(true); New checks), so a poll's Last-Modified and
// the answer's Date (both storage's clock, compared only with each other)
// say when the lease would expire had the leader died after its last
// heartbeat. The polling standby (the next in line, or every standby
// without Next) sleeps until then and polls every Burst around that
// moment instead of every P: a crash is caught within about Burst of the
// expiry, at one read per 2R or so (about 300 an hour at R = 6 s), while
// the leader pays one more call per renew. A graceful release is not
// predictable this way: a hand-over waits for the standby's next
// predicted expiry, up to about L. A leader that writes no heartbeat
// leaves no prediction, and the standby then polls every P.
//
// With WithObserver on the renewer, the Observer's shared list sets the
// pace of every waiter instead (see renewer.Verdict.Next).
type Standby struct {
	// Next is the next-in-line lease, on storage the candidates share
	// (the same for every candidate of the election). nil: no next in
	// line, every standby polls the leader's lease itself.
	Next renewer.Leaser
	// NextDuration is the next-in-line lease's duration: whole seconds
	// from 15 s to 60 s. It bounds how long a dead next in line blocks
	// the backbenchers. Default 60 s.
	NextDuration time.Duration
	// NextRenew is how often the next in line renews Next (less than
	// NextDuration minus its margin of NextDuration/5). Default
	// NextDuration/2: 30 s at the default duration.
	NextRenew time.Duration
	// Retry is how often (jittered) a backbencher reads Next, to take it
	// if free: one call each (two when it is free). Default 30 s.
	Retry time.Duration
	// Check is how often (jittered) a backbencher reads the leader's
	// lease itself (and takes it if free): one call each. Default 60 s.
	Check time.Duration
	// Heartbeats makes the polling standby sleep until the leader's
	// lease would expire if the leader had died after its last heartbeat,
	// and poll every Burst around then. Every candidate's renewer must
	// write heartbeats (renewer.WithHeartbeat(true)).
	Heartbeats bool
	// Burst is the poll interval of a heartbeat-guided burst. Default
	// 250 ms.
	Burst time.Duration
}

// Defaults of Standby's fields (NextRenew's is NextDuration/2). The next
// in line holds Next through a renewer of its own, whose metrics (lease
// held, storage calls) carry Next's name and this candidate's identity.
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

// NextInLineSuffix names the default next-in-line lease beside the
// election's own (renewer.Besider): over azlease, the blob
// ".next-in-line" in the election's container, or "NAME/next-in-line"
// beside a named lock NAME.
const NextInLineSuffix = "next-in-line"

// WithStandby sets how this candidate waits while another leads (see
// Standby). Every candidate of one election should use the same Standby.
// Without WithStandby, New uses Standby{Next: the lease beside the
// election's called NextInLineSuffix} (ProfileDefault's standby) when the
// renewer's Leaser can name one (renewer.Besider: azlease's Leasers can),
// so standbys cost about 180 calls an hour each beyond the first; with a
// Leaser that cannot, and with WithStandby(Standby{}) (no Next), every
// standby polls the leader's lease itself every P and costs 3600/P calls
// an hour. The next-in-line lease needs the same credentials as a named
// lock (over a SAS: blob permissions too; see docs/credentials.md); if
// they are refused, standbys fall back to polling the leader's lease.
// Profiles bundle tested settings: see Profile.
func WithStandby(s Standby) Option {
	return func(c *config) { c.standby, c.standbySet = s, true }
}

// checkStandby fills s's defaults and checks it against r.
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
	def(&s.NextRenew, s.NextDuration/2)
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
	return s, nil
}

// standby is a candidate's waiting machinery while it does not lead: the
// next-in-line lease's loop and the pacing of its polls.
type standby struct {
	cfg    Standby
	window time.Duration // the leader's lease duration L
	poll   time.Duration // the leader's lease's poll interval P
	nr     *renewer.Renewer
	log    *zap.Logger
	wake   chan struct{} // a backbencher that became next in line polls at once
	isNext atomic.Bool   // this candidate holds the next-in-line lease
	noNext atomic.Bool   // the next-in-line lease was refused for good: poll the leader's lease every P, as without one
	done   chan struct{} // closed when the last next-in-line loop ended; nil before the first

	// The heartbeat prediction: on the campaign's goroutine only.
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
	sb := &standby{cfg: s, window: r.Timing().Duration, poll: r.Timing().PollInterval, log: log, wake: make(chan struct{}, 1)}
	if s.Next == nil {
		return sb, nil
	}
	nr, err := renewer.New(s.Next,
		renewer.WithIdentity(r.Identity()),
		renewer.WithDuration(s.NextDuration),
		renewer.WithRenewInterval(s.NextRenew),
		renewer.WithPollInterval(s.Retry),
		renewer.WithLogger(log.With(zap.String("lease", "next-in-line"))),
		renewer.WithMeterProvider(r.MeterProvider()))
	if err != nil {
		if oe, ok := err.(*renewer.OptionError); ok {
			return nil, &renewer.OptionError{Pkg: "election", Field: "standby next-in-line " + oe.Field, Value: oe.Value, Rule: oe.Rule}
		}
		return nil, err
	}
	sb.nr = nr
	return sb, nil
}

// standbyCampaign is one campaign's use of the standby machinery: its
// next-in-line loop, started at the first poll that finds the lease held
// by another (a candidate that wins at once, or whose reads fail, never
// competes for the next-in-line lease, and never delays the standbys'
// first try).
type standbyCampaign struct {
	s      *standby
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when this campaign's next-in-line loop ended; nil if none started
}

// begin starts a campaign's use of s. It waits for the previous
// campaign's next-in-line loop to end (its release is bounded by the
// call timeout), or for ctx.
func (s *standby) begin(ctx context.Context) *standbyCampaign {
	if s.done != nil {
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	return &standbyCampaign{s: s, ctx: lctx, cancel: cancel}
}

// end ends the campaign's next-in-line loop, without waiting: the loop
// releases the next-in-line lease on its own goroutine (Run waits for it
// before it returns, and the next campaign's begin).
func (c *standbyCampaign) end() {
	c.s.isNext.Store(false) // a candidate that leads is not next in line
	c.cancel()
}

// verdict paces one poll (see standby.verdict), and starts the
// next-in-line loop at the first poll that did not find the lease free.
func (c *standbyCampaign) verdict(st renewer.Status, err error) renewer.Verdict {
	// Compete for the seat only once a read has shown the lease held by
	// another: a candidate whose read failed (or found the lease free)
	// tries the leader's lease itself, polling every P, and would
	// otherwise take the seat just as it wins, leaving it empty for the
	// others' Retry.
	if c.s.nr != nil && c.done == nil && err == nil && st.Held() && c.ctx.Err() == nil {
		c.done = make(chan struct{})
		c.s.done = c.done
		go c.s.loop(c.ctx, c.done)
	}
	if c.s.nr != nil && c.done == nil {
		// Not competing for the seat yet (the lease looked free: this
		// poll tries to acquire it): if it loses the race, the next poll,
		// at P, finds the lease held and joins the competition. A
		// backbencher's pause here would leave a leader that dies at once
		// without a fast poller.
		return renewer.Verdict{Wake: c.s.wake}
	}
	return c.s.verdict(c.ctx, st, err)
}

// wait waits for the last next-in-line loop to end (its release of the
// next-in-line lease is bounded by the call timeout and a few retries).
// Only the campaigning goroutine (Run) may call it: it reads s.done.
func (s *standby) wait() {
	if s != nil && s.done != nil {
		<-s.done
	}
}

// loop competes for the next-in-line lease until ctx ends, holding it
// while it can, and releases it at the end.
func (s *standby) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	// A read of the next-in-line lease every Retry (jittered) while it is
	// held, one call, as many as the acquire attempts it replaces; a read
	// that finds it free is followed by an acquire. After a read that
	// failed, or one that found it free (the acquire may lose the race,
	// or its answer be lost), the next read comes after P, not Retry: one
	// timeout would otherwise leave the election without a next in line,
	// and a dead leader's successor to a backbencher's Check, for a whole
	// Retry. (An acquire whose answer was lost is asked again when the
	// lease reads as held: see renewer.Acquire.)
	seat := renewer.Watching(func(st renewer.Status, err error) renewer.Verdict {
		if err == nil && st.Held() {
			return renewer.Verdict{}
		}
		return renewer.Verdict{Next: wait.From(ctx).Jitter(s.poll)}
	})
	for ctx.Err() == nil {
		ls, err := s.nr.Acquire(ctx, seat)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// An answer polling cannot get past (refused credentials, a
			// SAS without blob permissions, a missing container): poll the
			// leader's lease every P, as a standby without a next-in-line
			// lease does (failover is not slowed, only dearer), and try
			// the next-in-line lease again after Check.
			if !s.noNext.Swap(true) {
				s.log.Warn("next-in-line lease cannot be taken; polling the leader's lease every poll interval instead", zap.Error(err))
				select { // end the backbencher's pause under way
				case s.wake <- struct{}{}:
				default:
				}
			}
			if !wait.Sleep(ctx, wait.From(ctx).Jitter(s.cfg.Check)) {
				return
			}
			continue
		}
		s.noNext.Store(false)
		if ctx.Err() == nil {
			s.isNext.Store(true)
		}
		s.log.Debug("next in line", zap.Int64("next-in-line term", ls.Term()))
		select {
		case s.wake <- struct{}{}:
		default:
		}
		select {
		case <-ls.Done():
		case <-ctx.Done():
		}
		s.isNext.Store(false)
		_ = ls.Release(context.WithoutCancel(ctx))
	}
}

// verdict paces a campaign's polls of the leader's lease: a backbencher
// waits Check, a heartbeat-guided standby waits for the predicted expiry
// and bursts around it, the rest poll every P.
func (s *standby) verdict(ctx context.Context, st renewer.Status, err error) renewer.Verdict {
	v := renewer.Verdict{Wake: s.wake}
	switch {
	case s.nr != nil && !s.isNext.Load() && !s.noNext.Load():
		v.Next = wait.From(ctx).Jitter(s.cfg.Check)
	case s.cfg.Heartbeats && err == nil && st.Held():
		v.Next = s.predict(st, time.Now())
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
// answer when all is well (for Check): the poll interval, or a
// backbencher's Retry, or a heartbeat-guided standby's sleep (about L).
func (s *standby) maxPause(p time.Duration) time.Duration {
	if s == nil {
		return p
	}
	if s.nr != nil {
		p = max(p, s.cfg.Retry)
	}
	if s.cfg.Heartbeats {
		p = max(p, s.window)
	}
	return p
}

// lastContact is when storage last answered this standby's next-in-line
// renewer (zero without one).
func (s *standby) lastContact() time.Time {
	if s == nil || s.nr == nil {
		return time.Time{}
	}
	return s.nr.LastContact()
}

// IsNextInLine reports whether this candidate holds the next-in-line
// lease (see Standby): it is the standby that polls the leader's lease
// and takes over first. It makes no storage call.
func (e *Election) IsNextInLine() bool {
	return e.sb != nil && e.sb.isNext.Load()
}
