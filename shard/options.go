package shard

import (
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
)

// Leasers gives the [renewer.Leaser] of the lease with the given name. New
// calls it once per member slot ([MemberName]) and once per partition
// ([PartitionName]). Any Leaser works: a container lease per name
// (azlease.FromConnectionString(conn, name, nil): the names are valid
// container names if the group's and the partitions' names are lower-case
// letters, digits and single hyphens, and short enough), a
// named lock per name in one container (azlease.NewBlob, or Leaser.Blob of
// a container's Leaser: any name works, and WithLister can then read them
// all with one List Blobs call), or leasetest containers (leasetest.Named
// for named locks) in tests.
type Leasers func(name string) (renewer.Leaser, error)

// MemberName returns the name of member slot i of group: group-member-i.
func MemberName(group string, i int) string { return group + "-member-" + strconv.Itoa(i) }

// PartitionName returns the name of the lease of partition p of group:
// group-part-p.
func PartitionName(group, p string) string { return group + "-part-" + p }

// An Option configures a Member. Options are validated together by New.
type Option func(*config)

type config struct {
	ropts      []renewer.Option
	maxMembers int
	lister     renewer.Lister
	log        *zap.Logger
}

// DefaultMaxMembers is the number of member slots unless WithMaxMembers
// says otherwise, or the number of partitions if that is smaller.
const DefaultMaxMembers = 16

// MaxPartitions bounds the number of partitions: each is a lease that
// every member reads every poll interval.
const MaxPartitions = 1000

// WithRenewerOptions sets the options of the renewers of the member's
// lease and of its partitions' leases: its identity (renewer.WithIdentity,
// default hostname-pid), which must be unique in the group; the lease
// duration L, which bounds how long a dead member keeps its partitions;
// the poll interval P, which is also how often the member reads the group
// and rebalances. Every member of a group must use the same timing.
// Infinite leases are refused: a dead member would keep its partitions
// forever.
func WithRenewerOptions(opts ...renewer.Option) Option {
	return func(c *config) { c.ropts = append(c.ropts, opts...) }
}

// WithMaxMembers sets N, the number of member slots: at most N members
// are live at once; a member that finds every slot taken waits, reading
// the slots every poll interval, until one frees. Default
// DefaultMaxMembers, or the number of partitions if smaller (a member
// beyond that many would own nothing). Every member reads all N slots
// every poll interval. Every member of a group must use the same N.
func WithMaxMembers(n int) Option { return func(c *config) { c.maxMembers = n } }

// WithLister makes the member read the group with one List call per poll
// interval (a page per 5,000 leases on Azure) instead of one read per
// member slot and per partition: for a group whose leases are blob leases
// in one container (azlease.NewBlob), give azlease.NewLister over that
// container; in tests, leasetest.Named. l must cover every lease Leasers
// gives (New checks l.LeaseKey of each). A lease l does not report reads
// as never taken. The list only tells the member what to try: a claim is
// still an acquire of the partition's lease, which storage refuses if
// someone holds it.
func WithLister(l renewer.Lister) Option { return func(c *config) { c.lister = l } }

// WithLogger sets the member's logger: Info when it joins or leaves the
// group and when it takes or hands back a partition, Debug per rebalance.
// Default: no logging. The renewers log through renewer.WithLogger.
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.log = l } }

func invalid(field string, value any, rule string) error {
	return &renewer.OptionError{Pkg: "shard", Field: field, Value: value, Rule: rule}
}

// maxName bounds the group's and the partitions' names.
const maxName = 256

func validateName(field, name string) error {
	switch {
	case name == "":
		return invalid(field, name, "want a non-empty name")
	case len(name) > maxName:
		return invalid(field, name, fmt.Sprintf("want at most %d bytes, not %d", maxName, len(name)))
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x21 || name[i] > 0x7e {
			return invalid(field, name, fmt.Sprintf("want printable ASCII without spaces (byte %d is %#x)", i, name[i]))
		}
	}
	return nil
}

func newConfig(partitions []string, opts []Option) (config, error) {
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
	switch {
	case len(partitions) < 1 || len(partitions) > MaxPartitions:
		return config{}, invalid("partitions", len(partitions), fmt.Sprintf("want from 1 to %d partitions", MaxPartitions))
	case c.maxMembers < 0:
		return config{}, invalid("max members", c.maxMembers, "want at least 1 (0: the default)")
	case c.maxMembers == 0:
		c.maxMembers = min(DefaultMaxMembers, len(partitions))
	}
	seen := make(map[string]int, len(partitions))
	for i, p := range partitions {
		if err := validateName(fmt.Sprintf("partition %d", i), p); err != nil {
			return config{}, err
		}
		if j, dup := seen[p]; dup {
			return config{}, invalid("partitions", p, fmt.Sprintf("want unique names: partitions %d and %d are both %q", j, i, p))
		}
		seen[p] = i
	}
	return c, nil
}
