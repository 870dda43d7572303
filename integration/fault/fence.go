package fault

import (
	"net"
	"net/http"
	"strconv"
	"sync"
)

// A Fence is the downstream store a holder writes to, on loopback: it accepts
// a write only if the write's term is at least the highest it has seen for
// the write's key (the resource the term fences: "" for a single lock, a
// semaphore slot or a shard partition), and records each decision in the
// history. It is safe for concurrent use.
type Fence struct {
	rec *Recorder
	srv *http.Server
	ln  net.Listener

	mu      sync.Mutex // guards highest, seq, and the order of decisions
	highest map[string]int64
	seq     int64
}

// NewFence starts a fence on a free loopback port, recording to rec.
func NewFence(rec *Recorder) (*Fence, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &Fence{rec: rec, ln: ln, highest: map[string]int64{}}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve)}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// URL is the address candidates POST their writes to:
// URL?proc=ID&term=N[&key=K] answers 200 when accepted and 409 when
// rejected.
func (f *Fence) URL() string { return "http://" + f.ln.Addr().String() + "/write" }

// Close stops the server.
func (f *Fence) Close() error { return f.srv.Close() }

// Write decides one write of term for key.
func (f *Fence) Write(proc, key string, term int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	ok := term >= f.highest[key]
	if ok {
		f.highest[key] = term
	}
	f.rec.Record(Event{Proc: proc, Kind: KindFenced, Key: key, Term: term, Accepted: ok, Seq: f.seq})
	return ok
}

// Highest returns the highest term accepted so far for key.
func (f *Fence) Highest(key string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.highest[key]
}

func (f *Fence) serve(w http.ResponseWriter, r *http.Request) {
	term, err := strconv.ParseInt(r.URL.Query().Get("term"), 10, 64)
	proc := r.URL.Query().Get("proc")
	if err != nil || proc == "" || r.Method != http.MethodPost {
		http.Error(w, "want POST ?proc=ID&term=N", http.StatusBadRequest)
		return
	}
	if f.Write(proc, r.URL.Query().Get("key"), term) {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusConflict)
}
