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
	// MetadataReleased is the released marker: the term of a holding that
	// released its lease, written under that lease just before the
	// release (Lease.Release), with the term and holder left as they were.
	// A lease held while the marker names the term written beside it is
	// not that holder's any more (see Status.Released). The next leasehold
	// holder removes it when it writes its own term.
	MetadataReleased = "leasehold_released"
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
	// releases or loses the lease; Held says whether a lease is active,
	// and Released whether that holder released it.
	// Right after a new acquisition they still name the previous holder
	// until the new one writes its term.
	Holder string
	Term   int64
	// Released reports that the holder that wrote Term released the lease
	// (it wrote the released marker, MetadataReleased, under its lease just
	// before releasing). A lease held while Released is someone else's: a
	// client that is not leasehold, or a leasehold holder in the one round
	// trip between its acquire and its term write. A holder that lost its
	// lease, crashed, or whose marker write failed leaves no marker:
	// Released false says nothing, Released true is certain (see Foreign).
	Released bool
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

// Foreign reports a held lease that no leasehold holder has claimed: its
// metadata names no holder and term, or names a holder that released
// (Released). It is held by a client that is not leasehold, or by a
// leasehold holder in the one round trip before it writes its term; Holder
// and Term then name who held it before, not who holds it.
func (s Status) Foreign() bool { return s.Held() && (s.Term == 0 || s.Holder == "" || s.Released) }

func statusOf(p Properties) Status {
	term := p.Metadata[MetadataTerm]
	return Status{
		State:        p.State,
		Infinite:     p.Infinite,
		Holder:       p.Metadata[MetadataHolder],
		Term:         parseCounter(term),
		Released:     term != "" && p.Metadata[MetadataReleased] == term,
		Heartbeat:    parseCounter(p.Metadata[MetadataHeartbeat]),
		Payload:      payloadOf(p.Metadata),
		LastModified: p.LastModified,
		Date:         p.Date,
	}
}

// MetadataProtocol is the key a later version of the leasehold protocol
// writes its number under (docs/protocol.md). Version 1, this one, writes
// none; a holder that finds a version it does not know does not write a
// term over it.
const MetadataProtocol = "leasehold_protocol"

// checkProtocol refuses metadata written under a protocol version this
// library does not know: its term may follow other rules, so no term is
// written over it (an error wrapping ErrInvalidTerm, which no retry
// changes).
func checkProtocol(md map[string]string) error {
	switch v := md[MetadataProtocol]; v {
	case "", "1":
		return nil
	default:
		shown := v
		if len(shown) > 40 {
			shown = shown[:40] + "..."
		}
		return fmt.Errorf("%w: %s is %q: written by a later version of the leasehold protocol than this one (1); upgrade", ErrInvalidTerm, MetadataProtocol, shown)
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

// withHolder returns a copy of md with the holder's keys set, and no
// released marker.
func withHolder(md map[string]string, identity string, term, heartbeat int64) map[string]string {
	out := maps.Clone(md)
	if out == nil {
		out = make(map[string]string, 3)
	}
	delete(out, MetadataReleased)
	out[MetadataTerm] = strconv.FormatInt(term, 10)
	out[MetadataHolder] = identity
	out[MetadataHeartbeat] = strconv.FormatInt(heartbeat, 10)
	return out
}

// withReleased returns a copy of md, the metadata a holding of term last
// wrote, with the released marker of term added: nothing else changes,
// the term least of all.
func withReleased(md map[string]string, term int64) map[string]string {
	out := maps.Clone(md)
	if out == nil {
		out = make(map[string]string, 1)
	}
	out[MetadataReleased] = strconv.FormatInt(term, 10)
	return out
}
