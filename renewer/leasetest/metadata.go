package leasetest

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// maxMetadata is the service's limit on the total size of a container's
// metadata names and values.
const maxMetadata = 8 << 10

// Properties implements [renewer.Leaser]: the lease state, whether the lease
// is infinite (reported only while Leased, as Azurite does), a copy of the
// metadata, the last-modified time and the service's Date.
func (c *Container) Properties(ctx context.Context) (renewer.Properties, error) {
	var p renewer.Properties
	err := c.do(ctx, Call{Op: OpProperties}, func(now time.Time) error {
		p = renewer.Properties{
			State:        c.lease.state(now),
			Metadata:     maps.Clone(c.metadata),
			LastModified: c.lastModified,
			Date:         serviceTime(now),
		}
		p.Infinite = p.State == renewer.StateLeased && c.lease.duration == renewer.Infinite
		return nil
	})
	if err != nil {
		return renewer.Properties{}, err
	}
	return p, nil
}

// SetMetadata implements [renewer.Leaser]: it replaces all metadata (keys
// stored in lower case) and sets the last-modified time. With a leaseID it
// succeeds only while that lease is active (Leased or Breaking). A nil or
// empty map clears the metadata.
func (c *Container) SetMetadata(ctx context.Context, leaseID string, metadata map[string]string) error {
	md := maps.Clone(metadata) // the caller may change its map while a hook runs
	return c.do(ctx, Call{Op: OpSetMetadata, LeaseID: leaseID}, func(now time.Time) error {
		lower, err := checkMetadata(md)
		if err != nil {
			return err
		}
		modifies := false // ends a blob's expired or broken lease
		if leaseID == "" && c.blob {
			// A leased blob's writes need the lease ID (a container's do
			// not), and a write to a blob ends an expired or broken lease.
			switch c.lease.state(now) {
			case renewer.StateLeased, renewer.StateBreaking:
				return refuse(OpSetMetadata, codeLeaseIDMissing)
			case renewer.StateExpired, renewer.StateBroken:
				modifies = true
			}
		}
		if leaseID != "" {
			if err := checkID(OpSetMetadata, "lease ID", leaseID); err != nil {
				return err
			}
			switch c.lease.state(now) {
			case renewer.StateLeased, renewer.StateBreaking:
				if !sameID(leaseID, c.lease.id) {
					return refuse(OpSetMetadata, codeMismatchContainer)
				}
			default:
				return refuse(OpSetMetadata, codeNotPresentContainer)
			}
		}
		c.metadata = lower
		c.lastModified = serviceTime(now)
		if modifies {
			c.lease = lease{}
		}
		return nil
	})
}

// checkMetadata returns md with lower-case keys, or the service's refusal:
// names must be C# identifiers and unique ignoring case, names and values
// printable ASCII, and all of them together at most 8 KiB.
func checkMetadata(md map[string]string) (map[string]string, error) {
	lower := make(map[string]string, len(md))
	size := 0
	for k, v := range md {
		if !isIdentifier(k) {
			return nil, badRequest(OpSetMetadata, codeInvalidMetadata, "name %q is not a C# identifier", k)
		}
		if !isPrintableASCII(v) {
			return nil, badRequest(OpSetMetadata, codeInvalidMetadata, "value of %q is not printable ASCII", k)
		}
		lk := strings.ToLower(k)
		if _, dup := lower[lk]; dup {
			return nil, badRequest(OpSetMetadata, codeInvalidMetadata, "name %q given twice, in different cases", lk)
		}
		lower[lk] = v
		size += len(k) + len(v)
	}
	if size > maxMetadata {
		return nil, badRequest(OpSetMetadata, codeMetadataTooLarge, "%d bytes of names and values, over %d", size, maxMetadata)
	}
	return lower, nil
}

// isIdentifier reports whether s matches ^[A-Za-z_][A-Za-z0-9_]*$.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		letter := b == '_' || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
		if !letter && (i == 0 || b < '0' || b > '9') {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
