// Package shard spreads P named partitions over the live members of a
// group, each partition owned by at most one member at any moment, with
// storage-free code composed from renewers the way election and mutex
// are: every partition is a lease of its own (so never two owners), and
// every member holds a member lease (one of N member slots) for as long as
// it is live.
//
// How to use it: [docs/usage.md]; how it works: [docs/design.md].
//
//	m, err := shard.New("orders", []string{"p0", "p1", "p2", "p3"}, leasers,
//		shard.WithRenewerOptions(renewer.WithIdentity(podName)))
//	err = m.Run(ctx, func(ctx context.Context, p shard.Partition) {
//		consume(ctx, p.Name, p.Term) // until ctx is done
//	})
//
// The package holds no storage code: the caller gives a [Leasers] func that
// returns the Leaser of a lease name ([MemberName], [PartitionName]), so
// any Leaser works: azlease container leases, a lease per blob in one
// container, or renewer/leasetest containers in tests.
//
// # How it balances
//
// Every poll interval P (jittered) each member reads the group: the N
// member slots (who is live: the identity written under each held member
// lease) and the P partitions (who owns what: the identity written under
// each held partition lease). From that read it computes every live
// member's fair share: floor(P/n) for each of the n live members, and one
// more for the P mod n members that own most now (ties broken by
// identity), so the fewest partitions move ([Shares]). Then:
//
//   - above its share, a member hands back the partitions it took last: it
//     cancels their handlers' contexts (cause wrapping [ErrHandedBack]) and
//     releases each lease only after its handler returned;
//   - below its share, it claims free partitions (leases no one holds),
//     from one drawn at random, one acquire call each, up to its share;
//   - at its share, it does nothing.
//
// Ownership is sticky, as in Kafka's cooperative sticky assignor: a member
// keeps what it owns unless it is above its share, and only the partitions
// that must move are revoked (cooperative: the others' handlers run on
// undisturbed). A join therefore moves floor(P/n) partitions (the newcomer's
// share), a graceful leave or a crash moves the partitions of the member
// that left, and nothing else moves. Members that read the group at
// different moments may briefly disagree; the leases keep that safe (a
// claim of a partition someone holds is refused) and the next polls settle
// it.
//
// # What it guarantees
//
//   - Never two owners of a partition: a handler runs only while its member
//     holds the partition's lease, and its context is cancelled (cause
//     wrapping renewer.ErrLeaseLost on loss) before the lease could pass to
//     anyone else, as long as no member's process is paused for longer than
//     the safety margin. A partition handed back is released only after its
//     handler returned.
//   - A fencing number per partition: Partition.Term is one more than the
//     previous owner's term of that partition. Terms of different
//     partitions are unrelated: fence with (Name, Term).
//   - A member that dies drops out within L: its member lease and its
//     partitions' leases expire, and the others own every partition again
//     within L + 1.2 P (plus a few round trips) of its last renew. A member
//     that leaves gracefully (Run's context ends) cancels its handlers,
//     releases its member lease, and releases each partition once its
//     handler returned; the others take them at their next poll.
//   - Bad input (no partitions, duplicate names, an identity already live)
//     is refused with a clear error; nothing panics.
//
// # What it does not guarantee
//
//   - Exactly-once hand-over timing: between a hand-back and the claim by
//     a member below its share there is a gap of up to one poll interval
//     in which nobody owns the partition.
//   - Agreement on identities: each member's identity (renewer.WithIdentity)
//     must be unique in the group. Run refuses to join while a member of
//     the same identity is live (ErrMemberLive), which includes the same
//     process restarted within L of a crash: give restarts a new identity,
//     or retry after L. Two members of one identity started at the same
//     instant may both be refused.
//   - Cheap reads, unless the group can be listed: every live member reads
//     N + P leases every poll interval (a standby waiting for a member
//     slot, N): 4 members of a group of 64 partitions and 4 slots make
//     4 x 68 / 0.75 s, about 1.3 million calls an hour at the default poll
//     interval. With [WithLister] (the group's leases as blob leases in one
//     container: azlease.NewBlob for each name, azlease.NewLister over the
//     container) a member reads the whole group with one List call per
//     poll: 4 x 4,800 calls an hour.
//
// Every member of a group must use the same partitions, N
// ([WithMaxMembers]) and timing.
//
// [docs/usage.md]: https://github.com/leasehold/leasehold/blob/main/docs/usage.md#sharding
// [docs/design.md]: https://github.com/leasehold/leasehold/blob/main/docs/design.md
package shard
