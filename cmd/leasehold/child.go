package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// defaultGrace is how long a command has to exit after SIGTERM before it is
// killed, unless --grace says otherwise. It is below the margin M (L/5: 3 s
// at the 15 s minimum lease), so that by default the command is gone before
// the lease could pass to anyone else.
const defaultGrace = 2 * time.Second

// A child is the command run under a lock or leadership, in a process group
// of its own so that stopping it stops everything it started in that group.
// If leasehold dies, a watcher process SIGKILLs that group (see
// startWatcher), and on Linux the kernel kills the command itself too (see
// dieWithLeasehold).
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed by the goroutine that started and waits for the process

	status int // the exit code to pass on; set before done is closed
}

// startChild starts argv with the environment plus env, sharing our stdin,
// stdout and stderr, and a watcher that kills its process group if
// leasehold dies. A command that cannot be started is a *failure with exit
// code 126 or 127.
//
// The command is started, and waited for, by one goroutine locked to its OS
// thread, which it never unlocks: the thread ends with the goroutine, after
// the command has exited. On Linux the parent-death signal is tied to that
// thread, so it must not end, or run anything else, while the command runs.
func startChild(argv []string, env []string) (*child, error) {
	wa, err := startWatcher()
	if err != nil {
		return nil, fail(exitNoExec, "cannot start the watcher of the command: %v", unwrapPath(err))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithLeasehold(cmd.SysProcAttr)
	c := &child{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1) // nil or a *failure, sent once
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := cmd.Start(); err != nil {
			wa.release()
			code := exitNoExec
			if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
				code = exitNoCmd
			}
			started <- fail(code, "cannot run %s: %v", argv[0], unwrapPath(err))
			return
		}
		if err := wa.watch(cmd.Process.Pid); err != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
			wa.release()
			started <- fail(exitNoExec, "cannot start the watcher of the command: %v", unwrapPath(err))
			return
		}
		started <- nil
		defer close(c.done)
		c.status = exitStatus(cmd.Wait(), cmd.ProcessState)
		wa.release() // after Wait: the group is not killed for leftovers of a command that exited
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// lookCommand checks, before any lock is taken, that the command can be
// found.
func lookCommand(name string) error {
	if _, err := exec.LookPath(name); err != nil {
		code := exitNoExec
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = exitNoCmd
		}
		return fail(code, "cannot run %s: %v", name, unwrapPath(err))
	}
	return nil
}

// exitStatus is the shell's convention: the exit code, or 128+N for a
// process killed by signal N.
func exitStatus(err error, ps *os.ProcessState) int {
	if ps == nil {
		if err != nil {
			return exitNoExec
		}
		return 0
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// Done is closed when the command has exited.
func (c *child) Done() <-chan struct{} { return c.done }

// Status returns the exit code to pass on; valid once Done is closed.
func (c *child) Status() int { return c.status }

// signal sends sig to the command's process group.
func (c *child) signal(sig syscall.Signal) {
	_ = syscall.Kill(-c.cmd.Process.Pid, sig)
}

// stop sends SIGTERM to the command's process group, then SIGKILL if it has
// not exited after grace, and waits for it to exit.
func (c *child) stop(grace time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	c.signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.signal(syscall.SIGKILL)
		<-c.done
	}
}

// forwarded are the signals leasehold passes on to the command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// notifySignals starts catching the forwarded signals; stop undoes it.
func notifySignals() (sigs <-chan os.Signal, stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, forwarded...)
	return ch, func() { signal.Stop(ch) }
}

// signalExit is the exit code for leasehold interrupted by sig: 128+N.
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGTERM)
}

func toSyscall(sig os.Signal) syscall.Signal {
	if s, ok := sig.(syscall.Signal); ok {
		return s
	}
	return syscall.SIGTERM
}

// sigName names a signal as the shell does: SIGTERM, SIGINT, SIGHUP, or
// the signal's own description for another.
func sigName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}
