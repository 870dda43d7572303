package election_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Run campaigns and calls back as leadership comes and goes. Here the only
// candidate is elected at once; its work ends the program, and Run resigns
// before it returns.
func Example() {
	// In production, the container's lease through Azure:
	// c, err := azlease.FromConnectionString(conn, "my-service-leader", nil)
	c := leasetest.New()
	r, err := renewer.New(c, renewer.WithIdentity("replica-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := election.New(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	err = e.Run(ctx, election.Callbacks{
		OnNewLeader: func(identity string, term int64) {
			if identity == "" {
				fmt.Println("no leader")
				return
			}
			fmt.Printf("leader: %s, term %d\n", identity, term)
		},
		OnElected: func(ctx context.Context, term int64) {
			fmt.Printf("elected: term %d\n", term)
			// Lead until ctx is done, passing term to every store as a
			// fencing token. Here the work is done at once:
			stop()
			<-ctx.Done()
			fmt.Println("stopping:", context.Cause(ctx))
		},
		OnDemoted: func() { fmt.Println("demoted") },
	})
	fmt.Println("Run:", err, "| lease:", c.State())
	// Output:
	// no leader
	// leader: replica-1, term 1
	// elected: term 1
	// stopping: lease released: context canceled
	// demoted
	// Run: <nil> | lease: available
}

// Campaign blocks until the candidate leads; the Leadership's context ends
// when the term does.
func ExampleElection_Campaign() {
	c := leasetest.New()
	// Each candidate has a Renewer of its own.
	ra, _ := renewer.New(c, renewer.WithIdentity("replica-a"))
	a, _ := election.New(ra)
	rb, _ := renewer.New(c, renewer.WithIdentity("replica-b"))
	b, _ := election.New(rb)
	ctx := context.Background()

	ld, err := a.Campaign(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s leads, term %d\n", ld.Identity(), ld.Term())
	l, _ := b.Leader(ctx)
	fmt.Printf("b sees %s, term %d\n", l.Identity, l.Term)

	_ = ld.Resign(ctx) // stop acting first, then release
	fmt.Println("after Resign:", context.Cause(ld.Context()))
	_, err = b.Leader(ctx)
	fmt.Println(errors.Is(err, election.ErrNoLeader))

	lb, _ := b.Campaign(ctx)
	fmt.Printf("%s leads, term %d\n", lb.Identity(), lb.Term())
	_ = lb.Resign(ctx)
	// Output:
	// replica-a leads, term 1
	// b sees replica-a, term 1
	// after Resign: lease released
	// true
	// replica-b leads, term 2
}

// Observe follows the leader: the current one first, then each change,
// including to no leader (the zero Leader).
func ExampleElection_Observe() {
	c := leasetest.New()
	rw, _ := renewer.New(c, renewer.WithIdentity("dashboard"), renewer.WithPollInterval(10*time.Millisecond))
	watcher, _ := election.New(rw)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leaders := watcher.Observe(ctx)
	fmt.Printf("%+v\n", <-leaders)

	rc, _ := renewer.New(c, renewer.WithIdentity("replica-a"), renewer.WithPayload("http://127.0.0.1:8081"))
	candidate, _ := election.New(rc)
	ld, _ := candidate.Campaign(ctx)
	fmt.Printf("%+v\n", <-leaders)
	_ = ld.Resign(ctx)
	fmt.Printf("%+v\n", <-leaders)
	// Output:
	// {Identity: Term:0 Payload:}
	// {Identity:replica-a Term:1 Payload:http://127.0.0.1:8081}
	// {Identity: Term:0 Payload:}
}
