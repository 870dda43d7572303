package sim

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// The fixed bounds of every simulated run. The holders use the library's
// defaults: L = 15 s, R = L/3 = 5 s, M = L/5 = 3 s, P = 750 ms.
const (
	// Duration, Margin and Poll are L, M and P of every holder.
	Duration = renewer.DefaultDuration
	Margin   = renewer.DefaultDuration / 5
	Poll     = renewer.DefaultPollInterval
	// FaultPhase is how long faults are injected, from the start.
	FaultPhase = 60 * time.Second
	// Tail is the fault-free time after FaultPhase; the run ends then.
	// InfiniteTail is the tail of a run with infinite leases, long enough
	// for a break-on-timeout recovery to fit after the faults.
	Tail         = 45 * time.Second
	InfiniteTail = 75 * time.Second
	// BreakPeriod is the break period of infinite leases (the library's
	// default), also their validity window per renew.
	BreakPeriod = renewer.DefaultInfiniteBreakPeriod
	// MaxLate bounds how long after its send a request can reach storage
	// (late and duplicated deliveries included): every request sent in
	// the fault phase has landed by FaultPhase + MaxLate.
	MaxLate = 12 * time.Second
	// MaxDrift bounds how much faster storage's clock runs than a
	// holder's: 1% (10,000 ppm). The margin must cover it over a validity
	// window: MaxDrift*(L-M) = 120 ms, far below M = 3 s.
	MaxDrift = 0.01
	// Slack is what the liveness bound allows beyond L + 1.2 P: the four
	// round trips of an acquisition (acquire, change to the holding's ID,
	// read the term, write it) of at most 2 x tailDelay each in the tail,
	// plus scheduling, rounded up.
	Slack = time.Second
	// tailDelay bounds one way of a request in the tail.
	tailDelay = 100 * time.Millisecond

	// The next-in-line settings of elections in a seed with a Standby
	// mode (election.Standby): shorter than the library's defaults, so
	// that a dead next in line is replaced, and the bound it sets on
	// liveness is checked, within the tail.
	NextDuration = 15 * time.Second
	NextRenew    = 5 * time.Second
	NextRetry    = 3 * time.Second
	NextCheck    = 6 * time.Second
	// HeartbeatRenew is the renew interval of elections in a
	// StandbyHeartbeats seed (election.ProfileLowCost's).
	HeartbeatRenew = 6 * time.Second
)

// StandbyMode is how a seed's elections wait while another leads.
type StandbyMode int

// The standby modes: a seed's elections all use one.
const (
	StandbyPlain      StandbyMode = iota // every standby polls the lease every P
	StandbyNext                          // next in line (a second lease) polls every P, backbenchers rarely
	StandbyHeartbeats                    // as StandbyNext, and the next in line polls by heartbeat: bursts at predicted expiries
)

func (m StandbyMode) String() string {
	return [...]string{"plain", "next-in-line", "next-in-line+heartbeats"}[m]
}

// Kind is what a simulated process runs.
type Kind int

// The kinds of holders.
const (
	KindRenewer   Kind = iota // a loop of renewer.Renewer Acquire, hold, Release or Abandon
	KindElection              // election.Election.Run with callbacks, and Resign now and then
	KindMutex                 // mutex.Mutex shared by several goroutines of the process
	KindSemaphore             // semaphore.Semaphore shared by goroutines of the process, on a group's slot leases
	KindShard                 // shard.Member of a group's partitions
)

func (k Kind) String() string {
	return [...]string{"renewer", "election", "mutex", "semaphore", "shard"}[k]
}

// The sizes of a seed's group (see Plan.Group).
const (
	// SemSlots is K of the simulated semaphores.
	SemSlots = 2
	// ShardParts and ShardMembers are P and N of the simulated shard
	// groups.
	ShardParts   = 4
	ShardMembers = 3
	// ShardPoll is the shard members' poll interval: each poll reads
	// every member slot and partition, so they poll at half the rate of
	// the others to keep a seed's cost near that of the others.
	ShardPoll = 2 * Poll
	// SemName and ShardGroup name the group's leases.
	SemName    = "sem"
	ShardGroup = "grp"
)

// procPlan is one process's part of a Plan.
type procPlan struct {
	Name       string
	Kind       Kind
	Goroutines int           // mutex goroutines; 1 otherwise
	MaxHold    time.Duration // mutex.WithMaxHold, or 0: waiters break a lease held too long
	// Probabilities, per request sent in the fault phase.
	PLate, PLost, PDup, PSlow, P5xx float64
	Pauses                          []window // the process runs nothing; its requests queue
	Partitions                      []window // the process's requests vanish; no answers
	Crashes                         []window // dead from From; restarted (a new incarnation) at To
	// A scenario's (Plan.Scenario): Start is when the process first
	// starts; Stops are graceful stops (the holder releases what it
	// holds), each until a new incarnation starts at To (never if To is
	// past the run's end).
	Start time.Duration
	Stops []window
}

// Plan is everything a seed decides before the run: the processes, their
// network's fault rates and fault windows, storage's storms and clock
// drift.
type Plan struct {
	Seed uint64
	// Infinite: every process is a mutex on an infinite lease with
	// break-on-timeout BreakTimeout (one seed in five); else fixed leases.
	Infinite     bool
	BreakTimeout time.Duration
	Tail         time.Duration // Tail or InfiniteTail
	Procs        []procPlan
	Storms       []window // storage answers most requests 503 (unapplied)
	Drift        float64  // storage's clock rate over the holders', minus 1: [0, MaxDrift]
	// Group, in one seed in sixteen each, is a second set of processes
	// on leases of their own, beside Procs: semaphore holders
	// (KindSemaphore, SemSlots slots) or shard members (KindShard,
	// ShardParts partitions, ShardMembers member slots). Empty otherwise.
	// It is drawn from a stream of its own, so Procs are what they were
	// before groups were added.
	Group []procPlan
	// Latency, if set, is the most a request takes one way, fault phase
	// and tail alike (uniform from a tenth of it): for measurements
	// (TestProfiles); NewPlan leaves it 0, the fault model's delays.
	Latency time.Duration
	// Standby is how the seed's elections wait (half the seeds plain, a
	// quarter each next in line, and next in line with heartbeats).
	Standby StandbyMode
	// Scenario, in one seed in eight (drawn from a stream of its own), is
	// one of the scenarios users run, on five elections with next-in-line
	// seats and no faults: Procs' Start and Stops, or CrashAt. Such a seed
	// judges every graceful release by the hand-over bound (Bounds.Strict).
	Scenario Scenario
	// CrashAt, in a crash-then-resign seed, is when the process leading
	// then crashes, for CrashDown; ResignAfter after the next election,
	// the new leader resigns. In a crash-two seed the holder of the
	// next-in-line seat crashes with the leader, and no one resigns; in a
	// next-crash seed the seat's holder crashes and the leader resigns
	// ResignAfter later.
	CrashAt, CrashDown, ResignAfter time.Duration
}

// Scenario is a seed's run of what users do to an election.
type Scenario int

// The scenarios.
const (
	ScenarioNone        Scenario = iota
	ScenarioRolling              // every candidate stopped gracefully in turn, random order, each down 1..8 s, restarted as a new incarnation
	ScenarioCrashResign          // the leader crashes; a few seconds after the next election, the new leader resigns
	ScenarioScale                // four of five candidates stopped in turn, then started again in turn: in to one, out to five
	ScenarioDeploy               // five new candidates started and the five old ones stopped, interleaved: every candidate replaced
	ScenarioCrashTwo             // the leader and the next in line (the next-in-line seat's holder at storage) crash together
	ScenarioNextCrash            // the next in line crashes; a few seconds later the leader resigns
)

func (s Scenario) String() string {
	return [...]string{"none", "rolling restart", "crash then resign", "scale in and out", "deploy", "leader and next in line crash", "next in line crashes, then the leader resigns"}[s]
}

// end is when the run stops its holders.
func (p Plan) end() time.Duration { return FaultPhase + p.Tail }

// NewPlan draws a seed's plan.
func NewPlan(seed uint64) Plan {
	r := newRand(seed, 0x91a4)
	p := Plan{Seed: seed, Drift: r.Float64() * MaxDrift, Tail: Tail}
	p.Storms = windows(r, 2, time.Second, 10*time.Second)
	if r.IntN(5) == 0 {
		p.Infinite, p.Tail = true, InfiniteTail
		p.BreakTimeout = between(r, BreakPeriod, 30*time.Second) // at least 3 renew intervals of BreakPeriod/3
	}
	n := 3 + r.IntN(3)
	for i := range n {
		pp := procPlan{Name: fmt.Sprintf("p%d", i), Kind: Kind(r.IntN(3)), Goroutines: 1}
		if p.Infinite {
			pp.Kind = KindMutex
		}
		if pp.Kind == KindMutex {
			pp.Goroutines = 2 + r.IntN(2)
			if !p.Infinite && r.IntN(3) == 0 {
				pp.MaxHold = between(r, Duration, 40*time.Second)
			}
		}
		drawFaults(r, &pp)
		p.Procs = append(p.Procs, pp)
	}
	// Drawn from a stream of its own, so that adding it left every seed's
	// other draws as they were.
	sr := newRand(seed, 0x57a0d8)
	switch sr.IntN(4) {
	case 2:
		p.Standby = StandbyNext
	case 3:
		p.Standby = StandbyHeartbeats
	}
	if p.Standby != StandbyPlain && !p.Infinite && sr.IntN(2) == 0 {
		// Half of these seeds run elections only, so that nothing but the
		// standbys' own polls takes a free lease (a renewer or a mutex
		// polls every P and would hide a standby that waits too long).
		for i := range p.Procs {
			p.Procs[i].Kind, p.Procs[i].Goroutines, p.Procs[i].MaxHold = KindElection, 1, 0
		}
	}
	scenario(&p, newRand(seed, 0x5ce7a410))
	g := newRand(seed, 0x67a0)
	kind, prefix := KindSemaphore, "s"
	switch g.IntN(16) {
	case 0:
	case 1:
		kind, prefix = KindShard, "h"
	default:
		return p
	}
	for i := range 3 {
		pp := procPlan{Name: fmt.Sprintf("%s%d", prefix, i), Kind: kind, Goroutines: 1}
		if kind == KindSemaphore {
			pp.Goroutines = 1 + g.IntN(2)
		}
		drawFaults(g, &pp)
		p.Group = append(p.Group, pp)
	}
	return p
}

// scenario makes p, in one seed in eight, a scenario seed (see
// Plan.Scenario), drawing from r.
func scenario(p *Plan, r *mrand.Rand) {
	if r.IntN(8) != 0 {
		return
	}
	p.Scenario = Scenario(1 + r.IntN(6))
	p.Infinite, p.BreakTimeout, p.Tail, p.Storms, p.Standby = false, 0, Tail, nil, StandbyNext
	p.Procs = nil
	n := 5
	if p.Scenario == ScenarioDeploy {
		n = 10 // p5..p9 replace p0..p4
	}
	for i := range n {
		p.Procs = append(p.Procs, procPlan{Name: fmt.Sprintf("p%d", i), Kind: KindElection, Goroutines: 1})
	}
	t := between(r, 10*time.Second, 15*time.Second) // seats taken, steady
	switch p.Scenario {
	case ScenarioRolling:
		for _, i := range r.Perm(5) {
			d := between(r, time.Second, 8*time.Second)
			p.Procs[i].Stops = []window{{t, t + d}}
			t += d + between(r, 500*time.Millisecond, 4*time.Second)
		}
	case ScenarioCrashResign, ScenarioCrashTwo, ScenarioNextCrash:
		p.CrashAt = t + between(r, 0, 25*time.Second)
		p.CrashDown = between(r, time.Second, 15*time.Second)
		if p.Scenario != ScenarioCrashTwo {
			p.ResignAfter = between(r, time.Second, 5*time.Second)
		} else {
			p.CrashDown += Duration // back after the take-over, not as backbenchers before it
		}
	case ScenarioScale:
		order := r.Perm(5)[:4]
		for _, i := range order {
			p.Procs[i].Stops = []window{{t, forever}}
			t += between(r, time.Second, 5*time.Second)
		}
		t += between(r, time.Second, 8*time.Second)
		for _, j := range r.Perm(4) {
			p.Procs[order[j]].Stops[0].To = t
			t += between(r, time.Second, 5*time.Second)
		}
	case ScenarioDeploy:
		for k, i := range r.Perm(5) {
			p.Procs[5+k].Start = t
			t += between(r, 500*time.Millisecond, 4*time.Second)
			p.Procs[i].Stops = []window{{t, forever}}
			t += between(r, 500*time.Millisecond, 4*time.Second)
		}
	}
}

// onlyElections reports whether every process on the main lease is an
// election: then the seed's standby mode alone decides how soon a free
// lease is taken.
func (p Plan) onlyElections() bool {
	for _, pp := range p.Procs {
		if pp.Kind != KindElection {
			return false
		}
	}
	return true
}

// drawFaults draws pp's network faults.
func drawFaults(r *mrand.Rand, pp *procPlan) {
	pp.PLate = r.Float64() * 0.08
	pp.PLost = r.Float64() * 0.08
	pp.PDup = r.Float64() * 0.08
	pp.PSlow = r.Float64() * 0.1
	pp.P5xx = r.Float64() * 0.05
	pp.Pauses = windows(r, 2, time.Second, 8*time.Second)
	pp.Partitions = windows(r, 2, time.Second, 20*time.Second)
	pp.Crashes = windows(r, 2, time.Second, 15*time.Second)
}

// windows draws up to max disjoint windows of the given lengths, in order,
// all ending by FaultPhase.
func windows(r *mrand.Rand, max int, lo, hi time.Duration) []window {
	var ws []window
	at := time.Duration(0)
	for range r.IntN(max + 1) {
		from := at + between(r, 0, FaultPhase/2)
		to := min(from+between(r, lo, hi), FaultPhase)
		if from >= to {
			break
		}
		ws = append(ws, window{from, to})
		at = to
	}
	return ws
}

func inAny(ws []window, t time.Duration) (window, bool) {
	for _, w := range ws {
		if w.has(t) {
			return w, true
		}
	}
	return window{}, false
}

func (p Plan) String() string {
	var b strings.Builder
	lease := fmt.Sprintf("L=%v M=%v", Duration, Margin)
	if p.Infinite {
		lease = fmt.Sprintf("infinite leases, break period %v, M=%v, break-on-timeout %v", BreakPeriod, Margin, p.BreakTimeout)
	}
	fmt.Fprintf(&b, "seed %d: %s P=%v faults until %v, tail %v, storage clock faster by %.0f ppm, storms %v, standbys %v\n",
		p.Seed, lease, Poll, FaultPhase, p.Tail, p.Drift*1e6, p.Storms, p.Standby)
	if p.Scenario != ScenarioNone {
		fmt.Fprintf(&b, "  scenario: %v, no faults", p.Scenario)
		switch p.Scenario {
		case ScenarioCrashResign:
			fmt.Fprintf(&b, "; the leader crashes at %v for %v, the next leader resigns %v after its election", p.CrashAt, p.CrashDown, p.ResignAfter)
		case ScenarioCrashTwo:
			fmt.Fprintf(&b, "; the leader and the next in line crash at %v for %v", p.CrashAt, p.CrashDown)
		case ScenarioNextCrash:
			fmt.Fprintf(&b, "; the next in line crashes at %v for %v, the leader resigns %v later", p.CrashAt, p.CrashDown, p.ResignAfter)
		}
		b.WriteString("\n")
	}
	for _, pp := range append(slices.Clip(p.Procs), p.Group...) {
		if pp.MaxHold > 0 {
			fmt.Fprintf(&b, "  %s mutex max-hold %v\n", pp.Name, pp.MaxHold)
		}
		fmt.Fprintf(&b, "  %s %s x%d: late %.3f lost %.3f dup %.3f slow %.3f 5xx %.3f pauses %v partitions %v crashes %v",
			pp.Name, pp.Kind, pp.Goroutines, pp.PLate, pp.PLost, pp.PDup, pp.PSlow, pp.P5xx, pp.Pauses, pp.Partitions, pp.Crashes)
		if pp.Start > 0 || pp.Stops != nil {
			fmt.Fprintf(&b, " starts at %v, stopped %v", pp.Start, pp.Stops)
		}
		b.WriteString("\n")
	}
	return b.String()
}
