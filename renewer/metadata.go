package renewer

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"
)

// The container metadata keys the library owns. Other keys are preserved.
// Write none of these by hand: the term is a fencing token only while every
// writer of it is a lease holder.
const (
	// MetadataTerm is the term: 1 + the previous term, written by each new
	// holder under its lease before it counts as holder.
	MetadataTerm = "leasehold_term"
	// MetadataHolder is the identity of the holder that wrote the term.
	MetadataHolder = "leasehold_holder"
	// MetadataHeartbeat is a counter the holder advances after each renew
	// when heartbeats are on (always for infinite leases).
	MetadataHeartbeat = "leasehold_heartbeat"
)

// Status is what anyone can read about a lease and its last holder, with
// one storage call and no lease of their own.
type Status struct {
	// State is the lease state.
	State LeaseState
	// Infinite reports an infinite lease (meaningful while Held).
	Infinite bool
	// Holder and Term are the identity and term written by the last
	// holder to complete an acquisition. They stay after that holder
	// releases or loses the lease; Held says whether a lease is active.
	// Right after a new acquisition they still name the previous holder
	// until the new one writes its term.
	Holder string
	Term   int64
	// Heartbeat is the holder's heartbeat counter (0 without heartbeats).
	Heartbeat int64
	// Payload is what the holder that wrote Term published with it
	// (renewer.WithPayload), or "".
	Payload string
	// LastModified is the service's time of the last metadata write (the
	// term or a heartbeat); Date is the service's clock when it answered.
	// Both are the service's clock, at one-second resolution: compare them
	// with each other, never with a local clock.
	LastModified time.Time
	Date         time.Time
}

// Held reports whether a lease is active: leased, or being broken.
func (s Status) Held() bool { return s.State == StateLeased || s.State == StateBreaking }

func statusOf(p Properties) Status {
	return Status{
		State:        p.State,
		Infinite:     p.Infinite,
		Holder:       p.Metadata[MetadataHolder],
		Term:         parseCounter(p.Metadata[MetadataTerm]),
		Heartbeat:    parseCounter(p.Metadata[MetadataHeartbeat]),
		Payload:      payloadOf(p.Metadata),
		LastModified: p.LastModified,
		Date:         p.Date,
	}
}

// parseTerm reads the term in the metadata: 0 when absent, else a whole
// number from 0 to MaxInt64-1, so that one more is still a term.
func parseTerm(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n == math.MaxInt64 || strings.TrimLeft(s, "0123456789") != "" {
		shown := s
		if len(shown) > 40 {
			shown = shown[:40] + "..."
		}
		return 0, fmt.Errorf("%w: %s is %q: want a whole number from 0 to %d", ErrInvalidTerm, MetadataTerm, shown, int64(math.MaxInt64-1))
	}
	return n, nil
}

// parseCounter reads a non-negative counter; anything else counts as 0.
func parseCounter(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// withHolder returns a copy of md with the holder's keys set.
func withHolder(md map[string]string, identity string, term, heartbeat int64) map[string]string {
	out := maps.Clone(md)
	if out == nil {
		out = make(map[string]string, 3)
	}
	out[MetadataTerm] = strconv.FormatInt(term, 10)
	out[MetadataHolder] = identity
	out[MetadataHeartbeat] = strconv.FormatInt(heartbeat, 10)
	return out
}
