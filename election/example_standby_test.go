package election_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A profile picked by name: every candidate builds its renewer and its
// election from the same profile, with the next-in-line lease beside the
// election's. Here a leader and two standbys on in-memory leases: one
// standby holds the next-in-line seat (over Azure, two would), and when
// the leader resigns a standby takes over within a poll interval.
func ExampleProfile() {
	// Over Azure the next-in-line lease is a blob lease in the election's
	// container (a container lease does not block its blobs' leases):
	//	l, err := azlease.FromConnectionString(conn, "my-service-leader", nil)
	//	next, err := l.Blob("next-in-line")
	main, next := leasetest.New(), leasetest.New()
	p, err := election.ProfileNamed("fast-handover") // or "default", "low-cost"
	if err != nil {
		fmt.Println(err)
		return
	}
	candidate := func(id string) *election.Election {
		r, err := renewer.New(main, p.RenewerOptions(renewer.WithIdentity(id), renewer.WithLogger(zap.NewNop()))...)
		if err != nil {
			panic(err) // a fixed, valid configuration
		}
		e, err := election.New(r, p.Options(next)...)
		if err != nil {
			panic(err)
		}
		return e
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	leader, err := candidate("replica-1").Campaign(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("leader: replica-1, term", leader.Term())

	elected := make(chan string, 2)
	standbys := []*election.Election{candidate("replica-2"), candidate("replica-3")}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	for _, e := range standbys {
		wg.Go(func() {
			if ld, err := e.Campaign(ctx); err == nil {
				elected <- e.Identity()
				_ = ld.Resign(context.Background())
			}
		})
	}
	for !standbys[0].IsNextInLine() && !standbys[1].IsNextInLine() { // until one holds the seat
		time.Sleep(10 * time.Millisecond)
	}
	_ = leader.Resign(ctx)
	won := <-elected
	fmt.Println("a standby took over:", won == "replica-2" || won == "replica-3")
	// Output:
	// leader: replica-1, term 1
	// a standby took over: true
}
