package leasetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// Backend is a [renewer.Leaser] implementation for [RunConformance].
type Backend struct {
	// Name names the backend in test names.
	Name string
	// NewLeaser returns a Leaser over a fresh container that exists and has
	// no lease and no metadata. It registers any cleanup with t.Cleanup.
	// RunConformance calls it once per case, inside Run.
	NewLeaser func(t *testing.T) renewer.Leaser
	// Run runs one case. Use synctest.Test for a backend that runs on the
	// time package, such as Container, so that the cases' waits (up to 18 s)
	// take no real time. Nil calls f directly, in real time.
	Run func(t *testing.T, f func(t *testing.T))
	// Azurite says the backend is Azurite 3.37.0: where it deviates from
	// the cloud, the case expects Azurite's answer and names the deviation.
	Azurite bool
	// Cloud says the backend is Azure Storage itself: acquire with another
	// ID right after a lease expired then accepts a refusal as well, since
	// the cloud may refuse it for up to about a minute.
	Cloud bool
	// Blob says the Leasers are blob leases (azlease.NewBlob, a
	// [Named]'s Lease), not container leases: a metadata write without
	// the lease ID is then refused while the blob is leased or breaking
	// (LeaseIdMissing, renewer.ErrNoLease), as the service refuses
	// writes to a leased blob.
	Blob bool
	// NewNetLeaser, if set, is NewLeaser for the network cases: it returns
	// a Leaser over a fresh container whose requests travel through the
	// returned Network, so that a case can make one reach storage after its
	// caller gave up, reach it twice, or lose its answer. For the Azure
	// adapter, give it a Network inside an HTTP transport (see [Deliver]),
	// so that what arrives late is the SDK's own request. Nil wraps
	// NewLeaser's Leaser in a [Faulty] and uses its Network.
	NewNetLeaser func(t *testing.T) (renewer.Leaser, *Network)
}

// RunConformance checks b against the state table of docs/lease-semantics.md:
// every lease action and metadata write in every lease state, with the
// error, the lease ID answered, the time left to a break, the state after,
// and who holds the lease after; then metadata, last-modified, input checks,
// infinite leases and timing; and the network cases: requests that reach
// storage after their caller gave up, twice, or whose answer was lost (see
// Backend.NewNetLeaser). The network cases wait up to 3 s each.
//
// A case drives a fresh container into its starting state: Leased is
// acquire(A, 15s); Expired is acquire(A, 15s) and a 16 s wait; Breaking is
// acquire(A, 60s) and Break(30s); Broken is acquire(A, 15s) and Break(0).
// Every call has a 10 s deadline.
//
// Cases run concurrently, whatever -parallel says: on a real backend a
// fifth of them wait 16 s or more, so the suite takes about 20 s rather
// than minutes. b's NewLeaser and Leasers must allow that.
func RunConformance(t *testing.T, b Backend) {
	t.Helper()
	if b.NewLeaser == nil {
		t.Fatal("leasetest: RunConformance: Backend.NewLeaser is nil")
	}
	run := b.Run
	if run == nil {
		run = func(t *testing.T, f func(t *testing.T)) { f(t) }
	}
	name := b.Name
	if name == "" {
		name = "backend"
	}
	groups := append(stateTable(b), scenarios()...)
	groups = append(groups, group{name: "network", cases: networkCases()})
	newNet := b.NewNetLeaser
	if newNet == nil {
		newNet = func(t *testing.T) (renewer.Leaser, *Network) {
			f := Wrap(b.NewLeaser(t))
			return f, f.Network()
		}
	}
	t.Run(name, func(t *testing.T) {
		runConcurrently(t, len(groups), func(i int) {
			g := groups[i]
			t.Run(g.name, func(t *testing.T) {
				runConcurrently(t, len(g.cases), func(j int) {
					c := g.cases[j]
					t.Run(c.name, func(t *testing.T) {
						run(t, func(t *testing.T) {
							if c.net == nil {
								c.run(t, b.NewLeaser(t))
								return
							}
							l, n := newNet(t)
							if l == nil || n == nil {
								t.Fatal("leasetest: RunConformance: Backend.NewNetLeaser returned a nil Leaser or Network")
							}
							defer func() {
								// Leave nothing on its way when the case ends, even one that failed.
								ctx, cancel := context.WithTimeout(context.Background(), landingTimeout+callTimeout)
								defer cancel()
								_ = n.Settle(ctx)
							}()
							c.net(t, l, n)
						})
					})
				})
			})
		})
	})
}

// group is a set of cases run as subtests of one subtest.
type group struct {
	name  string
	cases []testCase
}

// testCase is one conformance case: it gets a Leaser over a fresh
// container, and for a network case (net set instead of run) the Network
// its requests travel through.
type testCase struct {
	name string
	run  func(t *testing.T, l renewer.Leaser)
	net  func(t *testing.T, l renewer.Leaser, n *Network)
}

// runConcurrently calls f(0) ... f(n-1) each in its own goroutine and waits
// for all. Its callers call t.Run in f, which the testing package allows
// from several goroutines at once, free of the -parallel limit.
func runConcurrently(t *testing.T, n int, f func(i int)) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// The lease IDs of the cases: A holds the lease, B is another, C is new.
const (
	idA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	idB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	idC = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
)

// callTimeout bounds every call of a case.
const callTimeout = 10 * time.Second

// callCtx returns a context for one call, with the call timeout.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// drive takes a fresh container into state s and checks that it got there.
func drive(t *testing.T, l renewer.Leaser, s renewer.LeaseState) {
	t.Helper()
	switch s {
	case renewer.StateLeased:
		mustAcquire(t, l, idA, 15*time.Second)
	case renewer.StateExpired:
		mustAcquire(t, l, idA, 15*time.Second)
		time.Sleep(16 * time.Second)
	case renewer.StateBreaking:
		mustAcquire(t, l, idA, 60*time.Second)
		mustBreak(t, l, 30*time.Second)
	case renewer.StateBroken:
		mustAcquire(t, l, idA, 15*time.Second)
		mustBreak(t, l, 0)
	}
	if got := props(t, l).State; got != s {
		t.Fatalf("driving a fresh container to %v: state is %v", s, got)
	}
}

func mustAcquire(t *testing.T, l renewer.Leaser, id string, d time.Duration) {
	t.Helper()
	got, err := l.Acquire(callCtx(t), id, d)
	if err != nil || got != id {
		t.Fatalf("Acquire(%s, %v) = %q, %v; want %q, nil", id, d, got, err, id)
	}
}

func mustBreak(t *testing.T, l renewer.Leaser, period time.Duration) {
	t.Helper()
	if _, err := l.Break(callCtx(t), period); err != nil {
		t.Fatalf("Break(%v): %v", period, err)
	}
}

func mustSetMetadata(t *testing.T, l renewer.Leaser, id string, md map[string]string) {
	t.Helper()
	if err := l.SetMetadata(callCtx(t), id, md); err != nil {
		t.Fatalf("SetMetadata(%q, %v): %v", id, md, err)
	}
}

// props reads the container's properties or ends the case.
func props(t *testing.T, l renewer.Leaser) renewer.Properties {
	t.Helper()
	p, err := l.Properties(callCtx(t))
	if err != nil {
		t.Fatalf("Properties: %v", err)
	}
	return p
}

// wantState checks the lease state now.
func wantState(t *testing.T, l renewer.Leaser, want renewer.LeaseState) {
	t.Helper()
	if got := props(t, l).State; got != want {
		t.Errorf("state = %v, want %v", got, want)
	}
}

// wantErr checks that err is want (nil for success), by errors.Is.
func wantErr(t *testing.T, call string, err, want error) {
	t.Helper()
	if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
		t.Errorf("%s: error = %v, want %v", call, err, want)
	}
}
