package semaphore

import (
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// Leasers gives the [renewer.Leaser] of the lease with the given name. The
// Semaphore calls it once per slot, in New, with the names [SlotName]
// returns. Any Leaser works: a container lease per name
// (azlease.FromConnectionString(conn, name, nil): the names are then valid
// container names if the semaphore's name is one and short enough), a
// named lock per name in one container (azlease.NewBlob, or Leaser.Blob of
// a container's Leaser: any name works, and WithLister can then read them
// all with one List Blobs call), or leasetest containers (leasetest.Named
// for named locks) in tests.
type Leasers func(name string) (renewer.Leaser, error)

// An Option configures a Semaphore. Options are validated together by New.
type Option func(*config)

type config struct {
	ropts  []renewer.Option
	lister renewer.Lister
	log    *zap.Logger
}

// WithRenewerOptions sets the options of every slot's renewer.Renewer:
// identity (renewer.WithIdentity, default hostname-pid), lease duration,
// poll interval and the rest. Every Semaphore of one name must use the
// same timing. Infinite leases are refused: a crashed holder would keep
// its slot forever.
func WithRenewerOptions(opts ...renewer.Option) Option {
	return func(c *config) { c.ropts = append(c.ropts, opts...) }
}

// WithLister makes every pass over the slots (each poll of a waiting
// Acquire, each TryAcquire) read them with one List call (a page per 5,000
// leases on Azure) and try to acquire only the slots it shows free, instead
// of an acquire call per slot: for slots that are blob leases in one
// container (azlease.NewBlob), give azlease.NewLister over that container;
// in tests, leasetest.Named. l must cover every slot's lease (New checks
// l.LeaseKey of each). If a List fails, the pass tries every slot. The
// list only says what to try: the acquire decides.
func WithLister(l renewer.Lister) Option { return func(c *config) { c.lister = l } }

// WithLogger sets the semaphore's logger: Info when a slot is taken or
// given back. Default: no logging. The slots' renewers log through
// renewer.WithLogger, if given.
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

// SlotName returns the name of slot i of the semaphore name: name-slot-i,
// the name New asks its Leasers for.
func SlotName(name string, i int) string { return name + "-slot-" + strconv.Itoa(i) }

// maxName bounds the semaphore's name.
const maxName = 256

func invalid(field string, value any, rule string) error {
	return &renewer.OptionError{Pkg: "semaphore", Field: field, Value: value, Rule: rule}
}

func newConfig(opts []Option) (config, error) {
	var c config
	for i, o := range opts {
		if o == nil {
			return config{}, invalid("option "+strconv.Itoa(i), nil, "want an Option, not nil")
		}
		o(&c)
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	return c, nil
}

func validateName(name string) error {
	switch {
	case name == "":
		return invalid("name", name, "want a non-empty name")
	case len(name) > maxName:
		return invalid("name", name, fmt.Sprintf("want at most %d bytes, not %d", maxName, len(name)))
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x21 || name[i] > 0x7e {
			return invalid("name", name, fmt.Sprintf("want printable ASCII without spaces (byte %d is %#x)", i, name[i]))
		}
	}
	return nil
}
