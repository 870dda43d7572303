package integration_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"go.uber.org/zap"
)

// benchPoll is the poll interval of the contention benchmarks: short, so
// that hand-over latency shows the library's cost rather than the default
// 750 ms poll.
const benchPoll = 20 * time.Millisecond

// BenchmarkMutex measures lock/unlock cycles per second and hand-over
// latency (from a holder's Unlock call to the next holder's Lock return;
// handover counts every cycle, to-other only those where the lock passed to
// a different contender, other-share their fraction) with 1, 4 and 16
// contenders, each a separate Mutex with its own SDK
// client, as separate processes would be. b.N is the number of cycles in
// all. Run with `make`'s harness:
//
//	tools/azurite/with-azurite.sh go test -run '^$' -bench BenchmarkMutex -benchtime 300x ./integration/
func BenchmarkMutex(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("contenders=%d", n), func(b *testing.B) {
			name, _ := newContainer(b, "mutex-bench")
			ls := make([]*leasetest.Faulty, n)
			ms := make([]*mutex.Mutex, n)
			for i := range n {
				ls[i] = leasetest.Wrap(newLeaser(b, name))
				ms[i] = benchMutex(b, ls[i], fmt.Sprintf("contender-%d", i))
			}
			runCycles(b, ms, func() int64 {
				var calls int64
				for _, l := range ls {
					calls += l.Calls()
				}
				return calls
			})
		})
	}
}

// BenchmarkMutexLocal is BenchmarkMutex with the contenders as goroutines
// sharing one Mutex: hand-overs keep the lease, with no storage call.
func BenchmarkMutexLocal(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			name, _ := newContainer(b, "mutex-bench")
			l := leasetest.Wrap(newLeaser(b, name))
			m := benchMutex(b, l, "local")
			ms := make([]*mutex.Mutex, n)
			for i := range ms {
				ms[i] = m
			}
			runCycles(b, ms, l.Calls)
		})
	}
}

func benchMutex(b *testing.B, l *leasetest.Faulty, id string) *mutex.Mutex {
	r, err := renewer.New(l, renewer.WithIdentity(id), renewer.WithPollInterval(benchPoll), renewer.WithLogger(zap.NewNop()))
	if err != nil {
		b.Fatal(err)
	}
	m, err := mutex.New(r, mutex.WithLogger(zap.NewNop()))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// runCycles runs one goroutine per entry of ms, each locking and unlocking
// its Mutex until b.N cycles are done in all, and reports cycles/s, the
// hand-over latency's median and 99th percentile, and storage calls per
// cycle (calls reads the running total).
func runCycles(b *testing.B, ms []*mutex.Mutex, calls func() int64) {
	ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
	defer cancel()
	var (
		mu        sync.Mutex // guards the fields below; taken only inside the critical section
		done      int
		elapsed   time.Duration   // set when done reaches b.N
		unlocked  time.Time       // when the last holder called Unlock
		handovers []time.Duration // to any holder, the same one included
		others    []time.Duration // to a different contender only
		last      = -1            // the contender that held last
		wg        sync.WaitGroup
	)
	calls0 := calls()
	b.ResetTimer()
	start := time.Now()
	for i, m := range ms {
		wg.Go(func() {
			// After b.N cycles each contender takes the lock once more and
			// stops: cancelling a waiter's Lock mid-acquire could leave a
			// lease granted to no one until it expires.
			for {
				h, err := m.Lock(ctx)
				if err != nil {
					b.Errorf("Lock: %v", err)
					return
				}
				mu.Lock()
				stop := done >= b.N
				if !stop {
					if !unlocked.IsZero() {
						d := time.Since(unlocked)
						handovers = append(handovers, d)
						if i != last {
							others = append(others, d)
						}
					}
					last = i
					if done++; done == b.N {
						elapsed = time.Since(start)
					}
				}
				unlocked = time.Now()
				mu.Unlock()
				if err := h.Unlock(ctx); err != nil {
					b.Errorf("Unlock: %v", err)
					return
				}
				if stop {
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()

	b.ReportMetric(float64(done)/elapsed.Seconds(), "cycles/s")
	report := func(ds []time.Duration, unit string) {
		if len(ds) == 0 {
			return
		}
		slices.Sort(ds)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(ds[len(ds)/2]), unit+"-p50-ms")
		b.ReportMetric(ms(ds[len(ds)*99/100]), unit+"-p99-ms")
	}
	report(handovers, "handover")
	if len(ms) > 1 {
		report(others, "to-other")
		b.ReportMetric(float64(len(others))/float64(max(1, len(handovers))), "other-share")
	}
	b.ReportMetric(float64(calls()-calls0)/float64(done), "calls/cycle")
	b.ReportMetric(0, "ns/op")
}
