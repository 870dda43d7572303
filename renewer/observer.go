package renewer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/leasehold/leasehold/internal/wait"

	"go.uber.org/zap"
)

// A Lister reads the lease status of many leases kept in one place with one
// call, or a few (the Azure adapter's azlease.Lister: one List Blobs call
// per page of 5,000 blobs, with their metadata; the fake's leasetest.Named).
// An [Observer] polls it for every waiting Renewer of the process.
//
// Implementations must be safe for concurrent use and return promptly once
// ctx is done.
type Lister interface {
	// LeaseKey returns the key under which List reports l's lease, or an
	// error saying why l's lease is not among those List reads.
	LeaseKey(l Leaser) (string, error)
	// List reads the status of every lease it covers, keyed as LeaseKey
	// keys them. A lease it does not report has never been taken: the zero
	// Status (Available, no holder, term 0).
	List(ctx context.Context) (map[string]Status, error)
}

// StatusOf is the Status that properties p of a lease show: what a
// [Lister] reports for each lease it reads.
func StatusOf(p Properties) Status { return statusOf(p) }

// DefaultListTimeout bounds one poll of an [Observer] (every page of it)
// unless ObserverOptions.ListTimeout says otherwise.
const DefaultListTimeout = 10 * time.Second

// ObserverOptions are the options of [NewObserver]. The zero value and a
// nil *ObserverOptions are valid.
type ObserverOptions struct {
	// ListTimeout bounds one poll, all its pages: DefaultListTimeout if 0.
	ListTimeout time.Duration
	// Logger logs failed polls at Debug. Default: no logging.
	Logger *zap.Logger
}

// An Observer is one poller shared by every Renewer of a process that waits
// on a lease its [Lister] covers (see [WithObserver]): one List per poll
// interval serves them all, where each waiting Renewer would otherwise read
// its own lease every poll interval. A process waiting on N locks in one
// container makes about 3600/P calls an hour instead of N*3600/P (plus one
// call per page of 5,000 locks, and one acquire attempt per freed lock).
//
// It polls only while some Acquire waits on it, at the shortest poll
// interval (jittered by ±20%) of the Renewers waiting, and stops when the
// last one stops waiting. Each poll wakes every waiter, which hands what
// the poll found for its lease to its [Watcher], if any, and tries an
// acquire only if the lease was free (not leased, not breaking).
//
// The Observer only decides when a waiter asks: it is never what makes a
// holder. A waiter that acts on a poll that is already out of date makes
// an acquire that storage refuses (someone took the lease first), or waits
// one poll longer than it had to; the acquire itself, with the attempt's
// fresh lease ID and the comparison of the ID answered with it, is what
// decides, exactly as without an Observer.
//
// An Observer is safe for concurrent use. Make one per Lister (per
// container) and pass it to every Renewer of that container.
type Observer struct {
	lister  Lister
	timeout time.Duration
	log     *zap.Logger

	mu       sync.Mutex
	subs     map[*subscription]struct{} // the Acquires waiting
	running  bool                       // the polling goroutine runs
	kick     chan struct{}              // wakes the polling goroutine when the waiters change (buffered 1)
	started  uint64                     // number of polls started
	poll     uint64                     // start number of the poll whose findings statuses and err are, 0 before the first
	statuses map[string]Status          // what the last poll found
	err      error                      // the last poll's error, or nil
	polled   chan struct{}              // closed when the poll after the last completes
}

// NewObserver returns an Observer that polls lister. It makes no storage
// call until a Renewer waits on it.
func NewObserver(lister Lister, opts *ObserverOptions) (*Observer, error) {
	if lister == nil {
		return nil, &OptionError{Field: "lister", Rule: "want a Lister, not nil"}
	}
	o := &Observer{
		lister:  lister,
		timeout: DefaultListTimeout,
		log:     zap.NewNop(),
		subs:    map[*subscription]struct{}{},
		kick:    make(chan struct{}, 1),
		polled:  make(chan struct{}),
	}
	if opts != nil {
		if opts.ListTimeout < 0 {
			return nil, &OptionError{Field: "list timeout", Value: opts.ListTimeout, Rule: "want 0 (the default) or more"}
		}
		if opts.ListTimeout > 0 {
			o.timeout = opts.ListTimeout
		}
		if opts.Logger != nil {
			o.log = opts.Logger
		}
	}
	return o, nil
}

// WithObserver makes every blocking [Renewer.Acquire] of the Renewer (and
// so every election campaign and mutex Lock on it) wait through o rather
// than polling storage on its own: its first poll is its own (an acquire
// attempt, or a read for a [Watcher]), and each later one is what o's next
// poll found. o's Lister must cover the Renewer's Leaser (New checks
// LeaseKey). TryAcquire, Inspect, Break and the holding itself do not use
// o.
//
// A poll that failed transiently is handed to the Watcher, if any, and
// makes no acquire attempt (the next poll may answer); a failure that no
// poll can get past (Permanent: refused credentials, a missing container)
// makes one, whose answer the Acquire returns. While polls keep failing,
// the waiter still tries once per validity window (L, or the break period
// of an infinite lease) on its own clock, since a lease it saw held may
// have expired meanwhile.
func WithObserver(o *Observer) Option { return func(c *config) { c.observer = o } }

// bindObserver checks that cfg's Observer, if any, covers l, and records
// l's key.
func (c *config) bindObserver(l Leaser) error {
	if c.observer == nil {
		return nil
	}
	key, err := c.observer.lister.LeaseKey(l)
	if err != nil {
		return &OptionError{Field: "observer", Rule: "its Lister does not cover this Leaser: " + err.Error()}
	}
	c.observerKey = key
	return nil
}

// observation is what one poll found for one lease.
type observation struct {
	poll   uint64
	status Status
	err    error // the poll's error: then status is zero
}

// A subscription is one Acquire's wait on an Observer.
type subscription struct {
	o        *Observer
	key      string
	interval time.Duration
	seen     uint64    // the last poll handed out, or the poll current when it joined
	heard    time.Time // when a poll last answered (or the waiter last tried anyway), on the local clock
}

// join registers a waiter on key that wants a poll every interval, and
// starts polling if no one else waits. ctx's random source jitters the
// polls if this join starts them.
func (o *Observer) join(ctx context.Context, key string, interval time.Duration) *subscription {
	s := &subscription{o: o, key: key, interval: interval, heard: time.Now()}
	o.mu.Lock()
	defer o.mu.Unlock()
	// Not a poll already under way: it may have read before this
	// waiter's lease was taken, and would send it to acquire a held lease.
	s.seen = o.started
	o.subs[s] = struct{}{}
	if !o.running {
		o.running = true
		go o.run(wait.From(ctx))
	} else {
		o.nudge()
	}
	return s
}

// leave ends the wait.
func (s *subscription) leave() {
	o := s.o
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.subs, s)
	o.nudge()
}

// nudge wakes the polling goroutine to look at the waiters again. o.mu is
// held.
func (o *Observer) nudge() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// next waits for the first poll started after the last one handed to s
// (or after s joined) to complete, and returns what it found for s's
// lease, or ctx's error.
func (s *subscription) next(ctx context.Context) (observation, error) {
	o := s.o
	o.mu.Lock()
	for o.poll <= s.seen {
		ch := o.polled
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return observation{}, fmt.Errorf("renewer: observe: %w", context.Cause(ctx))
		}
		o.mu.Lock()
	}
	defer o.mu.Unlock()
	s.seen = o.poll
	if o.err != nil {
		return observation{poll: o.poll, err: o.err}, nil
	}
	return observation{poll: o.poll, status: o.statuses[s.key]}, nil
}

// run polls while anyone waits: at once, then every shortest interval of
// the waiters, jittered. It stops when no one waits.
func (o *Observer) run(rnd wait.Source) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		o.mu.Lock()
		if len(o.subs) == 0 {
			o.running = false
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
		o.list()
		last := time.Now()
		var iv, d time.Duration
		for {
			o.mu.Lock()
			shortest, waiting := o.interval()
			o.mu.Unlock()
			if !waiting {
				break
			}
			if iv == 0 || shortest < iv { // first, or a waiter that wants polls sooner joined
				iv, d = shortest, rnd.Jitter(shortest)
			}
			t.Reset(time.Until(last.Add(d)))
			select {
			case <-t.C:
			case <-o.kick: // the waiters changed: look again
				continue
			}
			break
		}
	}
}

// interval returns the shortest poll interval of the waiters, and whether
// anyone waits. o.mu is held.
func (o *Observer) interval() (time.Duration, bool) {
	var iv time.Duration
	for s := range o.subs {
		if iv == 0 || s.interval < iv {
			iv = s.interval
		}
	}
	return iv, len(o.subs) > 0
}

// list makes one poll and wakes every waiter.
func (o *Observer) list() {
	o.mu.Lock()
	o.started++
	n := o.started
	o.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	statuses, err := o.lister.List(ctx)
	cancel()
	if err != nil {
		o.log.Debug("observer: list failed", zap.Error(err))
		err = fmt.Errorf("renewer: observe: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.poll = n
	o.statuses, o.err = statuses, err
	close(o.polled)
	o.polled = make(chan struct{})
}

// pollObserved is a poll of Acquire made through the Observer: what its
// next poll found, the watcher's verdict, then as poll does. A poll that
// failed transiently makes no attempt.
func (r *Renewer) pollObserved(ctx context.Context, a *attempt, w Watcher, s *subscription) (*Lease, error) {
	obs, err := s.next(ctx)
	if err != nil {
		return nil, err
	}
	var v Verdict
	if w != nil {
		v = w(obs.status, obs.err)
	}
	switch {
	case obs.err == nil:
		s.heard = time.Now()
		r.obs.touch() // the Observer's list reached storage for us
	case Permanent(obs.err):
	case time.Since(s.heard) < r.cfg.Window():
		return nil, obs.err
	default:
		// No poll has answered for a validity window: whatever lease was
		// seen last may have expired by now, on our own clock. Try once
		// per window, so that a failing List costs liveness nothing.
		s.heard = time.Now()
	}
	return r.decide(ctx, a, obs.status, obs.err, v)
}
