package main

import (
	"context"
)

// contender is one candidate of a system, for the hand-over pairs and the
// cost sweep: take campaigns until it leads, counts are the calls it has
// made so far by operation, close frees what it holds.
type contender struct {
	holder
	counts func() map[string]int64
	close  func()
}

// system is one leader-election implementation under test: leasehold at a
// setting, client-go's leaderelection, or etcd's concurrency.Election.
type system struct {
	Name    string
	Setting setting
	// Billed: its calls are Blob Storage operations with a list price; etcd's
	// are requests to a server one runs oneself.
	Billed bool
	// newContender returns candidate id in the election named group.
	newContender func(ctx context.Context, group, id string) (contender, error)
	// crashOnce runs one crash failover on the election named group.
	crashOnce func(ctx context.Context, group string) (crashSample, error)
	// newMember starts candidate who of the election named group for the
	// rollout sections, reporting its leading spans to tl; nil: the system
	// is not in those sections.
	newMember func(ctx context.Context, group, who string, tl *timeline) (member, error)
}

// counterCounts turns a storage counter into a contender's counts.
func counterCounts(c *counter) func() map[string]int64 {
	return func() map[string]int64 {
		m := map[string]int64{}
		for _, o := range c.snapshot().byOp() {
			m[o.Op] = o.Calls
		}
		return m
	}
}

// leaseholdSystem is leasehold's election at s.
func leaseholdSystem(s setting) system {
	return system{Name: "leasehold " + s.Name, Setting: s, Billed: true,
		newContender: func(_ context.Context, group, id string) (contender, error) {
			c := newCounter(newHTTPClient(4))
			l, err := newLeaser(connString(), group, c)
			if err != nil {
				return contender{}, err
			}
			e, err := s.newElection(l, id)
			if err != nil {
				return contender{}, err
			}
			return contender{holder: electionHolder{e}, counts: counterCounts(c), close: func() {}}, nil
		},
		crashOnce: func(ctx context.Context, group string) (crashSample, error) { return crashOnce(ctx, s, group) },
		newMember: func(ctx context.Context, group, who string, tl *timeline) (member, error) {
			return startProcMember(ctx, s, group, who, tl)
		},
	}
}
