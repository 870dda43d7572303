package leasetest

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// Container is an in-memory Azure container with its lease: a
// [renewer.Leaser] that answers as the cloud does. Create one with [New].
// It is safe for concurrent use and must not be copied after first use.
type Container struct {
	azurite bool // EmulateAzurite; set by New, read-only after
	blob    bool // a blob's lease (Named): metadata writes without the lease ID refused while leased; read-only
	// named and name: the Named this lease belongs to and its name there
	// (for Beside), or nil; read-only.
	named *Named
	name  string

	// mu protects every field below. Hooks run without it.
	mu           sync.Mutex
	lease        lease
	metadata     map[string]string // keys in lower case; never nil
	lastModified time.Time         // UTC, whole seconds
	calls        map[Op]int
	before       func(ctx context.Context, call Call) error
	after        func(ctx context.Context, call Call, err error) error
}

var _ renewer.Leaser = (*Container)(nil)

// Option configures a Container made by [New].
type Option func(*config)

type config struct {
	azurite bool
}

// EmulateAzurite makes the Container reproduce Azurite 3.37.0's first
// deviation from the cloud: a renew of an Expired lease with ANY lease ID
// succeeds, answers with the old holder's lease ID, and leases the container
// to that old ID again (the cloud refuses a renew with another ID). Use it
// to test that callers compare the lease ID a renew answers with their own.
// Azurite's other deviations are not reproduced.
func EmulateAzurite() Option { return func(c *config) { c.azurite = true } }

// New returns a Container that exists, has no lease and no metadata, and was
// last modified now.
func New(opts ...Option) *Container {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return &Container{
		azurite:      cfg.azurite,
		metadata:     map[string]string{},
		lastModified: serviceTime(time.Now()),
		calls:        map[Op]int{},
	}
}

// State returns the lease state now. It is for inspection by tests: it is
// not counted by [Container.Calls] and runs no hooks.
func (c *Container) State() renewer.LeaseState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lease.state(time.Now())
}

// Metadata returns a copy of the container's metadata, keys in lower case.
// It is for inspection by tests: it is not counted by [Container.Calls] and
// runs no hooks.
func (c *Container) Metadata() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.metadata)
}

// Calls returns how many calls of op were made on the Container, including
// those that a hook, a done context or the service's rules refused.
func (c *Container) Calls(op Op) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// serviceTime is t as the service reports it: UTC, whole seconds.
func serviceTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
