package semaphore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"github.com/leasehold/leasehold/semaphore"
)

// memory returns a Leasers over leasetest containers, one per lease name,
// shared by everyone who uses it: a storage account in memory.
func memory() semaphore.Leasers {
	var mu sync.Mutex
	cs := map[string]*leasetest.Container{}
	return func(name string) (renewer.Leaser, error) {
		mu.Lock()
		defer mu.Unlock()
		if cs[name] == nil {
			cs[name] = leasetest.New()
		}
		return cs[name], nil
	}
}

// Two encoders may run at once; a third is refused until one releases.
// In production the Leasers gives Azure leases, for example named locks
// (blob leases) in one container, listed with one call per poll:
//
//	cl, err := azlease.FromConnectionString(conn, "locks", &azlease.Options{CreateContainer: true})
//	lister, err := azlease.NewLister(cl.Client())
//	leasers := func(name string) (renewer.Leaser, error) { return cl.Blob(name) }
//	s, err := semaphore.New("encoders", 2, leasers, semaphore.WithLister(lister), ...)
func ExampleSemaphore_TryAcquire() {
	ctx := context.Background()
	leasers := memory()
	var held []*semaphore.Held
	for _, host := range []string{"host-a", "host-b", "host-c"} {
		s, err := semaphore.New("encoders", 2, leasers,
			semaphore.WithRenewerOptions(renewer.WithIdentity(host)))
		if err != nil {
			fmt.Println(err)
			return
		}
		h, err := s.TryAcquire(ctx)
		if errors.Is(err, renewer.ErrLeaseHeld) {
			fmt.Println(host, "waits: both slots are taken")
			continue
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(host, "holds a slot, term", h.Term())
		held = append(held, h)
	}
	for _, h := range held {
		if err := h.Release(ctx); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// host-a holds a slot, term 1
	// host-b holds a slot, term 1
	// host-c waits: both slots are taken
}

// K below 1 is refused with a clear error.
func ExampleNew() {
	_, err := semaphore.New("encoders", 0, memory())
	fmt.Println(err)
	fmt.Println(errors.Is(err, renewer.ErrInvalidOption))
	// Output:
	// semaphore: invalid option: slots 0: want K from 1 to 1000
	// true
}

func ExampleSemaphore_Acquire() {
	ctx := context.Background()
	s, err := semaphore.New("encoders", 3, memory(), semaphore.WithRenewerOptions(renewer.WithIdentity("host-a")))
	if err != nil {
		fmt.Println(err)
		return
	}
	held, err := s.Acquire(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Work under held.Context(): it is cancelled, with a cause wrapping
	// renewer.ErrLeaseLost, if the slot is lost. Fence writes with
	// (held.Slot(), held.Term()).
	work := held.Context()
	fmt.Println("term", held.Term(), "live:", work.Err() == nil)
	if err := held.Release(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("released:", errors.Is(context.Cause(work), renewer.ErrReleased))
	// Output:
	// term 1 live: true
	// released: true
}
