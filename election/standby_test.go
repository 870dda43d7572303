package election_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// errDead is what a dead candidate's link answers: a transient error, as a
// crashed process's requests simply never come.
var errDead = errors.New("test: this candidate is dead")

// link is one candidate's way to one lease: it counts the candidate's
// calls by operation, remembers when its last renew reached storage, and
// can be cut (the candidate "dies": nothing more reaches storage).
type link struct {
	l      renewer.Leaser
	dead   atomic.Bool
	onRead func() // if not nil, called at every read that is sent

	mu        sync.Mutex
	calls     map[string]int
	lastRenew time.Time
}

func newLink(l renewer.Leaser) *link { return &link{l: l, calls: map[string]int{}} }

func (k *link) count(op string) error {
	if k.dead.Load() {
		return errDead
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls[op]++
	return nil
}

// total returns the calls made, and the calls of op if op is not "".
func (k *link) total(op string) (all, ofOp int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for o, n := range k.calls {
		all += n
		if o == op {
			ofOp += n
		}
	}
	return all, ofOp
}

func (k *link) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.calls)
}

func (k *link) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	if err := k.count("acquire"); err != nil {
		return "", err
	}
	return k.l.Acquire(ctx, id, d)
}

func (k *link) Renew(ctx context.Context, id string) (string, error) {
	if err := k.count("renew"); err != nil {
		return "", err
	}
	got, err := k.l.Renew(ctx, id)
	if err == nil {
		k.mu.Lock()
		k.lastRenew = time.Now()
		k.mu.Unlock()
	}
	return got, err
}

func (k *link) Change(ctx context.Context, id, proposed string) (string, error) {
	if err := k.count("change"); err != nil {
		return "", err
	}
	return k.l.Change(ctx, id, proposed)
}

func (k *link) Release(ctx context.Context, id string) error {
	if err := k.count("release"); err != nil {
		return err
	}
	return k.l.Release(ctx, id)
}

func (k *link) Break(ctx context.Context, p time.Duration) (time.Duration, error) {
	if err := k.count("break"); err != nil {
		return 0, err
	}
	return k.l.Break(ctx, p)
}

func (k *link) Properties(ctx context.Context) (renewer.Properties, error) {
	if err := k.count("properties"); err != nil {
		return renewer.Properties{}, err
	}
	if k.onRead != nil {
		k.onRead()
	}
	return k.l.Properties(ctx)
}

func (k *link) SetMetadata(ctx context.Context, id string, md map[string]string) error {
	if err := k.count("set-metadata"); err != nil {
		return err
	}
	return k.l.SetMetadata(ctx, id, md)
}

// cand is a candidate of a standby test: its election, its links to the
// leader's lease and the next-in-line lease, and its Run.
type cand struct {
	id                string
	e                 *election.Election
	main, next, next2 *link
	stop              func()
}

// die cuts the candidate off from storage, as a crash would: no release,
// nothing more reaches storage.
func (c *cand) die() { c.main.dead.Store(true); c.next.dead.Store(true); c.next2.dead.Store(true) }

// seatCalls returns the candidate's calls on both seats.
func (c *cand) seatCalls() int {
	a, _ := c.next.total("")
	b, _ := c.next2.total("")
	return a + b
}

// world is the leader's lease, the next-in-line lease, and who was
// elected when.
type world struct {
	t                 *testing.T
	main, next, next2 *leasetest.Container
	seats             int             // the Standby's Seats: 0 (two) unless a test says
	onRead            func(id string) // if not nil, called at every read of the leader's lease, with the reader
	elected           chan string     // the identity of each candidate elected, in order
	at                sync.Map        // identity -> time of its last election
}

func newWorld(t *testing.T) *world {
	return &world{t: t, main: leasetest.New(), next: leasetest.New(), next2: leasetest.New(), elected: make(chan string, 100)}
}

// add starts candidate id with profile p (withNext: with the next-in-line
// lease) running Run.
func (w *world) add(id string, p election.Profile, withNext bool) *cand {
	return w.addWith(id, p, withNext)
}

// addWith is add, with more renewer options (a payload).
func (w *world) addWith(id string, p election.Profile, withNext bool, more ...renewer.Option) *cand {
	t := w.t
	c := &cand{id: id, main: newLink(w.main), next: newLink(w.next), next2: newLink(w.next2)}
	if w.onRead != nil {
		c.main.onRead = func() { w.onRead(id) }
	}
	r, err := renewer.New(c.main, p.RenewerOptions(append([]renewer.Option{renewer.WithIdentity(id), renewer.WithLogger(zap.NewNop())}, more...)...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Standby // the profile's, with this candidate's links to the seats
	if withNext {
		s.Next, s.Seats = c.next, cmp.Or(w.seats, s.Seats, 2)
		if s.Seats == 2 {
			s.Second = c.next2
		}
	}
	c.e, err = election.New(r, election.WithStandby(s))
	if err != nil {
		t.Fatal(err)
	}
	stop := runLater(t, c.e, election.Callbacks{OnElected: func(ctx context.Context, _ int64) {
		w.at.Store(id, time.Now())
		w.elected <- id
		<-ctx.Done()
	}})
	var once sync.Once
	c.stop = func() { once.Do(stop) }
	t.Cleanup(c.stop) // also after a t.Fatal, inside the bubble
	return c
}

// electedAt is when id was last elected.
func (w *world) electedAt(id string) time.Time {
	v, ok := w.at.Load(id)
	if !ok {
		w.t.Fatalf("%s was never elected", id)
	}
	return v.(time.Time)
}

// startElection starts a leader and n standbys with profile p, waits for
// the leader, then for a standby to hold a seat.
func (w *world) startElection(p election.Profile, n int, withNext bool) (leader *cand, standbys []*cand) {
	leader = w.add("leader", p, withNext)
	if got := recv(w.t, w.elected, time.Second); got != "leader" {
		w.t.Fatalf("elected %q first, want leader", got)
	}
	for i := range n {
		standbys = append(standbys, w.add(fmt.Sprintf("s%d", i), p, withNext))
	}
	time.Sleep(time.Second)
	if withNext && len(seated(standbys)) == 0 {
		w.t.Fatalf("no standby holds a seat a second after they started")
	}
	return leader, standbys
}

// seated returns the candidates of cs that hold a next-in-line seat.
func seated(cs []*cand) []*cand {
	var got []*cand
	for _, c := range cs {
		if c.e.IsNextInLine() {
			got = append(got, c)
		}
	}
	return got
}

// nextInLine returns the one candidate that holds a seat, or nil; it
// panics if several do (for one-seat elections).
func nextInLine(cs []*cand) *cand {
	got := seated(cs)
	switch len(got) {
	case 0:
		return nil
	case 1:
		return got[0]
	}
	panic(fmt.Sprintf("%s and %s are both next in line", got[0].id, got[1].id))
}

// without returns cs less the candidates in drop.
func without(cs []*cand, drop ...*cand) []*cand {
	var rest []*cand
	for _, c := range cs {
		if !slices.Contains(drop, c) {
			rest = append(rest, c)
		}
	}
	return rest
}

func stopAll(cs ...*cand) {
	for _, c := range cs {
		c.stop()
	}
}

// TestStandbyCallsPerHour counts every storage call for an hour of a
// leader and 4 (then 8) standbys in each profile: only the next in line
// polls the leader's lease often; each further standby adds a bounded
// few calls. It fails if the standbys polled the leader's lease on their
// own (the test's "plain" row shows what that costs).
func TestStandbyCallsPerHour(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p        election.Profile
		withNext bool
		n        int
		// Bounds: the whole election's calls per hour, and what one
		// backbencher may cost.
		maxTotal, maxBackbencher int
	}{
		{election.ProfileDefault, true, 4, 6500, 300},
		{election.ProfileDefault, true, 8, 6500 + 4*300, 300},
		{election.ProfileFastHandover, true, 4, 40000, 300},
		{election.ProfileLowCost, true, 4, 2000, 150},
		{election.ProfileLowCost, true, 8, 2000 + 4*150, 150},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.p.Name, tc.n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				leader, standbys := w.startElection(tc.p, tc.n, tc.withNext)
				all := append([]*cand{leader}, standbys...)
				time.Sleep(2 * time.Minute) // steady state: past a new campaign's first NextDuration + Retry
				for _, c := range all {
					c.main.reset()
					c.next.reset()
					c.next2.reset()
				}
				time.Sleep(time.Hour)
				seats := seated(standbys)
				total := 0
				var rows []string
				for _, c := range all {
					m, reads := c.main.total("properties")
					n := c.seatCalls()
					total += m + n
					role := "backbencher"
					switch {
					case c == leader:
						role = "leader"
					case slices.Contains(seats, c):
						role = "next in line"
					}
					rows = append(rows, fmt.Sprintf("%s (%s): leader's lease %d (reads %d), next-in-line lease %d", c.id, role, m, reads, n))
					if role == "backbencher" && m+n > tc.maxBackbencher {
						t.Errorf("backbencher %s made %d calls in an hour (%d on the leader's lease), want at most %d: standbys poll on their own",
							c.id, m+n, m, tc.maxBackbencher)
					}
				}
				t.Logf("%s, leader + %d standbys, calls in one hour: %d\n%v", tc.p.Name, tc.n, total, rows)
				if total > tc.maxTotal {
					t.Errorf("%d calls an hour, want at most %d", total, tc.maxTotal)
				}
				if want := min(tc.n, cmp.Or(tc.p.Standby.Seats, 2)); len(seats) != want {
					t.Errorf("%d standbys hold a seat after an hour, want %d", len(seats), want)
				}
				stopAll(all...)
			})
		})
	}
}

// TestStandbyPlainPollsOnItsOwn is the known-bad input of the cost test:
// without a next-in-line lease every standby reads the leader's lease
// every P, and the bound a backbencher is held to fails.
func TestStandbyPlainPollsOnItsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		leader, standbys := w.startElection(election.ProfileDefault, 2, false)
		for _, c := range standbys {
			c.main.reset()
		}
		time.Sleep(10 * time.Minute)
		for _, c := range standbys {
			if m, _ := c.main.total(""); m*6 <= 300 {
				t.Errorf("standby %s without next in line made %d calls in 10 minutes, want about 800 (every P)", c.id, m)
			}
		}
		stopAll(append(standbys, leader)...)
	})
}

// TestStandbyHandOverGoesToNextInLine: with two seats held, a resigning
// leader's lease goes to a seat holder within P (the two poll in turns,
// once per P between them), and the other seat holder is still seated, so
// the next hand-over is as quick; a backbencher fills the empty seat
// within 2 x 1.2 Retry.
func TestStandbyHandOverGoesToNextInLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		leader, standbys := w.startElection(election.ProfileDefault, 3, true)
		time.Sleep(election.DefaultNextDuration + election.DefaultRetry) // past the new campaigns' polling every P
		seats := seated(standbys)
		if len(seats) != 2 {
			t.Fatalf("%d standbys hold a seat, want 2", len(seats))
		}
		resigned := time.Now()
		if err := leader.e.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := recv(t, w.elected, 2*time.Second)
		var nl *cand
		for _, c := range seats {
			if c.id == got {
				nl = c
			}
		}
		if nl == nil {
			t.Fatalf("elected %s after the resign, want a seat holder", got)
		}
		if d := w.electedAt(nl.id).Sub(resigned); d > pollP+100*time.Millisecond {
			t.Errorf("hand-over took %v, want at most P", d)
		}
		if nl.e.IsNextInLine() {
			t.Errorf("the new leader %s still holds a seat", nl.id)
		}
		if rest := seated(without(standbys, nl)); len(rest) != 1 {
			t.Errorf("%d seat holders right after the take-over, want the other one", len(rest))
		}
		time.Sleep(election.DefaultRetry * 12 / 5)
		rest := append([]*cand{leader}, without(standbys, nl)...)
		if n := seated(rest); len(n) != 2 {
			t.Errorf("%d candidates hold a seat %v after the hand-over, want 2", len(n), election.DefaultRetry*12/5)
		}
		stopAll(rest...)
		stopAll(nl)
	})
}

// TestStandbyHandOverRightAfterTakeOver is the state the single seat left
// without a fast poller: a leader takes over, and resigns (or is stopped)
// at once or a few seconds later. The other seat holder already polls, so
// the hand-over takes at most 2 P at once (it polls in its own slots until
// a read shows it the new leader) and at most P once it has seen it. With
// one seat (the case "one seat") the seat is empty then, nobody polls, and
// the hand-over waits for a backbencher's next seat try or read, seconds
// to a minute (logged; the test checks that no seat holder is left).
func TestStandbyHandOverRightAfterTakeOver(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		seats int
		after time.Duration // from the first take-over to the second resign
		bound time.Duration // the second hand-over's
	}{
		{"at once", 2, 10 * time.Millisecond, 2*pollP + 100*time.Millisecond},
		{"after 1s", 2, time.Second, 2*pollP + 100*time.Millisecond},
		{"after 5s", 2, 5 * time.Second, pollP + 100*time.Millisecond},
		{"one seat", 1, 10 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				w.seats = tc.seats
				leader, standbys := w.startElection(election.ProfileDefault, 3, true)
				// Past the standbys' first NextDuration + Retry, in which a
				// new campaign polls every P whatever its seat.
				time.Sleep(election.DefaultNextDuration + election.DefaultRetry + 5*time.Second)
				leader.stop() // its process exits: it does not campaign again
				first := recv(t, w.elected, 2*time.Second)
				var nl *cand
				for _, c := range standbys {
					if c.id == first {
						nl = c
					}
				}
				if nl == nil {
					t.Fatalf("elected %s, want a standby", first)
				}
				time.Sleep(tc.after)
				// Who polls now: with two seats the other seat holder; with
				// one, nobody (the seat's holder has just taken over), and
				// the hand-over waits for a backbencher's next seat try or
				// read, whenever that comes.
				polling := len(seated(without(standbys, nl)))
				switch {
				case tc.seats == 2 && polling == 0:
					t.Errorf("no seat holder right after the take-over, want the other one")
				case tc.seats == 1 && polling != 0:
					t.Errorf("%d seat holders 10 ms after the take-over with one seat, want none (its holder took over)", polling)
				}
				resigned := time.Now()
				nl.stop() // a graceful stop: Run's context ends, the lease is released
				second := recv(t, w.elected, 3*time.Minute)
				d := w.electedAt(second).Sub(resigned)
				t.Logf("%s: %s took over, stopped %v later, %s led %v after", tc.name, first, tc.after, second, d)
				if tc.bound > 0 && d > tc.bound {
					t.Errorf("the second hand-over took %v, want at most %v", d, tc.bound)
				}
				stopAll(append(standbys, leader)...)
			})
		})
	}
}

// TestStandbyDeadSeatHolderReplaced: a seat holder that dies keeps its
// seat for at most its lease's duration; then a backbencher takes it
// within 2 x 1.2 Retry. Meanwhile the other seat holder polls, so a
// hand-over stays quick.
func TestStandbyDeadSeatHolderReplaced(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		leader, standbys := w.startElection(election.ProfileDefault, 3, true)
		dead := seated(standbys)[0]
		died := time.Now()
		dead.die()
		others := without(standbys, dead)
		bound := election.DefaultNextDuration + election.DefaultRetry*12/5 + time.Second
		for len(seated(others)) < 2 && time.Since(died) <= bound+time.Minute {
			time.Sleep(100 * time.Millisecond)
		}
		if d := time.Since(died); len(seated(others)) < 2 || d > bound {
			t.Fatalf("both seats held by live standbys %v after a seat holder died, want within %v", d, bound)
		}
		t.Logf("%v after the death both seats are held again", time.Since(died))
		// The seat holder that was alone reads the other seat every Retry.
		time.Sleep(election.DefaultRetry * 6 / 5)
		for _, c := range others {
			c.main.reset()
		}
		time.Sleep(15 * time.Second)
		for _, c := range others {
			reads, _ := c.main.total("")
			if reads < 8 || reads > 12 {
				t.Errorf("seat holder %s read the leader's lease %d times in 15 s, want about 10 (every 2P, in turns)", c.id, reads)
			}
		}
		stopAll(append(others, leader, dead)...)
	})
}

// TestStandbySeatHoldersTakeTurns: the two seat holders poll the leader's
// lease in alternate slots of P: each every 2P, and the election once
// per P between them (the polls, sorted in time, alternate between the
// two). A seat holder alone (the other seat empty) polls every P.
func TestStandbySeatHoldersTakeTurns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var mu sync.Mutex
		var reads []string // the candidate of each read of the leader's lease, in order
		w.onRead = func(id string) {
			mu.Lock()
			reads = append(reads, id)
			mu.Unlock()
		}
		leader, standbys := w.startElection(election.ProfileDefault, 2, true)
		leader.main.onRead = nil
		// The first to sit found the other seat empty; it reads it again
		// within 1.2 Retry while alone.
		time.Sleep(election.DefaultRetry*6/5 + time.Second)
		if len(seated(standbys)) != 2 {
			t.Fatalf("%d seat holders, want 2", len(seated(standbys)))
		}
		mu.Lock()
		reads = nil
		mu.Unlock()
		time.Sleep(30 * time.Second)
		mu.Lock()
		got := slices.Clone(reads)
		mu.Unlock()
		if n := len(got); n < 38 || n > 42 {
			t.Errorf("%d reads of the leader's lease in 30 s, want 40 (one per P between the two)", n)
		}
		repeats := 0
		for i := 1; i < len(got); i++ {
			if got[i] == got[i-1] {
				repeats++
			}
		}
		if repeats > 1 {
			t.Errorf("the seat holders' reads do not alternate: %d of %d follow one of the same candidate: %v", repeats, len(got), got)
		}
		// Alone: the other seat holder stops; the remaining one polls every
		// P once it has read the empty seat (at its next Check, at most
		// 1.2 Check; then every Retry while alone).
		standbys[0].stop()
		time.Sleep(election.DefaultCheck * 6 / 5)
		standbys[1].main.reset()
		time.Sleep(30 * time.Second)
		if n, _ := standbys[1].main.total("properties"); n < 38 || n > 42 {
			t.Errorf("a seat holder alone read the leader's lease %d times in 30 s, want 40 (every P)", n)
		}
		stopAll(append(standbys, leader)...)
	})
}

// TestStandbyLeaderAndSeatHolderDieTogether: with the leader and one seat
// holder dead at once, the other seat holder leads within L + 2P and a
// few round trips.
func TestStandbyLeaderAndSeatHolderDieTogether(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		leader, standbys := w.startElection(election.ProfileDefault, 3, true)
		nl := seated(standbys)[0]
		died := time.Now()
		leader.die()
		nl.die()
		bound := leaseL + 2*pollP + time.Second
		got := recv(t, w.elected, bound+2*time.Minute)
		if got == nl.id || got == leader.id {
			t.Fatalf("elected %s, want a live standby", got)
		}
		if d := w.electedAt(got).Sub(died); d > bound {
			t.Errorf("%s led %v after the leader and a seat holder died, want within %v", got, d, bound)
		}
		stopAll(append(standbys, leader)...)
	})
}

// TestStandbyLeaderAndBothSeatsDie: nobody is stranded: with the leader
// and both seat holders dead at once, a backbencher leads within
// min(L + 1.2 Check, max(L, NextDuration + 2 x 1.2 Retry) + 2P) and a few
// round trips.
func TestStandbyLeaderAndBothSeatsDie(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		leader, standbys := w.startElection(election.ProfileDefault, 3, true)
		died := time.Now()
		leader.die()
		for _, c := range seated(standbys) {
			c.die()
		}
		bound := min(leaseL+election.DefaultCheck*6/5, max(leaseL, election.DefaultNextDuration+election.DefaultRetry*12/5)+2*pollP) + time.Second
		got := recv(t, w.elected, bound+time.Minute)
		if got == leader.id {
			t.Fatalf("elected %s, want a backbencher", got)
		}
		if d := w.electedAt(got).Sub(died); d > bound {
			t.Errorf("a backbencher led %v after the leader and both seat holders died, want within %v", d, bound)
		}
		stopAll(append(standbys, leader)...)
	})
}

// TestStandbyBurstCatchesExpiry: in the low-cost profile the next in line
// reads the leader's lease about every 2R, not every P, and still takes a
// dead leader's lease within about a burst interval of its expiry.
func TestStandbyBurstCatchesExpiry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		p := election.ProfileLowCost
		leader, standbys := w.startElection(p, 2, true)
		nl := nextInLine(standbys)
		time.Sleep(time.Minute)
		nl.main.reset()
		time.Sleep(time.Minute + 2*time.Second) // at a phase of the renew cycle the test does not pick
		reads, _ := nl.main.total("")
		if reads > 8 {
			t.Errorf("next in line read the leader's lease %d times in a minute, want about 5 (every 2R = 12 s)", reads)
		}
		leader.die()
		leader.main.mu.Lock()
		expiry := leader.main.lastRenew.Add(leaseL)
		leader.main.mu.Unlock()
		if got := recv(t, w.elected, 2*leaseL); got != nl.id {
			t.Fatalf("elected %s, want the next in line %s", got, nl.id)
		}
		late := w.electedAt(nl.id).Sub(expiry)
		t.Logf("elected %v after the lease expired on storage", late)
		if late < 0 || late > p.Standby.Burst+200*time.Millisecond {
			t.Errorf("elected %v after the expiry, want within a burst interval (%v) and a few round trips", late, election.DefaultBurst)
		}
		stopAll(append(standbys, leader)...)
	})
}

// TestStandbyHeartbeatsWithoutLeaderHeartbeat: a heartbeat-guided standby
// must be told that leaders write heartbeats; New refuses otherwise.
func TestStandbyHeartbeatsWithoutLeaderHeartbeat(t *testing.T) {
	r, err := renewer.New(leasetest.New(), renewer.WithIdentity("a"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = election.New(r, election.WithStandby(election.Standby{Heartbeats: true}))
	var oe *renewer.OptionError
	if !errors.As(err, &oe) || oe.Field != "standby heartbeats" {
		t.Errorf("New with heartbeat-guided standby over a renewer without heartbeats = %v, want an OptionError on standby heartbeats", err)
	}
	_, err = election.New(r, election.WithStandby(election.Standby{Next: leasetest.New(), NextDuration: 5 * time.Second}))
	if !errors.As(err, &oe) || oe.Pkg != "election" {
		t.Errorf("New with a 5 s next-in-line lease = %v, want an election OptionError", err)
	}
	if _, err := election.ProfileNamed("cheap"); !errors.As(err, &oe) {
		t.Errorf("ProfileNamed(cheap) = %v, want an OptionError", err)
	}
	for _, p := range election.Profiles() {
		if got, err := election.ProfileNamed(p.Name); err != nil || got.Name != p.Name {
			t.Errorf("ProfileNamed(%q) = %v, %v", p.Name, got, err)
		}
	}
}

// TestStandbyHealth: a backbencher, which reads the leader's lease only
// every Check, is healthy while storage answers its tries of the
// next-in-line lease, and reports storage unreachable once cut off.
func TestStandbyHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		leader, standbys := w.startElection(election.ProfileDefault, 3, true)
		for range 10 {
			time.Sleep(30 * time.Second)
			for _, c := range standbys {
				if err := c.e.Check(time.Second); err != nil {
					t.Fatalf("%s (next in line %v): Check = %v, want healthy", c.id, c.e.IsNextInLine(), err)
				}
			}
		}
		var bb *cand
		for _, c := range standbys {
			if !c.e.IsNextInLine() {
				bb = c
			}
		}
		bb.die()
		// The bound: 1.2 Retry + 2 call timeouts (2.5 s each) + tolerance,
		// from its last answer, which came at most then.
		time.Sleep(election.DefaultRetry*6/5 + 5*time.Second + time.Second + 5*time.Second)
		if err := bb.e.Check(time.Second); !errors.Is(err, election.ErrStorageUnreachable) {
			t.Errorf("cut-off backbencher: Check = %v, want ErrStorageUnreachable", err)
		} else {
			t.Log(err)
		}
		stopAll(append(standbys, leader)...)
	})
}

// TestStandbyNextLeaseRefused: a next-in-line lease that storage refuses
// for good (here every call answers refused credentials; a SAS without
// blob permissions does) makes every standby poll the leader's lease every
// P, as without one: a dead leader is replaced within L + 1.2 P, not after
// a backbencher's slow Check.
func TestStandbyNextLeaseRefused(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.next.SetBefore(func(context.Context, leasetest.Call) error { return renewer.ErrForbidden })
		w.next2.SetBefore(func(context.Context, leasetest.Call) error { return renewer.ErrForbidden })
		leader := w.add("leader", election.ProfileDefault, true)
		if got := recv(t, w.elected, time.Second); got != "leader" {
			t.Fatalf("elected %q first, want leader", got)
		}
		standbys := []*cand{w.add("s0", election.ProfileDefault, true), w.add("s1", election.ProfileDefault, true)}
		time.Sleep(10 * time.Second)
		if n := seated(standbys); len(n) != 0 {
			t.Fatalf("%s holds a seat on a refused lease", n[0].id)
		}
		died := time.Now()
		leader.die()
		bound := leaseL + renewer.DefaultPollInterval*6/5 + time.Second
		got := recv(t, w.elected, bound+time.Minute)
		if d := w.electedAt(got).Sub(died); d > bound {
			t.Errorf("%s elected %v after the leader died, want within %v", got, d, bound)
		}
		stopAll(append(standbys, leader)...)
	})
}

// TestStandbyStartedTogether: candidates that start at the same moment all
// find the lease free at their first poll, and all but one lose the race
// to acquire it. They must compete for the next-in-line seat at their next
// poll, not sleep a backbencher's Check first: a leader that dies right
// after it won is replaced within L + 1.2 P + a second, as always. (The
// fault suite's kill -9 scenario found this: no new leader within 23.5 s.)
func TestStandbyStartedTogether(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		// Acquires take 50 ms, reads none: all three read the lease free
		// before any acquire lands.
		w.main.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpAcquire {
				time.Sleep(50 * time.Millisecond)
			}
			return nil
		})
		cs := []*cand{w.add("c0", election.ProfileDefault, true), w.add("c1", election.ProfileDefault, true),
			w.add("c2", election.ProfileDefault, true)}
		first := recv(t, w.elected, time.Second)
		var leader *cand
		for _, c := range cs {
			if c.id == first {
				leader = c
			}
		}
		time.Sleep(time.Second)
		died := time.Now()
		leader.die()
		bound := leaseL + renewer.DefaultPollInterval*6/5 + time.Second
		got := recv(t, w.elected, bound+2*time.Minute)
		if d := w.electedAt(got).Sub(died); d > bound {
			t.Errorf("%s elected %v after the leader died, want within %v", got, d, bound)
		}
		stopAll(cs...)
	})
}

// TestStandbySeatFreedByTheWinner: candidates whose first reads fail do
// not compete for the next-in-line seat (only a read that shows the lease
// held by another starts that), so the one that wins the leader's lease
// never holds the seat, and another candidate takes it within a few polls,
// not a backbencher's Retry later. Fails if a failed read starts the
// competition.
func TestStandbySeatFreedByTheWinner(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		start := time.Now()
		w.main.SetBefore(func(_ context.Context, call leasetest.Call) error {
			switch {
			case call.Op == leasetest.OpProperties && time.Since(start) < 100*time.Millisecond:
				return errors.New("test: a read that times out")
			case call.Op == leasetest.OpAcquire:
				time.Sleep(50 * time.Millisecond)
			}
			return nil
		})
		cs := []*cand{w.add("c0", election.ProfileDefault, true), w.add("c1", election.ProfileDefault, true),
			w.add("c2", election.ProfileDefault, true)}
		first := recv(t, w.elected, time.Second)
		var others []*cand
		for _, c := range cs {
			if c.id != first {
				others = append(others, c)
			}
		}
		time.Sleep(3 * renewer.DefaultPollInterval)
		if len(seated(others)) == 0 {
			t.Errorf("no standby next in line %v after %s won", 3*renewer.DefaultPollInterval, first)
		}
		stopAll(cs...)
	})
}

// TestStandbySeatRetriedAfterATransientError: the next-in-line lease fails
// for the first two seconds (timeouts, a storm). The standbys try it again
// every poll interval, not a backbencher's Retry later, so one is next in
// line when the leader dies at three seconds, and the failover is the
// usual L + 1.2 P + a second, not a backbencher's Check. Fails if a failed
// seat attempt waits a Retry.
func TestStandbySeatRetriedAfterATransientError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		start := time.Now()
		w.next.SetBefore(func(context.Context, leasetest.Call) error {
			if time.Since(start) < 2*time.Second {
				return errors.New("test: a call that times out")
			}
			return nil
		})
		leader := w.add("leader", election.ProfileDefault, true)
		if got := recv(t, w.elected, time.Second); got != "leader" {
			t.Fatalf("elected %q first, want leader", got)
		}
		standbys := []*cand{w.add("s0", election.ProfileDefault, true), w.add("s1", election.ProfileDefault, true)}
		time.Sleep(3*time.Second - time.Since(start))
		if len(seated(standbys)) == 0 {
			t.Errorf("no standby holds a seat a second after the seats answered again")
		}
		died := time.Now()
		leader.die()
		bound := leaseL + renewer.DefaultPollInterval*6/5 + time.Second
		got := recv(t, w.elected, bound+2*time.Minute)
		if d := w.electedAt(got).Sub(died); d > bound {
			t.Errorf("%s elected %v after the leader died, want within %v", got, d, bound)
		}
		stopAll(append(standbys, leader)...)
	})
}
