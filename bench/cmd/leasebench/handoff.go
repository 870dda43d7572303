package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/mutex"
)

// handoffResult is the graceful hand-over figure for one kind (election or
// mutex) and setting.
type handoffResult struct {
	Kind     string   `json:"kind"` // election: Resign to the next Campaign's return; mutex: Unlock to the next Lock's return
	Setting  setting  `json:"setting"`
	Handoffs int      `json:"handoffs"`
	Failed   int      `json:"failed"`
	Latency  dist     `json:"latency"`
	Errors   []string `json:"errors,omitempty"`
}

// holder is one side of a hand-over pair: take blocks until this side
// holds; the func it returns gives the lease up.
type holder interface {
	take(ctx context.Context) (giveUp func(context.Context) error, err error)
}

type electionHolder struct{ e *election.Election }

func (h electionHolder) take(ctx context.Context) (func(context.Context) error, error) {
	ld, err := h.e.Campaign(ctx)
	if err != nil {
		return nil, err
	}
	return ld.Resign, nil
}

type mutexHolder struct{ m *mutex.Mutex }

func (h mutexHolder) take(ctx context.Context) (func(context.Context) error, error) {
	held, err := h.m.Lock(ctx)
	if err != nil {
		return nil, err
	}
	return held.Unlock, nil
}

func newPair(kind string, s setting, name string) ([2]holder, error) {
	var hs [2]holder
	for i := range hs {
		// Each side has its own SDK client, as separate processes would.
		l, err := newLeaser(connString(), name, newCounter(newHTTPClient(4)))
		if err != nil {
			return hs, err
		}
		id := fmt.Sprintf("side-%d", i)
		switch kind {
		case "election":
			e, err := s.newElection(l, id)
			if err != nil {
				return hs, err
			}
			hs[i] = electionHolder{e}
		default:
			m, err := s.newMutex(l, id)
			if err != nil {
				return hs, err
			}
			hs[i] = mutexHolder{m}
		}
	}
	return hs, nil
}

// runHandoff measures pairs*rounds hand-overs of kind at s: pairs run
// concurrently, each on its own container, handing the lease back and forth.
func runHandoff(ctx context.Context, kind string, s setting, pairs, rounds int, runID string) handoffResult {
	var (
		mu   sync.Mutex // guards lat and errs
		lat  []time.Duration
		errs []string
		wg   sync.WaitGroup
	)
	for p := range pairs {
		wg.Go(func() {
			name := fmt.Sprintf("lb-%s-ho-%s-%s-%d", runID, kind[:1], shortName(s), p)
			ds, err := handoffPair(ctx, kind, s, name, rounds)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, ds...)
			if err != nil {
				errs = append(errs, fmt.Sprintf("pair %d: %v", p, err))
			}
		})
	}
	wg.Wait()
	return handoffResult{Kind: kind, Setting: s, Handoffs: len(lat), Failed: pairs*rounds - len(lat),
		Latency: newDist(lat), Errors: errs}
}

func handoffPair(ctx context.Context, kind string, s setting, name string, rounds int) ([]time.Duration, error) {
	hs, err := newPair(kind, s, name)
	if err != nil {
		return nil, err
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	giveUp, err := hs[0].take(tctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("first take: %w", err)
	}
	var out []time.Duration
	defer func() { _ = giveUp(context.Background()) }()
	for r := range rounds {
		next := hs[(r+1)%2]
		type taken struct {
			at     time.Time
			giveUp func(context.Context) error
			err    error
		}
		ch := make(chan taken, 1)
		wctx, cancel := context.WithTimeout(ctx, s.Lease+30*time.Second)
		go func() {
			g, err := next.take(wctx)
			ch <- taken{time.Now(), g, err}
		}()
		// Let the waiter poll at least once, and give up at a random
		// phase of its poll cycle.
		time.Sleep(s.Poll + rand.N(2*s.Poll) + 100*time.Millisecond)
		start := time.Now()
		if err := giveUp(ctx); err != nil {
			cancel()
			return out, fmt.Errorf("round %d: give up: %w", r, err)
		}
		t := <-ch
		cancel()
		if t.err != nil {
			return out, fmt.Errorf("round %d: take: %w", r, t.err)
		}
		out = append(out, t.at.Sub(start))
		giveUp = t.giveUp
	}
	return out, nil
}
