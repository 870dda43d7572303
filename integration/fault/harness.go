package fault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// BuildCandidate builds the candidate binary into dir and returns its path.
func BuildCandidate(dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build candidate: the go command is not on PATH: %w", err)
	}
	out := filepath.Join(dir, "candidate")
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/leasehold/leasehold/integration/fault/candidate")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build candidate: %v\n%s", err, b)
	}
	return out, nil
}

// Timing is the lease timing the candidates of a scenario use.
type Timing struct {
	Duration time.Duration // L
	Poll     time.Duration // P
}

// Window is how long a successful renew proves the lease held (the
// renewer's validity window less its margin, at the candidates' defaults),
// as the renewer itself works it out: the candidates' renewers are built
// with the same options.
// NewScenario has checked tm with check, so Window has no error to report.
func (tm Timing) Window() time.Duration {
	t, _ := tm.effective()
	return t.Window() - t.Margin
}

// effective is the renewer's timing for these options, defaults filled in,
// or why the renewer refuses them.
func (tm Timing) effective() (renewer.Timing, error) {
	r, err := renewer.New(leasetest.New(), renewer.WithDuration(tm.Duration), renewer.WithPollInterval(tm.Poll))
	if err != nil {
		return renewer.Timing{}, err
	}
	return r.Timing(), nil
}

// A Scenario is one run: a fresh container, a fence, the harness's history,
// and candidate processes each behind its own Link.
type Scenario struct {
	t         testing.TB
	bin       string
	tp        *Toxiproxy
	Dir       string
	Container string
	Timing    Timing
	Fence     *Fence
	// Check is what Finish checks the history with (the capacity of a
	// semaphore, the re-ownership bound of a shard group).
	Check    CheckOptions
	rec      *Recorder
	connStr  string // direct to storage
	upstream string

	mu    sync.Mutex // guards procs
	procs []*Proc
}

// NewScenario creates a container named prefix-random on the storage in
// connStr (a loopback emulator), a fence and a history directory. Cleanup
// stops every process (SIGKILL) and deletes the container.
func NewScenario(t testing.TB, bin string, tp *Toxiproxy, connStr, prefix string, tm Timing) *Scenario {
	t.Helper()
	if _, err := tm.effective(); err != nil {
		t.Fatalf("scenario timing %+v: %v", tm, err)
	}
	up, err := Upstream(connStr)
	if err != nil {
		t.Fatal(err)
	}
	var b [5]byte
	_, _ = rand.Read(b[:])
	s := &Scenario{t: t, bin: bin, tp: tp, Dir: t.TempDir(), Container: prefix + "-" + hex.EncodeToString(b[:]),
		Timing: tm, connStr: connStr, upstream: up}
	if s.rec, err = NewRecorder(filepath.Join(s.Dir, "harness.jsonl")); err != nil {
		t.Fatal(err)
	}
	fr, err := NewRecorder(filepath.Join(s.Dir, "fence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Fence, err = NewFence(fr); err != nil {
		t.Fatal(err)
	}
	cc := s.containerClient()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cc.Create(ctx, nil); err != nil {
		t.Fatalf("create container %s: %v", s.Container, err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("LEASEHOLD_FAULT_KEEP") != "" {
			keep := filepath.Join(os.TempDir(), "leasehold-fault", s.Container)
			if err := os.CopyFS(keep, os.DirFS(s.Dir)); err == nil {
				t.Logf("history kept in %s", keep)
			}
		}
		s.mu.Lock()
		procs := append([]*Proc(nil), s.procs...)
		s.mu.Unlock()
		for _, p := range procs {
			p.kill(false)
		}
		_ = s.Fence.Close()
		_ = fr.Close()
		_ = s.rec.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if lc, err := lease.NewContainerClient(cc, nil); err == nil {
			_, _ = lc.BreakLease(ctx, &lease.ContainerBreakOptions{BreakPeriod: to.Ptr[int32](0)})
		}
		_, _ = cc.Delete(ctx, nil)
	})
	return s
}

func (s *Scenario) containerClient() *container.Client {
	cc, err := container.NewClientFromConnectionString(s.connStr, s.Container, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return cc
}

// Record adds a harness event to the history.
func (s *Scenario) Record(e Event) { s.rec.Record(e) }

// A Proc is one candidate process and its link to storage.
type Proc struct {
	ID   string
	Link *Link
	s    *Scenario
	cmd  *exec.Cmd
	done chan struct{} // closed by the goroutine that waits for the process
}

// Start starts candidate id in mode (election, mutex, semaphore or shard)
// behind a new Link.
func (s *Scenario) Start(id, mode string, args ...string) *Proc {
	s.t.Helper()
	link, err := s.tp.NewLink(s.Container+"-"+id, s.upstream)
	if err != nil {
		s.t.Fatal(err)
	}
	conn, err := ThroughLink(s.connStr, link.Addr())
	if err != nil {
		link.Close()
		s.t.Fatal(err)
	}
	full := append([]string{
		"-mode", mode, "-container", s.Container, "-id", id,
		"-history", filepath.Join(s.Dir, id+".jsonl"), "-fence", s.Fence.URL(),
		"-duration", s.Timing.Duration.String(), "-poll", s.Timing.Poll.String(),
	}, args...)
	cmd := exec.Command(s.bin, full...)
	cmd.Env = append(os.Environ(), "LEASEHOLD_FAULT_CONN="+conn)
	logf, err := os.Create(filepath.Join(s.Dir, id+".log"))
	if err != nil {
		link.Close()
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		link.Close()
		_ = logf.Close()
		s.t.Fatal(err)
	}
	s.rec.Record(Event{Proc: id, Kind: KindStarted})
	p := &Proc{ID: id, Link: link, s: s, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p
}

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL, records it, and waits for the process.
func (p *Proc) Kill() { p.kill(true) }

func (p *Proc) kill(record bool) {
	if p.Running() {
		if record {
			p.s.rec.Record(Event{Proc: p.ID, Kind: KindKilled})
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
	p.Link.Close()
}

// Pause sends SIGSTOP and records it.
func (p *Proc) Pause() {
	p.s.rec.Record(Event{Proc: p.ID, Kind: KindPaused})
	_ = p.cmd.Process.Signal(syscall.SIGSTOP)
}

// Resume sends SIGCONT and records it.
func (p *Proc) Resume() {
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	p.s.rec.Record(Event{Proc: p.ID, Kind: KindResumed})
}

// Resign sends SIGUSR1: the candidate resigns its term, if any, and goes on.
func (p *Proc) Resign() { _ = p.cmd.Process.Signal(syscall.SIGUSR1) }

// Stop sends SIGTERM (resign and exit) and waits up to 15 s, then kills.
func (p *Proc) Stop() {
	if p.Running() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
		p.Link.Close()
	case <-time.After(15 * time.Second):
		p.s.t.Errorf("%s did not exit within 15 s of SIGTERM; killing it", p.ID)
		p.kill(true)
	}
}

// History reads the scenario's history so far.
func (s *Scenario) History() []Event {
	evs, err := ReadHistory(s.Dir)
	if err != nil {
		s.t.Fatal(err)
	}
	return evs
}

// WaitFor polls the history (every 100 ms, for at most timeout) for the
// first event after `after` that match accepts.
func (s *Scenario) WaitFor(after int64, timeout time.Duration, match func(Event) bool) (Event, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, e := range s.History() {
			if e.T > after && match(e) {
				return e, true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return Event{}, false
}

// WaitElected waits for a term won after `after` by a process other than
// not, and returns the event.
func (s *Scenario) WaitElected(after int64, not string, timeout time.Duration) (Event, bool) {
	return s.WaitFor(after, timeout, func(e Event) bool { return e.Kind == KindElected && e.Proc != not })
}

// Proc returns the process named id.
func (s *Scenario) Proc(id string) *Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.procs) - 1; i >= 0; i-- {
		if s.procs[i].ID == id {
			return s.procs[i]
		}
	}
	return nil
}

// Finish stops every process still running (SIGTERM), checks the history
// and reports each violation as a test error. It returns the report.
func (s *Scenario) Finish() Report {
	s.mu.Lock()
	procs := append([]*Proc(nil), s.procs...)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.Stop() }()
	}
	wg.Wait()
	rep := Check(s.History(), s.Check)
	for _, v := range rep.Violations {
		s.t.Errorf("violation: %v", v)
	}
	return rep
}

// Holder returns the process that holds a live term according to the history
// (its last elected event has no loss or kill after it), or "".
func (s *Scenario) Holder() string {
	holder := ""
	for _, e := range s.History() {
		switch e.Kind {
		case KindElected:
			holder = e.Proc
		case KindLost, KindKilled:
			if e.Proc == holder {
				holder = ""
			}
		}
	}
	return holder
}
