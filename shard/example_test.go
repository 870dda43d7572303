package shard_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"github.com/leasehold/leasehold/shard"
)

// memory returns a Leasers over leasetest containers, one per lease name,
// shared by everyone who uses it: a storage account in memory.
func memory() shard.Leasers {
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

// One member of a group of four partitions owns all of them while it is
// alone. In production the Leasers gives Azure leases, for example named
// locks (blob leases) in one container, listed with one call per poll:
//
//	cl, err := azlease.FromConnectionString(conn, "locks", &azlease.Options{CreateContainer: true})
//	lister, err := azlease.NewLister(cl.Client())
//	leasers := func(name string) (renewer.Leaser, error) { return cl.Blob(name) }
//	m, err := shard.New("orders", parts, leasers, shard.WithLister(lister), ...)
func ExampleMember_Run() {
	m, err := shard.New("orders", []string{"p0", "p1", "p2", "p3"}, memory(),
		shard.WithRenewerOptions(renewer.WithIdentity("worker-1")))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	started := 0
	all := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- m.Run(ctx, func(ctx context.Context, p shard.Partition) {
			mu.Lock()
			if started++; started == 4 {
				close(all)
			}
			mu.Unlock()
			// Consume partition p.Name, fencing writes with p.Term,
			// until ctx is done.
			<-ctx.Done()
		})
	}()
	<-all
	fmt.Println(m.Owned())
	cancel() // leave: every handler's context ends, every lease is released
	fmt.Println(<-done, m.Owned())
	// Output:
	// [p0 p1 p2 p3]
	// <nil> []
}

// Duplicate partition names are refused with a clear error.
func ExampleNew() {
	_, err := shard.New("orders", []string{"p0", "p1", "p0"}, memory())
	fmt.Println(err)
	fmt.Println(errors.Is(err, renewer.ErrInvalidOption))
	// Output:
	// shard: invalid option: partitions "p0": want unique names: partitions 0 and 2 are both "p0"
	// true
}

// Fair shares: 10 partitions over 4 members, the larger shares going to
// the members that own most, so that the fewest partitions move.
func ExampleShares() {
	sh := shard.Shares(10, map[string]int{"a": 4, "b": 3, "c": 3, "new": 0})
	fmt.Println(sh["a"], sh["b"], sh["c"], sh["new"])
	// Output: 3 3 2 2
}
