package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

// event is one line a candidate writes on its stdout for the demo to show.
type event struct {
	Event    string `json:"event"`              // campaigning, leader, elected, stepping-down, demoted, stopped
	Identity string `json:"identity,omitempty"` // leader: who leads ("" for no one)
	Term     int64  `json:"term,omitempty"`     // leader, elected: the term
	Reason   string `json:"reason,omitempty"`   // stepping-down: resigned or lost; stopped: an error
}

// emitter writes events as JSON lines; it is safe for concurrent use.
type emitter struct {
	mu  sync.Mutex // guards enc
	enc *json.Encoder
}

func (em *emitter) emit(ev event) {
	em.mu.Lock()
	defer em.mu.Unlock()
	_ = em.enc.Encode(ev) // the demo is gone if this fails; stdin's EOF stops us
}

// runCandidate is one candidate: it campaigns with election.Run until
// SIGINT, SIGTERM, or its stdin closes (the demo that started it has gone),
// then resigns and exits.
func runCandidate(args []string) error {
	fs := flag.NewFlagSet("demo candidate", flag.ContinueOnError)
	name := fs.String("name", "", "this candidate's identity (required)")
	var s settings
	s.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return &usageError{msg: "candidate: --name is required"}
	}
	l, err := newLeaser(s.container)
	if err != nil {
		return err
	}
	log := newLogger(s.verbose)
	defer func() { _ = log.Sync() }()
	r, err := renewer.New(l, renewer.WithIdentity(*name), renewer.WithDuration(s.lease),
		renewer.WithPollInterval(s.poll), renewer.WithLogger(log))
	if err != nil {
		return err
	}
	e, err := election.New(r, election.WithLogger(log))
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The demo holds our stdin open and never writes: EOF means it
		// has gone, and so should we. This goroutine ends with the process.
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()

	em := &emitter{enc: json.NewEncoder(os.Stdout)}
	em.emit(event{Event: "campaigning"})
	err = e.Run(ctx, election.Callbacks{
		OnElected: func(ctx context.Context, term int64) {
			em.emit(event{Event: "elected", Term: term})
			<-ctx.Done() // a real leader works here, passing term downstream
			reason := "resigned"
			if errors.Is(context.Cause(ctx), renewer.ErrLeaseLost) {
				reason = "lost: " + context.Cause(ctx).Error()
			}
			em.emit(event{Event: "stepping-down", Term: term, Reason: reason})
		},
		OnDemoted: func() { em.emit(event{Event: "demoted"}) },
		OnNewLeader: func(identity string, term int64) {
			em.emit(event{Event: "leader", Identity: identity, Term: term})
		},
	})
	ev := event{Event: "stopped"}
	if err != nil {
		ev.Reason = err.Error()
	}
	em.emit(ev)
	return err
}
