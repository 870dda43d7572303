package shard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/leasehold/leasehold/internal/leakcheck"
	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"github.com/leasehold/leasehold/shard"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// proc is one process's view of the account, through a Faulty per lease,
// so that the test can cut the process off (a crash).
type proc struct {
	a     *leasetest.Named // the account: one lease per name, shared by every process
	mu    sync.Mutex
	fs    []*leasetest.Faulty
	names []string // of fs
}

func (p *proc) leasers(name string) (renewer.Leaser, error) {
	c, err := p.a.Lease(name)
	if err != nil {
		return nil, err
	}
	f := leasetest.Wrap(c)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fs = append(p.fs, f)
	p.names = append(p.names, name)
	return f, nil
}

// cut cuts the process off from the leases whose names have prefix (nil
// err: restores them).
func (p *proc) cut(prefix string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.fs {
		if strings.HasPrefix(p.names[i], prefix) {
			f.CutOff(err)
		}
	}
}

var errCut = errors.New("test: process cut off")

// crash cuts the process off from storage: it neither renews nor releases.
func (p *proc) crash() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.fs {
		f.CutOff(errCut)
	}
}

// partitions returns n partition names p0, p1, ...
func partitions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("p%d", i)
	}
	return out
}

// newMember returns a member of group g of process p.
func newMember(t *testing.T, p *proc, parts []string, id string, opts ...shard.Option) *shard.Member {
	t.Helper()
	log := zaptest.NewLogger(t)
	m, err := shard.New("g", parts, p.leasers, append([]shard.Option{
		shard.WithRenewerOptions(renewer.WithIdentity(id), renewer.WithLogger(log)),
		shard.WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatalf("shard.New: %v", err)
	}
	return m
}

// world runs members and records every partition ownership.
type world struct {
	t      *testing.T
	a      *leasetest.Named
	parts  []string
	rec    overlap.Recorder
	mu     sync.Mutex
	hs     map[string][]*overlap.Holding
	starts atomic.Int64 // handler calls: partitions taken
	slow   time.Duration

	running map[string]*running
}

type running struct {
	m      *shard.Member
	p      *proc
	cancel context.CancelFunc
	done   chan error
}

func newWorld(t *testing.T, nparts int) *world {
	return &world{t: t, a: leasetest.NewNamed(), parts: partitions(nparts), hs: map[string][]*overlap.Holding{}, running: map[string]*running{}}
}

// handler records the ownership from its start until it returns; it
// returns w.slow after its context ends, as a handler that winds down.
func (w *world) handler(id string) shard.Handler {
	return func(ctx context.Context, p shard.Partition) {
		w.starts.Add(1)
		h := w.rec.Begin(ctx, fmt.Sprintf("%s owns %s term %d", id, p.Name, p.Term), p.Deadline)
		w.mu.Lock()
		w.hs[p.Name] = append(w.hs[p.Name], h)
		w.mu.Unlock()
		<-ctx.Done()
		time.Sleep(w.slow)
		w.rec.Stop(h)
	}
}

// start starts member id in a process of its own.
func (w *world) start(id string) *running {
	p := &proc{a: w.a}
	m := newMember(w.t, p, w.parts, id)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{m: m, p: p, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx, w.handler(id)) }()
	w.running[id] = r
	return r
}

// leave stops member id gracefully and waits for Run to return.
func (w *world) leave(id string) {
	r := w.running[id]
	r.cancel()
	if err := <-r.done; err != nil {
		w.t.Errorf("%s: Run: %v", id, err)
	}
	delete(w.running, id)
}

// crash cuts member id off from storage; its Run goes on until stopAll.
func (w *world) crash(id string) *running {
	r := w.running[id]
	r.p.crash()
	delete(w.running, id)
	return r
}

// owned returns, per live member, what it owns.
func (w *world) owned() map[string][]string {
	out := map[string][]string{}
	for id, r := range w.running {
		out[id] = r.m.Owned()
	}
	return out
}

// balanced reports whether the live members own every partition once,
// each its fair share (floor or ceil of P / members).
func (w *world) balanced() bool { return isBalanced(w.owned(), w.parts) }

// isBalanced reports whether the members of own (member -> partitions)
// own every one of parts once, each floor or ceil of P / members.
func isBalanced(own map[string][]string, parts []string) bool {
	n := len(own)
	if n == 0 {
		return false
	}
	var all []string
	for _, ps := range own {
		if len(ps) < len(parts)/n || len(ps) > (len(parts)+n-1)/n {
			return false
		}
		all = append(all, ps...)
	}
	slices.Sort(all)
	return slices.Equal(all, sortedCopy(parts))
}

func sortedCopy(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// waitBalanced waits (fake time) until balanced, at most limit, and
// returns how long it took.
func (w *world) waitBalanced(limit time.Duration) time.Duration {
	w.t.Helper()
	start := time.Now()
	for !w.balanced() {
		if time.Since(start) > limit {
			w.t.Fatalf("not balanced %v after the event: %v", limit, w.owned())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// check fails the test for two owners of one partition at once.
func (w *world) check() {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, msg := range findDoubleOwners(w.hs) {
		w.t.Error(msg)
	}
}

// findDoubleOwners returns a message for each pair of ownerships of one
// partition that overlap: one began before the other ended (its handler
// returned, or its validity deadline passed).
func findDoubleOwners(hs map[string][]*overlap.Holding) []string {
	var out []string
	for p, list := range hs {
		cp := make([]overlap.Holding, len(list))
		for i, h := range list {
			cp[i] = *h
		}
		for _, msg := range overlap.Find(cp) {
			out = append(out, p+": "+msg)
		}
	}
	return out
}

// stopAll stops every member, crashed ones too.
func (w *world) stopAll(crashed ...*running) {
	for id := range w.running {
		w.leave(id)
	}
	for _, r := range crashed {
		r.cancel()
		<-r.done
	}
}

// The balance check can fail: an uneven split, a partition owned by no one
// and one owned twice are each not balanced.
func TestIsBalanced(t *testing.T) {
	parts := []string{"p0", "p1", "p2", "p3"}
	for _, tt := range []struct {
		name string
		own  map[string][]string
		want bool
	}{
		{"even", map[string][]string{"a": {"p0", "p1"}, "b": {"p2", "p3"}}, true},
		{"uneven", map[string][]string{"a": {"p0", "p1", "p2"}, "b": {"p3"}}, false},
		{"one unowned", map[string][]string{"a": {"p0", "p1"}, "b": {"p2"}}, false},
		{"one owned twice, one by no one (fair counts)", map[string][]string{"a": {"p0", "p1"}, "b": {"p1", "p2"}}, false},
		{"no members", map[string][]string{}, false},
	} {
		if got := isBalanced(tt.own, parts); got != tt.want {
			t.Errorf("%s: isBalanced = %v, want %v", tt.name, got, tt.want)
		}
	}
}
