// Package election is leader election among replicas of a service, on the
// lease of one Azure Blob Storage container: whoever holds the lease leads.
//
// How to use it: [docs/usage.md]; how it works: [docs/design.md].
//
// Each replica makes a candidate with [New] over a renewer.Renewer of its
// own (which carries the replica's identity and the lease timing), then
// either calls [Election.Run] with [Callbacks], or
// drives the campaign itself with [Election.Campaign] and
// [Leadership.Resign]. Anyone can ask who leads with [Election.Leader] or
// follow it with [Election.Observe]; [Election.IsLeader] and
// [Election.KnownLeader] answer from the election's own reads with no
// storage call, including the leader's payload (renewer.WithPayload, for
// example its address, for forwarding to it). [Election.Check],
// [Election.HealthHandler] (liveness: renewals overdue, or a standby cut
// off from storage), [Election.ReadyHandler] (ready while leading or
// following) and [Election.LeaderReadyHandler] (ready only while leading)
// are for probes. The election logs through its renewer's logger unless
// given its own ([WithLogger], [WithSlog]). Its metrics are the renewer's
// (on the election's own lease, leasehold.lease.held is 1 while this
// candidate leads), its next-in-line seats' (labelled
// leasehold.role=next_in_line and leasehold.election, under a lock name of
// the election's), and leasehold.election.leader, 0 or 1: "this candidate
// leads", the gauge to alert on (metrics.go).
//
// A leader whose lease an operator breaks (leasehold break, or
// Renewer.Break elsewhere) learns of it at its next renew (a loss wrapping
// renewer.ErrBroken), stops, and releases; its next campaign stands aside
// for [BrokenStandAside] poll intervals so that another live candidate
// leads. A lease that another client took after a release (the holder's
// released marker, renewer.Status.Released) is no leader for
// [Election.Leader], [Election.Observe] and [Election.KnownLeader].
//
// # What it guarantees
//
//   - At most one candidate holds the lease at a time, as far as the storage
//     service's lease is correct. A leader's context ([Leadership.Context])
//     is cancelled, with a cause wrapping [renewer.ErrLeaseLost], before its lease could
//     pass to anyone else: the renewer cancels it at its validity deadline,
//     a safety margin (L/5 by default) before the lease could expire on the
//     service, measured on the leader's own monotonic clock from the moment
//     its last successful renewal was sent.
//   - Every leader has a term, written to the container under its lease
//     before it counts as elected: one more than the previous leader's.
//     Terms strictly increase, so a term is a fencing token.
//   - Resign and the end of Run's context stop the leader first (cancel its
//     context; under Run, the release also waits for OnElected to return,
//     whoever ended the term) and release the lease after, so a standby
//     takes over at its next poll: with the default standbys (two
//     next-in-line seats whose holders poll in turns) hand-over takes up
//     to one poll interval P (750 ms by default), and up to 2P right
//     after a take-over, plus a few round trips; with every standby
//     polling on its own (WithStandby(Standby{})), up to 1.2 P.
//   - A leader that dies without releasing is replaced after its lease
//     expires: up to L + 2P by default (15 s + 1.5 s), L + 1.2 P with
//     every standby polling. The bounds of every other state (both seat
//     holders gone, a seat holder dead with the leader) are in [Standby].
//   - A Campaign that fails or is cancelled leaves nothing held. Run's
//     callbacks come in the documented order (see [Callbacks]): OnDemoted
//     only after an OnElected has returned.
//
// # What it does not guarantee
//
//   - Leadership is a belief held with a deadline, not a fact. A process
//     that is paused longer than the safety margin (a stop-the-world pause,
//     a frozen VM, SIGSTOP, a laptop lid) can wake up with its context not
//     yet cancelled while another candidate already leads. No lease can
//     prevent this; only fencing can: pass the term with every write the
//     leader makes, and have the store reject writes that carry a term
//     lower than the highest it has seen.
//   - The clock rates of the leader and the storage service are assumed to
//     differ by much less than the safety margin over a lease duration.
//   - Observers (Leader, Observe, OnNewLeader) learn of changes by polling,
//     up to a poll interval late, and can miss a leader that came and went
//     between two polls. Right after a takeover the container may still
//     name the previous leader for one round trip (see [Election.Leader]).
//     Observation is for humans and routing, never for safety: only the
//     leader's own context says whether it leads.
//   - Failover times measured against Azurite are a floor: Azurite lets
//     another candidate acquire the instant a lease expires, where the cloud
//     may refuse for up to about a minute after expiry.
//   - Standbys poll: a standby polling on its own makes one billed
//     storage call per poll interval (4,800 an hour at the default 750 ms:
//     3600 s / 0.75 s), and a leader one per renew interval (720 an hour
//     at L = 15 s, R = 5 s). By default (and with a [Profile]) the two
//     holders of the next-in-line seats poll in turns, 2,400 calls an hour
//     each plus about 150 for their seats; the others try a seat every
//     30 s and read the leader's lease every 60 s, about 180 calls an hour
//     each, and learn of a new leader (OnNewLeader, KnownLeader) that much
//     later.
//
// Release on cancel is on by default (see [WithReleaseOnCancel]); turned
// off, a leader whose Run ends leaves the lease to expire, and the service
// has no leader for up to L + P.
//
// [docs/usage.md]: https://github.com/leasehold/leasehold/blob/main/docs/usage.md#elections
// [docs/design.md]: https://github.com/leasehold/leasehold/blob/main/docs/design.md
package election
