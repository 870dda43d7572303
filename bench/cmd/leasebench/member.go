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
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

// member is one incarnation of a candidate in the rollout sections: it
// campaigns from its start and reports its leading spans to the section's
// timeline.
type member interface {
	// stop ends the incarnation gracefully (leasehold: SIGTERM, which
	// releases the lease; client-go: cancel with ReleaseOnCancel; etcd:
	// Resign, then the session and the client closed) and returns the
	// storage calls it made in its life.
	stop() (calls int64, err error)
	// kill ends it as a crash: nothing released (leasehold: SIGKILL).
	kill()
	// calls returns the storage calls it has made so far.
	calls() (int64, error)
	// nextInLine reports whether it holds a next-in-line seat (leasehold
	// only; the others answer errNoSeats).
	nextInLine() (bool, error)
}

var errNoSeats = errors.New("no next-in-line seats in this system")

// rollEvent is one line a rollout candidate process writes on its stdout.
type rollEvent struct {
	Event string `json:"event"` // campaigning, elected, unelected, calls, next, stopped
	At    int64  `json:"at,omitempty"`
	Calls int64  `json:"calls,omitempty"`
	Next  bool   `json:"next,omitempty"`
	Err   string `json:"err,omitempty"`
}

// runRollCandidate is one leasehold candidate of the rollout sections, as
// a process of its own (so that it can be killed with SIGKILL): it runs
// election.Run until SIGTERM (or until its stdin closes: the bench has
// gone), writing when it is elected and when its term's context ends, each
// with the time on this machine's clock. It answers "calls" on stdin with
// the storage calls it has made, and "next" with whether it holds a
// next-in-line seat.
func runRollCandidate(args []string) error {
	fs := flag.NewFlagSet("rollcandidate", flag.ContinueOnError)
	name := fs.String("container", "", "container")
	id := fs.String("id", "", "identity")
	sname := fs.String("setting", settingDefaults.Name, "timing setting")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *id == "" {
		return errors.New("rollcandidate: -container and -id are required")
	}
	s, err := settingByName(*sname)
	if err != nil {
		return err
	}
	c := newCounter(newHTTPClient(4))
	l, err := newLeaser(connString(), *name, c)
	if err != nil {
		return err
	}
	e, err := s.newElection(l, *id)
	if err != nil {
		return err
	}
	seated, err := seatReader(e, *name, *id)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // guards enc
	enc := json.NewEncoder(os.Stdout)
	emit := func(ev rollEvent) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(ev)
	}
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			switch sc.Text() {
			case "calls":
				emit(rollEvent{Event: "calls", Calls: c.snapshot().total()})
			case "next":
				qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
				next, err := seated(qctx)
				qcancel()
				ev := rollEvent{Event: "next", Next: next}
				if err != nil {
					ev.Err = err.Error()
				}
				emit(ev)
			}
		}
		cancel() // EOF: the bench has gone
	}()
	emit(rollEvent{Event: "campaigning", At: time.Now().UnixNano()})
	err = e.Run(ctx, election.Callbacks{
		OnElected: func(ctx context.Context, _ int64) {
			emit(rollEvent{Event: "elected", At: time.Now().UnixNano()})
			<-ctx.Done()
			emit(rollEvent{Event: "unelected", At: time.Now().UnixNano()})
		},
	})
	ev := rollEvent{Event: "stopped", Calls: c.snapshot().total()}
	if err != nil {
		ev.Err = err.Error()
	}
	emit(ev)
	return err
}

// seatReader returns how the candidate id of e tells whether it holds a
// next-in-line seat: Election.IsNextInLine where the election has it, else
// a read of the one seat's lease (its holder is in its metadata), through
// a client of its own, so that the candidate's counted calls do not change.
func seatReader(e *election.Election, container, id string) (func(context.Context) (bool, error), error) {
	if n, ok := any(e).(interface{ IsNextInLine() bool }); ok {
		return func(context.Context) (bool, error) { return n.IsNextInLine(), nil }, nil
	}
	l, err := newLeaser(connString(), container, newCounter(newHTTPClient(1)))
	if err != nil {
		return nil, err
	}
	seat, err := l.Beside(election.NextInLineSuffix)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (bool, error) {
		p, err := seat.Properties(ctx) // a missing blob: Available
		if err != nil {
			return false, err
		}
		held := p.State == renewer.StateLeased || p.State == renewer.StateBreaking
		return held && p.Metadata[renewer.MetadataHolder] == id, nil
	}, nil
}

// procMember is a leasehold candidate process (runRollCandidate).
type procMember struct {
	c       *child
	who     string
	tl      *timeline
	replies chan rollEvent // answers to calls and next
	stopped chan rollEvent // the last word, once
	exited  chan struct{}  // closed when its stdout has ended
}

// startProcMember starts candidate who of setting s on container group and
// returns once it campaigns.
func startProcMember(ctx context.Context, s setting, group, who string, tl *timeline) (*procMember, error) {
	c, err := startChild("rollcandidate", "-container", group, "-setting", s.Name, "-id", who)
	if err != nil {
		return nil, err
	}
	m := &procMember{c: c, who: who, tl: tl, replies: make(chan rollEvent, 4), stopped: make(chan rollEvent, 1), exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(m.exited)
		for l := range c.lines {
			var ev rollEvent
			if json.Unmarshal(l.line, &ev) != nil {
				continue
			}
			switch ev.Event {
			case "campaigning":
				close(ready)
			case "elected":
				tl.elected(who, time.Unix(0, ev.At))
			case "unelected":
				tl.ended(who, time.Unix(0, ev.At))
			case "calls", "next":
				select {
				case m.replies <- ev:
				default:
				}
			case "stopped":
				m.stopped <- ev
			}
		}
	}()
	select {
	case <-ready:
		return m, nil
	case <-m.exited:
		<-c.done
		return nil, fmt.Errorf("candidate %s exited before campaigning: %v", who, c.err)
	case <-time.After(30 * time.Second):
		c.kill()
		return nil, fmt.Errorf("candidate %s not campaigning within 30 s", who)
	case <-ctx.Done():
		c.kill()
		return nil, ctx.Err()
	}
}

func (m *procMember) stop() (int64, error) {
	_ = m.c.cmd.Process.Signal(syscall.SIGTERM)
	last := func(ev rollEvent) (int64, error) {
		<-m.c.done
		if ev.Err != "" {
			return ev.Calls, fmt.Errorf("candidate %s: %s", m.who, ev.Err)
		}
		return ev.Calls, nil
	}
	select {
	case ev := <-m.stopped:
		return last(ev)
	case <-m.exited: // its last word, if any, is in m.stopped by now
		select {
		case ev := <-m.stopped:
			return last(ev)
		default:
		}
		<-m.c.done
		return 0, fmt.Errorf("candidate %s exited without a last word: %v", m.who, m.c.err)
	case <-time.After(30 * time.Second):
		m.kill()
		return 0, fmt.Errorf("candidate %s not stopped 30 s after SIGTERM", m.who)
	}
}

func (m *procMember) kill() {
	m.tl.ended(m.who, time.Now())
	m.c.kill()
}

func (m *procMember) ask(q string) (rollEvent, error) {
	if _, err := io.WriteString(m.c.stdin, q+"\n"); err != nil {
		return rollEvent{}, err
	}
	select {
	case ev := <-m.replies:
		if ev.Err != "" {
			return ev, fmt.Errorf("candidate %s: %s", m.who, ev.Err)
		}
		return ev, nil
	case <-m.exited:
		return rollEvent{}, fmt.Errorf("candidate %s exited", m.who)
	case <-time.After(10 * time.Second):
		return rollEvent{}, fmt.Errorf("candidate %s: no answer to %q within 10 s", m.who, q)
	}
}

func (m *procMember) calls() (int64, error) {
	ev, err := m.ask("calls")
	return ev.Calls, err
}

func (m *procMember) nextInLine() (bool, error) {
	ev, err := m.ask("next")
	return ev.Next, err
}
