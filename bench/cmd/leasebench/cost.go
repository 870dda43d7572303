package main

import (
	"context"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/election"
)

// listPricePer10k is the list price of 10,000 "Other" operations (hot tier,
// general-purpose v2), in US dollars.
const listPricePer10k = 0.0044

// hoursPerMonth is the month the dollar figures use: 730 h (365 × 24 / 12).
const hoursPerMonth = 730

// roleCost is one role's measured storage calls.
type roleCost struct {
	Role          string    `json:"role"` // leader or standby
	Calls         int64     `json:"calls"`
	ByOp          []opCount `json:"by_op"`
	PerHour       float64   `json:"calls_per_hour"`
	DollarsPerMon float64   `json:"usd_per_month"`
}

// costResult is the cost figure for one setting.
type costResult struct {
	Setting setting  `json:"setting"`
	WindowS float64  `json:"window_s"`
	Leader  roleCost `json:"leader"`
	Standby roleCost `json:"standby"`
	Err     string   `json:"error,omitempty"`
}

func perHour(calls int64, window time.Duration) float64 {
	return round(float64(calls)*float64(time.Hour)/float64(window), 0)
}

func dollarsPerMonth(callsPerHour float64) float64 {
	return round(callsPerHour*hoursPerMonth*listPricePer10k/10000, 3)
}

// runCost elects a leader, starts one standby, and counts each one's HTTP
// requests over window, after both have settled.
func runCost(ctx context.Context, s setting, window time.Duration, runID string) costResult {
	res := costResult{Setting: s, WindowS: window.Seconds()}
	name := fmt.Sprintf("lb-%s-cost-%s", runID, shortName(s))
	var counters [2]*counter
	var es [2]*election.Election
	for i, role := range []string{"leader", "standby"} {
		counters[i] = newCounter(newHTTPClient(4))
		l, err := newLeaser(connString(), name, counters[i])
		if err != nil {
			res.Err = err.Error()
			return res
		}
		if es[i], err = s.newElection(l, role); err != nil {
			res.Err = err.Error()
			return res
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	elected := make(chan string, 2)
	runs := make(chan error, 2)
	run := func(i int) {
		runs <- es[i].Run(rctx, election.Callbacks{OnElected: func(ctx context.Context, _ int64) {
			elected <- es[i].Identity()
			<-ctx.Done()
		}})
	}
	go run(0)
	select {
	case <-elected:
	case <-time.After(30 * time.Second):
		res.Err = "leader not elected"
		return res
	}
	go run(1)
	// Settle: the standby's first poll, the leader's first renewal.
	time.Sleep(2 * max(s.Poll, s.Renew))
	s0 := [2]snapshot{counters[0].snapshot(), counters[1].snapshot()}
	select {
	case who := <-elected:
		res.Err = "leadership moved during the window: " + who
	case <-time.After(window):
	case <-ctx.Done():
		res.Err = ctx.Err().Error()
	}
	for i, role := range []string{"leader", "standby"} {
		d := counters[i].snapshot().sub(s0[i])
		rc := roleCost{Role: role, Calls: d.total(), ByOp: d.byOp(), PerHour: perHour(d.total(), window)}
		rc.DollarsPerMon = dollarsPerMonth(rc.PerHour)
		if i == 0 {
			res.Leader = rc
		} else {
			res.Standby = rc
		}
	}
	cancel()
	<-runs
	<-runs
	return res
}
