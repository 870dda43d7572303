// Package fault tests leasehold's safety and liveness under faults, the way
// Jepsen-style suites test etcd and Consul: candidates and lock holders run
// as separate OS processes (so kill -9 and SIGSTOP are real), each talks to
// Azurite through its own fault-injecting link on loopback, and every holder
// records what it does with its term on one clock that all processes share.
// A checker then reads the history and reports violations.
//
// The pieces:
//
//   - [Now]: CLOCK_MONOTONIC, read the same way by every process.
//   - [Recorder] and [ReadHistory]: one JSON-lines file per process.
//   - [Check]: overlapping live terms, out-of-order accepted writes, losses
//     signalled after the holder's own validity deadline, duplicate terms,
//     terms going backwards (elected or observed), each per resource
//     ([Event].Key: one lock, a semaphore slot, a shard partition); more
//     holders of a semaphore at once than its K (over-capacity); a killed
//     shard member's partitions not owned again in time (unowned).
//   - [Fence]: a store on loopback that accepts a write only if its term is
//     at least the highest it has seen for the write's resource.
//   - [Link]: toxiproxy (latency, blackhole, reset) in front of an HTTP
//     layer that can answer 503/500, cut renew requests, hold releases and
//     term writes until flushed, and withhold the answers of granted
//     acquires, in front of Azurite.
//   - [Scenario]: builds the candidate binary (./candidate: an election
//     candidate, a mutex holder, a semaphore holder or a shard member, the
//     last two on named blob leases in the scenario's container) and starts,
//     kills, pauses and resumes its processes.
//
// The scenario tests need AZURE_STORAGE_CONNECTION_STRING (set by `make
// test`); without it they fail. They run a short form by default and the long
// form, ending with a table, with -soak (see `make soak`).
package fault
