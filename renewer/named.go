package renewer

import (
	"fmt"
	"unicode/utf8"
)

// MaxNameLen is the longest lock name, in bytes, that [ValidateName]
// accepts: short enough that every adapter can encode any such name into a
// storage key of its own (the Azure adapter's blob names, at most three
// bytes per byte of the name, stay far inside the service's 1,024).
const MaxNameLen = 256

// MetadataName is the metadata key under which an adapter that keeps many
// named locks in one place (the Azure adapter's blob leases, the fake's
// named leases) keeps each lock's name, escaped as a URL query value
// (url.QueryEscape), so that anyone looking at storage can tell which lock
// a lease is.
const MetadataName = "leasehold_name"

// ValidateName reports whether name can name a lock kept with many others
// in one place (the Azure adapter's azlease.NewBlob, the fake's
// leasetest.Named): any text of 1 to MaxNameLen bytes of valid UTF-8. The
// error is an *OptionError naming the value and the rule it breaks.
func ValidateName(name string) error {
	bad := func(rule string) error { return &OptionError{Field: "lock name", Value: name, Rule: rule} }
	switch {
	case name == "":
		return bad("want a non-empty string")
	case len(name) > MaxNameLen:
		return &OptionError{Field: "lock name", Value: name[:32] + "...",
			Rule: fmt.Sprintf("want at most %d bytes, not %d", MaxNameLen, len(name))}
	case !utf8.ValidString(name):
		return bad("want valid UTF-8 text")
	}
	return nil
}
