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
	System   string   `json:"system"`
	Kind     string   `json:"kind"` // election: Resign to the next Campaign's return; mutex: Unlock to the next Lock's return
	Setting  setting  `json:"setting"`
	Handoffs int      `json:"handoffs"`
	Failed   int      `json:"failed"`
	Latency  dist     `json:"latency"`
	Errors   []string `json:"errors,omitempty"`
	// Samples is every hand-over, in seconds.
	Samples []float64 `json:"samples_s"`
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

// leaseholdMutexSystem is leasehold's mutex at s, for the hand-over table
// (it has no crash runs and is not swept).
func leaseholdMutexSystem(s setting) system {
	return system{Name: "leasehold " + s.Name, Setting: s, Billed: true,
		newContender: func(_ context.Context, group, id string) (contender, error) {
			c := newCounter(newHTTPClient(4))
			l, err := newLeaser(connString(), group, c)
			if err != nil {
				return contender{}, err
			}
			m, err := s.newMutex(l, id)
			if err != nil {
				return contender{}, err
			}
			return contender{holder: mutexHolder{m}, counts: counterCounts(c), close: func() {}}, nil
		},
	}
}

// runHandoff measures pairs*rounds hand-overs of sys (kind: election or
// mutex): pairs run concurrently, each on its own container (or etcd
// prefix), handing the lead back and forth.
func runHandoff(ctx context.Context, kind string, sys system, pairs, rounds int, runID string) handoffResult {
	s := sys.Setting
	var (
		mu   sync.Mutex // guards lat and errs
		lat  []time.Duration
		errs []string
		wg   sync.WaitGroup
	)
	for p := range pairs {
		wg.Go(func() {
			name := fmt.Sprintf("lb-%s-ho-%s-%s-%d", runID, kind[:1], shortName(s), p)
			ds, err := handoffPair(ctx, sys, name, rounds)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, ds...)
			if err != nil {
				errs = append(errs, fmt.Sprintf("pair %d: %v", p, err))
			}
		})
	}
	wg.Wait()
	r := handoffResult{System: sys.Name, Kind: kind, Setting: s, Handoffs: len(lat), Failed: pairs*rounds - len(lat),
		Latency: newDist(lat), Errors: errs}
	for _, d := range lat {
		r.Samples = append(r.Samples, secs(d))
	}
	return r
}

func handoffPair(ctx context.Context, sys system, name string, rounds int) ([]time.Duration, error) {
	s := sys.Setting
	var hs [2]contender
	for i := range hs {
		// Each side has its own client, as separate processes would.
		c, err := sys.newContender(ctx, name, fmt.Sprintf("side-%d", i))
		if err != nil {
			return nil, err
		}
		defer c.close()
		hs[i] = c
	}
	// The waiter's poll period; etcd's standby watches, so any phase will do.
	poll := s.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
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
		time.Sleep(poll + rand.N(2*poll) + 100*time.Millisecond)
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
