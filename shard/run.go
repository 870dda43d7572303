package shard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/renewer"
)

// errRejoin is the cause of the handlers' contexts when the member lost its
// member lease: it gives its partitions up and joins again.
var errRejoin = fmt.Errorf("member lease lost; the member gives its partitions up and joins again: %w", renewer.ErrReleased)

// Run joins the group and owns the member's fair share of the partitions
// until ctx ends, calling h on a goroutine of its own for each partition it
// comes to own, with a context that ends when it stops owning it (see
// Handler). Every poll interval (jittered) it reads the group (every member
// slot and every partition: N + P storage calls, or one List with
// WithLister) and rebalances: above its
// fair share it hands back the partitions it took last, each only after its
// handler returned; below it, it claims free partitions. See the package
// documentation for the rules.
//
// Joining takes a free member slot; while all N are taken, Run waits,
// reading them (N storage calls, or one List) every poll interval. If a
// member with the same identity is live (its member lease is held), Run
// returns an error wrapping
// ErrMemberLive. If the member loses its member lease, it cancels every
// handler, gives its partitions up once they returned, and joins again.
//
// When ctx ends, Run cancels every handler's context (cause wrapping
// renewer.ErrReleased), releases its member lease (the others count one
// member fewer at their next poll) and each partition once its handler
// returned, and returns nil once all have. It returns an error early only
// when it cannot go on: a nil handler, renewer.ErrInUse (Run is already
// running), ErrMemberLive, or answers no retry can change (see
// renewer.Permanent); it then holds nothing.
func (m *Member) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return invalid("handler", nil, "want a Handler, not nil")
	}
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return fmt.Errorf("shard: run: %w", renewer.ErrInUse)
	}
	m.running = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.running = false
		m.mu.Unlock()
	}()
	var handlers sync.WaitGroup
	defer handlers.Wait()
	for first := true; ; first = false {
		ml, slot, err := m.join(ctx, first)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		m.log.Info("joined the group", zap.Int("slot", slot), zap.Int64("term", ml.Term()))
		m.balance(ctx, ml, h, &handlers)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timing.ReleaseBound())
		if ctx.Err() != nil {
			m.dropAll(errLeft)   // handlers stop now; each partition is released once its handler returned
			_ = ml.Release(rctx) // meanwhile: the others count one member fewer at their next poll
			cancel()
			handlers.Wait()
			m.log.Info("left the group")
			return nil
		}
		m.log.Warn("member lease lost; giving the partitions up and joining again", zap.Error(context.Cause(ml.Context())))
		m.dropAll(errRejoin)
		handlers.Wait()
		_ = ml.Release(rctx)
		cancel()
	}
}

// join takes a member slot, waiting while all are taken. On the first
// join, a live member of the same identity is an error.
func (m *Member) join(ctx context.Context, first bool) (*renewer.Lease, int, error) {
	n := len(m.slots)
	for {
		g := m.read(ctx, false) // the member slots only
		switch {
		case ctx.Err() != nil:
			return nil, 0, fmt.Errorf("shard: join: %w", context.Cause(ctx))
		case g.err != nil && renewer.Permanent(g.err):
			return nil, 0, g.err
		case g.err == nil:
			if first {
				if i := m.liveAs(g.slots, -1); i >= 0 {
					return nil, 0, fmt.Errorf("shard: join: %w: %q holds member slot %d of group %q", ErrMemberLive, m.id, i, m.group)
				}
			}
			start := pick(wait.From(ctx), n, 0x701)
			for j := range n {
				i := (start + j) % n
				if g.slots[i].Held() {
					continue
				}
				ls, err := m.slots[i].TryAcquire(ctx)
				switch {
				case err == nil:
					if !first {
						return ls, i, nil
					}
					// Two processes of one identity may have joined at once:
					// read again, and give the slot back if the other did.
					again := m.read(ctx, false)
					if k := m.liveAs(again.slots, i); again.err == nil && k >= 0 {
						_ = ls.Release(context.WithoutCancel(ctx))
						return nil, 0, fmt.Errorf("shard: join: %w: %q holds member slot %d of group %q", ErrMemberLive, m.id, k, m.group)
					}
					return ls, i, nil
				case ctx.Err() != nil:
					return nil, 0, fmt.Errorf("shard: join: %w", context.Cause(ctx))
				case renewer.Permanent(err) && !errors.Is(err, renewer.ErrInUse):
					return nil, 0, err
				}
			}
			m.log.Debug("no member slot free; waiting", zap.Int("slots", n))
		}
		if !m.sleep(ctx) {
			return nil, 0, fmt.Errorf("shard: join: %w", context.Cause(ctx))
		}
	}
}

// liveAs returns a member slot other than skip held under this member's
// identity, or -1.
func (m *Member) liveAs(slots []renewer.Status, skip int) int {
	for i, st := range slots {
		if i != skip && st.Held() && st.Holder == m.id {
			return i
		}
	}
	return -1
}

// balance rebalances every poll interval until ctx ends or the member lease
// ml is lost.
func (m *Member) balance(ctx context.Context, ml *renewer.Lease, h Handler, handlers *sync.WaitGroup) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ml.Done():
			return
		case <-t.C:
		}
		g := m.read(ctx, true)
		if ctx.Err() != nil || ml.Context().Err() != nil {
			return
		}
		if g.err != nil {
			m.log.Debug("group read failed; not rebalancing this poll", zap.Error(g.err))
		} else {
			m.rebalance(ctx, g, h, handlers)
		}
		t.Reset(wait.From(ctx).Jitter(m.timing.PollInterval))
	}
}

// rebalance compares what this member owns with its fair share in g and
// hands partitions back or claims free ones.
func (m *Member) rebalance(ctx context.Context, g group, h Handler, handlers *sync.WaitGroup) {
	members := g.members
	if !slices.Contains(members, m.id) {
		members = append(members, m.id) // our own term write may not show yet
	}
	owns := make(map[string]int, len(members))
	for i, st := range g.parts {
		if g.partOK[i] && st.Held() && st.Holder != m.id {
			owns[st.Holder]++
		}
	}
	m.mu.Lock()
	var active []*part
	for _, p := range m.parts {
		if p.active {
			active = append(active, p)
		}
	}
	m.mu.Unlock()
	owns[m.id] = len(active)
	target := shares(len(m.parts), members, owns)[m.id]
	m.log.Debug("rebalance", zap.Int("members", len(members)), zap.Int("owned", len(active)), zap.Int("share", target))
	switch {
	case len(active) > target:
		m.handBack(active, len(active)-target)
	case len(active) < target:
		m.claim(ctx, g, target-len(active), h, handlers)
	}
}

// handBack hands back the n partitions of active taken last: their
// handlers' contexts are cancelled now, and each is released once its
// handler returned.
func (m *Member) handBack(active []*part, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	byRecent := slices.Clone(active)
	slices.SortFunc(byRecent, func(a, b *part) int { return cmp.Compare(b.seq, a.seq) })
	for _, p := range byRecent[:n] {
		if !p.active {
			continue
		}
		p.active = false
		p.cancel(ErrHandedBack)
		m.log.Info("handing a partition back", zap.String("partition", p.name))
	}
}

// claim tries to take up to n free partitions, from a random one on.
func (m *Member) claim(ctx context.Context, g group, n int, h Handler, handlers *sync.WaitGroup) {
	k := len(m.parts)
	start := pick(wait.From(ctx), k, 0xc1a1)
	now := time.Now()
	for j := 0; j < k && n > 0; j++ {
		i := (start + j) % k
		p := m.parts[i]
		if !g.partOK[i] || g.parts[i].Held() {
			continue
		}
		m.mu.Lock()
		ok := !p.busy && !now.Before(p.notBefore)
		if ok {
			p.busy = true
		}
		m.mu.Unlock()
		if !ok {
			continue
		}
		ls, err := p.r.TryAcquire(ctx)
		if err != nil {
			m.mu.Lock()
			p.busy = false
			m.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			m.log.Debug("claim failed", zap.String("partition", p.name), zap.Error(err))
			continue
		}
		n--
		m.own(p, ls, h, handlers)
	}
}

// own starts p's handler under the lease ls.
func (m *Member) own(p *part, ls *renewer.Lease, h Handler, handlers *sync.WaitGroup) {
	hctx, cancel := context.WithCancelCause(ls.Context())
	m.mu.Lock()
	m.seq++
	p.active, p.cancel, p.seq = true, cancel, m.seq
	m.mu.Unlock()
	context.AfterFunc(hctx, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		p.active = false
	})
	m.log.Info("took a partition", zap.String("partition", p.name), zap.Int64("term", ls.Term()))
	handlers.Go(func() {
		h(hctx, Partition{Name: p.name, Term: ls.Term(), lease: ls})
		gaveUp := hctx.Err() == nil
		cancel(fmt.Errorf("handler returned: %w", renewer.ErrReleased))
		rctx, stop := context.WithTimeout(context.Background(), m.timing.ReleaseBound())
		err := ls.Release(rctx)
		stop()
		m.log.Info("partition released", zap.String("partition", p.name), zap.Int64("term", ls.Term()), zap.NamedError("loss", err))
		m.mu.Lock()
		defer m.mu.Unlock()
		p.busy = false
		if gaveUp {
			p.notBefore = time.Now().Add(2 * m.timing.PollInterval)
		}
	})
}

// dropAll cancels every owned partition's handler with cause; each is
// released once its handler returned.
func (m *Member) dropAll(cause error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.parts {
		if p.active {
			p.active = false
			p.cancel(cause)
		}
	}
}

// pick draws an index in [0, k) from src; salt tells draws apart.
func pick(src wait.Source, k int, salt uint64) int {
	const d = 1 << 30
	u := src.Spread(d, 0.5, salt) - d/2 // uniform in [0, d)
	return min(int(int64(u)*int64(k)/d), k-1)
}
