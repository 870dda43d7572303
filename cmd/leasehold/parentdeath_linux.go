//go:build linux

package main

import "syscall"

// dieWithLeasehold asks the kernel to SIGKILL the command when leasehold
// dies, however it dies (kill -9 included). The watcher (see startWatcher)
// kills the command's whole process group then too; this signal is the
// backstop that needs no other process: it still kills the command (not
// the processes it started) if the watcher was killed first.
//
// Linux sends the parent-death signal when the THREAD that started the child
// exits, not when the process does, so startChild starts and waits for the
// command on a goroutine locked to its OS thread for the command's whole
// life. If leasehold dies between fork and the prctl call, the child would
// miss the signal; Go's fork code checks getppid right after the prctl and
// kills the child itself in that case, so there is no window.
func dieWithLeasehold(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}

// parentDeathHelp is what lock and elect --help say about leasehold's own
// death, on this system.
const parentDeathHelp = `If leasehold itself dies (kill -9, a crash, the OOM killer), CMD's process
group gets SIGKILL at once from a small watcher process (leasehold
__watch-group), and the kernel kills CMD itself with SIGKILL too (a
parent-death signal, which holds even if the watcher was killed first). So
CMD cannot go on into the next holder's term. Not covered: processes that
leave CMD's process group (setsid, daemons), and, if the watcher is killed
first, processes CMD started.`

// selfExe is the path that runs this leasehold binary again for the
// watcher: the kernel's link, which holds even if the file was replaced.
func selfExe() (string, error) { return "/proc/self/exe", nil }
