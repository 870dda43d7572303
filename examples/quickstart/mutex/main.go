// Command mutex is the README's quick start for the distributed mutex:
// each copy takes the lock, works, and releases it; copies in other
// processes or on other machines take turns.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The lock is the lease of one container, created if missing.
	l, err := azlease.FromConnectionString(os.Getenv("AZURE_STORAGE_CONNECTION_STRING"),
		"quickstart-lock", &azlease.Options{CreateContainer: true})
	if err != nil {
		log.Fatal(err)
	}
	r, err := renewer.New(l) // identity: hostname-PID
	if err != nil {
		log.Fatal(err)
	}
	m, err := mutex.New(r)
	if err != nil {
		log.Fatal(err)
	}
	held, err := m.Lock(ctx) // blocks until held, or ctx ends
	if err != nil {
		log.Fatal(err)
	}
	defer held.Unlock(context.Background()) // releases: a waiter elsewhere takes it at its next poll

	// Work while held.Context() lasts: it is cancelled, with a cause,
	// before the lock could pass to anyone else. The term is the fencing
	// number: a store that rejects lower terms rejects a stale holder.
	log.Printf("holding the lock, term %d", held.Term())
	select {
	case <-held.Context().Done():
		log.Printf("lost the lock: %v", context.Cause(held.Context()))
	case <-time.After(10 * time.Second):
		log.Print("done")
	}
}
