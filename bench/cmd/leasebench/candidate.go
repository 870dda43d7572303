package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// candidateEvent is one line a candidate process writes on its stdout.
type candidateEvent struct {
	Event string `json:"event"` // elected, renewed, stopped
	Term  int64  `json:"term,omitempty"`
	Err   string `json:"err,omitempty"`
}

// runCandidate is the leader of a crash-failover run, as a process of its
// own so that it can be killed with SIGKILL: it campaigns once, says when it
// is elected and each time its lease is renewed, and resigns when its stdin
// closes (the bench has gone) or on SIGINT/SIGTERM.
func runCandidate(args []string) error {
	fs := flag.NewFlagSet("candidate", flag.ContinueOnError)
	name := fs.String("container", "", "container")
	id := fs.String("id", "leader", "identity")
	sname := fs.String("setting", settingDefaults.Name, "timing setting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := settingByName(*sname)
	if err != nil {
		return err
	}
	l, err := newLeaser(connString(), *name, newCounter(newHTTPClient(4)))
	if err != nil {
		return err
	}
	e, err := s.newElection(l, *id)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // EOF: the bench has gone
		cancel()
	}()
	enc := json.NewEncoder(os.Stdout)
	ld, err := e.Campaign(ctx)
	if err != nil {
		_ = enc.Encode(candidateEvent{Event: "stopped", Err: err.Error()})
		return err
	}
	_ = enc.Encode(candidateEvent{Event: "elected", Term: ld.Term()})
	// Report each renewal as it happens (within 5 ms), so the bench can
	// place the lease's expiry on its own clock.
	last := ld.LastRenewed()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ld.Done():
			err := context.Cause(ld.Context())
			_ = ld.Resign(context.Background())
			_ = enc.Encode(candidateEvent{Event: "stopped", Err: err.Error()})
			if errors.Is(err, renewer.ErrLeaseLost) {
				return err
			}
			return nil
		case <-ctx.Done():
			_ = ld.Resign(context.Background())
			_ = enc.Encode(candidateEvent{Event: "stopped"})
			return nil
		case <-tick.C:
			if lr := ld.LastRenewed(); !lr.Equal(last) {
				last = lr
				_ = enc.Encode(candidateEvent{Event: "renewed"})
			}
		}
	}
}

func connString() string { return os.Getenv("AZURE_STORAGE_CONNECTION_STRING") }

func requireConnString() error {
	if connString() == "" {
		return fmt.Errorf("AZURE_STORAGE_CONNECTION_STRING is not set: run `make bench`, which starts Azurite and sets it")
	}
	return nil
}
