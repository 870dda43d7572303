package renewer_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Hold a lease, act while the lease's context is live, and release it. In
// production the Leaser is an azlease.Leaser (package renewer/azlease), for
// example from azlease.FromConnectionString.
func Example() {
	ctx := context.Background()
	container := leasetest.New() // one Azure container, in memory

	r, err := renewer.New(container, renewer.WithIdentity("worker-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ls, err := r.Acquire(ctx) // blocks until held
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("holding term", ls.Term(), "as", ls.Identity())

	// Work under ls.Context(): it is cancelled, with a cause, before the
	// lease could pass to anyone else.
	select {
	case <-ls.Done():
		fmt.Println("lost:", errors.Is(context.Cause(ls.Context()), renewer.ErrLeaseLost))
	default:
		fmt.Println("still held")
	}

	if err := ls.Release(ctx); err != nil {
		fmt.Println(err)
	}
	st, _ := renewer.Inspect(ctx, container)
	fmt.Println("after release:", st.State, "last holder", st.Holder, "term", st.Term)
	// Output:
	// holding term 1 as worker-1
	// still held
	// after release: available last holder worker-1 term 1
}

// TryAcquire fails at once with ErrLeaseHeld while someone else holds the
// lease.
func ExampleRenewer_TryAcquire() {
	ctx := context.Background()
	container := leasetest.New()
	a, _ := renewer.New(container, renewer.WithIdentity("a"))
	b, _ := renewer.New(container, renewer.WithIdentity("b"))

	held, _ := a.TryAcquire(ctx)
	defer held.Release(ctx)

	_, err := b.TryAcquire(ctx)
	fmt.Println(errors.Is(err, renewer.ErrLeaseHeld))
	// Output: true
}
