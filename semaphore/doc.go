// Package semaphore lets at most K holders at a time hold a named resource,
// across processes: K slots, each a lease of its own (slot i of name is the
// lease SlotName(name, i), "name-slot-i"), built from renewers the way
// election and mutex are. A holder holds one slot; its [Held] has the
// mutex's shape: a context cancelled before anyone else can take the slot,
// Done, Term (the slot's fencing number), Deadline and Release.
//
// How to use it: [docs/usage.md]; how it works: [docs/design.md].
//
//	s, err := semaphore.New("encoders", 4, leasers,             // leasers: a lease per name
//		semaphore.WithRenewerOptions(renewer.WithIdentity(host)))
//	held, err := s.Acquire(ctx)                                  // blocks until a slot is free
//	defer held.Release(held.Context())
//	encode(held.Context(), held.Slot(), held.Term())             // stop when the context is done
//
// The package holds no storage code: the caller gives a [Leasers] func that
// returns the Leaser of a lease name, so any Leaser works: azlease
// container leases (one container per slot), a lease per blob in one
// container, or renewer/leasetest containers in tests.
//
// # What it guarantees
//
//   - At most K holders at a time, and at most one per slot, across every
//     Semaphore of the same name and K, in every process: each slot is a
//     lease, held with all of the renewer's guarantees (a holder's context
//     is cancelled, with a cause wrapping renewer.ErrLeaseLost, before its
//     validity deadline, so before anyone else can take the slot), as long
//     as no holder's process is paused for longer than the safety margin.
//   - Fencing per slot: Held.Term is one more than the previous holding's
//     of the same slot. Terms of different slots are unrelated: fence with
//     the pair (Held.Slot, Held.Term).
//   - Acquire and TryAcquire leave nothing held when they fail; a crashed
//     holder's slot is free again within L of its last renew, and a waiter
//     takes it within L + 1.2 P.
//
// # Fairness
//
// What it gives:
//
//   - No slot is favoured: each poll of a waiting Acquire tries every slot
//     once, starting from one drawn at random, so waiters in different
//     processes spread over the slots and every waiter finds a slot freed
//     anywhere within one (jittered) poll interval.
//   - A holder that releases does not take the same slot straight back:
//     after Held.Release its Semaphore makes no attempt on that slot for two
//     poll intervals, so a waiter elsewhere, which tries every slot every
//     poll interval (at most 1.2 P), gets it first. A process that holds,
//     releases and asks again in a loop therefore cannot keep a slot from
//     waiters elsewhere (it may take another slot that is free).
//   - Within a process, goroutines sharing a Semaphore poll in turn, first
//     come first served: only one of them asks storage at a time.
//
// What it does not give:
//
//   - First come, first served across processes: when a slot frees, the
//     waiter whose poll comes first takes it, whichever waited longest.
//     Over many releases each waiting process's chance is about even (the
//     poll jitter decides), but no waiter is promised a bound on how many
//     others go first.
//   - Cheap waiting, unless the slots can be listed: a waiting process makes
//     up to K storage calls per poll interval (K x 4,800 an hour at the
//     default 750 ms). With [WithLister] (slots as blob leases in one
//     container, azlease.NewBlob and azlease.NewLister) it makes one List
//     call per poll, and an acquire call only for a slot the list shows
//     free.
//   - A releaser with no one waiting takes the same slot back only after two
//     poll intervals (a free slot is taken at once).
//
// Every Semaphore of one name must use the same K and the same timing.
//
// [docs/usage.md]: https://github.com/leasehold/leasehold/blob/main/docs/usage.md#the-semaphore
// [docs/design.md]: https://github.com/leasehold/leasehold/blob/main/docs/design.md
package semaphore
