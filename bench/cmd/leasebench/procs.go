package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// children are the processes the bench has started and not yet reaped;
// killAll ends them if the bench stops early. mu guards live.
var children struct {
	mu   sync.Mutex
	live map[*exec.Cmd]bool
}

// child is one process started from this binary.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser // held open: its EOF tells the child the bench has gone
	lines chan timedLine // stdout lines, stamped on arrival; closed at EOF
	done  chan struct{}  // closed when the process has been reaped
	err   error          // the process's exit, once done is closed
}

type timedLine struct {
	at   time.Time
	line []byte
}

// startChild runs this binary with args. The child dies with the bench
// (Pdeathsig SIGKILL), and also ends by itself when its stdin closes.
func startChild(args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	children.mu.Lock()
	defer children.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %v: %w", args, err)
	}
	if children.live == nil {
		children.live = map[*exec.Cmd]bool{}
	}
	children.live[cmd] = true
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan timedLine, 1024), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			c.lines <- timedLine{at: time.Now(), line: append([]byte(nil), sc.Bytes()...)}
		}
		close(c.lines)
		c.err = cmd.Wait()
		children.mu.Lock()
		delete(children.live, cmd)
		children.mu.Unlock()
		close(c.done)
	}()
	return c, nil
}

// kill sends SIGKILL to the child and waits until it is reaped.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.stdin.Close()
	<-c.done
}

// stop closes the child's stdin (it then resigns and exits) and waits up to
// d before killing it.
func (c *child) stop(d time.Duration) {
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(d):
		c.kill()
	}
}

// killAll kills every child still running, each by its own PID.
func killAll() {
	children.mu.Lock()
	defer children.mu.Unlock()
	for cmd := range children.live {
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}
}

// nextEvent returns the child's next stdout line decoded into v, with its
// arrival time, or an error after timeout or at EOF.
func (c *child) nextEvent(v any, timeout time.Duration) (time.Time, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l, ok := <-c.lines:
		if !ok {
			<-c.done
			return time.Time{}, fmt.Errorf("child exited: %v", c.err)
		}
		return l.at, json.Unmarshal(l.line, v)
	case <-t.C:
		return time.Time{}, fmt.Errorf("no word from the child within %v", timeout)
	}
}
