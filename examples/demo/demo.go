package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

// Bounds of the demo's waits, so that it always ends.
const (
	electTimeout    = 30 * time.Second // first leader elected after start
	failoverTimeout = 90 * time.Second // next leader elected after the kill
	stopTimeout     = 10 * time.Second // a candidate exits after SIGTERM
)

// errInterrupted: the demo was stopped by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted; stopped everything it started")

// candidate is one candidate process the demo started.
type candidate struct {
	name string
	cmd  *exec.Cmd

	// Touched only by the demo's main goroutine.
	killed bool // the demo killed it on purpose
	done   bool // its exit has been shown
}

// update is what the demo's main goroutine learns about a candidate: an
// event it wrote, or its exit (exited set, err from Wait).
type update struct {
	c      *candidate
	at     time.Duration // since the demo started, on the demo's clock
	ev     event
	exited bool
	err    error
}

// demo runs the show. Only its main goroutine touches its fields, except
// through out (which is safe for concurrent use) and updates.
type demo struct {
	s       settings
	timing  renewer.Timing
	n       int
	hold    time.Duration
	start   time.Time
	out     *printer
	updates chan update
	cands   []*candidate
	seen    map[*candidate]bool // the candidate has reported a leader once
	leader  *candidate          // the candidate that last said it was elected, until it stops leading
}

// printer writes timestamped lines; it is safe for concurrent use.
type printer struct {
	mu    sync.Mutex // guards w
	w     io.Writer
	start time.Time
}

func (p *printer) at(d time.Duration, who, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[%4.1fs] %s: %s\n", d.Seconds(), who, fmt.Sprintf(format, args...))
}

func (p *printer) now(who, format string, args ...any) {
	p.at(time.Since(p.start), who, format, args...)
}

func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var s settings
	s.register(fs)
	n := fs.Int("candidates", 3, "number of candidate processes, 2 to 9")
	hold := fs.Duration("hold", 7*time.Second, "how long the first leader leads before the demo kills it")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: demo [flags]\n\n"+
			"Runs candidates as separate processes against AZURE_STORAGE_CONNECTION_STRING,\n"+
			"kills the leader with SIGKILL and shows the failover. `make demo` runs it on Azurite.\n\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 2 || *n > 9 {
		return &usageError{msg: fmt.Sprintf("--candidates %d: want 2 to 9", *n)}
	}
	if *hold < 0 || *hold > time.Minute {
		return &usageError{msg: fmt.Sprintf("--hold %v: want 0s to 1m", *hold)}
	}
	l, err := newLeaser(s.container)
	if err != nil {
		return err
	}
	// The candidates' options, checked here once, with the library's own
	// messages; the election also tells the timing they add up to.
	r, err := renewer.New(l, renewer.WithIdentity("demo"), renewer.WithDuration(s.lease),
		renewer.WithPollInterval(s.poll))
	if err != nil {
		return err
	}
	e, err := election.New(r)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	d := &demo{s: s, timing: e.Timing(), n: *n, hold: *hold, start: start,
		out:     &printer{w: os.Stdout, start: start},
		updates: make(chan update, 64),
		seen:    map[*candidate]bool{}}

	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = renewer.Inspect(cctx, l)
	cancel()
	if err != nil && !errors.Is(err, renewer.ErrContainerNotFound) {
		return fmt.Errorf("cannot reach storage at %v: %w", l, err)
	}
	t := d.timing
	d.out.now("demo", "%d candidates contend for the lease of %v", d.n, l)
	d.out.now("demo", "lease L=%v, renewed every %v, standbys poll every %v", t.Duration, t.RenewInterval, t.PollInterval)

	err = d.show(ctx)
	interrupted := ctx.Err() != nil
	stop() // a second Ctrl-C now ends the demo at once; the candidates then see their stdin close
	if interrupted {
		d.out.now("demo", "interrupted: stopping the candidates")
	}
	d.stopAll()
	if err != nil {
		return err
	}
	if interrupted {
		return errInterrupted
	}
	d.out.now("demo", "done: every candidate has exited")
	return nil
}

// show starts the candidates, waits for a leader, kills it, and waits for
// the next one.
func (d *demo) show(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	for i := range d.n {
		name := "candidate-" + string(rune('a'+i))
		if err := d.startCandidate(self, name); err != nil {
			return err
		}
	}

	// Phase 1: the first leader.
	leader, err := d.until(ctx, electTimeout, func(u update) bool { return u.ev.Event == "elected" })
	if err != nil {
		return fmt.Errorf("no leader within %v: %w", electTimeout, err)
	}
	d.out.now("demo", "%s leads; the standbys in the two next-in-line seats poll its lease in turns, one read every %v between them; any others check every minute", leader.name, d.timing.PollInterval)
	if _, err := d.until(ctx, d.hold, func(update) bool { return false }); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}

	// Phase 2: kill it, without a chance to release.
	d.out.now("demo", "killing the leader %s (pid %d) with SIGKILL", leader.name, leader.cmd.Process.Pid)
	killed := time.Now()
	leader.killed = true
	if err := leader.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill %s: %w", leader.name, err)
	}
	t := d.timing
	d.out.now("demo", "its lease stays held until it expires: %v after its last renewal, %v to %v from now",
		t.Duration, t.Duration-t.RenewInterval, t.Duration)
	next, err := d.until(ctx, failoverTimeout, func(u update) bool { return u.ev.Event == "elected" && u.c != leader })
	if err != nil {
		return fmt.Errorf("no new leader within %v of the kill: %w", failoverTimeout, err)
	}
	took := time.Since(killed)
	d.out.now("demo", "failover took %.1fs (lease %v, poll %v; Azurite lets a new holder in the instant the lease expires, Azure may take longer)",
		took.Seconds(), t.Duration, t.PollInterval)

	// Phase 3: the other standbys notice, at their next poll (a
	// backbencher's next check may come later: the demo waits 3 polls).
	waiting := map[*candidate]bool{}
	for _, c := range d.cands {
		if !c.done && c != next {
			waiting[c] = true
		}
	}
	_, err = d.until(ctx, 3*t.PollInterval+2*time.Second, func(u update) bool {
		if u.ev.Event == "leader" && u.ev.Identity == next.name {
			delete(waiting, u.c)
		}
		return len(waiting) == 0
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	d.out.now("demo", "stopping the candidates with SIGTERM, standbys first, the leader last (it resigns and releases)")
	return nil
}

// until shows updates until one satisfies stop, and returns its candidate.
// It fails if ctx ends, if timeout passes (wrapping
// context.DeadlineExceeded), or if a candidate exits unexpectedly.
func (d *demo) until(ctx context.Context, timeout time.Duration, stop func(update) bool) (*candidate, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, errInterrupted
		case <-timer.C:
			return nil, context.DeadlineExceeded
		case u := <-d.updates:
			d.showUpdate(u)
			if u.exited && !u.c.killed {
				return nil, fmt.Errorf("%s exited unexpectedly: %v", u.c.name, u.err)
			}
			if stop(u) {
				return u.c, nil
			}
		}
	}
}

func (d *demo) showUpdate(u update) {
	who := u.c.name
	if u.exited {
		u.c.done = true
		if d.leader == u.c {
			d.leader = nil
		}
		switch {
		case u.err == nil:
			d.out.at(u.at, who, "exited cleanly")
		default:
			d.out.at(u.at, who, "exited: %v", u.err)
		}
		return
	}
	ev := u.ev
	switch ev.Event {
	case "campaigning":
		d.out.at(u.at, who, "started (pid %d), campaigning", u.c.cmd.Process.Pid)
	case "leader":
		switch {
		case ev.Identity == u.c.name:
			// Reported with "elected", which follows at once.
		case ev.Identity == "" && !d.seen[u.c]:
			// No leader yet at the first look: nothing to show.
		case ev.Identity == "":
			d.out.at(u.at, who, "sees no leader (the lease is free)")
		default:
			d.out.at(u.at, who, "sees leader %s, term %d", ev.Identity, ev.Term)
		}
		d.seen[u.c] = true
	case "elected":
		d.leader = u.c
		d.out.at(u.at, who, "elected leader, term %d", ev.Term)
	case "stepping-down":
		if d.leader == u.c {
			d.leader = nil
		}
		d.out.at(u.at, who, "stops leading term %d (%s)", ev.Term, ev.Reason)
	case "demoted":
		d.out.at(u.at, who, "lease released, demoted")
	case "stopped":
		if ev.Reason != "" {
			d.out.at(u.at, who, "stopped campaigning: %s", ev.Reason)
		}
	default:
		d.out.at(u.at, who, "%s", ev.Event)
	}
}

// startCandidate starts one candidate process and the goroutines that
// relay what it says to d.updates, ending with its exit.
func (d *demo) startCandidate(self, name string) error {
	cmd := exec.Command(self, append([]string{"candidate", "--name", name}, d.s.args()...)...)
	cmd.Env = os.Environ()
	// The candidate watches its stdin: when the demo dies, however it
	// dies, the pipe closes and the candidate resigns and exits.
	if _, err := cmd.StdinPipe(); err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c := &candidate{name: name, cmd: cmd}
	d.cands = append(d.cands, c)

	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				d.out.now(name, "%s", sc.Text())
				continue
			}
			d.updates <- update{c: c, at: time.Since(d.start), ev: ev}
		}
	}()
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.out.now(name, "| %s", sc.Text())
		}
	}()
	go func() {
		// Wait only after the pipes are drained (exec.Cmd's rule).
		readers.Wait()
		err := cmd.Wait()
		d.updates <- update{c: c, at: time.Since(d.start), exited: true, err: err}
	}()
	return nil
}

// stopAll stops every candidate still running: SIGTERM, standbys first and
// the leader last (so that no standby takes over from a resigning leader
// only to be stopped too), then SIGKILL for any that has not exited within
// stopTimeout. It shows what they say meanwhile.
func (d *demo) stopAll() {
	var order []*candidate
	for _, c := range d.cands {
		if c != d.leader {
			order = append(order, c)
		}
	}
	if d.leader != nil {
		order = append(order, d.leader)
	}
	for _, c := range order {
		if c.done {
			continue
		}
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(stopTimeout)
		for !c.done {
			select {
			case u := <-d.updates:
				d.showUpdate(u)
			case <-timer.C:
				d.out.now("demo", "%s did not exit within %v of SIGTERM: SIGKILL", c.name, stopTimeout)
				_ = c.cmd.Process.Kill()
				timer.Reset(stopTimeout)
			}
		}
		timer.Stop()
	}
}
