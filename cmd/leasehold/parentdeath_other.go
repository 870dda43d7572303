//go:build !linux

package main

import (
	"os"
	"syscall"
)

// dieWithLeasehold does nothing outside Linux: there is no parent-death
// signal to ask for. When leasehold dies, only the watcher (see
// startWatcher) stops the command: if the watcher was killed too, the
// command goes on while the lease expires and passes to someone else.
func dieWithLeasehold(*syscall.SysProcAttr) {}

// parentDeathHelp is what lock and elect --help say about leasehold's own
// death, on this system.
const parentDeathHelp = `If leasehold itself dies (kill -9, a crash), CMD's process group gets
SIGKILL at once from a small watcher process (leasehold __watch-group). That
is all on this system (Linux also has the kernel kill CMD): if the watcher
is killed too, or if CMD's processes leave its process group (setsid,
daemons), they go on while the lease passes to another holder, whose
command then overlaps them. Fence writes with LEASEHOLD_TERM.`

// selfExe is the path that runs this leasehold binary again for the
// watcher.
func selfExe() (string, error) { return os.Executable() }
