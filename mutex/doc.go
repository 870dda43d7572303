// Package mutex is a distributed mutual-exclusion lock on an Azure Blob
// Storage container's lease: for singleton batch jobs and for workers that
// must take turns. Whoever holds the container's active lease holds the
// lock.
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
//     the lock, local hand-overs included (see Held.Term), in every process;
//     the leasehold CLI passes the same number as LEASEHOLD_TERM. Every
//     holding has its own lease ID, so a request of an ended holding that
//     reaches storage late (a release, a term write) cannot touch a later
//     one.
//   - Goroutines of one process that share a Mutex queue locally, first come
//     first served. Only one of them asks storage while the lock is held
//     elsewhere, and a hand-over between them never lets the lease go (it
//     costs one Change Lease call and one metadata write).
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
//   - Fairness across processes: the local queue is per Mutex. A process
//     whose goroutines keep the lock busy keeps the lease for as long as
//     they do, unless WithMaxHold is set: the holder then stops handing over
//     locally after half of max-hold, releases and stands aside for two
//     poll intervals, and waiters elsewhere break a holder that keeps the
//     lock past max-hold; see WithMaxHold for the bound.
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
// Breaking is for recovery. A live holder renews every renew interval and
// advances its heartbeat (for infinite leases); break-on-timeout must be at
// least three renew intervals (New checks this), so a holder that renews is
// never broken by it.
package mutex
