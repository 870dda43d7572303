package shard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"github.com/leasehold/leasehold/shard"
)

// TestRebalance starts 3 members on 8 partitions, then a 4th joins, one
// leaves gracefully and one crashes. After each event it wants every
// partition owned again, each member at its fair share, within the bound
// (a crash: L + 1.2 P after the crash, plus a few polls to settle; the
// others: a few polls), the partitions moved equal to the minimum the event
// requires, and never two owners of one partition (handlers take 1 s to
// wind down, so a hand-back that did not wait for its handler would show).
func TestRebalance(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 8)
		w.slow = time.Second
		tm := newMember(t, &proc{a: w.a}, w.parts, "timing").Timing()
		settle := func() { time.Sleep(5 * tm.PollInterval) }
		moves := func(event string, want int64, before int64) {
			t.Helper()
			settle()
			if got := w.starts.Load() - before; got != want {
				t.Errorf("%s: %d partitions moved, want the minimum %d (owned now: %v)", event, got, want, w.owned())
			}
		}
		// Joins one at a time: each moves the newcomer's share, floor(8/n).
		// Each newcomer's identity sorts before the others', so a rule that
		// gave the larger shares by identity rather than by what members
		// own would move more.
		for _, j := range []struct {
			id   string
			want int64
		}{{"e", 8}, {"c", 4}, {"b", 2}} {
			before := w.starts.Load()
			w.start(j.id)
			took := w.waitBalanced(10 * time.Second)
			t.Logf("%s joins: balanced after %v: %v", j.id, took, w.owned())
			moves(j.id+" joins", j.want, before)
		}

		// A 4th join: floor(8/4) = 2 partitions move to the newcomer.
		before := w.starts.Load()
		w.start("a")
		took := w.waitBalanced(10 * time.Second)
		t.Logf("join: balanced after %v: %v", took, w.owned())
		moves("join", 2, before)

		// A graceful leave: b's partitions, and only those, move.
		before = w.starts.Load()
		nb := int64(len(w.running["b"].m.Owned()))
		w.leave("b")
		took = w.waitBalanced(10 * time.Second)
		t.Logf("leave: balanced after %v: %v", took, w.owned())
		moves("leave", nb, before)

		// A crash: c's partitions are free once their leases expire.
		before = w.starts.Load()
		nc := int64(len(w.running["c"].m.Owned()))
		crashed := w.crash("c")
		start := time.Now()
		took = w.waitBalanced(tm.Duration + 2*tm.PollInterval + 5*time.Second)
		if bound := tm.Duration + tm.PollInterval*12/10 + time.Second; took > bound {
			t.Errorf("crash: partitions owned again %v after the crash, want within L + 1.2 P + 1 s = %v", took, bound)
		}
		t.Logf("crash: balanced after %v: %v", time.Since(start), w.owned())
		moves("crash", nc, before)

		w.stopAll(crashed)
		w.check()
	})
}

// TestChurn runs members that join, leave and crash at random for three
// minutes of fake time and checks that no partition ever had two owners.
func TestChurn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 6)
		w.slow = 500 * time.Millisecond
		names := []string{"a", "b", "c", "d"}
		live := map[string]string{} // name -> identity of its live member
		var crashed []*running
		gen := 0
		for step := range 36 {
			name := names[step%len(names)]
			id, ok := live[name]
			switch {
			case !ok:
				gen++ // a restarted process gets a new identity: a crashed one stays live for up to L
				id = fmt.Sprintf("%s%d", name, gen)
				live[name] = id
				w.start(id)
			case step%5 == 0:
				crashed = append(crashed, w.crash(id))
				delete(live, name)
			default:
				w.leave(id)
				delete(live, name)
			}
			time.Sleep(time.Duration(1+step%7) * time.Second)
		}
		// Crashed members' identities stay live for up to L: ours restart
		// under the same identity only after that, and Run says so before.
		w.stopAll(crashed...)
		w.check()
		if w.starts.Load() < 20 {
			t.Errorf("only %d ownerships in the run; want partitions to change hands", w.starts.Load())
		}
		t.Logf("%d ownerships, %d starts", w.starts.Load(), gen)
	})
}

// TestCheckerFails plants two owners of one partition and wants the
// checker to say so.
func TestCheckerFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		far := func() time.Time { return time.Now().Add(time.Hour) }
		a := &overlap.Holding{Who: "a", Start: overlap.Now(), Deadline: far}
		b := &overlap.Holding{Who: "b", Start: overlap.Now(), Deadline: far}
		if msgs := findDoubleOwners(map[string][]*overlap.Holding{"p0": {a, b}}); len(msgs) != 1 {
			t.Errorf("two owners of p0: got %q, want one complaint", msgs)
		}
		a.Stop = overlap.Now()
		c := &overlap.Holding{Who: "c", Start: overlap.Now(), Deadline: far}
		if msgs := findDoubleOwners(map[string][]*overlap.Holding{"p0": {a, c}, "p1": {b}}); len(msgs) != 0 {
			t.Errorf("one owner after another: got %q, want none", msgs)
		}
	})
}

// TestMemberLive: a second member with a live member's identity is refused.
func TestMemberLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 2)
		w.start("a")
		w.waitBalanced(5 * time.Second)
		twin := newMember(t, &proc{a: w.a}, w.parts, "a")
		err := twin.Run(t.Context(), func(context.Context, shard.Partition) {})
		if !errors.Is(err, shard.ErrMemberLive) {
			t.Fatalf("twin's Run: %v, want ErrMemberLive", err)
		}
		t.Log(err)
		w.stopAll()
		w.check()
	})
}

// TestStandby: with N = 2 member slots, a third member waits until one
// frees, then joins.
func TestStandby(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 4)
		for _, id := range []string{"a", "b"} {
			p := &proc{a: w.a}
			m := newMember(t, p, w.parts, id, shard.WithMaxMembers(2))
			ctx, cancel := context.WithCancel(context.Background())
			r := &running{m: m, p: p, cancel: cancel, done: make(chan error, 1)}
			go func() { r.done <- m.Run(ctx, w.handler(id)) }()
			w.running[id] = r
		}
		w.waitBalanced(5 * time.Second)
		p := &proc{a: w.a}
		m := newMember(t, p, w.parts, "c", shard.WithMaxMembers(2))
		ctx, cancel := context.WithCancel(context.Background())
		c := &running{m: m, p: p, cancel: cancel, done: make(chan error, 1)}
		go func() { c.done <- m.Run(ctx, w.handler("c")) }()
		time.Sleep(10 * time.Second)
		if got := m.Owned(); len(got) != 0 {
			t.Errorf("standby owns %v with both slots taken", got)
		}
		w.leave("a")
		w.running["c"] = c
		w.waitBalanced(5 * time.Second)
		w.stopAll()
		w.check()
	})
}

// TestHandlerGivesUp: a handler that returns while it owns its partition
// gives it up: the member releases it and, the partition still being its
// share, takes it again (a new term) only after standing aside for two
// poll intervals, in which another member could take it.
func TestHandlerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		one := newMember(t, &proc{a: leasetest.NewNamed()}, []string{"only"}, "one")
		type call struct {
			at   time.Time
			term int64
		}
		calls := make(chan call, 10)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- one.Run(ctx, func(ctx context.Context, p shard.Partition) {
				calls <- call{time.Now(), p.Term}
				if p.Term > 1 {
					<-ctx.Done()
				}
			})
		}()
		first, second := <-calls, <-calls
		if first.term != 1 || second.term != 2 {
			t.Errorf("terms %d then %d, want 1 then 2", first.term, second.term)
		}
		if d, p := second.at.Sub(first.at), one.Timing().PollInterval; d < 2*p {
			t.Errorf("taken again %v after it was given up, want at least 2 poll intervals (%v)", d, 2*p)
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// TestBadInput wants a clear error for each bad argument.
func TestBadInput(t *testing.T) {
	a := leasetest.NewNamed()
	ok := (&proc{a: a}).leasers
	cases := []struct {
		name    string
		group   string
		parts   []string
		leasers shard.Leasers
		opts    []shard.Option
		want    string
	}{
		{"no partitions", "g", nil, ok, nil, "shard: invalid option: partitions 0: want from 1 to 1000 partitions"},
		{"duplicate", "g", []string{"a", "b", "a"}, ok, nil, `shard: invalid option: partitions "a": want unique names: partitions 0 and 2 are both "a"`},
		{"empty partition", "g", []string{"a", ""}, ok, nil, `shard: invalid option: partition 1 "": want a non-empty name`},
		{"empty group", "", []string{"a"}, ok, nil, `shard: invalid option: group "": want a non-empty name`},
		{"nil leasers", "g", []string{"a"}, nil, nil, "shard: invalid option: leasers: want a Leasers func, not nil"},
		{"nil option", "g", []string{"a"}, ok, []shard.Option{nil}, "shard: invalid option: option 0: want an Option, not nil"},
		{"max members", "g", []string{"a"}, ok, []shard.Option{shard.WithMaxMembers(-1)}, "shard: invalid option: max members -1: want at least 1 (0: the default)"},
		{"infinite", "g", []string{"a"}, ok, []shard.Option{shard.WithRenewerOptions(renewer.WithDuration(renewer.Infinite))},
			"shard: invalid option: lease duration Infinite: a dead member would keep its partitions forever; want whole seconds from 15s to 60s"},
		{"bad identity", "g", []string{"a"}, ok, []shard.Option{shard.WithRenewerOptions(renewer.WithIdentity(""))},
			`renewer: invalid option: identity "": want a non-empty string`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := shard.New(c.group, c.parts, c.leasers, c.opts...)
			var oe *renewer.OptionError
			if m != nil || !errors.As(err, &oe) {
				t.Fatalf("got %v, %v; want an *renewer.OptionError", m, err)
			}
			if err.Error() != c.want {
				t.Errorf("got  %q\nwant %q", err, c.want)
			}
		})
	}
	m, err := shard.New("g", []string{"a"}, ok)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context(), nil); !errors.Is(err, renewer.ErrInvalidOption) {
		t.Errorf("Run with a nil handler: %v", err)
	}
}

// TestShares checks the fair-share rule: floor or ceil, larger shares to
// those that own most.
func TestShares(t *testing.T) {
	got := shard.Shares(10, map[string]int{"a": 4, "b": 3, "c": 3, "d": 0})
	want := map[string]int{"a": 3, "b": 3, "c": 2, "d": 2}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("Shares: %v, want %v", got, want)
			break
		}
	}
}

// creating is a Leaser whose container does not exist until the first
// acquire creates it, as azlease's with CreateContainer.
type creating struct {
	renewer.Leaser
	mu      sync.Mutex
	created bool
}

func (c *creating) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	c.mu.Lock()
	c.created = true
	c.mu.Unlock()
	return c.Leaser.Acquire(ctx, id, d)
}

func (c *creating) Properties(ctx context.Context) (renewer.Properties, error) {
	c.mu.Lock()
	created := c.created
	c.mu.Unlock()
	if !created {
		return renewer.Properties{}, fmt.Errorf("properties: %w (HTTP 404)", renewer.ErrContainerNotFound)
	}
	return c.Leaser.Properties(ctx)
}

// TestMissingContainers: leases whose containers do not exist yet read as
// free, and the member's acquires create them.
func TestMissingContainers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := leasetest.NewNamed()
		var mu sync.Mutex
		ls := map[string]*creating{}
		leasers := func(name string) (renewer.Leaser, error) {
			mu.Lock()
			defer mu.Unlock()
			if ls[name] == nil {
				c, err := a.Lease(name)
				if err != nil {
					return nil, err
				}
				ls[name] = &creating{Leaser: c}
			}
			return ls[name], nil
		}
		m, err := shard.New("g", []string{"a", "b"}, leasers)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan string, 2)
		done := make(chan error, 1)
		go func() {
			done <- m.Run(ctx, func(ctx context.Context, p shard.Partition) { got <- p.Name; <-ctx.Done() })
		}()
		<-got
		<-got
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestMemberLeaseLost: a member cut off from its member lease only (its
// partitions' leases still renew) loses it; it gives its partitions up
// (handlers cancelled, leases released), joins again once it can, and the
// group balances again, never with two owners of a partition.
func TestMemberLeaseLost(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 4)
		w.start("a")
		w.waitBalanced(5 * time.Second)
		w.start("b")
		w.waitBalanced(10 * time.Second)
		before := w.starts.Load()
		w.running["a"].p.cut("g-member-", errCut)
		time.Sleep(20 * time.Second) // past a's validity deadline: the member lease is lost
		if got := w.running["a"].m.Owned(); len(got) != 0 {
			t.Errorf("a owns %v without its member lease", got)
		}
		w.running["a"].p.cut("g-member-", nil)
		took := w.waitBalanced(20 * time.Second)
		t.Logf("balanced %v after a could reach its member slots again: %v", took, w.owned())
		if w.starts.Load() == before {
			t.Error("no partition moved; want a's given up and taken again")
		}
		w.stopAll()
		w.check()
	})
}

// TestRunTwice: a second Run of one Member while the first runs is refused.
func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMember(t, &proc{a: leasetest.NewNamed()}, []string{"a"}, "one")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx, func(ctx context.Context, p shard.Partition) { <-ctx.Done() }) }()
		synctest.Wait()
		if err := m.Run(ctx, func(context.Context, shard.Partition) {}); !errors.Is(err, renewer.ErrInUse) {
			t.Errorf("second Run: %v, want ErrInUse", err)
		}
		v, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Members) != 1 || v.Members[0] != "one" || v.Owners["a"] != "one" {
			t.Errorf("Status: %+v, want one member owning a", v)
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// TestLister: members that read the group with a Lister make one List call
// per poll and no read per lease (only each acquisition's term read), and
// balance as the others do.
func TestLister(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		named := leasetest.NewNamed()
		leasers := func(name string) (renewer.Leaser, error) { return named.Lease(name) }
		parts := partitions(4)
		var members []*shard.Member
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 2)
		for _, id := range []string{"a", "b"} {
			m, err := shard.New("g", parts, leasers, shard.WithLister(named),
				shard.WithRenewerOptions(renewer.WithIdentity(id)))
			if err != nil {
				t.Fatal(err)
			}
			members = append(members, m)
			go func() { done <- m.Run(ctx, func(ctx context.Context, p shard.Partition) { <-ctx.Done() }) }()
		}
		time.Sleep(30 * time.Second)
		if a, b := len(members[0].Owned()), len(members[1].Owned()); a != 2 || b != 2 {
			t.Errorf("a owns %d, b %d; want 2 each", a, b)
		}
		reads := 0
		for _, name := range append(slices.Clone(parts), "m0", "m1", "m2", "m3") {
			lease := shard.PartitionName("g", name)
			if name[0] == 'm' {
				lease = shard.MemberName("g", int(name[1]-'0'))
			}
			c, err := named.Lease(lease)
			if err != nil {
				t.Fatal(err)
			}
			reads += c.Calls(leasetest.OpProperties)
		}
		t.Logf("30 s, 2 members: %d lists, %d reads of a lease (without a Lister: 8 per poll)", named.Lists(), reads)
		if reads > 12 || named.Lists() < 40 {
			t.Errorf("%d reads of a lease and %d lists; want the lists to do the reading", reads, named.Lists())
		}
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	})
}

// TestListerMustCover: a Lister that does not cover the leases is refused.
func TestListerMustCover(t *testing.T) {
	_, err := shard.New("g", []string{"a"}, (&proc{a: leasetest.NewNamed()}).leasers, shard.WithLister(leasetest.NewNamed()))
	if !errors.Is(err, renewer.ErrInvalidOption) {
		t.Fatalf("got %v, want an *renewer.OptionError", err)
	}
	t.Log(err)
}
