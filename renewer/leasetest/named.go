package leasetest

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"sync"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// Named is an in-memory container of many named leases: the fake of the
// Azure adapter's blob leases (azlease.NewBlob) and of its List Blobs
// reader (azlease.Lister). Each name's lease is a [Container] (the same
// state machine, hooks and call counts), made on first use and kept, with
// one difference of blob leases: while it is leased or breaking, a metadata
// write without the lease ID is refused (LeaseIdMissing, wrapping
// renewer.ErrNoLease), as a leased blob refuses writes.
//
// Named is a [renewer.Lister]: List reads every name's lease in one call,
// counted by [Named.Lists], so a [renewer.Observer] over it serves every
// waiter of a test "process" with one list per poll. Several Observers
// (several processes) may share one Named. It is safe for concurrent use.
type Named struct {
	mu         sync.Mutex
	leases     map[string]*Container
	names      map[*Container]string
	lists      int
	beforeList func(ctx context.Context) error
}

var _ renewer.Lister = (*Named)(nil)

// NewNamed returns an empty Named.
func NewNamed() *Named {
	return &Named{leases: map[string]*Container{}, names: map[*Container]string{}}
}

// Lease returns the lease of the lock name, a [Container] made Available on
// first use with the name in its metadata (renewer.MetadataName, escaped as
// a URL query value), as the Azure adapter creates a blob. A name that
// renewer.ValidateName refuses is refused with its *renewer.OptionError.
func (n *Named) Lease(name string) (*Container, error) {
	if err := renewer.ValidateName(name); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.leases[name]; ok {
		return c, nil
	}
	c := New()
	c.blob, c.named, c.name = true, n, name
	c.metadata[renewer.MetadataName] = url.QueryEscape(name)
	n.leases[name] = c
	n.names[c] = name
	return c, nil
}

// Name returns the name of a lease of a [Named] (what metrics label its
// lock with, as they do an Azure named lock's), or "" for a Container made
// by New.
func (c *Container) Name() string {
	if c.named == nil {
		return ""
	}
	return c.name
}

// Beside implements [renewer.Besider] for a lease of a [Named]: the
// lease name + "/" + suffix of the same Named. A Container made by New has
// no place beside it and answers an error.
func (c *Container) Beside(suffix string) (renewer.Leaser, error) {
	if c.named == nil {
		return nil, fmt.Errorf("leasetest: Beside(%q): a Container made by New has nothing beside it; use Named", suffix)
	}
	l, err := c.named.Lease(c.name + "/" + suffix)
	if err != nil {
		return nil, err // an untyped nil: a nil *Container would not compare equal to nil
	}
	return l, nil
}

// LeaseKey implements [renewer.Lister]: the name of l, which must be a
// Container that n's Lease returned.
func (n *Named) LeaseKey(l renewer.Leaser) (string, error) {
	c, ok := l.(*Container)
	if !ok {
		return "", fmt.Errorf("leasetest: a %T is not a lease of this Named", l)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	name, ok := n.names[c]
	if !ok {
		return "", fmt.Errorf("leasetest: the Container is not a lease of this Named")
	}
	return name, nil
}

// List implements [renewer.Lister]: one call, counted by Lists, that reads
// every name's lease at one instant. It runs no hook of the Containers and
// is not counted by their Calls. A call whose ctx had ended is not made.
func (n *Named) List(ctx context.Context) (map[string]renewer.Status, error) {
	n.mu.Lock()
	n.lists++
	before := n.beforeList
	n.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("leasetest: list: not sent: %w", err)
	}
	if before != nil {
		if err := before(ctx); err != nil {
			return nil, err
		}
	}
	n.mu.Lock()
	leases := maps.Clone(n.leases)
	n.mu.Unlock()
	now := time.Now()
	out := make(map[string]renewer.Status, len(leases))
	for name, c := range leases {
		out[name] = c.status(now)
	}
	return out, nil
}

// Lists returns how many List calls were made, including refused ones.
func (n *Named) Lists() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lists
}

// SetBeforeList sets a hook that runs before each List, as
// [Container.SetBefore] does for a Container's calls: an error it returns
// is List's, and nothing is read. A nil f removes it.
func (n *Named) SetBeforeList(f func(ctx context.Context) error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.beforeList = f
}

// status is what a List reports for c's lease at now: what Properties
// would, without counting a call or running hooks.
func (c *Container) status(now time.Time) renewer.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.lease.state(now)
	return renewer.StatusOf(renewer.Properties{
		State:        s,
		Infinite:     s == renewer.StateLeased && c.lease.duration == renewer.Infinite,
		Metadata:     maps.Clone(c.metadata),
		LastModified: c.lastModified,
		Date:         serviceTime(now),
	})
}
