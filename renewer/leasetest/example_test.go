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
	fmt.Println("bob is refused:", errors.Is(err, renewer.ErrLeaseHeld))

	left, _ := c.Break(ctx, 0)
	fmt.Println("after a break:", c.State(), left)

	_, err = c.Renew(ctx, alice)
	fmt.Println("alice's renew says broken:", errors.Is(err, renewer.ErrNoLease))

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
	// renew: storage is throttling or busy
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

// One lease ID for two holdings: the first holding's release, sent after
// its lease was broken and delivered late, frees the second holding. With a
// fresh ID for the second holding, storage refuses the late release.
func ExampleFaulty_Network() {
	const (
		alice  = "a11ce000-0000-4000-8000-000000000000"
		alice2 = "a11ce000-0000-4000-8000-000000000002"
	)
	for _, second := range []string{alice, alice2} {
		c := leasetest.New()
		f := leasetest.Wrap(c)
		f.Network().SetLanded(func(l leasetest.Landing) {
			if l.Late {
				fmt.Printf("late %s lands: %v\n", l.Call.Op, l.Err)
			}
		})
		_, _ = f.Acquire(context.Background(), alice, 15*time.Second)
		_, _ = f.Break(context.Background(), 0) // the first holding ends

		f.Network().SetDelivery(func(call leasetest.Call) leasetest.Delivery {
			if call.Op == leasetest.OpRelease {
				return leasetest.Delivery{RequestDelay: 200 * time.Millisecond}
			}
			return leasetest.Delivery{}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		err := f.Release(ctx, alice) // the caller gives up; the request is on its way
		cancel()
		fmt.Println("release:", errors.Is(err, context.DeadlineExceeded))

		_, _ = f.Acquire(context.Background(), second, 15*time.Second) // the second holding
		_ = f.Network().Settle(context.Background())
		fmt.Println("second holding, same ID:", second == alice, "state:", c.State())
	}
	// Output:
	// release: true
	// late release lands: <nil>
	// second holding, same ID: true state: available
	// release: true
	// late release lands: leasetest: release: LeaseIdMismatchWithLeaseOperation: no lease with that ID is in force
	// second holding, same ID: false state: leased
}
