package leasetest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

func ExampleNew() {
	const (
		alice = "a11ce000-0000-4000-8000-000000000000"
		bob   = "b0b00000-0000-4000-8000-000000000000"
	)
	ctx := context.Background()
	c := leasetest.New() // one container; share it between contenders

	id, err := c.Acquire(ctx, alice, 15*time.Second)
	fmt.Println("alice acquires:", id == alice, err)

	_, err = c.Acquire(ctx, bob, 15*time.Second)
	fmt.Println("bob is refused:", errors.Is(err, renewer.ErrLeaseAlreadyPresent))

	left, _ := c.Break(ctx, 0)
	fmt.Println("after a break:", c.State(), left)

	_, err = c.Renew(ctx, alice)
	fmt.Println("alice's renew says broken:", errors.Is(err, renewer.ErrLeaseBroken))

	id, _ = c.Acquire(ctx, bob, 15*time.Second)
	fmt.Println("bob acquires:", id == bob)
	// Output:
	// alice acquires: true <nil>
	// bob is refused: true
	// after a break: broken 0s
	// alice's renew says broken: true
	// bob acquires: true
}

func ExampleContainer_SetBefore() {
	const alice = "a11ce000-0000-4000-8000-000000000000"
	ctx := context.Background()
	c := leasetest.New()
	if _, err := c.Acquire(ctx, alice, 15*time.Second); err != nil {
		fmt.Println(err)
		return
	}

	// The storage account is busy: every renew fails, nothing else does.
	c.SetBefore(func(ctx context.Context, call leasetest.Call) error {
		if call.Op == leasetest.OpRenew {
			return fmt.Errorf("renew: %w", renewer.ErrThrottled)
		}
		return nil
	})
	_, err := c.Renew(ctx, alice)
	fmt.Println(err)
	fmt.Println("renews tried:", c.Calls(leasetest.OpRenew))
	// Output:
	// renew: renewer: storage is throttling or busy
	// renews tried: 1
}

func ExampleContainer_SetAfter() {
	const alice = "a11ce000-0000-4000-8000-000000000000"
	ctx := context.Background()
	c := leasetest.New()

	// The acquire reaches the service, but its answer is lost.
	c.SetAfter(func(ctx context.Context, call leasetest.Call, err error) error {
		if call.Op == leasetest.OpAcquire && err == nil {
			return context.DeadlineExceeded
		}
		return err
	})
	_, err := c.Acquire(ctx, alice, 15*time.Second)
	fmt.Println(err, c.State())
	// Output:
	// context deadline exceeded leased
}
