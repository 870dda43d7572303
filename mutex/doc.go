// Package mutex is a distributed mutual-exclusion lock on an Azure Blob
// Storage container's lease: for singleton batch jobs and for workers that
// must take turns. Whoever holds the container's active lease holds the
// lock.
//
// How to use it: [docs/usage.md]; how it works: [docs/design.md].
//
//	r, err := renewer.New(leaser, renewer.WithIdentity(host)) // leaser: azlease or leasetest
//	m, err := mutex.New(r)
//	held, err := m.Lock(ctx)                        // blocks until held
//	defer held.Unlock(held.Context())               // waits for the release
//	doWork(held.Context(), held.Term())             // stop when the context is done
//
// # What it guarantees
//
//   - At most one holder at a time, across every Mutex on the container, in
//     every process, as long as no holder's process is paused for longer
//     than the renewer's safety margin (see below).
//   - Loss is never silent. A Held's context is cancelled, with a cause
//     wrapping renewer.ErrLeaseLost, when its lease is lost or can no longer be proven
//     held, and always before anyone else can take the lock: at the latest
//     at the validity deadline, the send time of the last successful renew
//     plus the lease duration less the margin. A holder whose lease is
//     broken (by break-on-timeout, max-hold or an operator's Break) sees its
//     next renew fail and its context cancelled before the break completes,
//     because every break uses a break period at least as long as the
//     holder's validity window.
//   - Lock, TryLock and Unlock never panic on anything the caller or the
//     network can cause; a Lock or TryLock that fails leaves nothing held;
//     unlocking twice returns renewer.ErrReleased and unlocking a lost lock returns
//     an error wrapping renewer.ErrLeaseLost.
//   - One fencing number, the term, goes up by one with every holding of
//     the lock, local hand-overs included (see Held.Term; a hand-over let
//     go for a waiter elsewhere skips one, held by no one), in every process;
//     the leasehold CLI passes the same number as LEASEHOLD_TERM. Every
//     holding has its own lease ID, so a request of an ended holding that
//     reaches storage late (a release, a term write) cannot touch a later
//     one.
//   - Goroutines of one process that share a Mutex queue locally, first come
//     first served. Only one of them asks storage while the lock is held
//     elsewhere, and a hand-over between them never lets the lease go (it
//     costs one Change Lease call and one metadata write), unless a waiter
//     elsewhere holds the waiting seat (below).
//   - Waiters elsewhere are not starved (with a waiting seat: by default
//     when the Leaser is a renewer.Besider, as azlease's are). A waiter
//     that finds the lock held by another takes the waiting seat, a lease
//     beside the lock's, and holds it while it waits. A process that lets
//     its holding go (Unlock, or the hand-over to its next goroutine)
//     reads the seat beside that release, and if another process holds
//     it, the lease goes back to storage and this Mutex makes no acquire
//     attempt (Lock and TryLock) for two poll intervals P, as a process
//     that stands aside. So a waiter gets the lock within 2 P of the first
//     release after its seat was written (a round trip or two after its
//     first poll), whatever the holder's process does: relocking in a
//     loop, or several goroutines queued. Two processes locking in a loop
//     take turns. Only one waiter holds the seat at a time; the others try
//     it every P while they wait, so with more than two processes waiting,
//     each is served once it holds the seat. See "Waiting seat" below.
//   - Recovery: an infinite lease left by a crashed holder is broken by a
//     waiter configured WithBreakOnTimeout once the holder has shown no sign
//     of life (no heartbeat, which a live holder advances every renew) for
//     the timeout; a live holder is never broken that way, nor a new holder
//     whose term the container does not show yet: the waiter counts only
//     silence it watched without interruption, and confirms it over two
//     poll intervals before it breaks (see WithBreakOnTimeout). WithMaxHold
//     breaks a holder that keeps the lock too long, even a live one. Every
//     break is logged at Warn with what was broken and why. Infinite leases
//     are refused without break-on-timeout.
//
// # What it does not guarantee
//
//   - A process paused for longer than the margin (a stop-the-world pause, a
//     frozen VM, SIGSTOP) can wake up with a context that has not yet been
//     cancelled and act on a lock that has passed to someone else. No lease
//     lock can prevent that. The answer is the fencing number: pass
//     held.Term() with every write to the resource the lock guards, and
//     have the resource reject a term lower than the highest it has seen:
//
//     UPDATE jobs SET state = $1, term = $2 WHERE id = $3 AND term <= $2
//
//     A write that matches no row came from a stale holder.
//
//   - Fairness beyond the waiting seat: there is no queue across
//     processes (storage keeps none; a freed lock goes to the next poll).
//     Without a seat (a Leaser that is not a renewer.Besider, such as a
//     leasetest.Container made by New, or WithWaitingSeat(nil)), or while
//     storage refuses it, a process whose goroutines keep the lock busy,
//     or that relocks in a loop, keeps the lease for as long as it does,
//     unless WithMaxHold is set: the holder then stops handing over
//     locally after half of max-hold, releases and stands aside for two
//     poll intervals, and waiters elsewhere break a holder that keeps the
//     lock past max-hold; see WithMaxHold for the bound. No seat helps a
//     waiter against a holder that never releases: that is max-hold's
//     job.
//
//   - Liveness of Lock: a waiter learns that the lock is free only when it
//     asks, every poll interval; after a crash the lock passes no sooner than
//     the lease duration (plus up to a poll interval; on the cloud, up to a
//     minute more, see docs/lease-semantics.md).
//
//   - Clocks: every duration is measured on the local monotonic clock; no
//     clock is compared across machines. All Mutexes of one container must
//     use the same timing options, since a waiter judges a holder by its
//     own settings.
//
// # Waiting seat
//
// Storage pushes nothing, so a holder can learn that someone elsewhere
// waits only by reading. The waiting seat (WithWaitingSeat; by default the
// lease called WaitingSeatSuffix beside the lock's) is where a waiter says
// so: the goroutine with the turn takes it at the first answer that shows
// the lock held by another (its Lock's first acquire attempt, or a read),
// holds it under the Mutex's identity, renewed, for as long as it waits,
// and lets it go when its Lock returns. The holder's process reads it
// every time it lets a live holding go, beside the release or the
// hand-over, so the read adds no round trip. It stands aside if the seat
// is held by an identity other than its own (identities must differ
// between processes, see renewer.WithIdentity); a process that stands
// aside is a waiter too, and takes the seat at once, so that the other
// process stands aside for it in turn.
//
// A stand-aside lasts two poll intervals from the release (a waiter polls
// at most 1.2 P apart), makes no storage call, and cannot starve anyone:
// after it the Mutex polls as usual. A process stands aside for one seat
// holding (identity and seat term) at most once per WaitingSeatDuration
// (15 s), the seat's lease duration, so a waiter that died holding the
// seat costs a holder's process one stand-aside at most: the seat expires
// within that time. When a hand-over to a local goroutine had already
// begun (it runs beside the read), it is let go: that goroutine acquires
// anew after the stand-aside, and the term it skipped was never held by
// anyone, so terms still strictly increase. Local first come, first
// served, max-hold and break-on-timeout are unchanged: the seat decides
// only when this Mutex asks, never who holds the lock.
//
// Cost, in storage calls: a process nobody waits for pays one read of the
// seat per release (per Unlock, and per local hand-over) and nothing per
// Lock, with no added wait (measured at a 10 ms round trip: 50 ms per
// relock and 20 ms per hand-over, with or without the seat). A contended
// Lock pays one acquire attempt more (a first try, after which its wait
// polls as without a seat), and the seat: an acquire and a term write
// when taken, a renew every 5 s while held, a release, or an acquire
// attempt every P while another waiter holds it. A seat refused
// for good (over a SAS without blob permissions) is logged once at Warn
// and left alone for a minute at a time; the Mutex then works as without
// one.
//
// Breaking is for recovery. A live holder renews every renew interval and
// advances its heartbeat (for infinite leases); break-on-timeout must be at
// least three renew intervals (New checks this), so a holder that renews is
// never broken by it.
//
// [docs/usage.md]: https://github.com/leasehold/leasehold/blob/main/docs/usage.md#the-mutex
// [docs/design.md]: https://github.com/leasehold/leasehold/blob/main/docs/design.md
package mutex
