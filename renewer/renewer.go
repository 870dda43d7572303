package renewer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leasehold/leasehold/internal/putback"
	"github.com/leasehold/leasehold/internal/wait"

	"github.com/cenkalti/backoff/v4"

	"go.uber.org/zap"
)

// A Renewer acquires one container's lease and holds it in the background
// until it is released or lost. It holds at most one [Lease] at a time and
// may acquire again once that lease has ended.
//
// A Renewer is safe for concurrent use.
type Renewer struct {
	l   Leaser
	cfg config
	log *zap.Logger
	obs *observability // metrics and storage contact (metrics.go); l counts its calls

	mu        sync.Mutex // guards cur and acquiring
	cur       *Lease     // the latest lease handed out, nil before the first
	acquiring bool       // an Acquire or TryAcquire is under way
}

// New returns a Renewer for the lease of the container behind l. It checks
// the options and returns an *OptionError naming the field, the value and
// the rule at fault.
func New(l Leaser, opts ...Option) (*Renewer, error) {
	if l == nil {
		return nil, &OptionError{Field: "leaser", Rule: "want a Leaser, not nil"}
	}
	cfg, err := newConfig(opts)
	if err == nil {
		err = cfg.bindObserver(l)
	}
	if err != nil {
		return nil, err
	}
	log := cfg.log.With(zap.String("identity", cfg.identity))
	if s, ok := l.(fmt.Stringer); ok {
		log = log.With(zap.Stringer("container", s))
	}
	obs := newObservability(l, cfg)
	return &Renewer{l: metered{obs}, obs: obs, cfg: cfg, log: log}, nil
}

// Identity returns the identity the Renewer writes as holder.
func (r *Renewer) Identity() string { return r.cfg.identity }

// Heartbeats reports whether a holding of this Renewer advances a
// heartbeat in the metadata after every renew (WithHeartbeat, or an
// infinite lease), which lets a standby predict when the lease of a
// holder that died would expire (election's heartbeat-guided standbys).
func (r *Renewer) Heartbeats() bool { return r.cfg.heartbeat }

// Leaser returns the Leaser given to New, which the Renewer acts through
// (each call counted in its metrics; a call made on the returned Leaser
// directly is not).
func (r *Renewer) Leaser() Leaser { return r.obs.raw }

// TryAcquire makes one attempt to acquire the lease. It returns an error
// wrapping ErrLeaseHeld if someone else holds it, and ErrInUse if this
// Renewer's previous lease is still live. ctx bounds the attempt only: the
// lease lives until it is released or lost. An attempt that fails or is
// cancelled leaves nothing held.
func (r *Renewer) TryAcquire(ctx context.Context) (*Lease, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	a := r.newAttempt(ctx)
	ls, err := a.try(ctx)
	if err != nil {
		a.giveUp()
	}
	r.end(ls)
	return ls, err
}

// Acquire blocks until it holds the lease or ctx ends, asking every poll
// interval (jittered) while someone else holds it and retrying transient
// errors. It gives up at once on answers no retry can change: refused
// credentials, a missing container, a rejected request, a term in the
// metadata that is not one (ErrInvalidTerm). ctx bounds the acquisition
// only; a call that returns an error, or that wins the lease just as ctx
// ends, leaves nothing held.
//
// The attempts of one Acquire propose the same fresh lease ID, so an
// attempt whose answer was lost is repeated, not doubled: if the service
// had applied it, the next attempt finds the lease already ours. After two
// attempts in a row without an answer, the Acquire releases that ID and
// goes on with a fresh one, so that a candidate whose answers come back
// late keeps a lease no one holds for at most 3C + 1.2P (C the call
// timeout, P the poll interval; see "Late answers" in the package doc).
//
// This is the one acquire loop of the library: election's campaign and the
// mutex's Lock are Acquire with a [Watcher] (see [Watching]), which makes
// each poll read the lease first and lets the caller see who holds it,
// break it, or stand aside. With [WithObserver], every poll after the
// first is what the Observer's shared List found, instead of a storage
// call of this Acquire's own.
func (r *Renewer) Acquire(ctx context.Context, opts ...AcquireOption) (*Lease, error) {
	var o acquireOptions
	for _, opt := range opts {
		if opt == nil {
			return nil, &OptionError{Field: "acquire option", Rule: "not nil"}
		}
		opt(&o)
	}
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	var ls *Lease
	defer func() { r.end(ls) }()
	defer r.obs.waiter()()
	a := r.newAttempt(ctx)
	failed := 0           // polls in a row that failed for another reason than a held lease
	var sub *subscription // WithObserver: polls after the first are the Observer's
	if r.cfg.observer != nil {
		sub = r.cfg.observer.join(ctx, r.cfg.observerKey, r.cfg.PollInterval)
		defer sub.leave()
	}
	for attempt := 1; ; attempt++ {
		var (
			err error
			v   Verdict // the watcher's verdict at this poll, if any
		)
		if sub != nil && attempt > 1 {
			ls, err = r.pollObserved(ctx, a, o.watch, sub)
		} else {
			ls, v, err = r.poll(ctx, a, o.watch)
		}
		switch {
		case err == nil && ctx.Err() != nil:
			// Won as ctx ended: a cancelled acquisition holds nothing.
			_ = ls.Release(context.WithoutCancel(ctx))
			ls = nil
			return nil, fmt.Errorf("renewer: acquire: %w", context.Cause(ctx))
		case err == nil:
			return ls, nil
		case ctx.Err() != nil:
			a.giveUp()
			return nil, fmt.Errorf("renewer: acquire: %w (last attempt: %v)", context.Cause(ctx), lastAttempt(err))
		case Permanent(err):
			a.giveUp()
			return nil, err
		}
		failed = r.logPoll(failed, attempt, err)
		if sub == nil && !r.pause(ctx, v) {
			a.giveUp()
			return nil, fmt.Errorf("renewer: acquire: %w (last attempt: %v)", context.Cause(ctx), lastAttempt(err))
		}
	}
}

// A Watcher is told, at every poll of a waiting [Renewer.Acquire], what a
// read of the lease found (or the read's error), and answers what to do
// about it. It runs on the acquiring goroutine, one poll at a time.
type Watcher func(st Status, err error) Verdict

// A Verdict is a Watcher's answer for one poll. The zero Verdict lets the
// poll go on as usual: acquire if the lease is free (or the read failed
// transiently), wait if it is held.
type Verdict struct {
	// Break, if not empty, is why the held lease should be broken now:
	// Acquire breaks it (Renewer.Break, logged with this reason) and
	// polls on.
	Break string
	// StandAside makes no acquire attempt at this poll, even if the lease
	// is free: for a caller letting others in first.
	StandAside bool
	// Next, if positive, is the pause before the next poll, instead of
	// the poll interval (jittered): for a caller that knows when asking
	// again is worth a call (election's next-in-line standbys and
	// heartbeat-guided bursts). It only decides when the next poll is
	// made: what that poll finds, and the acquire that follows, are as
	// ever. Ignored under WithObserver, whose shared list sets the pace.
	Next time.Duration
	// Wake, if not nil, ends the pause early when it can receive (a
	// value or a close): for a caller whose reason to poll sooner comes
	// from elsewhere (a standby that has just become next in line).
	Wake <-chan struct{}
}

// An AcquireOption changes how one Acquire waits.
type AcquireOption func(*acquireOptions)

type acquireOptions struct {
	watch Watcher // nil: try to acquire at every poll, without reading first
}

// Watching makes every poll of Acquire read the lease first (one storage
// call, which the acquire attempt then only follows when the lease is
// free) and hand what it read to w.
func Watching(w Watcher) AcquireOption { return func(o *acquireOptions) { o.watch = w } }

// poll is one poll of Acquire: without a watcher, one acquire attempt;
// with one, a read, the watcher's verdict, then a break, nothing, or an
// acquire attempt. It returns the lease, or why there is none yet.
func (r *Renewer) poll(ctx context.Context, a *attempt, w Watcher) (*Lease, Verdict, error) {
	if w == nil {
		ls, err := a.try(ctx)
		if errors.Is(err, ErrLeaseHeld) && a.mayHoldRetired() && a.freeUp(ctx) {
			ls, err = a.try(ctx) // the lease was the retired ID's (see mayHoldRetired)
		}
		return ls, Verdict{}, err
	}
	st, err := r.Inspect(ctx)
	v := w(st, err)
	ls, err := r.decide(ctx, a, st, err, v)
	return ls, v, err
}

// pause waits before the next poll of Acquire: v.Next, or else the poll
// interval jittered, or until v.Wake can receive. It reports false if ctx
// ended first.
func (r *Renewer) pause(ctx context.Context, v Verdict) bool {
	d := v.Next
	if d <= 0 {
		d = wait.From(ctx).Jitter(r.cfg.PollInterval)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-v.Wake: // a nil channel never receives
	case <-ctx.Done():
		return false
	}
	return true
}

// decide acts on what a poll read (st, or the read's error) and the
// watcher's verdict v: a break, nothing, or an acquire attempt.
func (r *Renewer) decide(ctx context.Context, a *attempt, st Status, err error, v Verdict) (*Lease, error) {
	if err == nil && st.Held() && a.mayHold() {
		// The lease read as held may be ours (see mayHold): ask with the
		// same ID before believing the read.
		ls, aerr := a.try(ctx)
		if !errors.Is(aerr, ErrLeaseHeld) {
			return ls, aerr
		}
	}
	if err == nil && st.Held() && a.mayHoldRetired() && a.freeUp(ctx) {
		// It was the retired ID's, taken by a late acquire: now free.
		return a.try(ctx)
	}
	// A failed read decides nothing: unless the watcher stands aside, the
	// acquire attempt does (it may create a missing container, and it
	// answers a refused credential or a missing container for good).
	switch {
	case err == nil && st.Held() && v.Break != "":
		if _, berr := r.Break(ctx, v.Break); berr != nil {
			return nil, berr
		}
		return nil, fmt.Errorf("renewer: %w: broken (%s); polling", ErrLeaseHeld, v.Break)
	case err == nil && st.Held():
		return nil, fmt.Errorf("renewer: %w: by %q, term %d, %v", ErrLeaseHeld, st.Holder, st.Term, st.State)
	case v.StandAside:
		return nil, fmt.Errorf("renewer: %w: standing aside", ErrLeaseHeld)
	case err != nil && a.slow():
		// A failed read after acquires whose answers did not come back:
		// the link is slow (requests land, answers come late), and an
		// acquire sent blind would land late too and take a lease that
		// has just come free, for no one. Give the unanswered ID up (its
		// release frees a lease it took) and wait for a read that answers.
		if a.unanswered > 0 {
			a.retire(ctx)
		}
		return nil, fmt.Errorf("renewer: %w (no acquire without a read: earlier acquires went unanswered)", err)
	}
	return a.try(ctx)
}

// begin claims the right to acquire: no other acquisition under way and the
// previous lease ended. It waits for the previous lease's goroutine to
// finish its release.
func (r *Renewer) begin(ctx context.Context) error {
	r.mu.Lock()
	if r.acquiring || (r.cur != nil && r.cur.ctx.Err() == nil) {
		r.mu.Unlock()
		return fmt.Errorf("renewer: acquire: %w", ErrInUse)
	}
	r.acquiring = true
	prev := r.cur
	r.mu.Unlock()
	if prev == nil {
		return nil
	}
	select {
	case <-prev.stopped:
		return nil
	case <-ctx.Done():
		r.end(nil)
		return fmt.Errorf("renewer: acquire: %w", context.Cause(ctx))
	}
}

func (r *Renewer) end(ls *Lease) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acquiring = false
	if ls != nil {
		r.cur = ls
	}
}

// An attempt is the series of acquire calls of one Acquire or TryAcquire.
// Its calls propose one lease ID, fresh for this series, so a retry of an
// acquire whose answer was lost is idempotent; only after retireAfter
// unanswered acquires in a row does it give that ID up for a fresh one (see
// retire). An ID is never proposed again once a release of it has been sent
// or a holding made with it has ended: every request of a holding carries
// that holding's ID, so a request that reaches storage late, after its
// holding ended, finds a lease with another ID and is refused. (Reusing one
// ID across holdings let a late release free a later holding: two live
// holders.)
type attempt struct {
	r          *Renewer
	id         string
	uncertain  bool        // an acquire with id may have been applied without our knowing
	unanswered int         // acquires with id in a row whose outcome is unknown
	lastSent   time.Time   // when the last acquire whose outcome is unknown was sent
	rnd        wait.Source // jitter for the release's retries (seeded only in the simulation)
	noReask    bool        // putback.NoReask: the lost-acquire bug put back (simulation only)
	retired    []retiredID // IDs retire gave up, while an acquire of one may still land
}

// A retiredID is an ID an attempt gave up at.
type retiredID struct {
	id string
	at time.Time
}

// retireAfter is how many acquires in a row whose outcome is unknown one
// lease ID gets before the attempt gives it up (see retire). Two keeps the
// one re-ask that a single lost answer needs (see mayHold): the second
// acquire of the ID takes the lease if the first had. A second unknown
// outcome in a row says the answers are not coming back in time, and each
// further acquire of the ID would only start again the duration of a lease
// that no one knows is held; every acquire more per ID adds one time
// between polls to how long such a lease can keep others out. Giving an ID
// up when the answers were only unlucky costs a release call and the
// lease, if it was ours, until the next poll takes it with the fresh ID.
const retireAfter = 2

func (r *Renewer) newAttempt(ctx context.Context) *attempt {
	return &attempt{r: r, id: newLeaseID(), rnd: wait.From(ctx), noReask: putback.Has(ctx, putback.NoReask)}
}

// try is one acquire call, then the holding's set-up (see Lease.setUp).
// Only once the term is written does the lease count as held.
func (a *attempt) try(ctx context.Context) (*Lease, error) {
	r := a.r
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	sent := time.Now()
	got, err := r.l.Acquire(cctx, a.id, r.cfg.Duration)
	cancel()
	noAnswer := err != nil && !definitive(err)
	if !noAnswer || errors.Is(err, ErrThrottled) {
		// An answer came back (a throttled request was not applied: it
		// is an answer too, though a retry may succeed).
		a.unanswered = 0
	}
	switch {
	case errors.Is(err, ErrLeaseHeld):
		return nil, fmt.Errorf("renewer: %w", err)
	case noAnswer:
		// The service may have applied the acquire and the answer been
		// lost (a timeout, a reset, ctx cancelled in flight): the next
		// attempt proposes the same ID, and giveUp releases it; after
		// retireAfter of these in a row, retire does.
		a.uncertain, a.lastSent = true, sent
		if errors.Is(err, ErrThrottled) {
			return nil, fmt.Errorf("renewer: %w", err)
		}
		if a.unanswered++; a.unanswered >= retireAfter && !a.noReask {
			a.retire(ctx)
		}
		return nil, fmt.Errorf("renewer: %w", err)
	case err != nil:
		return nil, fmt.Errorf("renewer: %w", err)
	case !sameID(got, a.id):
		return nil, fmt.Errorf("renewer: acquire: answered with another lease ID: %w", ErrLeaseHeld)
	}
	// The holding writes under an ID never sent in an acquire: a late
	// duplicate of the acquire can bring a.id back to life, but no
	// metadata write carries a.id.
	ls := newLease(r, newLeaseID(), sent, wait.From(ctx))
	if err := ls.setUp(ctx, "acquire", a.id); err != nil {
		a.id, a.uncertain, a.unanswered = newLeaseID(), false, 0 // released by setUp: spent
		return nil, err
	}
	go ls.run()
	r.log.Info("lease acquired", zap.Int64("term", ls.term), zap.Duration("duration", r.cfg.Duration))
	return ls, nil
}

// mayHold reports whether a lease read as held may be this attempt's own:
// an acquire of its ID whose answer was lost may have been applied, and
// that lease, which no one knows is held, lasts a lease duration from
// when it landed (for ever, if infinite). Polls that read the lease as held
// within a duration (plus a call timeout for the landing) of that acquire's
// sending ask again with the same ID, which takes that lease if it is
// ours and is refused if it is another's. Without this, a waiter whose
// acquire timed out as the lease came free would see its own lease as
// held and wait out a whole duration before anyone could lead.
func (a *attempt) mayHold() bool {
	if !a.uncertain || a.noReask {
		return false
	}
	d := a.r.cfg.Duration
	return d == Infinite || time.Since(a.lastSent) < d+a.r.cfg.CallTimeout
}

// giveUp ends an attempt that holds nothing: if an acquire of its ID may
// have been applied, it releases that ID (at most Timing.ReleaseBound, so
// an Acquire may return that much after its ctx ended), so that no lease
// stays granted to no one. A release with the attempt's
// own ID can only touch a lease of that ID. (A late acquire that reaches
// storage after this release still takes the lease for one duration, held
// by no one; an infinite one needs break-on-timeout.)
func (a *attempt) giveUp() {
	if !a.uncertain {
		return
	}
	a.uncertain = false
	if err := a.r.releaseRetired(a.id, a.rnd); err != nil && !errors.Is(err, ErrNoLease) {
		a.r.log.Debug("release after an uncertain acquire failed", zap.Error(err))
	}
}

// retire gives up the attempt's ID after retireAfter acquires of it in a
// row went unanswered, and goes on with a fresh one. A candidate whose
// requests reach storage but whose answers come back after the call
// timeout (a slow link) never learns that its acquire took a free lease;
// asking again with the same ID succeeds on that lease and starts its
// duration again, so without this the lease stayed held by no one, and
// everyone else out, for as long as the answers were late, then L more.
// Now it lasts at most T + C from the first acquire that took it: T the
// time to the next acquire (the call timeout C, another C for a Watcher's
// read, the pause), C that acquire's timeout, after which the release is
// sent; then the attempt sends no acquire for at least the release's call
// and a pause, and a healthy candidate polling meanwhile gets in. (If the
// release is lost too, the lease expires L after the last acquire that
// reached it.)
//
// This cannot make two holders. The release carries the retired ID, so it
// can only end a lease of that ID, which no one holds: this attempt never
// counted it as held, and a holding is only ever made under a fresh ID
// changed to after a successful answer. The retired ID is never proposed
// again. A late acquire of it that lands after the release can take a free
// lease for one duration, held by no one (it is refused on anyone else's),
// as any late acquire could before; a late release of it that lands on
// another's lease is refused. For a duration and a call timeout after the
// ID was given up, a poll that reads the lease as held releases the retired
// ID once more (see mayHoldRetired), so that a lease such an acquire took
// is freed at the next poll, not after L.
func (a *attempt) retire(ctx context.Context) {
	a.r.log.Debug("acquire answers do not come back in time: giving the lease ID up", zap.Int("unanswered", a.unanswered))
	// One try, bounded by the call timeout, not releaseRetired's three:
	// the Acquire goes on polling, and while storage fails fast (an
	// outage) retries would slow its polls down. A release that does not
	// land leaves that lease to expire.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.r.cfg.CallTimeout)
	err := a.r.l.Release(rctx, a.id)
	cancel()
	if err != nil && !errors.Is(err, ErrNoLease) {
		a.r.log.Debug("release of a given-up lease ID failed", zap.Error(err))
	}
	a.retired = append(a.retired, retiredID{a.id, time.Now()})
	a.id, a.uncertain, a.unanswered = newLeaseID(), false, 0
}

// slow reports whether acquires of this attempt went unanswered (timed
// out or lost, not throttled: a throttled request was not applied): the
// last one, or one of an ID given up that a late acquire may still take.
func (a *attempt) slow() bool { return !a.noReask && (a.unanswered > 0 || a.mayHoldRetired()) }

// mayHoldRetired reports whether a lease read as held may be the retired
// ID's: an acquire of it sent before retire may land after retire's
// release (late, not lost), and take a free lease for a duration, held by
// no one. Within a duration and a call timeout of giving the ID up (an
// acquire lands some time after it was sent, and the lease it takes lasts
// a duration from then), a poll that reads the lease as held releases the
// retired ID again (freeUp): one call, which can only end a lease of that
// ID.
func (a *attempt) mayHoldRetired() bool {
	if a.noReask {
		return false
	}
	d := a.r.cfg.Duration
	a.retired = slices.DeleteFunc(a.retired, func(r retiredID) bool {
		return d != Infinite && time.Since(r.at) >= d+a.r.cfg.CallTimeout
	})
	return len(a.retired) > 0
}

// freeUp releases the retired IDs (see mayHoldRetired), newest first, and
// reports whether storage answered that it released a lease: the lease is
// then free, and the poll goes on to acquire it with the attempt's current
// ID. One call per retired ID still in its window, at most until one
// succeeds.
func (a *attempt) freeUp(ctx context.Context) bool {
	for i := len(a.retired) - 1; i >= 0; i-- {
		rctx, cancel := context.WithTimeout(ctx, a.r.cfg.CallTimeout)
		err := a.r.l.Release(rctx, a.retired[i].id)
		cancel()
		if err == nil {
			a.r.log.Debug("released a lease a late acquire of a given-up lease ID had taken")
			a.retired = slices.Delete(a.retired, i, i+1)
			return true
		}
	}
	return false
}

// releaseRetired releases the lease under id, an ID that no holding will
// use again, trying again (up to releaseTries times, each bounded by the
// call timeout) while the answer is transient. A try whose caller gave up
// may never reach storage, and then the lease stays until it expires; a
// release of a retired ID can only ever end a lease of that ID, so trying
// again is always safe (a try that lands after one that succeeded answers
// that the ID does not match).
func (r *Renewer) releaseRetired(id string, rnd wait.Source) error {
	b := r.newBackOff(rnd)
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.CallTimeout)
		err := r.l.Release(ctx, id)
		cancel()
		if err == nil || definitive(err) || try == releaseTries {
			return err
		}
		time.Sleep(b.NextBackOff())
	}
}

// Break breaks the container's lease, whoever holds it, with the configured
// break period (see WithBreakPeriod), and logs at Warn what it broke and why.
// It returns the time until the break completes; until then no one can
// acquire, unless the holder releases first. Breaking is for operators and
// recovery: a holder sees the break at its next renew and loses the lease
// (a cause wrapping ErrBroken); a leasehold holder then releases it at
// once, so others can acquire from then.
func (r *Renewer) Break(ctx context.Context, reason string) (time.Duration, error) {
	st, serr := r.Inspect(ctx)
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	defer cancel()
	left, err := r.l.Break(cctx, r.cfg.BreakPeriod)
	fields := []zap.Field{zap.String("reason", reason), zap.Duration("period", r.cfg.BreakPeriod)}
	if serr == nil {
		fields = append(fields, zap.Stringer("state", st.State), zap.String("holder", st.Holder), zap.Int64("term", st.Term))
	}
	if err != nil {
		r.log.Warn("lease break failed", append(fields, zap.Error(err))...)
		return 0, fmt.Errorf("renewer: %w", err)
	}
	r.log.Warn("lease broken", append(fields, zap.Duration("left", left))...)
	return left, nil
}

// Inspect reads the lease state and its last holder's identity and term,
// with one storage call bounded by the call timeout.
func (r *Renewer) Inspect(ctx context.Context) (Status, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	defer cancel()
	return Inspect(cctx, r.l)
}

// Timing returns the Renewer's effective timing, defaults filled in.
func (r *Renewer) Timing() Timing { return r.cfg.Timing }

// Inspect reads the lease state and its last holder's identity and term,
// with one storage call and no lease. ctx bounds the call: give it a
// deadline, since the SDK has no per-try timeout by default.
func Inspect(ctx context.Context, l Leaser) (Status, error) {
	if l == nil {
		return Status{}, &OptionError{Field: "leaser", Rule: "want a Leaser, not nil"}
	}
	p, err := l.Properties(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("renewer: %w", err)
	}
	return statusOf(p), nil
}

// newBackOff returns the retry schedule for calls made while holding:
// exponential, capped well inside the renew interval, each pause spread
// over ±50% by rnd (seeded only in the simulation); the validity deadline,
// not a count, ends the retries.
func (r *Renewer) newBackOff(rnd wait.Source) backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = r.cfg.retryIntervals()
	b.RandomizationFactor = 0 // jittered by rnd, so that a seed fixes it
	b.Multiplier = 2
	b.MaxElapsedTime = 0
	b.Reset()
	return &jittered{b: b, rnd: rnd}
}

// jittered spreads each pause of b over ±50%.
type jittered struct {
	b   backoff.BackOff
	rnd wait.Source
	n   uint64 // pauses handed out: tells draws at one instant apart
}

func (j *jittered) NextBackOff() time.Duration {
	j.n++
	return j.rnd.Spread(j.b.NextBackOff(), 0.5, j.n)
}

func (j *jittered) Reset() { j.n = 0; j.b.Reset() }

// sameID compares lease IDs as the service does: GUIDs, case-insensitively.
func sameID(a, b string) bool { return strings.EqualFold(a, b) }

// newLeaseID returns a random (version 4) GUID in lower case. crypto/rand
// never fails on the platforms Go supports (it crashes the program instead).
func newLeaseID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// lastAttempt is err's message for the parenthesis of Acquire's error when
// its ctx ends, without a second "renewer: ".
func lastAttempt(err error) string { return strings.TrimPrefix(err.Error(), "renewer: ") }
