package semaphore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/leasehold/leasehold/internal/leakcheck"
	"github.com/leasehold/leasehold/internal/overlap"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"github.com/leasehold/leasehold/semaphore"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// proc is one process's view of the account: its own Faulty per lease, so
// that the test can cut the process off (a crash) without touching others.
type proc struct {
	a  *leasetest.Named // the account: one lease per name, shared by every process
	mu sync.Mutex
	fs []*leasetest.Faulty
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
	return f, nil
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

// newSem returns a Semaphore of process p named name with k slots.
func newSem(t *testing.T, p *proc, name string, k int, id string, ropts ...renewer.Option) *semaphore.Semaphore {
	t.Helper()
	log := zaptest.NewLogger(t)
	s, err := semaphore.New(name, k, p.leasers,
		semaphore.WithRenewerOptions(append([]renewer.Option{renewer.WithIdentity(id), renewer.WithLogger(log)}, ropts...)...),
		semaphore.WithLogger(log))
	if err != nil {
		t.Fatalf("semaphore.New: %v", err)
	}
	return s
}

// holding is one recorded holding: the slot and the overlap record.
type holding struct {
	slot int
	h    *overlap.Holding
}

// recorder records holdings of semaphores for the checkers below.
type recorder struct {
	rec overlap.Recorder
	mu  sync.Mutex
	hs  []holding
}

// begin records that h starts acting now.
func (r *recorder) begin(who string, h *semaphore.Held) *overlap.Holding {
	oh := r.rec.Begin(h.Context(), who, h.Deadline)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hs = append(r.hs, holding{h.Slot(), oh})
	return oh
}

func (r *recorder) stop(oh *overlap.Holding) { r.rec.Stop(oh) }

// check fails t for two holders of one slot at once, or more than k
// holders at once.
func (r *recorder) check(t *testing.T, k int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, msg := range checkHoldings(r.hs, k) {
		t.Error(msg)
	}
}

// checkHoldings returns a message for every pair of holdings of one slot
// that overlap, and one if more than k holdings are ever under way at
// once (counted at every start, where the count can rise).
func checkHoldings(hs []holding, k int) []string {
	bySlot := map[int][]overlap.Holding{}
	var all []overlap.Holding
	for _, h := range hs {
		bySlot[h.slot] = append(bySlot[h.slot], *h.h)
		all = append(all, *h.h)
	}
	var out []string
	for _, sh := range bySlot {
		out = append(out, overlap.Find(sh)...)
	}
	most := 0
	for _, h := range all {
		most = max(most, overlap.Live(all, h.Start))
	}
	if most > k {
		out = append(out, fmt.Sprintf("%d holders at once, more than K = %d", most, k))
	}
	return out
}
