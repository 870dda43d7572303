package sim

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/internal/putback"
	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Options changes how Run builds the holders.
type Options struct {
	// Wrap, if set, wraps each process incarnation's network Leaser before
	// its holder uses it (tests use it to force the old bug back in).
	Wrap func(renewer.Leaser) renewer.Leaser
	// Trace, if set, receives a line for every request that reaches
	// storage and every answer that is lost or refused on the way. It is
	// called from many goroutines, never at once.
	Trace func(line string)
	// NoReask puts the lost-acquire bug back in every holder
	// (internal/putback.NoReask): a waiting Acquire whose acquire's outcome
	// is unknown does not ask again when the lease reads as held.
	NoReask bool
	// Seats is the number of next-in-line seats of the elections
	// (election.Standby.Seats): 0 the library's default (two), 1 the
	// single seat of before, whose seat stays empty after a take-over
	// until a backbencher's retry.
	Seats int
}

// Result is one run: its plan, history and violations.
type Result struct {
	Plan       Plan
	History    History
	Violations []Violation
	// Free and Cands are what liveness in every state was judged on:
	// when the main lease was free at storage, and each candidate's
	// waits and faulty spans.
	Free  []FreeSpan
	Cands []Cand
}

// Causes of the end of an incarnation.
var (
	errCrash = errors.New("sim: process crashed")
	errStop  = errors.New("sim: run over")
	// errStopped is a scenario's graceful stop: as at the run's end, the
	// holder releases what it holds.
	errStopped = fmt.Errorf("sim: stopped: %w", errStop)
)

// world is one run's shared state.
type world struct {
	plan    Plan
	start   time.Time
	rec     recorder
	store   *leasetest.Container
	next    *leasetest.Container // the elections' next-in-line lease (Plan.Standby)
	second  *leasetest.Container // the elections' second seat
	opts    Options
	log     *leaseLog // the main lease at storage
	nextLog *leaseLog // the next-in-line seat at storage
	cands   cands     // the main lease's candidates

	kills []chan time.Duration // per process: crash now, down for the duration (a scenario's crash of the leader)

	leadMu    sync.Mutex        // guards leading, resigners, elected
	leading   map[uint64]bool   // processes in OnElected
	resigners map[uint64]func() // each process's current election's Resign
	elected   chan uint64       // a scenario's feed of OnElected, by process; nil if none listens

	groupMu   sync.Mutex                      // guards group, groupLogs
	group     map[string]*leasetest.Container // the group's leases, by name
	groupLogs map[string]*leaseLog            // the semaphore slots at storage, by name

	bg sync.WaitGroup // request goroutines, for Run to drain

	traceMu sync.Mutex // serializes opts.Trace

	relMu       sync.Mutex                 // guards released, relReturned
	released    map[Holder][]time.Duration // successful releases applied, per incarnation
	relReturned map[Holder][]time.Duration // when each Release call on the main lease returned, per incarnation
}

// releasedBy records a successful release of p's incarnation inc, now.
func (w *world) releasedBy(p *procPlan, inc uint64) {
	w.relMu.Lock()
	defer w.relMu.Unlock()
	k := Holder{p.Name, int(inc)}
	w.released[k] = append(w.released[k], w.since())
}

// trace sends a line to opts.Trace, if set.
func (w *world) trace(format string, args ...any) {
	if w.opts.Trace == nil {
		return
	}
	line := fmt.Sprintf("%12v ", w.since()) + fmt.Sprintf(format, args...)
	w.traceMu.Lock()
	defer w.traceMu.Unlock()
	w.opts.Trace(line)
}

func (w *world) since() time.Duration              { return time.Since(w.start) }
func (w *world) sinceAt(t time.Time) time.Duration { return t.Sub(w.start) }
func (w *world) at(d time.Duration) time.Time      { return w.start.Add(d) }
func (w *world) spawn(f func()) {
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		f()
	}()
}

// Run simulates seed's plan and checks its history. It must be called
// inside a testing/synctest bubble: it runs FaultPhase + Tail of virtual
// time, then waits for every request in flight.
func Run(seed uint64, opts Options) Result {
	w := &world{plan: NewPlan(seed), start: time.Now(), store: leasetest.New(), next: leasetest.New(), second: leasetest.New(), opts: opts,
		released: map[Holder][]time.Duration{}, relReturned: map[Holder][]time.Duration{}, group: map[string]*leasetest.Container{},
		leading: map[uint64]bool{}, resigners: map[uint64]func(){}}
	w.rec.w = w
	w.log, w.nextLog = newLeaseLog(w, w.store), newLeaseLog(w, w.next)
	for range w.plan.Procs {
		w.kills = append(w.kills, make(chan time.Duration, 1))
	}
	var procs sync.WaitGroup
	if w.plan.CrashAt > 0 {
		w.elected = make(chan uint64, 1024)
		procs.Go(w.crashes)
	}
	for i := range w.plan.Procs {
		procs.Go(func() { w.runProc(&w.plan.Procs[i], uint64(i)) })
	}
	for i := range w.plan.Group {
		procs.Go(func() { w.runProc(&w.plan.Group[i], groupID+uint64(i)) })
	}
	procs.Wait()
	// Let every goroutine of the holders wind down: a dead incarnation's
	// renewer runs until its validity deadline, a request lost in a
	// partition fails after partitionCap.
	time.Sleep(partitionCap + Duration)
	w.bg.Wait()
	hs := w.rec.history()
	b := w.plan.Bounds(w.released)
	b.Free, b.Cands = w.log.spans(b.End), w.cands.list(b.End)
	b.Broken = w.log.broken
	for name, g := range w.groupLogs {
		if b.SlotFree == nil {
			b.SlotFree = map[string][]FreeSpan{}
		}
		b.SlotFree[name] = g.spans(b.End)
		if g.broken != "" && b.Broken == "" {
			b.Broken = name + ": " + g.broken
		}
	}
	return Result{Plan: w.plan, History: hs, Violations: Check(hs, b), Free: b.Free, Cands: b.Cands}
}

// groupID is the first process number of the group's processes, so that
// their draws never meet those of Procs.
const groupID = 100

// groupLease returns the container of the group's lease name, and its log
// at storage if it is a semaphore's slot (nil otherwise).
func (w *world) groupLease(name string, kind Kind) (*leasetest.Container, *leaseLog) {
	w.groupMu.Lock()
	defer w.groupMu.Unlock()
	c, ok := w.group[name]
	if !ok {
		c = leasetest.New()
		w.group[name] = c
		if kind == KindSemaphore {
			if w.groupLogs == nil {
				w.groupLogs = map[string]*leaseLog{}
			}
			w.groupLogs[name] = newLeaseLog(w, c)
		}
	}
	return c, w.groupLogs[name]
}

// runProc runs one process: incarnations separated by its crashes and
// graceful stops, from its start until the end of the run.
func (w *world) runProc(pp *procPlan, id uint64) {
	sleepUntil(w.at(pp.Start))
	for inc := uint64(0); ; inc++ {
		dead := new(atomic.Bool)
		wrap := func(l *link) renewer.Leaser {
			if w.opts.Wrap != nil {
				return w.opts.Wrap(l)
			}
			return l
		}
		lr := wrap(&link{store: w.store, w: w, p: pp, id: id, inc: inc, dead: dead, log: w.log})
		// The elections' next-in-line seats (Plan.Standby), through links
		// of this incarnation too.
		ln := &link{store: w.next, w: w, p: pp, id: id, inc: inc, dead: dead, salt: nextSalt, next: true, seat: "next-in-line", log: w.nextLog}
		l2 := &link{store: w.second, w: w, p: pp, id: id, inc: inc, dead: dead, salt: secondSalt, next: true, seat: "second"}
		// The group's leases, each through a link of this incarnation.
		leasers := func(name string) (renewer.Leaser, error) {
			c, log := w.groupLease(name, pp.Kind)
			return wrap(&link{store: c, w: w, p: pp, id: id, inc: inc, dead: dead, salt: hash(0x1ea5e) ^ strHash(name), log: log}), nil
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		ctx = wait.WithSeed(ctx, hash(w.plan.Seed, id, inc, 0x5eed))
		if w.opts.NoReask {
			ctx = putback.With(ctx, putback.NoReask)
		}
		group := pp.Kind == KindSemaphore || pp.Kind == KindShard
		me := Holder{pp.Name, int(inc)}
		born := w.since()
		w.cands.do(me, pp.Kind, func(c *Cand) { c.Born = born })
		var done sync.WaitGroup
		done.Go(func() {
			if group {
				w.groupWork(ctx, pp, leasers, id, inc)
				return
			}
			w.work(ctx, pp, lr, ln, l2, id, inc)
		})

		// Sleep until this incarnation's crash or stop, or the end.
		stop, down, graceful := w.plan.end(), window{}, false
		for _, c := range pp.Crashes {
			if c.From >= born {
				stop, down = c.From, c
				break
			}
		}
		for _, c := range pp.Stops {
			if c.From >= born && c.From < stop {
				stop, down, graceful = c.From, c, true
				break
			}
		}
		var kill chan time.Duration
		if id < uint64(len(w.kills)) {
			kill = w.kills[id]
		}
		t := time.NewTimer(time.Until(w.at(stop)))
		select {
		case <-t.C:
		case d := <-kill:
			t.Stop()
			stop = w.since()
			down, graceful = window{stop, stop + d}, false
		}
		end := stop == w.plan.end()
		switch {
		case end:
			cancel(errStop)
		case graceful:
			cancel(errStopped)
		default:
			dead.Store(true) // nothing more is sent; requests in flight still land
			cancel(errCrash)
		}
		done.Wait()
		w.cands.do(me, pp.Kind, func(c *Cand) {
			c.Died, c.Crashed, c.Stopped = stop, !end && !graceful, !end && graceful
			// A dead incarnation waits for nothing, whatever its
			// goroutines still do while they wind down.
			c.Waits = minus(merge(c.Waits), []Span{{stop, forever}})
			// Its pauses and partitions, within its life.
			for _, ws := range [][]window{pp.Pauses, pp.Partitions} {
				for _, x := range ws {
					if x.To > born && x.From < stop {
						c.Faulty = append(c.Faulty, x)
						c.SeatFaulty = append(c.SeatFaulty, x)
					}
				}
			}
		})
		if end || down.To >= w.plan.end() {
			return
		}
		sleepUntil(w.at(down.To))
	}
}

// work runs one incarnation's holder until ctx ends.
func (w *world) work(ctx context.Context, pp *procPlan, l, next, second renewer.Leaser, id, inc uint64) {
	// Goroutines that start at one instant would race for their first
	// step; the scheduler, not the seed, would pick the winner. Stagger
	// them.
	time.Sleep(between(newRand(w.plan.Seed, id, inc, 5), 0, 10*time.Millisecond))
	base := Holding{Proc: pp.Name, Inc: int(inc), Kind: pp.Kind}
	switch pp.Kind {
	case KindRenewer:
		w.renewerLoop(ctx, l, base, newRand(w.plan.Seed, id, inc, 1))
	case KindElection:
		w.elect(ctx, l, next, second, base, id, newRand(w.plan.Seed, id, inc, 2), newRand(w.plan.Seed, id, inc, 3))
	case KindMutex:
		ropts := []renewer.Option{renewer.WithIdentity(pp.Name), renewer.WithPollInterval(Poll)}
		opts := []mutex.Option{mutex.WithMaxHold(pp.MaxHold)}
		if w.plan.Infinite {
			ropts = append(ropts, renewer.WithDuration(renewer.Infinite))
			opts = append(opts, mutex.WithBreakOnTimeout(w.plan.BreakTimeout))
		}
		rn, err := renewer.New(l, ropts...)
		if err != nil {
			panic(err) // a fixed, valid configuration
		}
		m, err := mutex.New(rn, opts...)
		if err != nil {
			panic(err) // a fixed, valid configuration
		}
		var g sync.WaitGroup
		for gi := range pp.Goroutines {
			g.Go(func() {
				gctx := wait.WithSeed(ctx, hash(w.plan.Seed, id, inc, uint64(gi), 0x6c6f636b))
				b := base
				b.Goroutine = gi
				r := newRand(w.plan.Seed, id, inc, 4, uint64(gi))
				time.Sleep(between(r, 0, 10*time.Millisecond))
				w.lockLoop(gctx, m, b, r)
			})
		}
		g.Wait()
	}
}

// track records h from now until ctx ends.
func (w *world) track(ctx context.Context, h Holding) {
	p := w.rec.start(h)
	context.AfterFunc(ctx, func() {
		cause := context.Cause(ctx)
		w.rec.end(p, describe(cause), timedOut(cause))
	})
}

// timedOut reports whether a holding ended by loss at a moment its own
// clock chose (the validity deadline) rather than on a storage answer that
// proved the lease gone (an event, which drift cannot move).
func timedOut(cause error) bool {
	if !errors.Is(cause, renewer.ErrLeaseLost) {
		return false
	}
	for _, d := range []error{renewer.ErrNoLease, renewer.ErrLeaseHeld} {
		if errors.Is(cause, d) {
			return false
		}
	}
	return true
}

// describe says in a word why a holding ended, and for a loss, the reason.
func describe(cause error) string {
	var why string
	switch {
	case errors.Is(cause, renewer.ErrLeaseLost):
		return "lost: " + cause.Error()
	case errors.Is(cause, renewer.ErrReleased):
		why = "released"
	case errors.Is(cause, renewer.ErrAbandoned):
		why = "abandoned"
	case errors.Is(cause, renewer.ErrReleased):
		why = "unlocked"
	case errors.Is(cause, renewer.ErrReleased):
		why = "resigned"
	case cause == nil:
		return ""
	default:
		return cause.Error()
	}
	switch {
	case errors.Is(cause, errCrash):
		why += " (crash)"
	case errors.Is(cause, errStopped):
		why += " (stopped)"
	case errors.Is(cause, errStop):
		why += " (run over)"
	}
	return why
}

// holdFor waits d, or until held ends, or until ctx ends; it reports
// whether the process is still running (ctx not ended).
func holdFor(ctx, held context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-held.Done():
	case <-ctx.Done():
		return false
	}
	return true
}

func (w *world) renewerLoop(ctx context.Context, l renewer.Leaser, base Holding, r *mrand.Rand) {
	rn, err := renewer.New(l, renewer.WithIdentity(base.Proc), renewer.WithPollInterval(Poll))
	if err != nil {
		panic(err) // a fixed, valid configuration
	}
	for ctx.Err() == nil {
		acquire := func(ctx context.Context) (*renewer.Lease, error) {
			from := w.since()
			defer w.waited(base, from)
			return rn.Acquire(ctx)
		}
		if r.IntN(4) == 0 {
			acquire = rn.TryAcquire
		}
		ls, err := acquire(ctx)
		if err != nil {
			wait.Sleep(ctx, between(r, Poll/2, 2*Poll))
			continue
		}
		h := base
		h.Term = ls.Term()
		w.track(ls.Context(), h)
		if !holdFor(ctx, ls.Context(), between(r, 0, 20*time.Second)) {
			if errors.Is(context.Cause(ctx), errStop) {
				_ = ls.Release(context.Background())
			}
			return // crashed: no release, no more requests
		}
		if r.Float64() < 0.2 {
			_ = ls.Abandon(context.Background())
		} else {
			_ = ls.Release(context.Background())
		}
		wait.Sleep(ctx, between(r, 0, 2*time.Second))
	}
}

func (w *world) elect(ctx context.Context, l, next, second renewer.Leaser, base Holding, id uint64, r, rr *mrand.Rand) {
	ropts := []renewer.Option{renewer.WithIdentity(base.Proc), renewer.WithPollInterval(Poll)}
	scenario := w.plan.Scenario != ScenarioNone
	eopts := []election.Option{election.WithReleaseOnCancel(r.IntN(4) != 0 || scenario)}
	if w.plan.Standby != StandbyPlain {
		s := election.Standby{Next: next, NextDuration: NextDuration, NextRenew: NextRenew, Retry: NextRetry, Check: NextCheck}
		seatStandby(&s, second, w.opts.Seats)
		if w.plan.Standby == StandbyHeartbeats {
			s.Heartbeats = true
			ropts = append(ropts, renewer.WithHeartbeat(true), renewer.WithRenewInterval(HeartbeatRenew))
		}
		eopts = append(eopts, election.WithStandby(s))
	}
	rn, err := renewer.New(l, ropts...)
	if err != nil {
		panic(err) // a fixed, valid configuration
	}
	e, err := election.New(rn, eopts...)
	if err != nil {
		panic(err) // a fixed, valid configuration
	}
	w.leadMu.Lock()
	w.resigners[id] = func() { _ = e.Resign(context.Background()) }
	w.leadMu.Unlock()
	var g sync.WaitGroup
	g.Go(func() { // resign now and then (not in a scenario: it resigns when the scenario says)
		for !scenario && wait.Sleep(ctx, between(rr, 3*time.Second, 30*time.Second)) {
			_ = e.Resign(context.Background())
		}
	})
	// The campaign waits from Run's start, and after a term from two poll
	// intervals after the term's release returned (Run stands aside so
	// long after a Resign).
	var mu sync.Mutex // guards from, ended
	from, ended := w.since(), time.Duration(-1)
	waitedUntilNow := func() {
		mu.Lock()
		defer mu.Unlock()
		if ended >= 0 {
			from = max(ended, w.releaseReturned(Holder{base.Proc, base.Inc}, w.plan.end())) + 2*Poll
			ended = -1
		}
		if w.since() > from {
			w.waited(base, from)
		}
	}
	_ = e.Run(ctx, election.Callbacks{
		OnElected: func(lctx context.Context, term int64) {
			waitedUntilNow()
			h := base
			h.Term = term
			w.track(lctx, h)
			w.lead(id, true)
			<-lctx.Done()
			w.lead(id, false)
			mu.Lock()
			ended = w.since()
			mu.Unlock()
		},
		OnDemoted:   func() {},
		OnNewLeader: func(string, int64) {},
	})
	waitedUntilNow()
	g.Wait()
}

// releaseReturned is when the last Release call of h's incarnation on the
// main lease that returned before end returned, or -1. (A release sent as
// the run stops, at end, would otherwise decide the last wait by the
// scheduler's order.)
func (w *world) releaseReturned(h Holder, end time.Duration) time.Duration {
	w.relMu.Lock()
	defer w.relMu.Unlock()
	last := time.Duration(-1)
	for _, t := range w.relReturned[h] {
		if t < end {
			last = t
		}
	}
	return last
}

// waited records that h's incarnation waited for the main lease from from
// until now.
func (w *world) waited(h Holding, from time.Duration) {
	now := w.since()
	w.cands.do(Holder{h.Proc, h.Inc}, h.Kind, func(c *Cand) { c.Waits = append(c.Waits, Span{from, now}) })
}

// lead records that process id's election began (or ended) a term, for a
// scenario that crashes or resigns the leader.
func (w *world) lead(id uint64, leading bool) {
	w.leadMu.Lock()
	defer w.leadMu.Unlock()
	w.leading[id] = leading
	if leading && w.elected != nil {
		select {
		case w.elected <- id:
		default:
		}
	}
}

// crashes drives the scenarios that crash (Plan.CrashAt): crash then
// resign crashes the process that leads at CrashAt, for CrashDown, and
// once another is elected waits ResignAfter and makes that one resign;
// crash two crashes the leader and the next-in-line seat's holder (at
// storage) together; next in line crash crashes the seat's holder and
// makes the leader resign ResignAfter later.
func (w *world) crashes() {
	end := w.at(w.plan.end())
	sleepUntil(w.at(w.plan.CrashAt))
	w.leadMu.Lock()
	leader := -1
	for id := range w.plan.Procs {
		if w.leading[uint64(id)] {
			leader = id
			break
		}
	}
	w.leadMu.Unlock()
	if leader < 0 {
		return
	}
	seat := -1
	if h, ok := w.nextLog.heldBy(w.since()); ok {
		for id, pp := range w.plan.Procs {
			if pp.Name == h.Proc && id != leader {
				seat = id
			}
		}
	}
	resign := func(id int) {
		w.leadMu.Lock()
		f := w.resigners[uint64(id)]
		w.leadMu.Unlock()
		f()
	}
	switch w.plan.Scenario {
	case ScenarioCrashTwo:
		w.kills[leader] <- w.plan.CrashDown
		if seat >= 0 {
			w.kills[seat] <- w.plan.CrashDown
		}
		return
	case ScenarioNextCrash:
		if seat >= 0 {
			w.kills[seat] <- w.plan.CrashDown
		}
		sleepUntil(w.at(w.since() + w.plan.ResignAfter))
		resign(leader)
		return
	}
	w.kills[leader] <- w.plan.CrashDown
	at := w.since()
	for {
		t := time.NewTimer(time.Until(end))
		select {
		case id := <-w.elected:
			t.Stop()
			if w.since() <= at || int(id) == leader {
				continue
			}
			sleepUntil(w.at(w.since() + w.plan.ResignAfter))
			resign(int(id))
			return
		case <-t.C:
			return
		}
	}
}

func (w *world) lockLoop(ctx context.Context, m *mutex.Mutex, base Holding, r *mrand.Rand) {
	for ctx.Err() == nil {
		lock := func(ctx context.Context) (*mutex.Held, error) {
			from := w.since()
			defer w.waited(base, from)
			return m.Lock(ctx)
		}
		if r.IntN(4) == 0 && !w.plan.Infinite { // with infinite leases a Lock always waits, watching for signs of life
			lock = m.TryLock
		}
		held, err := lock(ctx)
		if err != nil {
			wait.Sleep(ctx, between(r, Poll/2, 2*Poll))
			continue
		}
		h := base
		h.Term = held.Term()
		w.track(held.Context(), h)
		if !holdFor(ctx, held.Context(), between(r, 0, 10*time.Second)) {
			if errors.Is(context.Cause(ctx), errStop) {
				_ = held.Unlock(context.Background())
			}
			return
		}
		_ = held.Unlock(context.Background())
		wait.Sleep(ctx, between(r, 0, 2*time.Second))
	}
}
