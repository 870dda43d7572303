// Package sim is a deterministic simulation of leasehold's holders sharing
// one container lease: renewer loops, elections and mutexes, each process
// behind its own faulty network, on one leasetest.Container, all on the
// virtual clock of a testing/synctest bubble; and, in some seeds, beside
// them on leases of their own, semaphore holders (K slot leases) or shard
// members (member-slot and partition leases). A seed fixes the schedule of
// faults and, through internal/wait's seeded Source, every random draw that
// can change timing, so a seed replays the same history.
//
// [Run] simulates one seed and must be called inside a synctest bubble;
// [Check] judges a recorded [History], per lease: no two holdings' validity
// intervals overlap, fencing numbers strictly increase in holding order,
// and once faults stop some holder holds (the main lease, every shard
// partition) within the lease duration plus the poll interval plus a
// stated slack; and never more than K semaphore holders at once. In every
// state, faults or not, it also judges the main lease's free spans at
// storage against the candidates that waited with a healthy network then,
// each by the bound of its kind and of the state the election's seats
// were in (see checkFree); one seed in eight runs a scenario users run
// (rolling restart, crash then resign, scale in and out, deploy, crashes
// of the next in line), where every graceful release is judged by the
// hand-over bound. docs/simulation.md describes the model.
package sim
