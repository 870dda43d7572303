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

// ErrMemberLive is returned by Run when a member with the same identity is
// already live in the group: its member lease is held. A member that
// crashed stays live until its lease expires (within L): start it again
// after that, or give each process an identity of its own.
var ErrMemberLive = errors.New("a member with this identity is already live in the group")

// A Partition is one partition a member owns, as the handler gets it.
type Partition struct {
	// Name is the partition's name, as given to New.
	Name string
	// Term is the fencing number of this ownership: the term of the
	// partition's lease, one more than the previous owner's. Terms
	// increase per partition: a store fenced by the group's members keeps
	// the highest term seen per partition and rejects writes that carry a
	// lower one.
	Term int64

	lease *renewer.Lease
}

// Deadline returns the partition lease's current validity deadline, on
// the local monotonic clock: the handler's context is cancelled at this
// moment unless a renew succeeds first.
// A Partition not given by Run has no deadline: the zero time.
func (p Partition) Deadline() time.Time {
	if p.lease == nil {
		return time.Time{}
	}
	return p.lease.Deadline()
}

// A Handler processes one partition for as long as its member owns it. It
// must stop acting on the partition, and return soon, once ctx is done:
// the member hands the partition back (or lets another member take it)
// only after the handler returned. ctx is cancelled with a cause wrapping
// renewer.ErrLeaseLost if the partition's lease is lost, and wrapping
// renewer.ErrReleased when the member hands it back (ErrHandedBack) or
// leaves the group. A handler that returns while its context is live gives
// the partition up: the member releases it and does not claim it again for
// two poll intervals.
type Handler func(ctx context.Context, p Partition)

// ErrHandedBack is wrapped by the cause of a handler's context when its
// member hands the partition back so that a member below its fair share
// can take it. It wraps renewer.ErrReleased.
var ErrHandedBack = fmt.Errorf("partition handed back to rebalance: %w", renewer.ErrReleased)

// errLeft is the cause of the handlers' contexts when Run's context ends.
var errLeft = fmt.Errorf("member left the group: %w", renewer.ErrReleased)

// A Member is one member of a group that shares P named partitions: while
// Run runs, it holds a member lease (one of N member slots) and owns its
// fair share of the partitions, each through a lease of its own. See the
// package documentation.
//
// A Member is safe for concurrent use; Run runs at most once at a time.
type Member struct {
	group  string
	id     string
	cfg    config
	log    *zap.Logger
	timing renewer.Timing
	slots  []*renewer.Renewer // member slots
	parts  []*part            // in the order given to New
	// With WithLister: the key of each member slot's and partition's
	// lease in the Lister's answers.
	slotKeys, partKeys []string

	mu      sync.Mutex // guards running and every part's fields below
	running bool
	seq     int64 // acquisitions so far, to order owned partitions
}

// part is one partition, as this member sees it.
type part struct {
	i    int
	name string
	r    *renewer.Renewer
	// Guarded by Member.mu.
	busy      bool                    // a lease of r is live, or its handler has not returned, or an attempt is under way
	active    bool                    // owned and not being handed back
	cancel    context.CancelCauseFunc // cancels the handler's context
	seq       int64                   // when it was taken, in this member's acquisitions
	notBefore time.Time               // no claim before this (its handler gave it up)
}

// New returns a member of group with the given partition names (P of
// them, unique), taking its leases from leasers: one per member slot
// (MemberName(group, i), i from 0 to N-1) and one per partition
// (PartitionName(group, p)). Its identity and timing are those of
// WithRenewerOptions. It makes no storage call.
//
// Bad input (P below 1 or above MaxPartitions, an empty or duplicate
// partition name, an empty group name, nil leasers, a renewer option that
// breaks a rule, an infinite lease) returns a *renewer.OptionError naming
// what was wrong; an error of leasers is returned wrapped, with the name it
// was for. Every member of a group must be made with the same partitions,
// N and timing.
func New(group string, partitions []string, leasers Leasers, opts ...Option) (*Member, error) {
	if err := validateName("group", group); err != nil {
		return nil, err
	}
	cfg, err := newConfig(partitions, opts)
	if err != nil {
		return nil, err
	}
	if leasers == nil {
		return nil, invalid("leasers", nil, "want a Leasers func, not nil")
	}
	newRenewer := func(name string) (*renewer.Renewer, error) {
		l, err := leasers(name)
		if err != nil {
			return nil, fmt.Errorf("shard: leaser of %q: %w", name, err)
		}
		if l == nil {
			return nil, invalid("leasers", nil, fmt.Sprintf("returned a nil Leaser for %q", name))
		}
		r, err := renewer.New(l, cfg.ropts...)
		if err != nil {
			return nil, err
		}
		if d := r.Timing().Duration; d == renewer.Infinite {
			return nil, invalid("lease duration", d, "a dead member would keep its partitions forever; want whole seconds from 15s to 60s")
		}
		return r, nil
	}
	m := &Member{group: group, cfg: cfg}
	for i := range cfg.maxMembers {
		r, err := newRenewer(MemberName(group, i))
		if err != nil {
			return nil, err
		}
		m.slots = append(m.slots, r)
	}
	for i, p := range partitions {
		r, err := newRenewer(PartitionName(group, p))
		if err != nil {
			return nil, err
		}
		m.parts = append(m.parts, &part{i: i, name: p, r: r})
	}
	if l := cfg.lister; l != nil {
		key := func(r *renewer.Renewer, name string) (string, error) {
			k, err := l.LeaseKey(r.Leaser())
			if err != nil {
				return "", invalid("lister", nil, fmt.Sprintf("does not cover the lease %q: %v", name, err))
			}
			return k, nil
		}
		for i, r := range m.slots {
			k, err := key(r, MemberName(group, i))
			if err != nil {
				return nil, err
			}
			m.slotKeys = append(m.slotKeys, k)
		}
		for _, p := range m.parts {
			k, err := key(p.r, PartitionName(group, p.name))
			if err != nil {
				return nil, err
			}
			m.partKeys = append(m.partKeys, k)
		}
	}
	m.id = m.slots[0].Identity()
	m.timing = m.slots[0].Timing()
	m.log = cfg.log.With(zap.String("group", group), zap.String("member", m.id))
	return m, nil
}

// Identity returns the member's identity.
func (m *Member) Identity() string { return m.id }

// Group returns the group's name.
func (m *Member) Group() string { return m.group }

// Timing returns the lease timing, defaults filled in.
func (m *Member) Timing() renewer.Timing { return m.timing }

// Owned returns the names of the partitions this member owns now (their
// handlers run and are not being handed back), in the order given to New.
func (m *Member) Owned() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, p := range m.parts {
		if p.active {
			out = append(out, p.name)
		}
	}
	return out
}

// View is what a read of the group shows: who is live, who owns what.
type View struct {
	// Members are the identities of the live members (their member
	// leases are held), sorted.
	Members []string
	// Owners maps each partition whose lease is held to the identity of
	// its holder; a free partition is absent. Right after a take-over a
	// partition may still name its previous owner for one round trip.
	Owners map[string]string
}

// Status reads the group (N + P storage calls, each bounded by the call
// timeout; one List with WithLister) and returns who is live and who owns which partition. It holds
// nothing.
func (m *Member) Status(ctx context.Context) (View, error) {
	g := m.read(ctx, true)
	if g.err != nil {
		return View{}, g.err
	}
	v := View{Members: g.members, Owners: map[string]string{}}
	for i, p := range m.parts {
		if g.partOK[i] && g.parts[i].Held() {
			v.Owners[p.name] = g.parts[i].Holder
		}
	}
	return v, nil
}

// group is one read of the group.
type group struct {
	slots   []renewer.Status
	parts   []renewer.Status
	partOK  []bool
	members []string // live identities, sorted, without duplicates
	err     error    // the first failed read of a member slot
}

// readers bounds the reads of one poll under way at once.
const readers = 16

// read reads every member slot and, with parts, every partition, up to
// readers at once.
func (m *Member) read(ctx context.Context, parts bool) group {
	g := group{slots: make([]renewer.Status, len(m.slots)), parts: make([]renewer.Status, len(m.parts)), partOK: make([]bool, len(m.parts))}
	if m.cfg.lister != nil {
		m.list(ctx, &g, parts)
		return g
	}
	slotErr := make([]error, len(m.slots))
	sem := make(chan struct{}, readers)
	var wg sync.WaitGroup
	inspect := func(r *renewer.Renewer, st *renewer.Status, fail func(error)) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s, err := r.Inspect(ctx)
			if errors.Is(err, renewer.ErrContainerNotFound) {
				// No container (or blob) yet: no lease. The acquire creates it
				// if the Leaser does (azlease.Options.CreateContainer), or
				// answers the same error, which Run returns.
				s, err = renewer.Status{State: renewer.StateAvailable}, nil
			}
			if err != nil {
				fail(err)
				return
			}
			*st = s
		})
	}
	for i, r := range m.slots {
		inspect(r, &g.slots[i], func(err error) { slotErr[i] = fmt.Errorf("shard: read member slot %d: %w", i, err) })
	}
	for i, p := range m.parts {
		if !parts {
			break
		}
		g.partOK[i] = true
		inspect(p.r, &g.parts[i], func(error) { g.partOK[i] = false })
	}
	wg.Wait()
	if i := slices.IndexFunc(slotErr, func(e error) bool { return e != nil }); i >= 0 {
		g.err = slotErr[i]
	}
	g.findMembers()
	return g
}

// list reads the group with the Lister: one call.
func (m *Member) list(ctx context.Context, g *group, parts bool) {
	lctx, cancel := context.WithTimeout(ctx, renewer.DefaultListTimeout)
	sts, err := m.cfg.lister.List(lctx)
	cancel()
	if errors.Is(err, renewer.ErrContainerNotFound) {
		sts, err = nil, nil // no container yet: no lease; the first acquire creates it, or says why not
	}
	if err != nil {
		g.err = fmt.Errorf("shard: list the group: %w", err)
		return
	}
	for i, k := range m.slotKeys {
		g.slots[i] = sts[k]
	}
	for i, k := range m.partKeys {
		if parts {
			g.parts[i], g.partOK[i] = sts[k], true
		}
	}
	g.findMembers()
}

// findMembers fills g.members from the member slots read.
func (g *group) findMembers() {
	for _, st := range g.slots {
		if st.Held() && st.Holder != "" && !slices.Contains(g.members, st.Holder) {
			g.members = append(g.members, st.Holder)
		}
	}
	slices.Sort(g.members)
}

// shares returns each live member's fair share of p partitions: floor(p/n)
// for all, and one more for the p mod n members that own most now (ties
// broken by identity), so that as few partitions as possible move.
func shares(p int, members []string, owns map[string]int) map[string]int {
	n := len(members)
	out := make(map[string]int, n)
	if n == 0 {
		return out
	}
	order := slices.Clone(members)
	slices.SortFunc(order, func(a, b string) int { return cmp.Or(cmp.Compare(owns[b], owns[a]), cmp.Compare(a, b)) })
	for i, id := range order {
		out[id] = p / n
		if i < p%n {
			out[id]++
		}
	}
	return out
}

// Shares returns the fair share of each of the members (identities) of a
// group of p partitions, given how many each owns now: every member gets
// floor(p/n) or ceil(p/n), the larger shares going to those that own most
// (ties broken by identity). It is the rule every member applies to its
// own read of the group; tests and tools use it to say what a balanced
// group looks like.
func Shares(p int, owns map[string]int) map[string]int {
	members := make([]string, 0, len(owns))
	for id := range owns {
		members = append(members, id)
	}
	return shares(p, members, owns)
}

// sleep waits one jittered poll interval.
func (m *Member) sleep(ctx context.Context) bool {
	return wait.Sleep(ctx, wait.From(ctx).Jitter(m.timing.PollInterval))
}
