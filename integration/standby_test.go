package integration_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

// errCut is what a "crashed" candidate's link answers: nothing it sends
// reaches storage any more (a transient error, as a timeout would be).
var errCut = errors.New("integration: this candidate is cut off")

// cutLink is a candidate's way to one lease on Azurite: it counts reads
// (Get Properties) and every call, remembers when its last renew
// succeeded, and can be cut, as a crash would.
type cutLink struct {
	renewer.Leaser
	cut   atomic.Bool
	reads atomic.Int64
	calls atomic.Int64

	mu        sync.Mutex
	lastRenew time.Time
}

func (k *cutLink) check() error {
	if k.cut.Load() {
		return errCut
	}
	k.calls.Add(1)
	return nil
}

func (k *cutLink) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	return k.Leaser.Acquire(ctx, id, d)
}

func (k *cutLink) Renew(ctx context.Context, id string) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	sent := time.Now()
	got, err := k.Leaser.Renew(ctx, id)
	if err == nil {
		k.mu.Lock()
		k.lastRenew = sent
		k.mu.Unlock()
	}
	return got, err
}

func (k *cutLink) Change(ctx context.Context, id, p string) (string, error) {
	if err := k.check(); err != nil {
		return "", err
	}
	return k.Leaser.Change(ctx, id, p)
}

func (k *cutLink) Release(ctx context.Context, id string) error {
	if err := k.check(); err != nil {
		return err
	}
	return k.Leaser.Release(ctx, id)
}

func (k *cutLink) Break(ctx context.Context, p time.Duration) (time.Duration, error) {
	if err := k.check(); err != nil {
		return 0, err
	}
	return k.Leaser.Break(ctx, p)
}

func (k *cutLink) Properties(ctx context.Context) (renewer.Properties, error) {
	if err := k.check(); err != nil {
		return renewer.Properties{}, err
	}
	k.reads.Add(1)
	return k.Leaser.Properties(ctx)
}

func (k *cutLink) SetMetadata(ctx context.Context, id string, md map[string]string) error {
	if err := k.check(); err != nil {
		return err
	}
	return k.Leaser.SetMetadata(ctx, id, md)
}

// standbyCand is one candidate process of a standby test: its own SDK
// client, links to the leader's lease (the container's) and to the
// next-in-line lease (a blob in the same container).
type standbyCand struct {
	id                string
	e                 *election.Election
	main, next, next2 *cutLink
	stop              func()
}

func (c *standbyCand) crash() {
	c.main.cut.Store(true)
	c.next.cut.Store(true)
	c.next2.cut.Store(true)
}

type standbyRun struct {
	t       *testing.T
	name    string
	blob    bool // the election's lease is the blob lock "leader", not the container's
	elected chan string
	mu      sync.Mutex
	at      map[string]time.Time
}

// add starts candidate id on container name with profile p, whose
// next-in-line seats are the blob locks "next-in-line" and
// "next-in-line/second" of the container (stby.Seats: 1, the first only).
func (s *standbyRun) add(id string, p election.Profile, stby election.Standby) *standbyCand {
	t := s.t
	l := newLeaser(t, s.name)
	var main renewer.Leaser = l
	nextName := "next-in-line"
	if s.blob {
		lb, err := l.Blob("leader")
		if err != nil {
			t.Fatal(err)
		}
		main, nextName = lb, "leader/next-in-line"
	}
	nb, err := l.Blob(nextName)
	if err != nil {
		t.Fatal(err)
	}
	nb2, err := nb.Beside(election.SecondSeatSuffix)
	if err != nil {
		t.Fatal(err)
	}
	c := &standbyCand{id: id, main: &cutLink{Leaser: main}, next: &cutLink{Leaser: nb}, next2: &cutLink{Leaser: nb2}}
	r, err := renewer.New(c.main, p.RenewerOptions(renewer.WithIdentity(id), renewer.WithLogger(zap.NewNop()))...)
	if err != nil {
		t.Fatal(err)
	}
	stby.Next = c.next
	if stby.Seats != 1 {
		stby.Second = c.next2
	}
	if c.e, err = election.New(r, election.WithStandby(stby)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.e.Run(ctx, election.Callbacks{OnElected: func(ctx context.Context, _ int64) {
			s.mu.Lock()
			s.at[id] = time.Now()
			s.mu.Unlock()
			s.elected <- id
			<-ctx.Done()
		}})
	}()
	var once sync.Once
	c.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: Run = %v", id, err)
			}
		})
	}
	t.Cleanup(c.stop)
	return c
}

func (s *standbyRun) electedAt(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at[id]
}

// waitElected returns the next candidate elected, within d.
func (s *standbyRun) waitElected(d time.Duration) string {
	s.t.Helper()
	select {
	case id := <-s.elected:
		return id
	case <-time.After(d):
		s.t.Fatalf("no candidate elected within %v", d)
	}
	return ""
}

// startStandbys runs a leader and n standbys of p on a fresh container
// (the election's lease the container's, or with blob the blob lock
// "leader"), waits for the leader and for one standby to be next in line.
func startStandbys(t *testing.T, prefix string, blob bool, p election.Profile, stby election.Standby, n int) (*standbyRun, *standbyCand, []*standbyCand) {
	name, _ := newContainer(t, prefix)
	s := &standbyRun{t: t, name: name, blob: blob, elected: make(chan string, 100), at: map[string]time.Time{}}
	leader := s.add("leader", p, stby)
	if got := s.waitElected(10 * time.Second); got != "leader" {
		t.Fatalf("elected %s first, want leader", got)
	}
	var standbys []*standbyCand
	for i := range n {
		standbys = append(standbys, s.add(fmt.Sprintf("s%d", i), p, stby))
	}
	deadline := time.Now().Add(10 * time.Second)
	want := min(n, cmp.Or(stby.Seats, 2))
	for len(standbySeated(standbys)) < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := len(standbySeated(standbys)); got != want {
		t.Fatalf("%d standbys hold a seat 10 s after they started, want %d", got, want)
	}
	return s, leader, standbys
}

// standbySeated returns the candidates of cs that hold a seat.
func standbySeated(cs []*standbyCand) []*standbyCand {
	var got []*standbyCand
	for _, c := range cs {
		if c.e.IsNextInLine() {
			got = append(got, c)
		}
	}
	return got
}

// standbyNext returns the one candidate of a one-seat election that
// holds its seat, or nil.
func standbyNext(cs []*standbyCand) *standbyCand {
	got := standbySeated(cs)
	if len(got) > 1 {
		panic(fmt.Sprintf("%s and %s are both next in line", got[0].id, got[1].id))
	}
	if len(got) == 0 {
		return nil
	}
	return got[0]
}

// TestStandbyNextInLineAzurite: on Azurite, with the seats blob leases in
// the election's container, and the election's lease the container's (a
// container lease does not block its blobs' leases) or another blob's:
// two standbys hold the seats and read the leader's lease in turns (each
// every 2P), the backbencher only at its start; a resigning leader's
// lease goes to a seat holder, the other keeps its seat, and a
// backbencher takes the empty one.
func TestStandbyNextInLineAzurite(t *testing.T) {
	t.Parallel()
	for _, blob := range []bool{false, true} {
		t.Run(map[bool]string{false: "container", true: "blob"}[blob], func(t *testing.T) {
			t.Parallel()
			testStandbyNextInLine(t, blob)
		})
	}
}

func testStandbyNextInLine(t *testing.T, blob bool) {
	stby := election.ProfileDefault.Standby
	stby.Retry = 2 * time.Second // a backbencher takes the freed seat soon
	s, leader, standbys := startStandbys(t, "standby-nil", blob, election.ProfileDefault, stby, 3)
	time.Sleep(stby.Retry * 6 / 5) // the first seated reads the other seat again, now held
	seats := standbySeated(standbys)
	for _, c := range standbys {
		c.main.reads.Store(0)
	}
	time.Sleep(10 * time.Second)
	for _, c := range standbys {
		reads := c.main.reads.Load()
		seated := slices.Contains(seats, c)
		t.Logf("%s (seat holder %v): %d reads of the leader's lease in 10 s", c.id, seated, reads)
		switch {
		case seated && (reads < 4 || reads > 9):
			t.Errorf("seat holder %s read the leader's lease %d times in 10 s, want about 7 (every 2P)", c.id, reads)
		case !seated && reads > 1:
			t.Errorf("backbencher %s read the leader's lease %d times in 10 s, want at most 1 (every %v)", c.id, reads, stby.Check)
		}
	}
	resigned := time.Now()
	if err := leader.e.Resign(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := s.waitElected(5 * time.Second)
	var nl *standbyCand
	for _, c := range seats {
		if c.id == got {
			nl = c
		}
	}
	if nl == nil {
		t.Fatalf("elected %s after the resign, want a seat holder", got)
	}
	t.Logf("hand-over to a seat holder: %v", s.electedAt(nl.id).Sub(resigned))
	if n := len(standbySeated(standbys)); n < 1 {
		t.Errorf("no seat holder right after the take-over, want the other one")
	}
	deadline := time.Now().Add(10 * time.Second)
	all := append([]*standbyCand{leader}, standbys...)
	for time.Now().Before(deadline) {
		if n := standbySeated(all); len(n) == 2 && !slices.Contains(n, nl) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("both seats not held again 10 s after the hand-over")
}

// TestStandbyDeadNextAzurite: a seat holder that crashes keeps its seat
// for the seat lease's duration; then a backbencher takes it within
// 2 x 1.2 Retry.
func TestStandbyDeadNextAzurite(t *testing.T) {
	t.Parallel()
	stby := election.ProfileDefault.Standby
	stby.NextDuration, stby.NextRenew, stby.Retry = 15*time.Second, 5*time.Second, 2*time.Second
	_, _, standbys := startStandbys(t, "standby-dead", false, election.ProfileDefault, stby, 3)
	dead := standbySeated(standbys)[0]
	died := time.Now()
	dead.crash()
	var others []*standbyCand
	for _, c := range standbys {
		if c != dead {
			others = append(others, c)
		}
	}
	bound := stby.NextDuration + stby.Retry*12/5 + 2*time.Second
	for len(standbySeated(others)) < 2 && time.Since(died) < bound+10*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	d := time.Since(died)
	if len(standbySeated(others)) < 2 || d > bound {
		t.Fatalf("both seats held by live standbys %v after a seat holder crashed, want within %v", d, bound)
	}
	t.Logf("dead seat holder replaced after %v (bound %v)", d, bound)
}

// TestStandbyHeartbeatBurstAzurite: in the low-cost profile, on a
// container's lease and on a blob's (Set Container Metadata and Set Blob
// Metadata both move Last-Modified), the next in line reads Last-Modified
// against Date (Azurite's clock) and takes a
// crashed leader's lease within about a burst of its expiry, reading the
// leader's lease only about every 2R meanwhile.
func TestStandbyHeartbeatBurstAzurite(t *testing.T) {
	t.Parallel()
	for _, blob := range []bool{false, true} {
		t.Run(map[bool]string{false: "container", true: "blob"}[blob], func(t *testing.T) {
			t.Parallel()
			testStandbyHeartbeatBurst(t, blob)
		})
	}
}

func testStandbyHeartbeatBurst(t *testing.T, blob bool) {
	p := election.ProfileLowCost
	s, leader, standbys := startStandbys(t, "standby-hb", blob, p, p.Standby, 2)
	nl := standbyNext(standbys)
	time.Sleep(13 * time.Second) // one predicted expiry, then a new heartbeat
	nl.main.reads.Store(0)
	time.Sleep(12 * time.Second)
	reads := nl.main.reads.Load()
	t.Logf("next in line: %d reads of the leader's lease in 12 s", reads)
	if reads > 4 {
		t.Errorf("next in line read the leader's lease %d times in 12 s, want 1 or 2 (about every 2R)", reads)
	}
	leader.crash()
	leader.main.mu.Lock()
	expiry := leader.main.lastRenew.Add(renewer.DefaultDuration)
	leader.main.mu.Unlock()
	if got := s.waitElected(30 * time.Second); got != nl.id {
		t.Fatalf("elected %s, want the next in line %s", got, nl.id)
	}
	late := s.electedAt(nl.id).Sub(expiry)
	t.Logf("elected %v after the leader's lease could first have expired", late)
	if late > 2*time.Second {
		t.Errorf("elected %v after the expiry, want within about a burst (%v) and the acquisition's round trips", late, election.DefaultBurst)
	}
}
