package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/shard"
)

// The shard section: rebalancing of a shard group whose members are
// processes of their own (`leasebench shardmember`), each partition a named
// lock (a blob lease) in one container, each member reading the group with
// one List Blobs call per poll (shard.WithLister). The bench joins, stops
// and kills (SIGKILL) members and measures, for each event, the time until
// the group is balanced again and how many partitions moved, against the
// minimum fairness requires. Every member reports when each of its
// handlers starts and returns; a checker then verifies that no partition
// ever had two owners at once.

// shardLine is one line a member process writes on its stdout, stamped
// with its wall clock (every process of the bench runs on one host, so
// the stamps share one clock).
type shardLine struct {
	Ev   string `json:"ev"`             // start (about to join), own (a handler started), drop (it returned), exit
	P    string `json:"p,omitempty"`    // partition
	Term int64  `json:"term,omitempty"` // the ownership's fencing number
	T    int64  `json:"t"`              // unix ns
	Err  string `json:"err,omitempty"`
}

// runShardMember is one member of the shard group, as a process of its own
// so that it can be killed with SIGKILL. It leaves the group gracefully
// when its stdin closes (or on SIGINT/SIGTERM) and exits once Run returned.
func runShardMember(args []string) error {
	fs := flag.NewFlagSet("shardmember", flag.ContinueOnError)
	cname := fs.String("container", "", "container of the group's named locks")
	id := fs.String("id", "", "member identity")
	parts := fs.Int("partitions", 64, "partitions")
	slots := fs.Int("slots", 5, "member slots (shard.WithMaxMembers)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cname == "" || *id == "" {
		return fmt.Errorf("shardmember: -container and -id are required")
	}
	base, err := newLeaser(connString(), *cname, newCounter(newHTTPClient(8)))
	if err != nil {
		return err
	}
	lister, err := azlease.NewLister(base.Client())
	if err != nil {
		return err
	}
	m, err := shard.New(shardGroup, partitionNames(*parts),
		func(name string) (renewer.Leaser, error) { return base.Blob(name) },
		shard.WithLister(lister), shard.WithMaxMembers(*slots),
		shard.WithRenewerOptions(renewer.WithIdentity(*id)))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // EOF: leave the group
		cancel()
	}()
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout) // unbuffered: each line is written at once
	emit := func(l shardLine) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(l)
	}
	emit(shardLine{Ev: "start", T: time.Now().UnixNano()})
	err = m.Run(ctx, func(ctx context.Context, p shard.Partition) {
		// Stamped as the handler starts (after the acquire) and as it
		// returns (before the release): the ownership the user's code sees.
		emit(shardLine{Ev: "own", P: p.Name, Term: p.Term, T: time.Now().UnixNano()})
		<-ctx.Done()
		emit(shardLine{Ev: "drop", P: p.Name, Term: p.Term, T: time.Now().UnixNano()})
	})
	l := shardLine{Ev: "exit", T: time.Now().UnixNano()}
	if err != nil {
		l.Err = err.Error()
	}
	emit(l)
	return err
}

const shardGroup = "g"

func partitionNames(n int) []string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("p%02d", i)
	}
	return ps
}

// shardEvent is one entry of the section's event log: a member's line, or
// one the bench adds (leave: it closed the member's stdin; kill: it sent
// SIGKILL, T; Dead: when the process was reaped).
type shardEvent struct {
	Member string
	shardLine
	Dead int64
}

// ownInterval is one ownership of a partition by a member: from its
// handler's start to its return (for a killed member, to when its process
// was reaped: later than it could have acted, so conservative).
type ownInterval struct {
	P, Member  string
	Term       int64
	Start, End int64 // unix ns
}

// intervals pairs own and drop lines into ownership intervals. An
// ownership never closed ends at its member's death, or else at end.
func intervals(log []shardEvent, end int64) []ownInterval {
	type key struct {
		m, p string
		term int64
	}
	open := map[key]int{}
	var ivs []ownInterval
	dead := map[string]int64{}
	for _, e := range log {
		switch e.Ev {
		case "own":
			open[key{e.Member, e.P, e.Term}] = len(ivs)
			ivs = append(ivs, ownInterval{P: e.P, Member: e.Member, Term: e.Term, Start: e.T, End: -1})
		case "drop":
			k := key{e.Member, e.P, e.Term}
			if i, ok := open[k]; ok {
				ivs[i].End = e.T
				delete(open, k)
			}
		case "kill":
			dead[e.Member] = e.Dead
		}
	}
	for _, i := range open {
		ivs[i].End = end
		if d, ok := dead[ivs[i].Member]; ok {
			ivs[i].End = d
		}
	}
	return ivs
}

// checkOwnership returns every violation of "never two owners of a
// partition at once" in ivs: two intervals of one partition that overlap,
// or a later ownership whose term is not above every earlier one's.
func checkOwnership(ivs []ownInterval) []string {
	by := map[string][]ownInterval{}
	for _, iv := range ivs {
		by[iv.P] = append(by[iv.P], iv)
	}
	names := make([]string, 0, len(by))
	for p := range by {
		names = append(names, p)
	}
	slices.Sort(names)
	var bad []string
	for _, p := range names {
		s := by[p]
		slices.SortFunc(s, func(a, b ownInterval) int { return cmp.Compare(a.Start, b.Start) })
		var last ownInterval // the interval that ends last so far
		for i, iv := range s {
			if i > 0 {
				if iv.Start < last.End {
					bad = append(bad, fmt.Sprintf("partition %s: %s (term %d) owned it from %s while %s (term %d) owned it until %s",
						p, iv.Member, iv.Term, stamp(iv.Start), last.Member, last.Term, stamp(last.End)))
				}
				if iv.Term <= s[i-1].Term {
					bad = append(bad, fmt.Sprintf("partition %s: %s's term %d (from %s) is not above the previous owner %s's term %d",
						p, iv.Member, iv.Term, stamp(iv.Start), s[i-1].Member, s[i-1].Term))
				}
			}
			if i == 0 || iv.End > last.End {
				last = iv
			}
		}
	}
	return bad
}

func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format("15:04:05.000000") }

// groupState is the group as the event log says it was at one moment.
type groupState struct {
	live   map[string]bool   // members started and neither stopped nor killed
	dead   map[string]bool   // members killed
	owners map[string]string // partition -> member
}

func newGroupState() groupState {
	return groupState{live: map[string]bool{}, dead: map[string]bool{}, owners: map[string]string{}}
}

func (g groupState) counts() map[string]int {
	c := map[string]int{}
	for m := range g.live {
		c[m] = 0
	}
	for _, m := range g.owners {
		c[m]++
	}
	return c
}

// balanced says whether every partition is owned by a live member and
// every live member owns floor(P/n) or ceil(P/n) of them.
func (g groupState) balanced(p int) bool {
	n := len(g.live)
	if n == 0 || len(g.owners) != p {
		return false
	}
	for _, m := range g.owners {
		if !g.live[m] {
			return false
		}
	}
	for m := range g.live {
		c := g.counts()[m]
		if c < p/n || c > (p+n-1)/n {
			return false
		}
	}
	return true
}

func (g groupState) apply(e shardEvent) {
	switch e.Ev {
	case "start":
		g.live[e.Member] = true
	case "leave":
		delete(g.live, e.Member)
	case "kill":
		delete(g.live, e.Member)
		g.dead[e.Member] = true
		for p, m := range g.owners {
			if m == e.Member {
				delete(g.owners, p) // its handlers died with it
			}
		}
	case "own":
		if !g.dead[e.Member] { // a line stamped between the bench's stamp and the SIGKILL
			g.owners[e.P] = e.Member
		}
	case "drop":
		if g.owners[e.P] == e.Member {
			delete(g.owners, e.P)
		}
	}
}

// analyzeEvent replays log (sorted by T) up to end and measures the event
// at index at: the time from it to the last moment the group became
// balanced (it must be balanced at end), the handler starts in between
// (partitions moved) and the minimum number of moves a balanced group
// needed from the state just before the event.
//
// first is the time from the event to the first move it caused: for a
// join, the newcomer's first handler start; for a leave or a kill, the
// first handler start of a partition the departed member owned (after a
// kill, about when its leases expired); -1 if none.
func analyzeEvent(log []shardEvent, at int, end int64, p int) (balance, first time.Duration, moved, minimum int, ok bool) {
	g := newGroupState()
	for _, e := range log[:at] {
		g.apply(e)
	}
	ev := log[at]
	before := g.counts()
	// The minimum: the departed member's partitions, plus whatever the
	// staying members own above the shares a balanced group gives them.
	stay := map[string]int{}
	for m, c := range before {
		if m != ev.Member {
			stay[m] = c
		}
	}
	if ev.Ev == "start" {
		stay[ev.Member] = 0
	} else {
		minimum = before[ev.Member]
	}
	for m, s := range shard.Shares(p, stay) {
		minimum += max(0, stay[m]-s)
	}
	had := map[string]bool{}
	for q, m := range g.owners {
		had[q] = m == ev.Member
	}
	first = -1
	since := int64(-1)
	for _, e := range log[at:] {
		if e.T > end {
			break
		}
		was := g.balanced(p)
		g.apply(e)
		if e.Ev == "own" && e.T > ev.T && !g.dead[e.Member] {
			moved++
			if first < 0 && (ev.Ev == "start" && e.Member == ev.Member || ev.Ev != "start" && e.Member != ev.Member && had[e.P]) {
				first = time.Duration(e.T - ev.T)
			}
		}
		if now := g.balanced(p); now && !was {
			since = e.T
		}
	}
	if !g.balanced(p) || since < 0 {
		return 0, first, moved, minimum, false
	}
	return time.Duration(since - ev.T), first, moved, minimum, true
}

// shardRun is one measured event.
type shardRun struct {
	Event    string  `json:"event"` // join, leave, kill
	Rep      int     `json:"rep"`
	Members  string  `json:"member"`
	BalanceS float64 `json:"balance_s"`
	FirstS   float64 `json:"first_move_s"`
	Moved    int     `json:"moved"`
	Minimum  int     `json:"minimum"`
	Err      string  `json:"err,omitempty"`
}

// shardSummary sums up one kind of event.
type shardSummary struct {
	Event      string `json:"event"`
	Balance    dist   `json:"time_to_balance"`
	First      dist   `json:"time_to_first_move"`
	MovedP50   int    `json:"moved_p50"`
	MovedMax   int    `json:"moved_max"`
	MinimumP50 int    `json:"minimum_p50"`
	MinimumMax int    `json:"minimum_max"`
	Excess     int    `json:"moves_above_minimum_total"`
	Failed     int    `json:"failed"`
}

// shardResult is the shard section.
type shardResult struct {
	Partitions int            `json:"partitions"`
	Members    int            `json:"members"`
	Slots      int            `json:"member_slots"`
	Reps       int            `json:"reps"`
	Setting    string         `json:"setting"`
	LeaseS     float64        `json:"lease_s"`
	PollS      float64        `json:"poll_s"`
	Summary    []shardSummary `json:"summary"`
	Runs       []shardRun     `json:"runs"`
	Intervals  int            `json:"ownership_intervals"`
	Double     int            `json:"double_ownership"`
	Violations []string       `json:"violations,omitempty"`
	Errors     []string       `json:"errors,omitempty"`
}

// shardBench is the parent side: it runs members members of a group of p
// partitions and, reps times, stops one (graceful leave), starts one
// (join), kills one (SIGKILL) and starts one (join), each measured once
// the group has stayed balanced for settle.
func shardBench(ctx context.Context, p, members, reps int, runID string, logf func(string, ...any)) shardResult {
	const settle = 3 * time.Second
	slots := members + 1
	res := shardResult{Partitions: p, Members: members, Slots: slots, Reps: reps, Setting: settingDefaults.String(),
		LeaseS: settingDefaults.LeaseS, PollS: settingDefaults.PollS}
	cname := "lb-" + runID + "-shard"
	var (
		mu          sync.Mutex
		log         []shardEvent
		lastArrival time.Time
	)
	add := func(e shardEvent) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, e)
		lastArrival = time.Now()
	}
	procs := map[string]*child{}
	var order []string // live members, oldest first
	next := 0
	var readers sync.WaitGroup
	start := func() (string, error) {
		next++
		id := "m" + strconv.Itoa(next)
		c, err := startChild("shardmember", "-container", cname, "-id", id,
			"-partitions", strconv.Itoa(p), "-slots", strconv.Itoa(slots))
		if err != nil {
			return "", err
		}
		procs[id] = c
		order = append(order, id)
		started := make(chan struct{})
		readers.Go(func() {
			for l := range c.lines {
				var sl shardLine
				if err := json.Unmarshal(l.line, &sl); err != nil {
					continue
				}
				if sl.Ev == "exit" && sl.Err != "" {
					mu.Lock()
					res.Errors = append(res.Errors, id+": "+sl.Err)
					mu.Unlock()
				}
				add(shardEvent{Member: id, shardLine: sl})
				if sl.Ev == "start" {
					close(started)
				}
			}
		})
		select {
		case <-started:
			return id, nil
		case <-time.After(time.Minute):
			return id, fmt.Errorf("member %s did not start within a minute", id)
		}
	}
	snapshot := func() ([]shardEvent, time.Time) {
		mu.Lock()
		defer mu.Unlock()
		s := slices.Clone(log)
		slices.SortStableFunc(s, func(a, b shardEvent) int { return cmp.Compare(a.T, b.T) })
		return s, lastArrival
	}
	// await waits until the group has been balanced for settle, then
	// measures the event at time evT of member m.
	await := func(kind, m string, evT int64, timeout time.Duration) (shardRun, error) {
		r := shardRun{Event: kind, Members: m}
		deadline := time.Now().Add(timeout)
		for {
			s, last := snapshot()
			g := newGroupState()
			for _, e := range s {
				g.apply(e)
			}
			now := time.Now()
			if g.balanced(p) && now.Sub(last) >= settle && now.Sub(time.Unix(0, evT)) >= settle {
				at := slices.IndexFunc(s, func(e shardEvent) bool { return e.Member == m && e.T == evT })
				if at < 0 {
					return r, fmt.Errorf("%s of %s: event not in the log", kind, m)
				}
				d, first, moved, minimum, ok := analyzeEvent(s, at, now.UnixNano(), p)
				r.BalanceS, r.FirstS, r.Moved, r.Minimum = secs(d), secs(first), moved, minimum
				if !ok {
					return r, fmt.Errorf("%s of %s: not balanced in the replay", kind, m)
				}
				return r, nil
			}
			if now.After(deadline) || ctx.Err() != nil {
				return r, fmt.Errorf("%s of %s: not balanced within %v (live %d, owned %d of %d)", kind, m, timeout, len(g.live), len(g.owners), p)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	join := func() (shardRun, error) {
		id, err := start()
		if err != nil {
			return shardRun{Event: "join", Members: id}, err
		}
		s, _ := snapshot()
		i := slices.IndexFunc(s, func(e shardEvent) bool { return e.Member == id && e.Ev == "start" })
		return await("join", id, s[i].T, time.Minute)
	}
	var exits sync.WaitGroup
	leave := func() (shardRun, error) {
		id := order[0]
		order = order[1:]
		t := time.Now().UnixNano()
		add(shardEvent{Member: id, shardLine: shardLine{Ev: "leave", T: t}})
		c := procs[id]
		exits.Go(func() { c.stop(time.Minute) })
		return await("leave", id, t, time.Minute)
	}
	kill := func() (shardRun, error) {
		id := order[0]
		order = order[1:]
		t := time.Now().UnixNano()
		procs[id].kill()
		add(shardEvent{Member: id, shardLine: shardLine{Ev: "kill", T: t}, Dead: time.Now().UnixNano()})
		return await("kill", id, t, 4*settingDefaults.Lease)
	}
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		res.Errors = append(res.Errors, err.Error())
	}

	for range members {
		if _, err := start(); err != nil {
			fail(err)
			killAllShard(procs)
			return res
		}
	}
	s, _ := snapshot()
	lastStart := s[slices.IndexFunc(s, func(e shardEvent) bool { return e.Ev == "start" && e.Member == order[len(order)-1] })]
	if _, err := await("start", lastStart.Member, lastStart.T, 2*time.Minute); err != nil {
		fail(fmt.Errorf("initial balance: %w", err))
		killAllShard(procs)
		return res
	}
	logf("shard: %d members balanced over %d partitions", members, p)
	for rep := 1; rep <= reps && ctx.Err() == nil; rep++ {
		for _, ev := range []func() (shardRun, error){leave, join, kill, join} {
			r, err := ev()
			r.Rep = rep
			if err != nil {
				r.Err = err.Error()
				fail(err)
			}
			logf("shard rep %d: %s of %s: balanced in %.2f s, %d moved (minimum %d)%s", rep, r.Event, r.Members, r.BalanceS, r.Moved, r.Minimum, errSuffix(r.Err))
			res.Runs = append(res.Runs, r)
			if ctx.Err() != nil {
				break
			}
		}
	}
	// Every member leaves gracefully; their last lines are read.
	for _, id := range order {
		c := procs[id]
		exits.Go(func() { c.stop(time.Minute) })
	}
	exits.Wait()
	readers.Wait()
	s, _ = snapshot()
	ivs := intervals(s, time.Now().UnixNano())
	res.Intervals = len(ivs)
	res.Violations = checkOwnership(ivs)
	res.Double = len(res.Violations)
	if len(res.Violations) > 20 {
		res.Violations = res.Violations[:20]
	}
	res.Summary = summarizeShard(res.Runs)
	return res
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

func killAllShard(procs map[string]*child) {
	for _, c := range procs {
		c.kill()
	}
}

func summarizeShard(runs []shardRun) []shardSummary {
	var out []shardSummary
	for _, kind := range []string{"join", "leave", "kill"} {
		s := shardSummary{Event: kind}
		var ds, fs []time.Duration
		var moved, mins []int
		for _, r := range runs {
			if r.Event != kind {
				continue
			}
			if r.Err != "" {
				s.Failed++
				continue
			}
			ds = append(ds, time.Duration(r.BalanceS*float64(time.Second)))
			if r.FirstS >= 0 {
				fs = append(fs, time.Duration(r.FirstS*float64(time.Second)))
			}
			moved = append(moved, r.Moved)
			mins = append(mins, r.Minimum)
			s.Excess += r.Moved - r.Minimum
		}
		s.Balance, s.First = newDist(ds), newDist(fs)
		s.MovedP50, s.MovedMax = p50Max(moved)
		s.MinimumP50, s.MinimumMax = p50Max(mins)
		out = append(out, s)
	}
	return out
}

// p50Max returns the median (nearest rank) and the maximum of xs.
func p50Max(xs []int) (int, int) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)+1)/2-1], s[len(s)-1]
}

func printShard(r shardResult) {
	fmt.Println("### Shard rebalancing")
	fmt.Println()
	fmt.Printf("%d member processes, %d partitions (`shard`, each partition and member slot a named lock in one container, `shard.WithLister`: one List Blobs per member per poll; %d member slots; settings %s). %d repetitions of: a graceful leave (the member's Run context ends), a join (a new process), a kill -9 (SIGKILL), a join. Time to balance: from the event (leave: the bench tells the member to stop; join: the new process is about to call Run; kill: SIGKILL) to the moment every partition is owned by a live member and each owns floor or ceil of P/n, the group then staying so for 3 s. First move: to the first partition handler started because of the event (join: the newcomer's first; leave, kill: the first of the departed member's partitions taken by another). Moved: partition handlers started in that time; minimum: the moves a balanced group needs from the state before the event.\n",
		r.Members, r.Partitions, r.Slots, r.Setting, r.Reps)
	fmt.Println()
	fmt.Println("| event | runs | time to balance p50 / max | first move p50 / max | partitions moved p50 / max | minimum p50 / max | moves above minimum (all runs) | floor |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	floors := map[string]string{"join": "—", "leave": "—", "kill": "its leases expire L after their last renew: L − R to L after the kill"}
	for _, s := range r.Summary {
		failed := ""
		if s.Failed > 0 {
			failed = fmt.Sprintf(" (+%d failed)", s.Failed)
		}
		fmt.Printf("| %s | %d%s | %s / %s | %s / %s | %d / %d | %d / %d | %d | %s |\n", s.Event, s.Balance.N, failed,
			sec(s.Balance.P50), sec(s.Balance.Max), sec(s.First.P50), sec(s.First.Max), s.MovedP50, s.MovedMax, s.MinimumP50, s.MinimumMax, s.Excess, floors[s.Event])
	}
	fmt.Println()
	fmt.Printf("Double ownership: %d (a checker over %d ownership intervals: each from a handler's start to its return, a killed member's open ones to when its process was reaped; no two intervals of one partition may overlap and terms must increase).\n", r.Double, r.Intervals)
	fmt.Println()
	for _, v := range r.Violations {
		fmt.Printf("  violation: %s\n", v)
	}
	for _, e := range r.Errors {
		fmt.Printf("  error: %s\n", e)
	}
}
