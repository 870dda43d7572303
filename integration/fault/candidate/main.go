// Command candidate is the process the fault suite starts, kills, pauses and
// resumes: an election candidate (-mode election) or a mutex holder (-mode
// mutex) on one container's lease, a semaphore holder (-mode semaphore: -k
// slots named -name, each a blob lease in the container) or a shard member
// (-mode shard: -partitions partitions of group -name, each a blob lease in
// the container), reaching storage through the connection string in
// LEASEHOLD_FAULT_CONN (a fault.Link's loopback address). While it holds a
// lease it writes its term to the fence every -write interval, keyed by the
// resource (the slot, the partition; none for election and mutex), and it
// records what it does on the shared clock in its -history file.
//
// Signals: SIGTERM or SIGINT resign and exit; SIGUSR1 resigns (election),
// unlocks (mutex) or releases (semaphore) the current term and goes on
// campaigning; a shard member ignores it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/integration/fault"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/semaphore"
	"github.com/leasehold/leasehold/shard"
)

type config struct {
	mode, container, id, history, fence string
	duration, poll, write               time.Duration
	holdMin, holdMax                    time.Duration
	relockAfter                         time.Duration
	name                                string // semaphore, shard: the resource's or group's name
	k, partitions, members              int
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "election", "election, mutex, semaphore or shard")
	flag.StringVar(&c.container, "container", "", "container name")
	flag.StringVar(&c.id, "id", "", "identity, also the process's name in the history")
	flag.StringVar(&c.history, "history", "", "history file (JSON lines, appended)")
	flag.StringVar(&c.fence, "fence", "", "fence URL")
	flag.DurationVar(&c.duration, "duration", 15*time.Second, "lease duration L")
	flag.DurationVar(&c.poll, "poll", 500*time.Millisecond, "poll interval")
	flag.DurationVar(&c.write, "write", 100*time.Millisecond, "interval between fenced writes")
	flag.DurationVar(&c.holdMin, "hold-min", time.Second, "mutex: shortest hold")
	flag.DurationVar(&c.holdMax, "hold-max", 4*time.Second, "mutex: longest hold")
	flag.DurationVar(&c.relockAfter, "relock-after", 0, "mutex, semaphore: pause between unlocking and locking again (0: random, up to two poll intervals)")
	flag.StringVar(&c.name, "name", "fault", "semaphore: the resource's name; shard: the group's name")
	flag.IntVar(&c.k, "k", 2, "semaphore: slots")
	flag.IntVar(&c.partitions, "partitions", 6, "shard: partitions p0, p1, ...")
	flag.IntVar(&c.members, "members", 0, "shard: member slots (0: the package's default)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "candidate:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	if c.container == "" || c.id == "" || c.history == "" || c.fence == "" {
		return errors.New("-container, -id, -history and -fence are required")
	}
	rec, err := fault.NewRecorder(c.history)
	if err != nil {
		return err
	}
	defer rec.Close()
	l, err := azlease.FromConnectionString(os.Getenv("LEASEHOLD_FAULT_CONN"), c.container, nil)
	if err != nil {
		return err
	}
	// Everything at debug level to stderr, which the harness keeps beside
	// the history (<id>.log): a failed scenario explains itself.
	lcfg := zap.NewDevelopmentConfig()
	lcfg.OutputPaths, lcfg.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	lcfg.DisableStacktrace = true
	log, err := lcfg.Build()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	ropts := []renewer.Option{renewer.WithIdentity(c.id), renewer.WithDuration(c.duration), renewer.WithPollInterval(c.poll), renewer.WithLogger(log)}
	// One Renewer per process, used by its one Election or Mutex: the
	// identity and timing are the renewer's.
	r, err := renewer.New(l, ropts...)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	resign := make(chan os.Signal, 1)
	signal.Notify(resign, syscall.SIGUSR1)

	w := &writer{c: c, rec: rec, client: &http.Client{Timeout: time.Second}}
	// Semaphore slots and shard leases: named blob leases in the one
	// container, read with one List call per poll.
	leasers := func(name string) (renewer.Leaser, error) { return l.Blob(name) }
	lister, err := azlease.NewLister(l.Client())
	if err != nil {
		return err
	}
	switch c.mode {
	case "election":
		return runElection(ctx, c, r, w, resign)
	case "mutex":
		return runMutex(ctx, c, r, w, resign)
	case "semaphore":
		s, err := semaphore.New(c.name, c.k, leasers, semaphore.WithLister(lister), semaphore.WithRenewerOptions(ropts...))
		if err != nil {
			return err
		}
		return runSemaphore(ctx, c, s, w, resign)
	case "shard":
		parts := make([]string, c.partitions)
		for i := range parts {
			parts[i] = "p" + strconv.Itoa(i)
		}
		opts := []shard.Option{shard.WithLister(lister), shard.WithRenewerOptions(ropts...)}
		if c.members > 0 {
			opts = append(opts, shard.WithMaxMembers(c.members))
		}
		m, err := shard.New(c.name, parts, leasers, opts...)
		if err != nil {
			return err
		}
		return m.Run(ctx, func(ctx context.Context, p shard.Partition) {
			<-w.hold(ctx, p.Name, p.Term, func() int64 { return onShared(p.Deadline()) })
		})
	}
	return fmt.Errorf("-mode %q: want election, mutex, semaphore or shard", c.mode)
}

// onShared converts a validity deadline to the shared clock, 0 if unknown.
func onShared(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return fault.At(t)
}

// window returns the validity window L - M at the renewer's default margin.
func (c config) window() time.Duration { return c.duration - c.duration/5 }

func runElection(ctx context.Context, c config, r *renewer.Renewer, w *writer, resign <-chan os.Signal) error {
	e, err := election.New(r)
	if err != nil {
		return err
	}
	go func() {
		for ld := range e.Observe(ctx) {
			w.rec.Record(fault.Event{Proc: c.id, Kind: fault.KindObserved, Leader: ld.Identity, Term: ld.Term})
		}
	}()
	for attempt := 0; ctx.Err() == nil; attempt++ {
		ld, err := e.Campaign(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !sleep(ctx, c.poll) {
				return nil
			}
			continue
		}
		lost := w.hold(ld.Context(), "", ld.Term(), func() int64 {
			return fault.At(ld.LastRenewed()) + int64(c.window())
		})
		resigned := false
		select {
		case <-ld.Done():
		case <-resign:
			resigned = true
		case <-ctx.Done():
		}
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = ld.Resign(rctx)
		cancel()
		<-lost
		if resigned && !sleep(ctx, 2*c.poll) {
			return nil
		}
	}
	return nil
}

func runMutex(ctx context.Context, c config, r *renewer.Renewer, w *writer, resign <-chan os.Signal) error {
	m, err := mutex.New(r)
	if err != nil {
		return err
	}
	return holdAndRelease(ctx, c, w, resign, func(ctx context.Context) (holding, error) {
		held, err := m.Lock(ctx)
		if err != nil {
			return holding{}, err
		}
		return holding{ctx: held.Context(), term: held.Term(), release: held.Unlock}, nil
	})
}

func runSemaphore(ctx context.Context, c config, s *semaphore.Semaphore, w *writer, resign <-chan os.Signal) error {
	return holdAndRelease(ctx, c, w, resign, func(ctx context.Context) (holding, error) {
		held, err := s.Acquire(ctx)
		if err != nil {
			return holding{}, err
		}
		return holding{ctx: held.Context(), key: "slot-" + strconv.Itoa(held.Slot()), term: held.Term(),
			deadline: func() int64 {
				if held.Context().Err() == nil {
					return 0 // we stopped: no loss, no deadline to keep
				}
				return onShared(held.Deadline())
			},
			release: held.Release}, nil
	})
}

// holding is one mutex or semaphore holding, as holdAndRelease uses it.
type holding struct {
	ctx      context.Context // cancelled on loss
	key      string          // the fence's resource: "" for the mutex, the slot for a semaphore
	term     int64
	deadline func() int64 // for writer.hold; nil: none recorded
	release  func(context.Context) error
}

// holdAndRelease takes a holding with take, acts under it for a random
// time (or until it is lost, SIGUSR1 or the end), stops acting, releases
// it, pauses, and again, until ctx ends.
func holdAndRelease(ctx context.Context, c config, w *writer, resign <-chan os.Signal, take func(context.Context) (holding, error)) error {
	for ctx.Err() == nil {
		h, err := take(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !sleep(ctx, c.poll) {
				return nil
			}
			continue
		}
		hctx, stopHold := context.WithCancel(h.ctx)
		lost := w.hold(hctx, h.key, h.term, h.deadline)
		t := time.NewTimer(c.holdMin + rand.N(c.holdMax-c.holdMin+1))
		select {
		case <-h.ctx.Done():
		case <-t.C:
		case <-resign:
		case <-ctx.Done():
		}
		t.Stop()
		stopHold() // stop acting first, then release
		<-lost
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = h.release(rctx)
		cancel()
		pause := c.relockAfter
		if pause == 0 {
			pause = time.Duration(rand.N(int64(c.poll) * 2))
		}
		if !sleep(ctx, pause) {
			return nil
		}
	}
	return nil
}

// writer acts as holder: it records the term's start, writes the term to
// the fence until the holder's context is done, and records the loss the
// moment it sees it.
type writer struct {
	c      config
	rec    *fault.Recorder
	client *http.Client
}

// hold starts acting under ctx with term and returns a channel closed once
// the loss has been recorded and the writes have stopped. deadline, if not
// nil, gives the validity deadline on the shared clock.
func (w *writer) hold(ctx context.Context, key string, term int64, deadline func() int64) <-chan struct{} {
	w.rec.Record(fault.Event{Proc: w.c.id, Kind: fault.KindElected, Key: key, Term: term})
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() { // closes stopped
		defer close(stopped)
		t := time.NewTicker(w.c.write)
		defer t.Stop()
		for {
			if ctx.Err() != nil {
				return
			}
			w.write(ctx, key, term)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	go func() { // closes done
		defer close(done)
		<-ctx.Done()
		e := fault.Event{Proc: w.c.id, Kind: fault.KindLost, Key: key, Term: term, T: fault.Now()}
		if deadline != nil {
			e.Deadline = deadline()
		}
		if cause := context.Cause(ctx); cause != nil {
			e.Cause = cause.Error()
		}
		w.rec.Record(e)
		<-stopped
	}()
	return done
}

func (w *writer) write(ctx context.Context, key string, term int64) {
	sent := fault.Now()
	q := url.Values{"proc": {w.c.id}, "term": {strconv.FormatInt(term, 10)}}
	if key != "" {
		q.Set("key", key)
	}
	// Not bound to ctx: a write sent late must reach the fence, which
	// is what fencing is for.
	resp, err := w.client.Post(w.c.fence+"?"+q.Encode(), "text/plain", nil)
	accepted := err == nil && resp.StatusCode == http.StatusOK
	if err == nil {
		_ = resp.Body.Close()
	}
	_ = ctx
	w.rec.Record(fault.Event{Proc: w.c.id, Kind: fault.KindWrite, Key: key, Term: term, T: sent, End: fault.Now(), Accepted: accepted})
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
