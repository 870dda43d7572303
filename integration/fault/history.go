package fault

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// Kinds of events in a history.
const (
	// Recorded by candidates.
	KindElected  = "elected"  // Term: the term won; Key: the resource; T: when the holder's context became live
	KindWrite    = "write"    // Term, T (sent), End (answered), Accepted
	KindLost     = "lost"     // Term, T: when the holder saw its context done; Deadline; Cause
	KindObserved = "observed" // Leader, Term: the leader a follower saw
	// Recorded by the harness.
	KindStarted = "started"
	KindKilled  = "killed"  // SIGKILL sent
	KindPaused  = "paused"  // SIGSTOP sent
	KindResumed = "resumed" // SIGCONT sent
	// KindStorageRestart: the emulator was started again. Azurite 3.37.0
	// forgets active leases across a restart (metadata survives), which
	// the cloud never does: see Check.
	KindStorageRestart = "storage-restart"
	// Recorded by the fence.
	KindFenced = "fenced" // Term, T, Accepted: the store's decision
)

// An Event is one line of a history.
type Event struct {
	Proc     string `json:"proc"`               // process (candidate identity)
	Kind     string `json:"kind"`               // one of the Kind constants
	Key      string `json:"key,omitempty"`      // elected, write, lost, fenced: the resource ("" one lock; a semaphore slot, a shard partition)
	T        int64  `json:"t"`                  // shared clock, ns
	Term     int64  `json:"term,omitempty"`     // fencing term
	End      int64  `json:"end,omitempty"`      // write: answer time
	Accepted bool   `json:"accepted,omitempty"` // write, fenced
	Deadline int64  `json:"deadline,omitempty"` // lost: validity deadline on the shared clock, 0 if unknown
	Cause    string `json:"cause,omitempty"`    // lost: context cause
	Leader   string `json:"leader,omitempty"`   // observed
	Seq      int64  `json:"seq,omitempty"`      // fenced: order of decision
}

// A Recorder appends events to one file, one JSON line each, written
// unbuffered so that a process killed with SIGKILL loses at most the line it
// was writing. It is safe for concurrent use.
type Recorder struct {
	mu sync.Mutex // guards f and the write order
	f  *os.File
}

// NewRecorder opens (creates or appends to) the history file at path.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	return &Recorder{f: f}, nil
}

// Record appends e, stamping T with Now if it is zero.
func (r *Recorder) Record(e Event) {
	if e.T == 0 {
		e.T = Now()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	b = append(b, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.f.Write(b)
}

// Close closes the file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// ReadHistory reads every *.jsonl file in dir and returns the events sorted
// by time. A torn last line (a process killed mid-write) is skipped.
func ReadHistory(dir string) ([]Event, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var events []Event
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			var e Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				events = append(events, e)
			}
		}
		err = sc.Err()
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].T < events[j].T })
	return events, nil
}
