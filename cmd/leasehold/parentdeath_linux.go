//go:build linux

package main

import "syscall"

// dieWithLeasehold asks the kernel to SIGKILL the command when leasehold
// dies, however it dies (kill -9 included).
//
// Linux sends the parent-death signal when the THREAD that started the child
// exits, not when the process does, so startChild starts and waits for the
// command on a goroutine locked to its OS thread for the command's whole
// life. If leasehold dies between fork and the prctl call, the child would
// miss the signal; Go's fork code checks getppid right after the prctl and
// kills the child itself in that case, so there is no window.
//
// Only the command's own process gets the signal. Processes it started (its
// process group) are not killed by the kernel; a command that exec's its
// last program (sh -c 'exec prog', or exec in a script) is covered whole.
func dieWithLeasehold(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}

// parentDeathHelp is what lock and elect --help say about leasehold's own
// death, on this system.
const parentDeathHelp = `If leasehold itself dies (kill -9, a crash, the OOM killer), the kernel
kills CMD with SIGKILL at once (Linux: a parent-death signal), so CMD cannot
go on into the next holder's term. Only CMD's own process gets that signal:
processes it started keep running unless they too end when it does, so have
CMD exec its long-running program (sh -c 'exec prog', exec in a script).`
