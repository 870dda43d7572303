package mutex_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A Mutex takes its identity and timing from the Renewer it is built on;
// each Mutex needs a Renewer of its own.
func ExampleNew() {
	// In production, the container's lease through Azure:
	// c, err := azlease.FromConnectionString(conn, "nightly-report-lock", nil)
	c := leasetest.New()
	r, err := renewer.New(c, renewer.WithIdentity("nightly-report"))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := mutex.New(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Identity())

	// Infinite leases need break-on-timeout recovery.
	r, err = renewer.New(c, renewer.WithDuration(renewer.Infinite))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = mutex.New(r)
	fmt.Println(errors.Is(err, renewer.ErrInvalidOption))
	// Output:
	// nightly-report
	// true
}

func ExampleMutex_Lock() {
	ctx := context.Background()
	r, err := renewer.New(leasetest.New(), renewer.WithIdentity("worker-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := mutex.New(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	held, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Do the work under held.Context(): it is cancelled, with a cause
	// wrapping renewer.ErrLeaseLost, if the lock is lost.
	work := held.Context()
	fmt.Println("locked, term", held.Term(), "live:", work.Err() == nil)

	if err := held.Unlock(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("unlocked:", errors.Is(context.Cause(work), renewer.ErrReleased))
	fmt.Println("again:", held.Unlock(ctx))
	// Output:
	// locked, term 1 live: true
	// unlocked: true
	// again: mutex: unlock: already unlocked: lease released
}

func ExampleMutex_TryLock() {
	ctx := context.Background()
	c := leasetest.New()
	ra, _ := renewer.New(c, renewer.WithIdentity("a"))
	a, _ := mutex.New(ra)
	rb, _ := renewer.New(c, renewer.WithIdentity("b"))
	b, _ := mutex.New(rb)

	held, err := a.TryLock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = b.TryLock(ctx)
	fmt.Println("b locked out:", errors.Is(err, renewer.ErrLeaseHeld))
	_ = held.Unlock(ctx)

	held, err = b.TryLock(ctx)
	fmt.Println("b after a unlocked:", err == nil)
	_ = held.Unlock(ctx)
	// Output:
	// b locked out: true
	// b after a unlocked: true
}

// store is a downstream resource that fences writes: it rejects any write
// whose fencing number (the term) is lower than the highest it has
// accepted.
type store struct {
	mu      sync.Mutex // guards highest and value
	highest int64
	value   string
}

var errStale = errors.New("store: stale fencing token")

func (s *store) write(token int64, v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token < s.highest {
		return errStale
	}
	s.highest, s.value = token, v
	return nil
}

// A holder that paused past its lease and wakes up after the lock has
// passed on is stopped by the fencing token, not by the lock.
func ExampleHeld_Term() {
	ctx := context.Background()
	c := leasetest.New()
	var s store

	ra, _ := renewer.New(c, renewer.WithIdentity("a"))
	a, _ := mutex.New(ra)
	first, _ := a.Lock(ctx)
	_ = s.write(first.Term(), "from a")
	_ = first.Unlock(ctx)

	rb, _ := renewer.New(c, renewer.WithIdentity("b"))
	b, _ := mutex.New(rb)
	second, _ := b.Lock(ctx)
	_ = s.write(second.Term(), "from b")
	fmt.Println("terms increase:", second.Term() > first.Term())

	// a, paused and unaware, writes late with its old term.
	fmt.Println(s.write(first.Term(), "late from a"))
	fmt.Println(s.value)
	_ = second.Unlock(ctx)
	// Output:
	// terms increase: true
	// store: stale fencing token
	// from b
}

// Goroutines sharing one Mutex queue locally and hand the lease over
// without letting it go; each hold gets the next term.
func ExampleHeld_Unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := leasetest.New()
	r, _ := renewer.New(c)
	m, _ := mutex.New(r)

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex // guards terms
		terms []int64
	)
	for range 3 {
		wg.Go(func() {
			held, err := m.Lock(ctx)
			if err != nil {
				fmt.Println(err)
				return
			}
			mu.Lock()
			terms = append(terms, held.Term())
			mu.Unlock()
			_ = held.Unlock(ctx)
		})
	}
	wg.Wait()
	increasing := true
	for i := 1; i < len(terms); i++ {
		increasing = increasing && terms[i] == terms[i-1]+1
	}
	fmt.Println("holds:", len(terms), "terms +1 per hold:", increasing)
	fmt.Println("releases:", c.Calls(leasetest.OpRelease) >= 1)
	// Output:
	// holds: 3 terms +1 per hold: true
	// releases: true
}
