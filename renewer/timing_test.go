package renewer_test

import (
	"errors"
	"github.com/leasehold/leasehold/internal/optcheck"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

func TestOptionErrorMessage(t *testing.T) {
	tests := []struct {
		give renewer.OptionError
		want string
	}{
		{renewer.OptionError{Field: "lease duration", Value: 14 * time.Second, Rule: "want more"}, "renewer: invalid option: lease duration 14s: want more"},
		{renewer.OptionError{Pkg: "mutex", Field: "lease duration", Value: renewer.Infinite, Rule: "want more"}, "mutex: invalid option: lease duration Infinite: want more"},
		{renewer.OptionError{Field: "leaser", Rule: "want a Leaser, not nil"}, "renewer: invalid option: leaser: want a Leaser, not nil"},
		{renewer.OptionError{Field: "identity", Value: "a\nb", Rule: "r"}, `renewer: invalid option: identity "a\nb": r`},
		{renewer.OptionError{Field: "identity", Value: strings.Repeat("x", 100), Rule: "r"}, `renewer: invalid option: identity "` + strings.Repeat("x", 64) + `"...: r`},
		{renewer.OptionError{Field: "option 2", Value: 2, Rule: "r"}, "renewer: invalid option: option 2 2: r"},
	}
	for _, tt := range tests {
		if got := tt.give.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if err := error(&renewer.OptionError{}); !errors.Is(err, renewer.ErrInvalidOption) || errors.Is(err, renewer.ErrLeaseHeld) {
		t.Errorf("OptionError matches ErrInvalidOption %v, ErrLeaseHeld %v; want true, false",
			errors.Is(err, renewer.ErrInvalidOption), errors.Is(err, renewer.ErrLeaseHeld))
	}
}

// TestNewValidation: every rule of New, through the option that sets it,
// names its field, value and rule.
func TestNewValidation(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		give []renewer.Option
		want renewer.OptionError // Rule: a part of the rule
	}{
		{"duration too short", []renewer.Option{renewer.WithDuration(14 * s)}, renewer.OptionError{Field: "lease duration", Value: 14 * s, Rule: "whole seconds from 15s to 1m0s, or Infinite"}},
		{"duration too long", []renewer.Option{renewer.WithDuration(61 * s)}, renewer.OptionError{Field: "lease duration", Value: 61 * s, Rule: "from 15s to 1m0s"}},
		{"duration fraction", []renewer.Option{renewer.WithDuration(15500 * time.Millisecond)}, renewer.OptionError{Field: "lease duration", Value: 15500 * time.Millisecond, Rule: "whole seconds"}},
		{"duration zero", []renewer.Option{renewer.WithDuration(0)}, renewer.OptionError{Field: "lease duration", Value: time.Duration(0), Rule: "whole seconds"}},
		{"break period over 60s", []renewer.Option{renewer.WithBreakPeriod(61 * s)}, renewer.OptionError{Field: "break period", Value: 61 * s, Rule: "whole seconds from 0s to 1m0s"}},
		{"break period negative", []renewer.Option{renewer.WithBreakPeriod(-s)}, renewer.OptionError{Field: "break period", Value: -s, Rule: "from 0s"}},
		{"break period fraction", []renewer.Option{renewer.WithBreakPeriod(1500 * time.Millisecond)}, renewer.OptionError{Field: "break period", Value: 1500 * time.Millisecond, Rule: "whole seconds"}},
		{"infinite with short break period", []renewer.Option{renewer.WithDuration(renewer.Infinite), renewer.WithBreakPeriod(14 * s)}, renewer.OptionError{Field: "break period", Value: 14 * s, Rule: "infinite lease needs at least 15s"}},
		{"margin too small", []renewer.Option{renewer.WithMargin(time.Nanosecond)}, renewer.OptionError{Field: "margin", Value: time.Nanosecond, Rule: "at least 1s"}},
		{"margin negative", []renewer.Option{renewer.WithMargin(-s)}, renewer.OptionError{Field: "margin", Value: -s, Rule: "at least 1s"}},
		{"margin half the window", []renewer.Option{renewer.WithMargin(7500 * time.Millisecond)}, renewer.OptionError{Field: "margin", Value: 7500 * time.Millisecond, Rule: "less than half the validity window 15s"}},
		{"margin half an infinite lease's window", []renewer.Option{renewer.WithDuration(renewer.Infinite), renewer.WithBreakPeriod(20 * s), renewer.WithMargin(10 * s)}, renewer.OptionError{Field: "margin", Value: 10 * s, Rule: "validity window 20s"}},
		{"renew interval too short", []renewer.Option{renewer.WithRenewInterval(time.Nanosecond)}, renewer.OptionError{Field: "renew interval", Value: time.Nanosecond, Rule: "at least 1ms"}},
		{"renew interval negative", []renewer.Option{renewer.WithRenewInterval(-s)}, renewer.OptionError{Field: "renew interval", Value: -s, Rule: "at least 1ms"}},
		{"renew interval reaches window - margin", []renewer.Option{renewer.WithRenewInterval(12 * s)}, renewer.OptionError{Field: "renew interval", Value: 12 * s, Rule: "validity window minus the margin (12s)"}},
		{"renew interval with a set margin", []renewer.Option{renewer.WithMargin(5 * s), renewer.WithRenewInterval(10 * s)}, renewer.OptionError{Field: "renew interval", Value: 10 * s, Rule: "(10s)"}},
		{"call timeout too short", []renewer.Option{renewer.WithCallTimeout(time.Nanosecond)}, renewer.OptionError{Field: "call timeout", Value: time.Nanosecond, Rule: "at least 1ms"}},
		{"call timeout negative", []renewer.Option{renewer.WithCallTimeout(-s)}, renewer.OptionError{Field: "call timeout", Value: -s, Rule: "at least 1ms"}},
		{"poll interval", []renewer.Option{renewer.WithPollInterval(9 * time.Millisecond)}, renewer.OptionError{Field: "poll interval", Value: 9 * time.Millisecond, Rule: "at least 10ms"}},
		{"poll interval zero", []renewer.Option{renewer.WithPollInterval(0)}, renewer.OptionError{Field: "poll interval", Value: time.Duration(0), Rule: "at least 10ms"}},
		{"empty identity", []renewer.Option{renewer.WithIdentity("")}, renewer.OptionError{Field: "identity", Value: "", Rule: "non-empty"}},
		{"non-ASCII identity", []renewer.Option{renewer.WithIdentity("nœud")}, renewer.OptionError{Field: "identity", Value: "nœud", Rule: "printable ASCII (byte 1 is 0xc5)"}},
		{"long identity", []renewer.Option{renewer.WithIdentity(strings.Repeat("x", 300))}, renewer.OptionError{Field: "identity", Value: strings.Repeat("x", 300), Rule: "at most 256 bytes, not 300"}},
		{"spaced identity", []renewer.Option{renewer.WithIdentity(" a")}, renewer.OptionError{Field: "identity", Value: " a", Rule: "no leading or trailing spaces"}},
		{"nil option", []renewer.Option{renewer.WithMargin(2 * s), nil}, renewer.OptionError{Field: "option 1", Rule: "want an Option, not nil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := renewer.New(leasetest.New(), tt.give...)
			if m := optcheck.Mismatch(err, tt.want); m != "" || r != nil {
				t.Errorf("New = %v, %v: %s", r, err, m)
			}
		})
	}
	_, err := renewer.New(nil)
	if m := optcheck.Mismatch(err, renewer.OptionError{Field: "leaser", Rule: "not nil"}); m != "" {
		t.Errorf("New(nil): %s", m)
	}
	_, err = renewer.Inspect(t.Context(), nil)
	if m := optcheck.Mismatch(err, renewer.OptionError{Field: "leaser", Rule: "not nil"}); m != "" {
		t.Errorf("Inspect(ctx, nil): %s", m)
	}
}

// TestTiming: the defaults derived from L (and from the break period of an
// infinite lease), and the boundaries of every rule, accepted.
func TestTiming(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		give []renewer.Option
		want renewer.Timing
	}{
		{"defaults", nil, renewer.Timing{Duration: 15 * s, RenewInterval: 5 * s, Margin: 3 * s, BreakPeriod: 15 * s, PollInterval: 750 * time.Millisecond, CallTimeout: 2500 * time.Millisecond}},
		{"L 30s", []renewer.Option{renewer.WithDuration(30 * s)}, renewer.Timing{Duration: 30 * s, RenewInterval: 10 * s, Margin: 6 * s, BreakPeriod: 30 * s, PollInterval: 750 * time.Millisecond, CallTimeout: 5 * s}},
		{"infinite", []renewer.Option{renewer.WithDuration(renewer.Infinite)}, renewer.Timing{Duration: renewer.Infinite, RenewInterval: 5 * s, Margin: 3 * s, BreakPeriod: 15 * s, PollInterval: 750 * time.Millisecond, CallTimeout: 2500 * time.Millisecond}},
		{"infinite, break period 30s", []renewer.Option{renewer.WithDuration(renewer.Infinite), renewer.WithBreakPeriod(30 * s)}, renewer.Timing{Duration: renewer.Infinite, RenewInterval: 10 * s, Margin: 6 * s, BreakPeriod: 30 * s, PollInterval: 750 * time.Millisecond, CallTimeout: 5 * s}},
		{"fixed, break period 0", []renewer.Option{renewer.WithBreakPeriod(0)}, renewer.Timing{Duration: 15 * s, RenewInterval: 5 * s, Margin: 3 * s, BreakPeriod: 0, PollInterval: 750 * time.Millisecond, CallTimeout: 2500 * time.Millisecond}},
		{"shortest R: call timeout 100ms", []renewer.Option{renewer.WithRenewInterval(renewer.MinRenewInterval)}, renewer.Timing{Duration: 15 * s, RenewInterval: time.Millisecond, Margin: 3 * s, BreakPeriod: 15 * s, PollInterval: 750 * time.Millisecond, CallTimeout: 100 * time.Millisecond}},
		{"boundaries", []renewer.Option{renewer.WithDuration(60 * s), renewer.WithMargin(29*s + 999*time.Millisecond), renewer.WithRenewInterval(30*s - time.Millisecond),
			renewer.WithCallTimeout(renewer.MinCallTimeout), renewer.WithPollInterval(renewer.MinPollInterval), renewer.WithBreakPeriod(60 * s)},
			renewer.Timing{Duration: 60 * s, RenewInterval: 30*s - time.Millisecond, Margin: 29*s + 999*time.Millisecond, BreakPeriod: 60 * s, PollInterval: 10 * time.Millisecond, CallTimeout: time.Millisecond}},
		{"least margin", []renewer.Option{renewer.WithMargin(renewer.MinMargin)}, renewer.Timing{Duration: 15 * s, RenewInterval: 5 * s, Margin: s, BreakPeriod: 15 * s, PollInterval: 750 * time.Millisecond, CallTimeout: 2500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := renewer.New(leasetest.New(), tt.give...)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Timing(); got != tt.want {
				t.Errorf("Timing = %+v, want %+v", got, tt.want)
			}
			if err := r.Timing().Validate(); err != nil {
				t.Errorf("the Timing of a Renewer does not validate: %v", err)
			}
		})
	}
	if w := (renewer.Timing{Duration: renewer.Infinite, BreakPeriod: 20 * s}).Window(); w != 20*s {
		t.Errorf("infinite Window = %v, want the break period 20s", w)
	}
	// Validate takes a Timing as it is: zero fields are not defaults.
	err := renewer.Timing{Duration: 15 * s, BreakPeriod: 15 * s}.Validate()
	if m := optcheck.Mismatch(err, renewer.OptionError{Field: "margin", Value: time.Duration(0), Rule: "at least 1s"}); m != "" {
		t.Errorf("Validate of a zero margin: %s", m)
	}
}

// TestReleaseBound: the released marker's write and three tries of the
// release, each a call timeout, with the longest jittered pauses between
// the tries.
func TestReleaseBound(t *testing.T) {
	tests := []struct {
		name string
		give renewer.Timing
		want time.Duration
	}{
		{name: "defaults", give: renewer.Timing{RenewInterval: 5 * time.Second, CallTimeout: 2500 * time.Millisecond},
			want: 4*2500*time.Millisecond + 2*1875*time.Millisecond},
		{name: "short renew interval", give: renewer.Timing{RenewInterval: 40 * time.Millisecond, CallTimeout: 100 * time.Millisecond},
			want: 4*100*time.Millisecond + 2*15*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.give.ReleaseBound(); got != tt.want {
				t.Errorf("ReleaseBound = %v, want %v", got, tt.want)
			}
		})
	}
}
