package fault

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"time"
)

// MaxDelay bounds how long a delayed request is held: it reaches storage
// when the test flushes it, or after MaxDelay at the latest.
const MaxDelay = 30 * time.Second

// Late delivery: requests that reach storage seconds after their sender gave
// up on them, and answers that never reach the sender. The HTTP layer sees
// each request's x-ms-lease-action header, so it can pick out releases and
// acquires; metadata writes (the term) are PUT ...&comp=metadata. The rules
// apply to the lock's own lease (the container's), never to a blob beside it.

// DelayReleases holds every release request from now on (on) or from now
// on no more (off; those already held stay held): the sender's call times
// out, and the request reaches storage when FlushDelayed is called, or
// after MaxDelay.
func (l *Link) DelayReleases(on bool) {
	l.http.mu.Lock()
	defer l.http.mu.Unlock()
	l.http.late.releases = on
}

// DelayMetadataWrites holds the next n metadata writes (term writes) like
// DelayReleases.
func (l *Link) DelayMetadataWrites(n int) {
	l.http.mu.Lock()
	defer l.http.mu.Unlock()
	l.http.late.metadata = n
}

// LoseAcquireAnswers lets the next n acquires that storage grants (201)
// reach storage and be applied, and withholds their answers: with late 0
// the connection is reset at once (the answer is lost); otherwise the
// answer is sent after late, when the sender has given up on it.
func (l *Link) LoseAcquireAnswers(n int, late time.Duration) {
	l.http.mu.Lock()
	defer l.http.mu.Unlock()
	l.http.late.acquires, l.http.late.answerAfter = n, late
}

// FlushDelayed sends every request held so far to storage now, waits (at
// most timeout) for storage's answers and returns them, one line each, in
// the order the requests were held: "release 200", "metadata 412
// LeaseIdMismatchWithContainerOperation", or "release: no answer".
func (l *Link) FlushDelayed(timeout time.Duration) []string {
	h := l.http
	h.mu.Lock()
	held := h.held
	h.held = nil
	h.mu.Unlock()
	for _, r := range held {
		close(r.send)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	out := make([]string, 0, len(held))
	for _, r := range held {
		select {
		case a := <-r.answer:
			out = append(out, a)
		case <-deadline.C:
			out = append(out, r.what+": no answer")
		}
	}
	return out
}

// LateStats reports how many requests the link has held so far (flushed or
// not) and how many granted acquires' answers it has withheld.
func (l *Link) LateStats() (held, lostAnswers int) {
	l.http.mu.Lock()
	defer l.http.mu.Unlock()
	return l.http.late.heldCount, l.http.late.lostCount
}

// lateRules are the late-delivery faults in force; guarded by httpFault.mu.
type lateRules struct {
	releases    bool          // hold every release
	metadata    int           // hold the next metadata writes
	acquires    int           // withhold the answers of the next granted acquires
	answerAfter time.Duration // 0: reset instead of answering
	heldCount   int
	lostCount   int
}

// heldRequest is one request held by the link.
type heldRequest struct {
	what   string
	send   chan struct{} // closed by FlushDelayed
	answer chan string   // buffered; storage's answer once sent
}

// serveLate handles r if a late-delivery rule applies to it, and reports
// whether it did.
func (h *httpFault) serveLate(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Query().Get("restype") != "container" {
		// The rules are about the lock's own lease, the container's: a
		// blob beside it (the mutex's waiting seat, an election's seats)
		// goes through as usual.
		return false
	}
	action := strings.ToLower(r.Header.Get("x-ms-lease-action"))
	metadata := r.Method == http.MethodPut && r.URL.Query().Get("comp") == "metadata"
	h.mu.Lock()
	var hold *heldRequest
	switch {
	case action == "release" && h.late.releases:
		hold = &heldRequest{what: "release"}
	case metadata && h.late.metadata > 0:
		h.late.metadata--
		hold = &heldRequest{what: "metadata"}
	}
	if hold != nil {
		hold.send, hold.answer = make(chan struct{}), make(chan string, 1)
		h.held = append(h.held, hold)
		h.late.heldCount++
	}
	loseAnswer := action == "acquire" && h.late.acquires > 0
	h.mu.Unlock()

	switch {
	case hold != nil:
		h.sendHeld(w, r, hold)
		return true
	case loseAnswer:
		h.acquireLosingAnswer(w, r)
		return true
	}
	return false
}

// sendHeld waits until the request is flushed (or MaxDelay, or the link
// closes), then sends it to storage whether or not its sender still waits.
func (h *httpFault) sendHeld(w http.ResponseWriter, r *http.Request, hr *heldRequest) {
	t := time.NewTimer(MaxDelay)
	defer t.Stop()
	select {
	case <-hr.send:
	case <-t.C:
	case <-h.closed:
		hr.answer <- hr.what + ": link closed"
		return
	}
	a := h.forwardDetached(r)
	hr.answer <- hr.what + " " + a.summary()
	a.copyTo(w) // the sender has most likely gone: then this goes nowhere
}

// acquireLosingAnswer sends an acquire to storage; if storage grants it and
// an answer is still to be withheld, the sender gets a reset or a late
// answer, otherwise storage's answer.
func (h *httpFault) acquireLosingAnswer(w http.ResponseWriter, r *http.Request) {
	a := h.forwardDetached(r)
	h.mu.Lock()
	lose := a.status == http.StatusCreated && h.late.acquires > 0
	after := h.late.answerAfter
	if lose {
		h.late.acquires--
		h.late.lostCount++
	}
	h.mu.Unlock()
	switch {
	case !lose:
		a.copyTo(w)
	case after == 0:
		resetConn(w)
	default:
		t := time.NewTimer(min(after, MaxDelay))
		defer t.Stop()
		select {
		case <-t.C:
			a.copyTo(w)
		case <-h.closed:
		}
	}
}

// forwardDetached sends r to storage under a context of its own (bounded),
// so that the request goes through even if its sender has gone, and returns
// the buffered answer.
func (h *httpFault) forwardDetached(r *http.Request) *bufferedAnswer {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	a := &bufferedAnswer{header: http.Header{}}
	h.rp.ServeHTTP(a, r.WithContext(ctx))
	return a
}

// resetConn closes the request's connection with a TCP RST.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// bufferedAnswer is an http.ResponseWriter that keeps the answer.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *bufferedAnswer) Header() http.Header { return a.header }

func (a *bufferedAnswer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

func (a *bufferedAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}

// Flush does nothing: the answer is sent whole by copyTo.
func (a *bufferedAnswer) Flush() {}

func (a *bufferedAnswer) summary() string {
	s := fmt.Sprint(a.status)
	if code := a.header.Get("x-ms-error-code"); code != "" {
		s += " " + code
	}
	return s
}

func (a *bufferedAnswer) copyTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), a.header)
	w.WriteHeader(max(a.status, http.StatusOK))
	_, _ = w.Write(a.body.Bytes())
}
