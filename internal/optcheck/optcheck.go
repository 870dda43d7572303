// Package optcheck checks the errors the library's constructors return for
// bad options, for the tests of every package that has options: one
// checker, shown failing on known-bad errors in its own test.
package optcheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/leasehold/leasehold/renewer"
)

// Mismatch says how err differs from an *OptionError of want's
// Pkg, Field and Value whose Rule contains want.Rule, reached by errors.As,
// matching ErrInvalidOption and reading as documented, with one prefix; ""
// if it does not.
func Mismatch(err error, want renewer.OptionError) string {
	var oe *renewer.OptionError
	switch {
	case err == nil:
		return "no error"
	case !errors.As(err, &oe):
		return fmt.Sprintf("%q (%T) is no *OptionError", err, err)
	case !errors.Is(err, renewer.ErrInvalidOption):
		return fmt.Sprintf("%q does not match ErrInvalidOption", err)
	case oe.Pkg != want.Pkg || oe.Field != want.Field || oe.Value != want.Value || !strings.Contains(oe.Rule, want.Rule):
		return fmt.Sprintf("got %#v, want %#v (rule containing %q)", *oe, want, want.Rule)
	case err.Error() != oe.Error() || strings.Count(err.Error(), "invalid option") != 1:
		return fmt.Sprintf("message %q: want the OptionError's own, one prefix", err)
	}
	pkg := want.Pkg
	if pkg == "" {
		pkg = "renewer"
	}
	if prefix := pkg + ": invalid option: " + want.Field; !strings.HasPrefix(err.Error(), prefix) {
		return fmt.Sprintf("message %q: want it to start %q", err, prefix)
	}
	return ""
}
