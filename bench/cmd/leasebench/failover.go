package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/leasehold/leasehold/election"
)

// crashSample is one crash-failover run.
type crashSample struct {
	failover    time.Duration // SIGKILL to the standby's OnElected
	sinceRenew  time.Duration // last renewal the leader reported to SIGKILL
	afterExpiry time.Duration // estimated lease expiry (last renewal + L) to OnElected
}

// crashResult is the crash-failover figure for one system.
type crashResult struct {
	System   string  `json:"system"`
	Setting  setting `json:"setting"`
	Runs     int     `json:"runs"`
	Failed   int     `json:"failed"`
	Failover dist    `json:"failover"`
	// Ratio is each failover percentile divided by the floor L.
	RatioP50 float64 `json:"ratio_p50_to_L"`
	RatioP95 float64 `json:"ratio_p95_to_L"`
	RatioMax float64 `json:"ratio_max_to_L"`
	// SinceRenew: how long before the kill the leader's last renewal was
	// (uniform over the renew interval by construction); AfterExpiry: from
	// the lease's expiry on the service (estimated, ±10 ms) to OnElected,
	// which is the standby's poll delay plus its acquisition.
	SinceRenew  dist     `json:"since_last_renew_at_kill"`
	AfterExpiry dist     `json:"expiry_to_elected"`
	Errors      []string `json:"errors,omitempty"`
	// Samples is every failover, in seconds, in the order they ended.
	Samples []float64 `json:"samples_s"`
}

// runCrash runs n crash-failover runs of sys concurrently, each on an
// election (a container, or an etcd prefix) of its own.
func runCrash(ctx context.Context, sys system, n int, runID string) crashResult {
	s := sys.Setting
	var (
		mu      sync.Mutex // guards samples and errs
		samples []crashSample
		errs    []string
		wg      sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			// Stagger the starts a little, so that the leaders' renewals
			// and the kills do not all land in the same millisecond.
			time.Sleep(time.Duration(i) * 50 * time.Millisecond)
			name := fmt.Sprintf("lb-%s-crash-%s-%02d", runID, shortName(s), i)
			sm, err := sys.crashOnce(ctx, name)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("run %d: %v", i, err))
				return
			}
			samples = append(samples, sm)
		})
	}
	wg.Wait()
	r := crashResult{System: sys.Name, Setting: s, Runs: n, Failed: len(errs), Errors: errs}
	var fo, sr, ae []time.Duration
	for _, sm := range samples {
		fo, sr, ae = append(fo, sm.failover), append(sr, sm.sinceRenew), append(ae, sm.afterExpiry)
		r.Samples = append(r.Samples, secs(sm.failover))
	}
	r.Failover, r.SinceRenew, r.AfterExpiry = newDist(fo), newDist(sr), newDist(ae)
	L := s.Lease.Seconds()
	r.RatioP50, r.RatioP95, r.RatioMax = round(r.Failover.P50/L, 3), round(r.Failover.P95/L, 3), round(r.Failover.Max/L, 3)
	return r
}

// shortName names s in container names and etcd prefixes.
func shortName(s setting) string {
	switch s.Name {
	case "client-go":
		return "cg"
	case settingDefaults.Name:
		return "def"
	}
	return s.Name
}

// crashOnce: the leader (a child process) is elected; a standby starts and
// sees it; after a random pause the leader is killed with SIGKILL, and the
// time until the standby's OnElected is the failover.
func crashOnce(ctx context.Context, s setting, name string) (crashSample, error) {
	leader, err := startChild("candidate", "-container", name, "-setting", s.Name, "-id", "leader")
	if err != nil {
		return crashSample{}, err
	}
	defer leader.stop(5 * time.Second)
	var ev candidateEvent
	if _, err := leader.nextEvent(&ev, 30*time.Second); err != nil || ev.Event != "elected" {
		return crashSample{}, fmt.Errorf("leader not elected: %v %+v", err, ev)
	}
	// Follow the leader's renewals on our clock.
	var (
		mu        sync.Mutex // guards lastRenew
		lastRenew = time.Now()
	)
	go func() {
		for l := range leader.lines {
			var ev candidateEvent
			if json.Unmarshal(l.line, &ev) == nil && ev.Event == "renewed" {
				mu.Lock()
				lastRenew = l.at
				mu.Unlock()
			}
		}
	}()

	l, err := newLeaser(connString(), name, newCounter(newHTTPClient(4)))
	if err != nil {
		return crashSample{}, err
	}
	e, err := s.newElection(l, "standby")
	if err != nil {
		return crashSample{}, err
	}
	sawLeader := make(chan struct{}, 1)
	elected := make(chan time.Time, 1)
	rctx, cancel := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() {
		runDone <- e.Run(rctx, election.Callbacks{
			OnElected: func(ctx context.Context, _ int64) {
				elected <- time.Now()
				<-ctx.Done()
			},
			OnNewLeader: func(id string, _ int64) {
				if id == "leader" {
					select {
					case sawLeader <- struct{}{}:
					default:
					}
				}
			},
		})
	}()
	defer func() {
		cancel()
		<-runDone
	}()
	select {
	case <-sawLeader:
	case t := <-elected:
		_ = t
		return crashSample{}, fmt.Errorf("standby elected while the leader lived")
	case <-time.After(3*s.Poll + 10*time.Second):
		return crashSample{}, fmt.Errorf("standby never saw the leader")
	case <-ctx.Done():
		return crashSample{}, ctx.Err()
	}
	// Kill at a random phase of the renew cycle.
	time.Sleep(s.Renew + rand.N(s.Renew))
	mu.Lock()
	renewed := lastRenew
	mu.Unlock()
	killed := time.Now()
	leader.kill()
	select {
	case at := <-elected:
		return crashSample{
			failover:    at.Sub(killed),
			sinceRenew:  killed.Sub(renewed),
			afterExpiry: at.Sub(renewed.Add(s.Lease)),
		}, nil
	case <-time.After(s.Lease + 3*s.Poll + 15*time.Second):
		return crashSample{}, fmt.Errorf("no takeover within %v of the kill", s.Lease+3*s.Poll+15*time.Second)
	case <-ctx.Done():
		return crashSample{}, ctx.Err()
	}
}
