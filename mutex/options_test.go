package mutex_test

import (
	"github.com/leasehold/leasehold/internal/optcheck"
	"testing"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestNewValidates: every rule of a Mutex's options, the renewer's (by
// renewer.New) and the mutex's own (by mutex.New, checked against the
// renewer's timing), comes back as one *renewer.OptionError (no second
// prefix) naming the package, field, value and rule.
func TestNewValidates(t *testing.T) {
	s := time.Second
	inf := renewer.WithDuration(renewer.Infinite)
	tests := []struct {
		name  string
		ropts []renewer.Option // the renewer's: identity and timing
		give  []mutex.Option
		want  *renewer.OptionError // nil for none; Rule: a part of the rule
	}{
		{name: "defaults"},
		{name: "infinite with break-on-timeout", ropts: []renewer.Option{inf}, give: []mutex.Option{mutex.WithBreakOnTimeout(15 * s)}},
		{name: "max hold", give: []mutex.Option{mutex.WithMaxHold(time.Minute)}},
		{name: "max hold at the window", give: []mutex.Option{mutex.WithMaxHold(15 * s)}},
		{name: "max hold at an infinite lease's window", ropts: []renewer.Option{inf, renewer.WithBreakPeriod(20 * s)}, give: []mutex.Option{mutex.WithBreakOnTimeout(20 * s), mutex.WithMaxHold(20 * s)}},
		{name: "break-on-timeout with a short renew interval", ropts: []renewer.Option{inf, renewer.WithRenewInterval(2 * s)}, give: []mutex.Option{mutex.WithBreakOnTimeout(6 * s)}},
		{name: "break period above the duration", ropts: []renewer.Option{renewer.WithBreakPeriod(20 * s)}},
		{name: "nil option", give: []mutex.Option{nil}, want: &renewer.OptionError{Pkg: "mutex", Field: "option 0", Rule: "not nil"}},
		{name: "infinite alone", ropts: []renewer.Option{inf}, want: &renewer.OptionError{Pkg: "mutex", Field: "lease duration", Value: renewer.Infinite, Rule: "want WithBreakOnTimeout too"}},
		{name: "break-on-timeout under 3 renew intervals", ropts: []renewer.Option{inf}, give: []mutex.Option{mutex.WithBreakOnTimeout(14 * s)}, want: &renewer.OptionError{Pkg: "mutex", Field: "break-on-timeout", Value: 14 * s, Rule: "at least 3 renew intervals (15s)"}},
		{name: "break-on-timeout under 3 of a longer window's renew intervals", ropts: []renewer.Option{inf, renewer.WithBreakPeriod(30 * s)}, give: []mutex.Option{mutex.WithBreakOnTimeout(29 * s)}, want: &renewer.OptionError{Pkg: "mutex", Field: "break-on-timeout", Value: 29 * s, Rule: "(30s)"}},
		{name: "negative break-on-timeout", give: []mutex.Option{mutex.WithBreakOnTimeout(-s)}, want: &renewer.OptionError{Pkg: "mutex", Field: "break-on-timeout", Value: -s, Rule: "0 (off) or more"}},
		{name: "break period under the duration", ropts: []renewer.Option{renewer.WithDuration(30 * s), renewer.WithBreakPeriod(10 * s)}, want: &renewer.OptionError{Pkg: "mutex", Field: "break period", Value: 10 * s, Rule: "at least the lease duration 30s"}},
		{name: "break period 0", ropts: []renewer.Option{renewer.WithBreakPeriod(0)}, want: &renewer.OptionError{Pkg: "mutex", Field: "break period", Value: time.Duration(0), Rule: "at least the lease duration 15s"}},
		{name: "max hold under the window", give: []mutex.Option{mutex.WithMaxHold(10 * s)}, want: &renewer.OptionError{Pkg: "mutex", Field: "max hold", Value: 10 * s, Rule: "at least the validity window 15s"}},
		{name: "max hold under an infinite lease's window", ropts: []renewer.Option{inf, renewer.WithBreakPeriod(20 * s)}, give: []mutex.Option{mutex.WithBreakOnTimeout(20 * s), mutex.WithMaxHold(19 * s)}, want: &renewer.OptionError{Pkg: "mutex", Field: "max hold", Value: 19 * s, Rule: "validity window 20s"}},
		{name: "negative max hold", give: []mutex.Option{mutex.WithMaxHold(-s)}, want: &renewer.OptionError{Pkg: "mutex", Field: "max hold", Value: -s, Rule: "0 (off) or more"}},
		{name: "duration out of range (renewer's rule)", ropts: []renewer.Option{renewer.WithDuration(10 * s), renewer.WithBreakPeriod(10 * s)}, want: &renewer.OptionError{Field: "lease duration", Value: 10 * s, Rule: "from 15s to 1m0s"}},
		{name: "break period over 60s (renewer's rule)", ropts: []renewer.Option{renewer.WithBreakPeriod(61 * s)}, want: &renewer.OptionError{Field: "break period", Value: 61 * s, Rule: "from 0s to 1m0s"}},
		{name: "infinite break period under 15s (renewer's rule)", ropts: []renewer.Option{inf, renewer.WithBreakPeriod(10 * s)}, give: []mutex.Option{mutex.WithBreakOnTimeout(15 * s)}, want: &renewer.OptionError{Field: "break period", Value: 10 * s, Rule: "infinite lease needs at least 15s"}},
		{name: "renew interval too long (renewer's rule)", ropts: []renewer.Option{renewer.WithRenewInterval(13 * s)}, want: &renewer.OptionError{Field: "renew interval", Value: 13 * s, Rule: "(12s)"}},
		{name: "empty identity (renewer's rule)", ropts: []renewer.Option{renewer.WithIdentity("")}, want: &renewer.OptionError{Field: "identity", Value: "", Rule: "non-empty"}},
		{name: "poll interval too short (renewer's rule)", ropts: []renewer.Option{renewer.WithPollInterval(0)}, want: &renewer.OptionError{Field: "poll interval", Value: time.Duration(0), Rule: "at least 10ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m *mutex.Mutex
			r, err := renewer.New(leasetest.New(), tt.ropts...)
			if err == nil {
				m, err = mutex.New(r, tt.give...)
			}
			if tt.want == nil {
				if err != nil || m == nil {
					t.Fatalf("New = %v, %v; want a Mutex", m, err)
				}
				return
			}
			if msg := optcheck.Mismatch(err, *tt.want); msg != "" {
				t.Error(msg)
			}
			if m != nil {
				t.Errorf("New returned a Mutex with error %v", err)
			}
		})
	}
}

func TestNewNilRenewer(t *testing.T) {
	m, err := mutex.New(nil)
	if msg := optcheck.Mismatch(err, renewer.OptionError{Pkg: "mutex", Field: "renewer", Rule: "not nil"}); msg != "" {
		t.Errorf("New(nil): %s", msg)
	}
	if m != nil {
		t.Errorf("New(nil) returned a Mutex with error %v", err)
	}
}
