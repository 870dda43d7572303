package sim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// A Holding is one period in which a holder believed it held the lease:
// from the moment Acquire or Lock returned or OnElected began, to the
// moment its context was done (the renewer cancels it at the validity
// deadline at the latest). Times are virtual, counted from the run's start,
// on storage's clock (the simulation's one clock).
type Holding struct {
	Proc      string // process name
	Inc       int    // incarnation: restarts so far
	Kind      Kind
	Goroutine int // the mutex or semaphore goroutine; 0 otherwise
	// Lease names the lease held: "" for the main container, else a
	// group's lease (a semaphore slot, a shard partition).
	Lease string
	// Term is the fencing number: the term of the holding (a mutex's
	// local hand-overs are holdings of their own, each with the next term).
	Term       int64
	Start, End time.Duration
	Ended      bool   // End was recorded; else the run ended first
	TimedOut   bool   // lost at its validity deadline, on the holder's clock
	Cause      string // why it ended
}

func (h Holding) String() string {
	end, why := "open", ""
	if h.Ended {
		end, why = fmt.Sprint(h.End), " "+h.Cause
	}
	who := fmt.Sprintf("%s/%d %s", h.Proc, h.Inc, h.Kind)
	if h.Kind == KindMutex || h.Kind == KindSemaphore {
		who += fmt.Sprintf(" g%d", h.Goroutine)
	}
	if h.Lease != "" {
		who += " " + h.Lease
	}
	return fmt.Sprintf("%-22s term %d [%v, %s)%s", who, h.Term, h.Start, end, why)
}

// History is the holdings of one run, in start order.
type History []Holding

func (hs History) String() string {
	var b strings.Builder
	for i, h := range hs {
		fmt.Fprintf(&b, "  #%d %v\n", i, h)
	}
	return b.String()
}

// recorder collects holdings from many goroutines.
type recorder struct {
	w  *world
	mu sync.Mutex // guards hs
	hs []*Holding
}

// start records a holding that starts now and returns it for end.
func (r *recorder) start(h Holding) *Holding {
	h.Start = r.w.since()
	p := &h
	r.mu.Lock()
	r.hs = append(r.hs, p)
	r.mu.Unlock()
	return p
}

// end records h's end now, with its cause.
func (r *recorder) end(h *Holding, cause string, timedOut bool) {
	now := r.w.since()
	r.mu.Lock()
	defer r.mu.Unlock()
	if h.Ended {
		return
	}
	h.End, h.Ended, h.TimedOut, h.Cause = now, true, timedOut, cause
}

// history returns the holdings in a stable order: by start, then by who.
func (r *recorder) history() History {
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := make(History, 0, len(r.hs))
	for _, h := range r.hs {
		hs = append(hs, *h)
	}
	slices.SortStableFunc(hs, func(a, b Holding) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Lease, b.Lease), cmp.Compare(a.Proc, b.Proc), cmp.Compare(a.Inc, b.Inc),
			cmp.Compare(a.Goroutine, b.Goroutine), cmp.Compare(a.Term, b.Term))
	})
	return hs
}
