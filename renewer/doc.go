// Package renewer holds one Azure Blob Storage container lease in the
// background and says, before anyone else could take it, when it no longer
// holds it.
//
// How to use it: [docs/usage.md]; how it works: [docs/design.md].
//
// A [Renewer] acquires the lease ([Renewer.Acquire] polls until it gets it,
// [Renewer.TryAcquire] tries once), writes the holder's identity and a new
// term into the container's metadata under the lease, and hands out a
// [Lease]. A goroutine renews the lease every renew interval R, retrying
// failures with jittered backoff. The lease's context is cancelled, with a
// cause, when the lease is released or lost:
//
//	ls, err := r.Acquire(ctx)
//	if err != nil { ... }
//	defer ls.Release(context.Background())
//	doWork(ls.Context()) // must stop when the context is done
//	if errors.Is(context.Cause(ls.Context()), renewer.ErrLeaseLost) { ... }
//
// The [Leaser] interface is the storage underneath, and this package holds
// no storage code: package renewer/azlease is the Leaser for Azure (from a
// *container.Client, a connection string, or an account URL and a credential
// such as azidentity's DefaultAzureCredential), and renewer/leasetest the
// one in memory for tests.
//
// # What "held" means
//
// Every time is measured on the holder's own monotonic clock; no clock is
// ever compared with the service's or another machine's. When an acquire or
// renew sent at local time t0 succeeds, the service's lease runs at least
// until t0 + L (L is the lease duration). The holder counts itself as holder
// until the validity deadline t0 + L - M, where M is the safety margin
// ([WithMargin]), and not a moment longer: a watchdog timer cancels the
// lease's context at that deadline unless a later renew has moved it. Every
// storage call made under the lease is bounded by the deadline too, so no
// SDK retry can carry a call past it.
//
// Answers that settle the question (another lease ID in the response, lease
// not present, lease broken or being broken) cancel the context at once.
// Transient failures (timeouts, 5xx, throttling, refused connections) are
// retried until the deadline. Every acquire and renew response's lease ID is
// compared with ours: Azurite answers a renew of an expired lease with the
// previous holder's ID and revives that lease.
//
// # One lease ID per holding
//
// Every holding proposes a fresh lease ID (a random GUID) and every request
// of that holding (acquire, renew, term write, heartbeat, release) carries
// it; no other holding ever uses it. The acquire calls of one
// [Renewer.Acquire] share one ID, so an acquire whose answer was lost is
// repeated, not doubled (see "Late answers" below for when the Acquire
// changes it). Once a release of an ID has been sent, or its holding has
// ended, the ID is never proposed again. A request that reaches
// storage late (a release sent after a lost answer, an SDK retry still in
// flight, a delayed heartbeat) then finds a lease with another ID and is
// refused. With one ID for every holding, such a late release freed a later
// holding of the same Renewer while it still believed it held the lease,
// and a late term write put an older term back: two live holders, terms
// going backwards.
//
// A holding never writes metadata under the ID it acquired with: right after
// the acquire it changes the lease's ID to a second fresh one and makes
// every later request under that. A late duplicate of an acquire can make
// its ID active again after its holding ended (for one lease duration, held
// by no one), and a late metadata write under that ID would then put an
// older term back. Container metadata has no compare-and-swap, so one case
// remains: an acquire, then a change, then a write of one holding, all three
// delivered late and in that order after a later holding ended. We know of
// no network that does that; fencing stores that must survive it too should
// also reject a term they have seen from another holder.
//
// # Late answers
//
// An acquire can be applied by the service while its answer is lost or
// comes back after the call timeout C; the lease is then held under the
// Acquire's ID with no one knowing. A poll of a waiting Acquire that reads
// the lease as held within a lease duration (plus C) of such an acquire asks
// again with the same ID: that takes the lease if it is ours, at once
// instead of after its expiry, and is refused if it is another's, so it
// cannot make two holders.
//
// Asking again with the same ID also starts the lease's duration again, so
// a candidate whose requests reach storage but whose answers all come back
// late (a slow link) would keep a lease that no one holds, and everyone
// else out, for as long as its answers stayed late, then L more. An Acquire
// therefore gives its ID up after two acquires of it in a row went
// unanswered: it releases the ID and goes on with a fresh one. A release
// under that ID can only end a lease of that ID, which no one holds, and
// the ID is never proposed again; a late acquire of it can at most take a
// free lease for one duration, held by no one, as any late acquire could.
// The bound: a lease taken by such a candidate's acquire keeps others out
// for at most T + C, where T is the time between two of its acquires (C,
// another C for the read of a [Watcher] poll, and the pause of at most 1.2
// P): 3C + 1.2P with a Watcher, 2C + 1.2P without (8.4 s and 5.9 s at the
// defaults with L = 15 s: C = 2.5 s, P = 750 ms). The candidate then sends
// no acquire for at least its release's call (C, when the answers are late)
// and 0.8 P, so a healthy candidate polling meanwhile gets in. If the release is lost too, or
// the acquire lands after it (late, not lost), the Acquire, for a lease
// duration and C after it gave the ID up, releases the given-up ID
// again at each poll that reads the lease as held (one call, which can
// only end a lease of that ID), so such a lease is freed at the next poll,
// not after L. A throttled acquire (429, 503: not applied) does not count
// toward giving an ID up. And a waiting Acquire with a Watcher whose
// acquires went unanswered sends no acquire after a read that failed (it
// would land late too, and take a lease just freed, for no one): it gives
// the unanswered ID up and waits for a read that answers.
//
// For an infinite lease ([Infinite]), which only a break can end, each renew
// proves the lease for one break period ([WithBreakPeriod]) instead of L:
// a break started after the renew completes no sooner than that. Every
// breaker of an infinite lease must use at least that period.
//
// # Terms
//
// After each acquisition the new holder reads the container's metadata once
// and writes it back, under its lease, with its identity and term =
// previous term + 1 (other keys are kept); retries of the write carry the
// same term. Only the active holder can make that write, and every metadata
// write under a lease ID carries that holding's one term, so a late or
// duplicated write can only repeat it while that lease is active (see
// above for the one exception): terms
// strictly increase across holdings, and the lease is handed out only once
// the write has succeeded. [Lease.HandOver] passes a held lease to a new
// holding in the same process (change the lease ID, write term + 1), so the
// term is the one fencing number for every kind of holding. A term in the
// metadata that is not a whole number below MaxInt64 stops acquisition with
// [ErrInvalidTerm]: the library never guesses a fencing number. [Lease.Term] is therefore a fencing
// token: a downstream store that rejects writes carrying a term lower than
// the highest it has seen rejects a stale holder's late writes. [Inspect]
// reads the current state, holder and term without a lease.
//
// A holder that releases ([Lease.Release]) first writes the released
// marker ([MetadataReleased]: its term, everything else unchanged) under
// its own lease ID, one call, so that a reader can tell "the holder named
// here released" from "holds it now" once another client takes the lease
// ([Status.Released], [Status.Foreign]). It is skipped on a loss, an
// abandon, a hand-over, and with less than a call timeout of validity
// left; it never changes the term, and storage refuses a late copy of it
// on any other holding's lease.
//
// # Many locks, one poll
//
// A lock can also be one of many kept in one place (the Azure adapter's
// azlease.NewBlob: a blob lease per lock name in one container). A process
// waiting on several of them gives their Renewers one [Observer]
// ([WithObserver]), which polls a [Lister] (one List Blobs call) for all of
// them: after its first try, each waiting Acquire acts on what the shared
// poll showed for its lease, and tries to acquire only when it was free.
// The poll only decides when to ask: the acquire, with its fresh lease ID
// and the comparison of the ID answered, still decides who holds the
// lease.
//
// # What it does not guarantee
//
// A lease is a lock with a timeout, and every such lock shares one limit: a
// process paused for longer than the margin M (a stop-the-world pause, a VM
// freeze, SIGSTOP, a suspended laptop: Go's monotonic clock does not run
// while the machine sleeps) can wake up still believing it holds a lease
// that has already passed to someone else. Its context is cancelled as soon
// as its timers run again, but whatever it does in between is unprotected.
// Fencing tokens are the answer: pass the term along with every write that
// matters and have the store reject older terms.
//
// An operator's break with a period shorter than the lease's validity window
// (for example 0) ends the lease before the holder can notice; the default
// break period never does. The container's metadata can be written by
// anyone with access to the account, without a lease: the library trusts
// that only lease holders write its keys ([MetadataTerm] and friends).
//
// On Azure, another holder may wait up to about 60 s after an expiry before
// it can acquire; Azurite lets it acquire at once, so failover measured on
// Azurite is a floor.
//
// # Logs, metrics, contact
//
// A Renewer logs through a *zap.Logger ([WithLogger]) or a *slog.Logger
// ([WithSlog]); with neither, to slog.Default() at Warn and above: losses
// (with their cause), breaks, a renew that failed twice in a row, a failed
// release. Nothing is logged per renew above Debug. Packages election and
// mutex log through the same logger unless given their own.
//
// Metrics go through the OpenTelemetry metric API to the MeterProvider
// given with [WithMeterProvider], by default the global one (a no-op until
// the application installs an SDK): leasehold.lease.held,
// leasehold.lease.term, leasehold.lease.losses, leasehold.renew.duration,
// leasehold.renew.failures, leasehold.storage.calls and
// leasehold.acquire.waiting, each with the attributes [AttrLock] and
// [AttrIdentity], and any given with [WithMetricAttributes] (an election's
// seats carry [AttrElection] and [AttrRole]; metrics.go lists the causes
// and results). Every storage call of a Renewer is counted, whichever path
// made it.
//
// A renew refused because the lease was broken answers [ErrBroken] (a kind
// of [ErrNoLease]): the loss cause says that someone broke the lease, and
// the holder releases it at once, so that others can take it before the
// break completes.
//
// [Renewer.LastContact] says when storage last answered usefully, with no
// storage call: the election's health check compares it with the poll
// interval. [WithPayload] publishes a short string (an address) with each
// holding's term for readers of the lease ([Status.Payload]).
//
// All types in this package are safe for concurrent use.
//
// [docs/usage.md]: https://github.com/leasehold/leasehold/blob/main/docs/usage.md#the-renewer-underneath
// [docs/design.md]: https://github.com/leasehold/leasehold/blob/main/docs/design.md
package renewer
