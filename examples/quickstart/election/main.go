// Command election is the README's quick start for leader election: run
// two or three copies against one storage account; one leads, and when you
// stop it (Ctrl-C) another takes over within a second.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The election is the lease of one container, created if missing.
	l, err := azlease.FromConnectionString(os.Getenv("AZURE_STORAGE_CONNECTION_STRING"),
		"quickstart-leader", &azlease.Options{CreateContainer: true})
	if err != nil {
		log.Fatal(err)
	}
	// The renewer holds the lease. Its identity defaults to hostname-PID;
	// renewer.WithIdentity(podName) names it yourself.
	r, err := renewer.New(l)
	if err != nil {
		log.Fatal(err)
	}
	e, err := election.New(r)
	if err != nil {
		log.Fatal(err)
	}
	// Run campaigns until ctx ends (Ctrl-C), then resigns: the next
	// candidate leads within a second.
	err = e.Run(ctx, election.Callbacks{
		OnElected: func(ctx context.Context, term int64) {
			// Lead until ctx is done; pass term with every write as
			// the fencing number.
			for ctx.Err() == nil {
				log.Printf("leading, term %d", term)
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
				}
			}
		},
		OnDemoted: func() { log.Print("no longer leading") },
		OnNewLeader: func(id string, term int64) {
			if id == "" { // nobody leads (between two leaders)
				return
			}
			log.Printf("leader: %s, term %d", id, term)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
}
