package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// The rollout sections measure what users of an election feel while its
// candidates come and go, not from a steady state: a rolling restart of
// every candidate, a crash followed by a graceful stop of the new leader,
// and two crashes at once. Each run is an election of its own (a
// container, or an etcd prefix) whose candidates report their leading
// spans to a timeline; leaderless time is what no span covers.

// rollOptions are the rollout sections' settings.
type rollOptions struct {
	Rollouts   int           `json:"rollouts"`   // rolling restarts per system
	Lanes      int           `json:"lanes"`      // elections per system the rollouts are spread over (run concurrently)
	Candidates int           `json:"candidates"` // candidates of a rolling restart
	GapRuns    int           `json:"gap_runs"`   // runs per system of crash-resign and of two-crashes (concurrent)
	GapCands   int           `json:"gap_candidates"`
	Down       time.Duration `json:"-"` // how long a restarted candidate stays down
	Up         time.Duration `json:"-"` // from a new incarnation's start to the next candidate's stop
	Settle     time.Duration `json:"-"` // pause with a leader before each rollout and each gap run
	Jitter     time.Duration `json:"-"` // plus a random pause up to this long
	Pause      time.Duration `json:"-"` // crash-resign: from the new leader's election to its graceful stop
	PauseRand  time.Duration `json:"-"` // plus a random part up to this long
	Timeout    time.Duration `json:"-"` // longest wait for a leader
	DownS      float64       `json:"down_s"`
	UpS        float64       `json:"up_s"`
	SettleS    float64       `json:"settle_s"`
	JitterS    float64       `json:"settle_jitter_s"`
	PauseS     float64       `json:"pause_s"`
	PauseRandS float64       `json:"pause_random_s"`
	TimeoutS   float64       `json:"timeout_s"`
}

func (o rollOptions) check() error {
	switch {
	case o.Rollouts < 1 || o.Rollouts > 1000:
		return fmt.Errorf("-rollouts %d: want 1 to 1000", o.Rollouts)
	case o.Lanes < 1 || o.Lanes > o.Rollouts:
		return fmt.Errorf("-roll-lanes %d: want 1 to -rollouts (%d)", o.Lanes, o.Rollouts)
	case o.Candidates < 2 || o.Candidates > 20:
		return fmt.Errorf("-roll-candidates %d: want 2 to 20", o.Candidates)
	case o.GapRuns < 1 || o.GapRuns > 100:
		return fmt.Errorf("-gap-runs %d: want 1 to 100", o.GapRuns)
	case o.GapCands < 3 || o.GapCands > 20:
		return fmt.Errorf("-gap-candidates %d: want 3 to 20", o.GapCands)
	case o.Pause < 0 || o.Pause > 5*time.Minute:
		return fmt.Errorf("-crash-resign-after %v: want 0 to 5m", o.Pause)
	case o.PauseRand < 0 || o.PauseRand > time.Minute:
		return fmt.Errorf("-crash-resign-random %v: want 0 to 1m", o.PauseRand)
	case o.Timeout < 10*time.Second || o.Timeout > 30*time.Minute:
		return fmt.Errorf("-leader-timeout %v: want 10s to 30m", o.Timeout)
	case o.Down < 0 || o.Down > 5*time.Minute:
		return fmt.Errorf("-roll-down %v: want 0 to 5m", o.Down)
	case o.Up < 0 || o.Up > 5*time.Minute:
		return fmt.Errorf("-roll-up %v: want 0 to 5m", o.Up)
	case o.Settle < 0 || o.Settle > 5*time.Minute:
		return fmt.Errorf("-roll-settle %v: want 0 to 5m", o.Settle)
	case o.Jitter < 0 || o.Jitter > 5*time.Minute:
		return fmt.Errorf("-roll-settle-jitter %v: want 0 to 5m", o.Jitter)
	}
	return nil
}

// settle sleeps Settle plus a random part of Jitter, so that the
// backbenchers' retries (every 30 s, from their start) come at a random
// phase of what follows.
func (o rollOptions) settle() {
	d := o.Settle
	if o.Jitter > 0 {
		d += rand.N(o.Jitter)
	}
	time.Sleep(d)
}

// rollSample is one rolling restart.
type rollSample struct {
	LeaderlessS float64 `json:"leaderless_s"`  // total time no candidate led
	LongestS    float64 `json:"longest_gap_s"` // the longest single stretch of it
	Calls       int64   `json:"calls"`         // storage calls of every incarnation during the rollout
	DurationS   float64 `json:"duration_s"`    // first stop to a leader after the last restart
	LeaderPos   int     `json:"leader_pos"`    // when the leader was restarted: 1 first, ... (0: unknown)
}

// countDist is a distribution of counts, by nearest rank.
type countDist struct {
	P50 int64 `json:"p50"`
	P95 int64 `json:"p95"`
	Max int64 `json:"max"`
}

func newCountDist(xs []int64) countDist {
	if len(xs) == 0 {
		return countDist{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := func(p float64) int64 { return s[max(0, min(int(math.Ceil(p*float64(len(s))))-1, len(s)-1))] }
	return countDist{P50: rank(0.5), P95: rank(0.95), Max: s[len(s)-1]}
}

// rollResult is the rolling-restart figure of one system.
type rollResult struct {
	System     string       `json:"system"`
	Setting    setting      `json:"setting"`
	Rollouts   int          `json:"rollouts"`
	Failed     int          `json:"failed"`
	Leaderless dist         `json:"leaderless"`
	Longest    dist         `json:"longest_gap"`
	Calls      countDist    `json:"calls"`
	Duration   dist         `json:"duration"`
	Errors     []string     `json:"errors,omitempty"`
	Samples    []rollSample `json:"samples"`
}

// gapResult is the figure of one system in crash-resign or two-crashes.
type gapResult struct {
	System  string  `json:"system"`
	Section string  `json:"section"` // crash-resign or two-crashes
	Setting setting `json:"setting"`
	Runs    int     `json:"runs"`
	Failed  int     `json:"failed"`
	// First: crash-resign's first gap, from the leader's crash to the next
	// leader leading (not set for two-crashes).
	First dist `json:"first,omitempty"`
	// Gap: crash-resign: from the graceful stop of the new leader to the
	// next leader leading; two-crashes: from the crash to a leader.
	Gap     dist      `json:"gap"`
	Errors  []string  `json:"errors,omitempty"`
	Samples []float64 `json:"samples_s"` // every Gap, in seconds
}

// rollGroup is the candidates of one election of a rollout section, one
// slot each; a slot's incarnations follow one another.
type rollGroup struct {
	ctx   context.Context
	sys   system
	name  string
	tl    *timeline
	slots []rollSlot
}

type rollSlot struct {
	m    member // nil while down
	who  string
	inc  int
	base int64 // calls of m when the current rollout began (0 if born in it)
}

func newRollGroup(ctx context.Context, sys system, name string, n int) (*rollGroup, error) {
	g := &rollGroup{ctx: ctx, sys: sys, name: name, tl: newTimeline(), slots: make([]rollSlot, n)}
	for i := range n {
		if err := g.start(i); err != nil {
			g.close()
			return nil, err
		}
	}
	return g, nil
}

// start starts slot i's next incarnation.
func (g *rollGroup) start(i int) error {
	s := &g.slots[i]
	s.inc++
	s.who = fmt.Sprintf("c%d-%d", i, s.inc)
	m, err := g.sys.newMember(g.ctx, g.name, s.who, g.tl)
	if err != nil {
		return fmt.Errorf("start %s: %w", s.who, err)
	}
	s.m, s.base = m, 0
	return nil
}

// slotOf returns the slot whose current incarnation is who, or -1.
func (g *rollGroup) slotOf(who string) int {
	return slices.IndexFunc(g.slots, func(s rollSlot) bool { return s.m != nil && s.who == who })
}

// leaderSlot waits up to the timeout for a leader and returns its slot.
func (g *rollGroup) leaderSlot(timeout time.Duration) (int, error) {
	var i int
	err := g.tl.waitFor(g.ctx, timeout, func(ss []span) bool {
		for _, s := range ss {
			if s.end.IsZero() {
				if i = g.slotOf(s.who); i >= 0 {
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		return -1, fmt.Errorf("no leader: %w", err)
	}
	return i, nil
}

// close stops every live incarnation, all at once.
func (g *rollGroup) close() {
	var wg sync.WaitGroup
	for i := range g.slots {
		if m := g.slots[i].m; m != nil {
			g.slots[i].m = nil
			wg.Go(func() { _, _ = m.stop() })
		}
	}
	wg.Wait()
}

// runRolling runs o.Rollouts rolling restarts of sys, spread over o.Lanes
// elections that run concurrently.
func runRolling(ctx context.Context, sys system, o rollOptions, runID string) rollResult {
	var (
		mu      sync.Mutex // guards samples and errs
		samples []rollSample
		errs    []string
		wg      sync.WaitGroup
	)
	for lane := range o.Lanes {
		n := o.Rollouts / o.Lanes
		if lane < o.Rollouts%o.Lanes {
			n++
		}
		wg.Go(func() {
			time.Sleep(time.Duration(lane) * 300 * time.Millisecond)
			name := fmt.Sprintf("lb-%s-roll-%s-%02d", runID, shortName(sys.Setting), lane)
			ss, err := rollLane(ctx, sys, name, n, o)
			mu.Lock()
			defer mu.Unlock()
			samples = append(samples, ss...)
			if err != nil {
				errs = append(errs, fmt.Sprintf("lane %d: %v", lane, err))
			}
		})
	}
	wg.Wait()
	r := rollResult{System: sys.Name, Setting: sys.Setting, Rollouts: o.Rollouts, Failed: o.Rollouts - len(samples), Errors: errs, Samples: samples}
	var ll, lg, du []time.Duration
	var calls []int64
	for _, s := range samples {
		ll = append(ll, time.Duration(s.LeaderlessS*float64(time.Second)))
		lg = append(lg, time.Duration(s.LongestS*float64(time.Second)))
		du = append(du, time.Duration(s.DurationS*float64(time.Second)))
		calls = append(calls, s.Calls)
	}
	r.Leaderless, r.Longest, r.Duration, r.Calls = newDist(ll), newDist(lg), newDist(du), newCountDist(calls)
	return r
}

// rollLane runs n rolling restarts, one after another, on the election
// name: each stops every candidate in a random order (gracefully), keeps it
// down o.Down and starts a new incarnation, then, o.Up later, the next.
// (Without o.Up the next stop would come just as the new incarnation makes
// its first acquire, which then finds a released lease at once: a
// coincidence of the bench, not a hand-over.)
func rollLane(ctx context.Context, sys system, name string, n int, o rollOptions) ([]rollSample, error) {
	g, err := newRollGroup(ctx, sys, name, o.Candidates)
	if err != nil {
		return nil, err
	}
	defer g.close()
	var out []rollSample
	for r := range n {
		o.settle()
		lead, err := g.leaderSlot(o.Timeout)
		if err != nil {
			return out, fmt.Errorf("rollout %d: %w", r, err)
		}
		for i := range g.slots {
			if g.slots[i].base, err = g.slots[i].m.calls(); err != nil {
				return out, fmt.Errorf("rollout %d: %w", r, err)
			}
		}
		order := rand.Perm(len(g.slots)) // the leader at a random position
		sm := rollSample{LeaderPos: slices.Index(order, lead) + 1}
		start := time.Now()
		for k, i := range order {
			if k > 0 { // the previous candidate's new incarnation has been up for o.Up
				select {
				case <-time.After(o.Up):
				case <-ctx.Done():
					return out, ctx.Err()
				}
			}
			m := g.slots[i].m
			g.slots[i].m = nil
			total, err := m.stop()
			if err != nil {
				return out, fmt.Errorf("rollout %d: stop %s: %w", r, g.slots[i].who, err)
			}
			sm.Calls += total - g.slots[i].base
			select {
			case <-time.After(o.Down):
			case <-ctx.Done():
				return out, ctx.Err()
			}
			if err := g.start(i); err != nil {
				return out, fmt.Errorf("rollout %d: %w", r, err)
			}
		}
		lastUp := time.Now()
		time.Sleep(300 * time.Millisecond) // the candidates' last words arrive
		end, err := g.tl.leadingFrom(ctx, lastUp, o.Timeout)
		if err != nil {
			return out, fmt.Errorf("rollout %d: after the last restart: %w", r, err)
		}
		for i := range g.slots {
			c, err := g.slots[i].m.calls()
			if err != nil {
				return out, fmt.Errorf("rollout %d: %w", r, err)
			}
			sm.Calls += c - g.slots[i].base
		}
		total, longest := leaderless(g.tl.snapshot(), start, end)
		if os.Getenv("LEASEBENCH_SPANS") != "" {
			var b strings.Builder
			fmt.Fprintf(&b, "%s rollout %d: order %v, leader pos %d, end %.3f s\n", name, r, order, sm.LeaderPos, end.Sub(start).Seconds())
			for _, sp := range g.tl.snapshot() {
				e := "open"
				if !sp.end.IsZero() {
					e = fmt.Sprintf("%.3f", sp.end.Sub(start).Seconds())
				}
				fmt.Fprintf(&b, "  %s %.3f .. %s\n", sp.who, sp.start.Sub(start).Seconds(), e)
			}
			fmt.Fprint(os.Stderr, b.String())
		}
		sm.LeaderlessS, sm.LongestS, sm.DurationS = secs(total), secs(longest), secs(end.Sub(start))
		out = append(out, sm)
	}
	return out, nil
}

// runGaps runs o.GapRuns runs of section (crash-resign or two-crashes) of
// sys concurrently, each on an election of its own.
func runGaps(ctx context.Context, section string, sys system, o rollOptions, runID string) gapResult {
	var (
		mu            sync.Mutex // guards firsts, gaps and errs
		firsts, gaps  []time.Duration
		errs          []string
		wg            sync.WaitGroup
		short         = map[string]string{"crash-resign": "cr", "two-crashes": "tc"}[section]
		once          = crashResignOnce
		isCrashResign = section == "crash-resign"
	)
	if !isCrashResign {
		once = twoCrashesOnce
	}
	for i := range o.GapRuns {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 200 * time.Millisecond)
			name := fmt.Sprintf("lb-%s-%s-%s-%02d", runID, short, shortName(sys.Setting), i)
			first, gap, err := once(ctx, sys, name, o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("run %d: %v", i, err))
				return
			}
			firsts, gaps = append(firsts, first), append(gaps, gap)
		})
	}
	wg.Wait()
	r := gapResult{System: sys.Name, Section: section, Setting: sys.Setting, Runs: o.GapRuns, Failed: len(errs), Errors: errs, Gap: newDist(gaps)}
	if isCrashResign {
		r.First = newDist(firsts)
	}
	for _, d := range gaps {
		r.Samples = append(r.Samples, secs(d))
	}
	return r
}

// settled starts an election of o.GapCands candidates and returns it once
// it has had a leader for o.Settle, with the leader's slot.
func settled(ctx context.Context, sys system, name string, o rollOptions) (*rollGroup, int, error) {
	g, err := newRollGroup(ctx, sys, name, o.GapCands)
	if err != nil {
		return nil, -1, err
	}
	if _, err := g.leaderSlot(o.Timeout); err != nil {
		g.close()
		return nil, -1, err
	}
	o.settle()
	lead, err := g.leaderSlot(o.Timeout)
	if err != nil {
		g.close()
		return nil, -1, err
	}
	return g, lead, nil
}

// crashResignOnce: the leader is killed (SIGKILL; client-go: its lock dies;
// etcd: its client closes without revoking); o.Pause plus a random part of
// o.PauseRand after the next leader
// leads, that leader is stopped gracefully. first is from the kill to the
// next leader leading, gap from the graceful stop to the one after.
func crashResignOnce(ctx context.Context, sys system, name string, o rollOptions) (first, gap time.Duration, err error) {
	g, lead, err := settled(ctx, sys, name, o)
	if err != nil {
		return 0, 0, err
	}
	defer g.close()
	killed := time.Now()
	g.slots[lead].m.kill()
	g.slots[lead].m = nil
	sp, err := g.tl.electedAfter(ctx, killed, o.Timeout)
	if err != nil {
		return 0, 0, fmt.Errorf("after the crash: %w", err)
	}
	first = sp.start.Sub(killed)
	// A new leader is elected at a poll, and the seat holders poll on
	// wall-clock slots: a fixed pause would put the stop at the same
	// phase of their polls every run.
	pause := o.Pause
	if o.PauseRand > 0 {
		pause += rand.N(o.PauseRand)
	}
	time.Sleep(pause)
	next := g.slotOf(sp.who)
	if next < 0 {
		return first, 0, fmt.Errorf("the new leader %s is gone", sp.who)
	}
	if w, ok := g.tl.leader(); !ok || w != sp.who {
		return first, 0, fmt.Errorf("the new leader %s no longer leads %v after its election (leader: %q)", sp.who, pause, w)
	}
	m := g.slots[next].m
	g.slots[next].m = nil
	stopped := time.Now()
	stopErr := make(chan error, 1)
	go func() { _, err := m.stop(); stopErr <- err }()
	sp2, err := g.tl.electedAfter(ctx, stopped, o.Timeout)
	if serr := <-stopErr; serr != nil && err == nil {
		err = fmt.Errorf("graceful stop: %w", serr)
	}
	if err != nil {
		return first, 0, fmt.Errorf("after the graceful stop: %w", err)
	}
	return first, sp2.start.Sub(stopped), nil
}

// twoCrashesOnce: the leader and the next in line (leasehold: a holder of
// a next-in-line seat; the others: a standby at random) are killed
// together; gap is from the kill to the next leader leading.
func twoCrashesOnce(ctx context.Context, sys system, name string, o rollOptions) (_, gap time.Duration, err error) {
	g, lead, err := settled(ctx, sys, name, o)
	if err != nil {
		return 0, 0, err
	}
	defer g.close()
	var victim int
	seats := time.Now().Add(o.Timeout)
	for victim = -1; victim < 0; {
		var seated, others []int
		noSeats := false
		for i := range g.slots {
			if i == lead {
				continue
			}
			others = append(others, i)
			next, err := g.slots[i].m.nextInLine()
			switch {
			case errors.Is(err, errNoSeats):
				noSeats = true
			case err != nil:
				return 0, 0, err
			case next:
				seated = append(seated, i)
			}
		}
		switch {
		case len(seated) > 0:
			victim = seated[rand.N(len(seated))]
		case noSeats:
			victim = others[rand.N(len(others))]
		case time.Now().After(seats):
			return 0, 0, fmt.Errorf("no candidate holds a next-in-line seat %v after the start", o.Settle+o.Timeout)
		default:
			time.Sleep(time.Second)
		}
	}
	if w, ok := g.tl.leader(); !ok || w != g.slots[lead].who {
		return 0, 0, fmt.Errorf("the leader changed while the seats were read (%q)", w)
	}
	killed := time.Now()
	var wg sync.WaitGroup
	for _, i := range []int{lead, victim} {
		m := g.slots[i].m
		g.slots[i].m = nil
		wg.Go(m.kill)
	}
	wg.Wait()
	sp, err := g.tl.electedAfter(ctx, killed, o.Timeout)
	if err != nil {
		return 0, 0, fmt.Errorf("after the crashes: %w", err)
	}
	return 0, sp.start.Sub(killed), nil
}
