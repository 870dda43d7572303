// Package overlap checks a test's record of holders (mutex holds,
// leaderships) for two holders at once. It is for the tests of election,
// mutex and integration: each records when every holder began and stopped
// acting, with the holder's own validity deadline, and [Find] reports every
// pair of holdings whose times overlap.
//
// A holding ends when its holder stops acting or when its validity deadline
// passes, whichever comes first: a holder may act until its deadline,
// whatever its context says, and no longer. All times are read on one
// process's clock (synctest's fake clock in unit tests); the check says
// nothing about holders in other processes.
package overlap

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Instant is a point on the test process's clock, with a sequence number
// that orders events at the same reading of the clock (under synctest,
// many events happen at one instant).
type Instant struct {
	At  time.Time
	Seq int64 // from Now; 0 sorts before every Instant from Now at the same At
}

var seq atomic.Int64

// Now returns the current Instant, with a sequence number higher than that
// of every earlier call. It is safe for concurrent use.
func Now() Instant { return Instant{At: time.Now(), Seq: seq.Add(1)} }

// Before reports whether a is strictly before b.
func (a Instant) Before(b Instant) bool {
	return a.At.Before(b.At) || a.At.Equal(b.At) && a.Seq < b.Seq
}

// Holding is one holder's time as holder: from Start until it stopped
// acting (Stop; zero while it acts) or its validity deadline, whichever
// comes first. Deadline returns the holder's own deadline
// (mutex.Held.Deadline, election.Leadership.Deadline, as it was when the
// holding ended): the holder may act until then, whatever its context
// says.
type Holding struct {
	Who      string // names the holder in messages
	Start    Instant
	Stop     Instant
	Deadline func() time.Time
}

// End returns when h ended: it stopped acting, or its validity deadline
// passed. A deadline ends it before anything that happens at that instant.
func (h Holding) End() Instant {
	d := Instant{At: h.Deadline()}
	if h.Stop.At.IsZero() || d.Before(h.Stop) {
		return d
	}
	return h.Stop
}

// Find returns a message for every pair of holdings whose times overlap:
// one began before the other ended. It returns nil if there is none.
func Find(hs []Holding) []string {
	var out []string
	for i := range hs {
		for j := range hs {
			a, b := hs[i], hs[j]
			if i == j || b.Start.Before(a.Start) {
				continue
			}
			if end := a.End(); b.Start.Before(end) {
				out = append(out, fmt.Sprintf("%s began %v before %s ended (stopped or its validity deadline passed): two holders at once",
					b.Who, end.At.Sub(b.Start.At), a.Who))
			}
		}
	}
	return out
}

// Live returns how many of hs are under way at t: begun at or before t and
// not yet ended.
func Live(hs []Holding, t Instant) int {
	n := 0
	for _, h := range hs {
		if !t.Before(h.Start) && t.Before(h.End()) {
			n++
		}
	}
	return n
}
