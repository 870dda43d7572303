package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// watchCommand is the hidden command that runs leasehold as a watcher of a
// command's process group (see startWatcher). It is not for users.
const watchCommand = "__watch-group"

// A watcher is a small leasehold process that SIGKILLs a command's process
// group if leasehold dies without saying that the command has exited. It
// learns of leasehold's death by the end of a pipe whose write end only
// leasehold holds: the kernel closes it however leasehold dies (kill -9
// included), on every Unix system. The watcher runs in a process group of
// its own, so that signals for the command's group do not reach it.
//
// It learns the group only once the command has started: if leasehold dies
// in the instant between the two, the watcher kills nothing, and only the
// parent-death signal (Linux) stops the command.
type watcher struct {
	cmd *exec.Cmd
	w   *os.File // the write end of the watcher's stdin
}

// startWatcher starts a watcher, before the command, so that a watcher that
// cannot be started leaves no command running.
func startWatcher() (*watcher, error) {
	exe, err := selfExe()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe() // close-on-exec: the command does not inherit w
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command(exe, watchCommand)
	cmd.Args[0] = "leasehold" // what ps shows, rather than /proc/self/exe
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	return &watcher{cmd: cmd, w: w}, nil
}

// watch tells the watcher the process group to kill if leasehold dies.
func (wa *watcher) watch(pgid int) error {
	_, err := fmt.Fprintf(wa.w, "%d\n", pgid)
	return err
}

// release tells the watcher that the command has exited (so it kills
// nothing), and waits for it to exit.
func (wa *watcher) release() {
	_, _ = io.WriteString(wa.w, "done\n")
	wa.w.Close()
	_ = wa.cmd.Wait()
}

// runWatcher is the watcher's side: it reads a process group ID from stdin,
// then waits for stdin to end; if it ends without "done", leasehold died
// while the command may still run, and the group gets SIGKILL.
func runWatcher(args []string, stdin io.Reader) int {
	if len(args) != 0 {
		return exitUsage
	}
	br := bufio.NewReader(stdin)
	line, err := br.ReadString('\n')
	if err != nil || line == "done\n" {
		return exitOK // leasehold did not start the command
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pgid <= 1 {
		return exitUsage
	}
	rest, _ := io.ReadAll(br)
	if string(rest) == "done\n" {
		return exitOK
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return exitOK
}
