package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leasehold/leasehold/election"
)

// List prices in US dollars per 10,000 operations, hot tier, general-purpose
// v2, LRS, East US. ASSUMED: the official pricing page could not be read
// where this was written; these are the figures of a third-party summary of
// the list prices (2026-05) and the prices the README quoted before. Which
// operation is which type is Microsoft's own table ("Map each REST operation
// to a price", 2025-05-14): Lease Blob/Container and Get Container
// Properties are "Other", Get Blob is "Read", Put Blob is "Write".
const (
	priceOtherPer10k = 0.0044
	priceReadPer10k  = 0.0044
	priceWritePer10k = 0.055
)

// hoursPerMonth is the month the dollar figures use: 730 h (365 × 24 / 12).
const hoursPerMonth = 730

// pricePer10k is the list price of 10,000 operations op.
func pricePer10k(op string) float64 {
	switch op {
	case opGetBlob:
		return priceReadPer10k
	case opPutBlob, opCreate, opList:
		return priceWritePer10k // List Blobs is billed with the writes ("list and create container")
	}
	return priceOtherPer10k
}

// roleCost is one role's measured calls (for etcd: gRPC requests).
type roleCost struct {
	Role          string    `json:"role"` // leader, or the N standbys together
	Calls         int64     `json:"calls"`
	ByOp          []opCount `json:"by_op"`
	PerHour       float64   `json:"calls_per_hour"`
	DollarsPerMon float64   `json:"usd_per_month,omitempty"` // zero for etcd
}

// costResult is one system with one leader and N standbys.
type costResult struct {
	System   string   `json:"system"`
	Setting  setting  `json:"setting"`
	Standbys int      `json:"standbys"`
	WindowS  float64  `json:"window_s"`
	Billed   bool     `json:"billed"`
	Leader   roleCost `json:"leader"`
	Standby  roleCost `json:"standbys_total"`
	// PerStandbyPerHour is the standbys' calls an hour divided by N.
	PerStandbyPerHour float64 `json:"calls_per_hour_per_standby"`
	TotalPerHour      float64 `json:"calls_per_hour_total"`
	TotalDollarsPerMo float64 `json:"usd_per_month_total,omitempty"`
	Err               string  `json:"error,omitempty"`
}

func perHour(calls int64, window time.Duration) float64 {
	return round(float64(calls)*float64(time.Hour)/float64(window), 0)
}

// dollarsPerMonth prices the calls counted over window, by operation, as a
// month of the same.
func dollarsPerMonth(ops []opCount, window time.Duration) float64 {
	var d float64
	for _, o := range ops {
		d += float64(o.Calls) * pricePer10k(o.Op) / 10000
	}
	return round(d*hoursPerMonth*float64(time.Hour)/float64(window), 3)
}

func diffCounts(a, b map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, v := range a {
		if v-b[k] != 0 {
			d[k] = v - b[k]
		}
	}
	return d
}

func toOpCounts(m map[string]int64) ([]opCount, int64) {
	var out []opCount
	var total int64
	for k, v := range m {
		out = append(out, opCount{Op: k, Calls: v})
		total += v
	}
	slices.SortFunc(out, func(a, b opCount) int {
		if a.Calls != b.Calls {
			return int(b.Calls - a.Calls)
		}
		if a.Op < b.Op {
			return -1
		}
		return 1
	})
	return out, total
}

// runCost elects a leader of sys, starts n standbys, and counts every
// member's calls over window once they have settled.
func runCost(ctx context.Context, sys system, n int, window time.Duration, runID string) costResult {
	s := sys.Setting
	res := costResult{System: sys.Name, Setting: s, Standbys: n, WindowS: window.Seconds(), Billed: sys.Billed}
	name := fmt.Sprintf("lb-%s-cost-%s-%d", runID, shortName(s), n)
	members := make([]contender, 0, n+1)
	defer func() {
		for _, m := range members {
			m.close()
		}
	}()
	for i := range n + 1 {
		id := "leader"
		if i > 0 {
			id = fmt.Sprintf("standby-%d", i)
		}
		m, err := sys.newContender(ctx, name, id)
		if err != nil {
			res.Err = err.Error()
			return res
		}
		members = append(members, m)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tctx, tcancel := context.WithTimeout(rctx, 30*time.Second)
	giveUp, err := members[0].take(tctx)
	tcancel()
	if err != nil {
		res.Err = "leader not elected: " + err.Error()
		return res
	}
	defer func() { _ = giveUp(context.Background()) }()
	moved := make(chan string, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			g, err := members[i].take(rctx)
			if err == nil {
				moved <- fmt.Sprintf("standby-%d", i)
				<-rctx.Done()
				_ = g(context.Background())
			}
		})
	}
	// Settle: every standby's first tries, the leader's renewals.
	// With seats: two standbys take them at their first poll, and a
	// low-cost one reads a heartbeat within R; 20 s covers both. And a
	// new leasehold campaign polls every P for its first NextDuration +
	// Retry whatever its seat (about 120 calls per campaign start, not a
	// steady cost): the window starts after that.
	time.Sleep(max(2*max(s.Poll*22/10, s.Renew)+time.Second, 20*time.Second, newCampaignPolling(sys)))
	s0 := make([]map[string]int64, len(members))
	for i, m := range members {
		s0[i] = m.counts()
	}
	select {
	case who := <-moved:
		res.Err = "leadership moved during the window: " + who
	case <-time.After(window):
	case <-ctx.Done():
		res.Err = ctx.Err().Error()
	}
	standbys := map[string]int64{}
	for i, m := range members {
		d := diffCounts(m.counts(), s0[i])
		if i == 0 {
			ops, total := toOpCounts(d)
			res.Leader = roleCost{Role: "leader", Calls: total, ByOp: ops, PerHour: perHour(total, window)}
			continue
		}
		for k, v := range d {
			standbys[k] += v
		}
	}
	ops, total := toOpCounts(standbys)
	res.Standby = roleCost{Role: fmt.Sprintf("%d standbys", n), Calls: total, ByOp: ops, PerHour: perHour(total, window)}
	if n > 0 {
		res.PerStandbyPerHour = round(res.Standby.PerHour/float64(n), 0)
	}
	res.TotalPerHour = res.Leader.PerHour + res.Standby.PerHour
	if sys.Billed {
		res.Leader.DollarsPerMon = dollarsPerMonth(res.Leader.ByOp, window)
		res.Standby.DollarsPerMon = dollarsPerMonth(res.Standby.ByOp, window)
		res.TotalDollarsPerMo = round(res.Leader.DollarsPerMon+res.Standby.DollarsPerMon, 3)
	}
	return res
}

// newCampaignPolling is how long a new campaign of sys polls every P
// whatever its seat (election.Standby: its first NextDuration + Retry), and
// 5 s more; 0 for a system without seats.
func newCampaignPolling(sys system) time.Duration {
	s := sys.Setting
	if !strings.HasPrefix(sys.Name, "leasehold") || s.NoNext {
		return 0
	}
	st := election.ProfileDefault.Standby
	if s.Profile != nil {
		st = s.Profile.Standby
	}
	return cmp.Or(st.NextDuration, election.DefaultNextDuration) + cmp.Or(st.Retry, election.DefaultRetry) + 5*time.Second
}
