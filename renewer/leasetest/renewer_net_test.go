package leasetest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/putback"
	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A Renewer over a Faulty whose release reaches storage after the lease
// expired and the Renewer acquired again: with a fresh lease ID per holding
// the late release is refused and the new holding stays, so no one else
// can acquire. This is the check a unit test could not make while the fake
// dropped late requests.
func TestRenewerLateReleaseLandsOnAFreshID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		f := leasetest.Wrap(c)
		rec := recordLandings(f.Network())
		r, err := renewer.New(f, renewer.WithIdentity("a"))
		if err != nil {
			t.Fatal(err)
		}
		first, err := r.TryAcquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// The release takes 20 s to arrive; the Renewer's caller stops
		// waiting long before (its call timeout, or this 1 s).
		f.Network().SetDelivery(only(leasetest.OpRelease, leasetest.Delivery{RequestDelay: 20 * time.Second}))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_ = first.Release(ctx)
		f.Network().SetDelivery(nil)

		var second *renewer.Lease
		for range 30 {
			if ls, err := r.TryAcquire(t.Context()); err == nil {
				second = ls
				break
			}
			time.Sleep(time.Second)
		}
		if second == nil {
			t.Fatal("the Renewer did not acquire again within 30 s")
		}
		settle(t, f.Network())
		var late []leasetest.Landing
		ls, _ := rec.of(leasetest.OpRelease)
		for _, l := range ls {
			if l.Late {
				late = append(late, l)
			}
		}
		if len(late) != 1 || !errors.Is(late[0].Err, renewer.ErrNoLease) {
			t.Errorf("late releases %+v, want one, refused with ErrNoLease", late)
		}
		if err := second.Context().Err(); err != nil {
			t.Errorf("second holding ended: %v", context.Cause(second.Context()))
		}
		other, err := renewer.New(c, renewer.WithIdentity("b"))
		if err != nil {
			t.Fatal(err)
		}
		if ls, err := other.TryAcquire(t.Context()); err == nil {
			_ = ls.Release(t.Context())
			t.Error("another holder acquired while the second holding was live: two holders")
		}
		if err := second.Release(t.Context()); err != nil {
			t.Errorf("Release of the second holding: %v", err)
		}
	})
}

// A waiting Acquire (with a Watcher, as election and mutex wait) whose
// acquire was applied but whose answer was lost: the next polls read the
// lease as held. If the lease is the Acquire's own (the acquire landed as
// the lease was free), it asks again with the same ID and holds the lease
// at once, at term 1, instead of waiting a lease duration for a lease no
// one knows is held to expire. If the acquire landed on another's lease,
// asking again is refused and it waits for that lease to expire.
func TestWatchingAcquireTakesItsOwnLostAcquire(t *testing.T) {
	const d = 15 * time.Second
	t.Run("own lost acquire", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			took, term := ownLostAcquire(t, t.Context(), d)
			if took > 3*time.Second || term != 1 {
				t.Errorf("held after %v at term %d, want within a few polls at term 1 (the lease was its own)", took, term)
			}
		})
	})
	t.Run("landed on another's lease", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			took, term := lostAcquire(t, t.Context(), d, true)
			if took < d || term != 2 {
				t.Errorf("held after %v at term %d, want after b's lease (duration %v) expired, at term 2", took, term, d)
			}
		})
	})
}

// ownLostAcquire is lostAcquire on a free lease.
func ownLostAcquire(t *testing.T, ctx context.Context, d time.Duration) (time.Duration, int64) {
	t.Helper()
	return lostAcquire(t, ctx, d, false)
}

// lostAcquire runs, in a synctest bubble, a watching Acquire with ctx (and a
// poll interval of 500 ms) whose first acquire lands at 1 s and has its
// answer lost, and returns how long the Acquire took and the term it won.
// With another, b acquires at 0.5 s, before that acquire lands, and
// abandons its lease at 5.5 s (it expires by 20.5 s).
func lostAcquire(t *testing.T, ctx context.Context, d time.Duration, another bool) (time.Duration, int64) {
	t.Helper()
	c := leasetest.New()
	f := leasetest.Wrap(c)
	acquires := 0
	f.Network().SetDelivery(func(call leasetest.Call) leasetest.Delivery {
		if call.Op != leasetest.OpAcquire {
			return leasetest.Delivery{}
		}
		acquires++
		if acquires == 1 { // a's first: lands at 1 s, its answer lost
			return leasetest.Delivery{RequestDelay: time.Second, LoseAnswer: true}
		}
		return leasetest.Delivery{}
	})
	if another {
		rb, err := renewer.New(f, renewer.WithIdentity("b"), renewer.WithDuration(d))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(500 * time.Millisecond)
			other, err := rb.TryAcquire(t.Context())
			if err != nil {
				t.Errorf("b: %v", err)
				return
			}
			time.Sleep(5 * time.Second)
			_ = other.Abandon(t.Context()) // not released: expires by 20.5 s
		}()
	}
	r, err := renewer.New(f, renewer.WithIdentity("a"), renewer.WithDuration(d), renewer.WithPollInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ls, err := r.Acquire(ctx, renewer.Watching(func(renewer.Status, error) renewer.Verdict { return renewer.Verdict{} }))
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	term := ls.Term()
	if err := ls.Release(context.Background()); err != nil {
		t.Errorf("Release: %v", err)
	}
	return took, term
}

// A waiting Acquire whose link carries its requests at once but brings every
// answer back after the call timeout (the latency of fault scenario 4b, on a
// candidate): its acquires land, one of them takes the lease as it comes
// free, and it never learns. Asking again with the same ID succeeds on that
// lease and starts its duration again, so the lease must not stay held by
// no one for as long as the answers are late: the attempt gives its ID up
// after two unanswered acquires in a row (released, never proposed again)
// and goes on with a fresh one. A healthy candidate that starts waiting
// when the lease was taken that way gets in within T + C + 1.2 P: T is the
// slow candidate's time between two acquires (its call timeout C, a read's
// C with a Watcher, and its pause, at most 1.2 P), C the second acquire's
// timeout, after which it releases, and 1.2 P the healthy one's next poll.
// Without the give-up, the healthy candidate was kept out for good (more
// than the 10 lease durations it waits here), one ID taking the lease at
// every poll of the slow one.
func TestLateAnswersDoNotKeepALeaseNoOneHolds(t *testing.T) {
	for _, watching := range []bool{true, false} {
		name := "acquire at every poll"
		if watching {
			name = "watching"
		}
		t.Run(name, func(t *testing.T) {
			// The holder releases at one of several times, so that the
			// lease comes free at every phase of the slow candidate's
			// tries (the worst: just before the first try of a fresh ID).
			var worst lateOutcome
			for freeAt := 4 * time.Second; freeAt <= 16*time.Second; freeAt += 500 * time.Millisecond {
				synctest.Test(t, func(t *testing.T) {
					got := lateAnswers(t, wait.WithSeed(t.Context(), 4), watching, freeAt)
					switch {
					case got.err != nil:
						t.Errorf("free at %v: the healthy candidate was kept out for more than %v (%.0f lease durations; bound %v): the slow candidate's acquires took the lease %d times under one ID (%d IDs): %v",
							freeAt, got.waited, got.waited.Seconds()/lateD.Seconds(), got.bound, got.most, got.ids, got.err)
					case got.waited > got.bound:
						t.Errorf("free at %v: the healthy candidate was kept out for %v, want at most %v (T + C + 1.2 P); the slow candidate's acquires took the lease %d times under one ID",
							freeAt, got.waited, got.bound, got.most)
					}
					if watching && got.most > 1 {
						// With a Watcher the poll after an unanswered acquire
						// reads first; its read fails too (the answers are
						// late), and it sends no acquire on a failed read: it
						// gives the ID up instead, so no ID takes the lease twice.
						t.Errorf("free at %v: the slow candidate's acquires took the lease %d times under one ID, want once: no acquire after a failed read once acquires went unanswered", freeAt, got.most)
					}
					if got.most > 2 {
						t.Errorf("free at %v: the slow candidate's acquires took the lease %d times under one ID, want at most 2: an ID whose answers are late is given up after two tries", freeAt, got.most)
					}
					if got.waited > worst.waited {
						worst = got
					}
				})
			}
			t.Logf("the healthy candidate was kept out for at most %v (bound %v); the slow candidate's acquires took the lease %d times under one ID then",
				worst.waited, worst.bound, worst.most)
		})
	}
}

const lateD = 15 * time.Second // the lease duration of lateAnswers

// lateOutcome is what lateAnswers saw.
type lateOutcome struct {
	waited time.Duration // how long the healthy candidate waited
	err    error         // its Acquire's error: it waited 10 lease durations in vain
	bound  time.Duration // T + C + 1.2 P (see TestLateAnswersDoNotKeepALeaseNoOneHolds)
	most   int           // the most acquires of one slow ID that storage granted
	ids    int           // the slow IDs that storage granted an acquire
}

// lateAnswers runs the scenario of TestLateAnswersDoNotKeepALeaseNoOneHolds
// in a synctest bubble: a holder releases at freeAt; a slow candidate,
// acquiring with ctx since the start, gets every answer 3 s late (above its
// call timeout); a healthy candidate starts waiting when the first slow
// acquire takes the free lease, for at most 10 lease durations. It checks
// that nothing the slow candidate sent ends the healthy holding.
func lateAnswers(t *testing.T, ctx context.Context, watching bool, freeAt time.Duration) lateOutcome {
	t.Helper()
	const (
		late     = 3 * time.Second // every answer's delay: above the call timeout
		patience = 10 * lateD      // how long the healthy candidate waits at most
	)
	var opts []renewer.AcquireOption
	if watching {
		opts = append(opts, renewer.Watching(func(renewer.Status, error) renewer.Verdict { return renewer.Verdict{} }))
	}
	c := leasetest.New()
	slow := leasetest.Wrap(c)
	slow.Network().SetDelivery(func(leasetest.Call) leasetest.Delivery {
		return leasetest.Delivery{ResponseDelay: late}
	})
	var (
		mu    sync.Mutex
		taken = map[string]int{} // the slow candidate's acquires storage granted, by lease ID
		first = make(chan struct{})
	)
	slow.Network().SetLanded(func(l leasetest.Landing) {
		if l.Call.Op != leasetest.OpAcquire || l.Err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if len(taken) == 0 {
			close(first)
		}
		taken[l.Call.LeaseID]++
	})

	holder := acquireOn(t, c, "holder", lateD)
	rs, err := renewer.New(slow, renewer.WithIdentity("slow"), renewer.WithDuration(lateD))
	if err != nil {
		t.Fatal(err)
	}
	tm := rs.Timing()
	if tm.CallTimeout >= late {
		t.Fatalf("call timeout %v: want it below the answers' delay %v", tm.CallTimeout, late)
	}
	slowCtx, stopSlow := context.WithCancel(ctx)
	defer stopSlow()
	slowDone := make(chan error, 1)
	go func() {
		ls, err := rs.Acquire(slowCtx, opts...)
		if err == nil {
			_ = ls.Release(context.Background())
			err = errors.New("the slow candidate got an answer")
		}
		slowDone <- err
	}()

	time.Sleep(freeAt)
	if err := holder.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Fatal("the slow candidate's acquire did not take the free lease within a minute")
	}

	// The healthy candidate starts waiting as the lease is taken by an
	// acquire whose answer will come back too late.
	start := time.Now()
	rh, err := renewer.New(c, renewer.WithIdentity("healthy"), renewer.WithDuration(lateD))
	if err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	ls, err := rh.Acquire(hctx, opts...)
	out := lateOutcome{waited: time.Since(start), err: err}

	gap := tm.CallTimeout + tm.PollInterval*6/5 // T: a call, then a pause
	if watching {
		gap += tm.CallTimeout // and a read before each acquire
	}
	out.bound = gap + tm.CallTimeout + tm.PollInterval*6/5
	mu.Lock()
	for _, n := range taken {
		out.most = max(out.most, n)
	}
	out.ids = len(taken)
	mu.Unlock()

	stopSlow()
	select {
	case err := <-slowDone:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("slow candidate's Acquire = %v, want it cancelled", err)
		}
	case <-time.After(time.Minute):
		t.Error("the slow candidate's Acquire did not return within a minute of its ctx's end")
	}
	settle(t, slow.Network())
	if ls != nil {
		if err := ls.Context().Err(); err != nil {
			t.Errorf("healthy holding ended: %v", context.Cause(ls.Context()))
		}
		if err := ls.Release(ctx); err != nil {
			t.Errorf("Release of the healthy holding: %v", err)
		}
	}
	return out
}

// The lost-acquire bug put back for the simulation's self-test
// (putback.NoReask, read from the Acquire's context): no asking again after
// an acquire whose outcome is unknown, and no giving the ID up early. The
// scenarios of TestWatchingAcquireTakesItsOwnLostAcquire and
// TestLateAnswersDoNotKeepALeaseNoOneHolds then behave as before their
// fixes: the own lost acquire is waited out (a lease duration), and the
// slow candidate keeps the healthy one out for good. A context without the
// hook, checked beside each, does neither.
func TestPutBackNoReask(t *testing.T) {
	t.Run("own lost acquire", func(t *testing.T) {
		for _, put := range []bool{false, true} {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				if put {
					ctx = putback.With(ctx, putback.NoReask)
				}
				took, term := ownLostAcquire(t, ctx, lateD)
				switch {
				case put && (took < lateD || term != 1):
					t.Errorf("put back: held after %v at term %d, want the lease (duration %v) waited out, at term 1", took, term, lateD)
				case !put && took > 3*time.Second:
					t.Errorf("without the hook: held after %v, want within a few polls", took)
				}
				t.Logf("put back %v: held after %v", put, took)
			})
		}
	})
	t.Run("late answers", func(t *testing.T) {
		for _, put := range []bool{false, true} {
			synctest.Test(t, func(t *testing.T) {
				ctx := wait.WithSeed(t.Context(), 4)
				if put {
					ctx = putback.With(ctx, putback.NoReask)
				}
				got := lateAnswers(t, ctx, true, 20*time.Second)
				switch {
				case put && (got.err == nil || got.most <= 2):
					t.Errorf("put back: the healthy candidate waited %v (%v), one slow ID took the lease %d times; want it kept out for 10 lease durations, one ID taking the lease at every poll",
						got.waited, got.err, got.most)
				case !put && (got.err != nil || got.waited > got.bound):
					t.Errorf("without the hook: the healthy candidate waited %v (%v), want at most %v", got.waited, got.err, got.bound)
				}
				t.Logf("put back %v: the healthy candidate waited %v (error: %v); one slow ID took the lease up to %d times", put, got.waited, got.err, got.most)
			})
		}
	})
}

// acquireOn acquires c's lease for identity, with no network in between.
func acquireOn(t *testing.T, c *leasetest.Container, identity string, d time.Duration) *renewer.Lease {
	t.Helper()
	r, err := renewer.New(c, renewer.WithIdentity(identity), renewer.WithDuration(d))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := r.TryAcquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ls
}
