//go:build !linux

package main

import "syscall"

// dieWithLeasehold does nothing outside Linux: there is no parent-death
// signal to ask for, so a command outlives a leasehold killed with SIGKILL
// (or crashing) and goes on while the lease expires and passes to someone
// else. Every other way leasehold ends comes after the command has exited
// (on loss, after its process group was sent SIGTERM, then SIGKILL).
func dieWithLeasehold(*syscall.SysProcAttr) {}

// parentDeathHelp is what lock and elect --help say about leasehold's own
// death, on this system.
const parentDeathHelp = `If leasehold itself dies (kill -9, a crash), CMD is NOT stopped on this
system (only Linux kills it then): it goes on while the lease expires and
passes to another holder, whose command then overlaps it. Fence writes with
LEASEHOLD_TERM, or have CMD watch leasehold (its parent) and exit when it is
gone. Every other way leasehold ends comes after CMD has exited.`
