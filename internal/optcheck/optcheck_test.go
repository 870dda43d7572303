package optcheck_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/optcheck"
	"github.com/leasehold/leasehold/renewer"
)

func TestMismatchCanFail(t *testing.T) {
	want := renewer.OptionError{Field: "margin", Value: time.Nanosecond, Rule: "at least"}
	good := &renewer.OptionError{Field: "margin", Value: time.Nanosecond, Rule: "want at least 1s"}
	if m := optcheck.Mismatch(good, want); m != "" {
		t.Fatalf("the checker refuses a good error: %s", m)
	}
	for _, bad := range []error{
		nil,
		fmt.Errorf("%w: margin 1ns: want at least 1s", renewer.ErrInvalidOption),
		fmt.Errorf("mutex: invalid option: %w", good),
		&renewer.OptionError{Field: "margin", Value: time.Second, Rule: "want at least 1s"},
		&renewer.OptionError{Pkg: "mutex", Field: "margin", Value: time.Nanosecond, Rule: "want at least 1s"},
		&renewer.OptionError{Field: "renew interval", Value: time.Nanosecond, Rule: "want at least 1s"},
		&renewer.OptionError{Field: "margin", Value: time.Nanosecond, Rule: "want more"},
	} {
		if optcheck.Mismatch(bad, want) == "" {
			t.Errorf("the checker accepts %v", bad)
		}
	}
}
