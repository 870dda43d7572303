package renewer

import "fmt"

// MetadataPayload is the container metadata key of the holder's payload
// (see WithPayload), written with its term.
const MetadataPayload = "leasehold_payload"

// maxPayload bounds the payload: container metadata travels in HTTP
// headers, 8 KiB in all.
const maxPayload = 1024

// WithPayload sets a short string the holder publishes with its term at
// every acquisition, for everyone who reads the lease to see: followers of
// an election read it as the leader's address (election.Leader.Payload),
// a status tool as anything the holder wants known. Printable ASCII, at
// most 1024 bytes, no leading or trailing spaces. Default: none (a holder
// without one removes its predecessor's).
//
// It is public to anyone who can read the container: never put a secret
// in it. Readers that act on it (forward requests to it) should check it
// against what they expect, since anyone who can write the container's
// metadata can write it.
func WithPayload(p string) Option { return func(c *config) { c.payload = p } }

// Payload returns the payload the Renewer publishes with each holding (see
// WithPayload), or "".
func (r *Renewer) Payload() string { return r.cfg.payload }

// withPayload sets or, for "", removes the payload in md, in place, and
// returns md.
func withPayload(md map[string]string, p string) map[string]string {
	if p == "" {
		delete(md, MetadataPayload)
	} else {
		md[MetadataPayload] = p
	}
	return md
}

// payloadOf reads the payload from metadata.
func payloadOf(md map[string]string) string { return md[MetadataPayload] }

func validatePayload(p string) error {
	if p == "" {
		return nil
	}
	bad := func(rule string) error { return &OptionError{Field: "payload", Value: p, Rule: rule} }
	if len(p) > maxPayload {
		return bad(fmt.Sprintf("want at most %d bytes, not %d", maxPayload, len(p)))
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] > 0x7e {
			return bad(fmt.Sprintf("want printable ASCII (byte %d is %#x)", i, p[i]))
		}
	}
	if p[0] == ' ' || p[len(p)-1] == ' ' {
		return bad("want no leading or trailing spaces")
	}
	return nil
}
