package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// errPartitioned is what a cut-off candidate's calls answer: a transient error,
// as a dropped connection would be.
var errPartitioned = errors.New("test: partitioned from storage")

// electCandidate is one election candidate of a test, with its own SDK client
// (as a separate process would have) behind a leasetest.Faulty.
type electCandidate struct {
	id   string
	e    *election.Election
	link *leasetest.Faulty
}

// newElectCandidates returns one candidate per id on the named container,
// each with its own Renewer over its own link, with the renewer options
// ropts (timing) after the identity and a logger to the test.
func newElectCandidates(t *testing.T, name string, ids []string, ropts ...renewer.Option) []*electCandidate {
	t.Helper()
	var out []*electCandidate
	for _, id := range ids {
		link := leasetest.Wrap(newLeaser(t, name))
		log := zaptest.NewLogger(t)
		o := append([]renewer.Option{renewer.WithIdentity(id), renewer.WithLogger(log)}, ropts...)
		r, err := renewer.New(link, o...)
		if err != nil {
			t.Fatal(err)
		}
		e, err := election.New(r, election.WithLogger(log))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &electCandidate{id: id, e: e, link: link})
	}
	return out
}

// electTerm is one leadership seen by an electLedger, on the test process's clock.
type electTerm struct {
	id      string
	term    int64
	elected time.Time
	ended   time.Time // when OnElected saw its context done; zero while live
	cause   error
}

// electLedger records every leadership of a test's candidates on one clock,
// each as a holding from the start of OnElected until it returns or the
// leadership's validity deadline passes, whichever comes first, for the
// overlap check (check).
type electLedger struct {
	t     *testing.T
	holds overlap.Recorder

	mu    sync.Mutex // guards terms
	terms []*electTerm
	// changed is closed and replaced on every new term; guarded by mu.
	changed chan struct{}
}

func newElectLedger(t *testing.T) *electLedger {
	return &electLedger{t: t, changed: make(chan struct{})}
}

// onElected returns an OnElected for candidate id of e that records the
// term, runs work (if any), then waits for the context to end.
func (l *electLedger) onElected(id string, e *election.Election, work func(ctx context.Context, term int64)) func(ctx context.Context, n int64) {
	return func(ctx context.Context, n int64) {
		ld := e.Leadership()
		deadline := time.Now // ended before OnElected began: no time as leader
		if ld != nil {
			deadline = ld.Deadline
		}
		hd := l.holds.Begin(ctx, fmt.Sprintf("%s term %d", id, n), deadline)
		tm := &electTerm{id: id, term: n, elected: time.Now()}
		l.mu.Lock()
		l.terms = append(l.terms, tm)
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
		if work != nil {
			work(ctx, n)
		}
		<-ctx.Done()
		l.holds.Stop(hd)
		l.mu.Lock()
		tm.ended, tm.cause = time.Now(), context.Cause(ctx)
		l.mu.Unlock()
	}
}

// check fails the test if two leaderships overlapped.
func (l *electLedger) check() {
	l.t.Helper()
	l.holds.Check(l.t)
}

// waitTerms waits until at least n terms were seen, or d passed, and
// returns a copy of the terms seen.
func (l *electLedger) waitTerms(n int, d time.Duration) []electTerm {
	deadline := time.After(d)
	for {
		l.mu.Lock()
		got, changed := len(l.terms), l.changed
		l.mu.Unlock()
		if got >= n {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			return l.snapshot()
		}
	}
	return l.snapshot()
}

func (l *electLedger) snapshot() []electTerm {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]electTerm, len(l.terms))
	for i, tm := range l.terms {
		out[i] = *tm
	}
	return out
}

// liveCount returns how many candidates lead now: have begun OnElected,
// and neither returned from it nor passed their validity deadline.
func (l *electLedger) liveCount() int { return l.holds.Live(overlap.Now()) }

// runElection runs every candidate's Run with OnElected from l and work, and
// returns a func that cancels them and waits for every Run to return nil.
func runElection(t *testing.T, cs []*electCandidate, l *electLedger, work func(c *electCandidate) func(context.Context, int64)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range cs {
		var w func(context.Context, int64)
		if work != nil {
			w = work(c)
		}
		wg.Go(func() {
			if err := c.e.Run(ctx, election.Callbacks{OnElected: l.onElected(c.id, c.e, w)}); err != nil {
				t.Errorf("%s: Run = %v", c.id, err)
			}
		})
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			l.check()
		})
	}
	t.Cleanup(stop)
	return stop
}
