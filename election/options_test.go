package election_test

import (
	"github.com/leasehold/leasehold/internal/optcheck"
	"testing"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestNewValidates: every rule of a candidate's options, the renewer's (by
// renewer.New) and the election's own (by election.New, checked against
// the renewer's timing), comes back as one *renewer.OptionError (no second
// prefix) naming the package, field, value and rule.
func TestNewValidates(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		identity string
		ropts    []renewer.Option // the renewer's timing
		give     []election.Option
		want     renewer.OptionError // Rule: a part of the rule
	}{
		{name: "empty identity", identity: "", want: renewer.OptionError{Field: "identity", Value: "", Rule: "non-empty"}},
		{name: "identity with control byte", identity: "a\nb", want: renewer.OptionError{Field: "identity", Value: "a\nb", Rule: "printable ASCII"}},
		{name: "nil option", identity: "a", give: []election.Option{nil}, want: renewer.OptionError{Pkg: "election", Field: "option 0", Rule: "not nil"}},
		{name: "short lease", identity: "a", ropts: []renewer.Option{renewer.WithDuration(14 * s)}, want: renewer.OptionError{Field: "lease duration", Value: 14 * s, Rule: "from 15s to 1m0s"}},
		{name: "long lease", identity: "a", ropts: []renewer.Option{renewer.WithDuration(61 * s)}, want: renewer.OptionError{Field: "lease duration", Value: 61 * s, Rule: "from 15s to 1m0s"}},
		{name: "infinite lease", identity: "a", ropts: []renewer.Option{renewer.WithDuration(renewer.Infinite)}, want: renewer.OptionError{Pkg: "election", Field: "lease duration", Value: renewer.Infinite, Rule: "expires if it dies"}},
		{name: "renew too slow", identity: "a", ropts: []renewer.Option{renewer.WithRenewInterval(15 * s)}, want: renewer.OptionError{Field: "renew interval", Value: 15 * s, Rule: "minus the margin (12s)"}},
		{name: "renew too slow for the lease set after it", identity: "a", ropts: []renewer.Option{renewer.WithRenewInterval(24 * s), renewer.WithDuration(30 * s)}, want: renewer.OptionError{Field: "renew interval", Value: 24 * s, Rule: "(24s)"}},
		{name: "negative renew", identity: "a", ropts: []renewer.Option{renewer.WithRenewInterval(-s)}, want: renewer.OptionError{Field: "renew interval", Value: -s, Rule: "at least 1ms"}},
		{name: "poll too fast", identity: "a", ropts: []renewer.Option{renewer.WithPollInterval(time.Millisecond)}, want: renewer.OptionError{Field: "poll interval", Value: time.Millisecond, Rule: "at least 10ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *election.Election
			r, err := renewer.New(leasetest.New(), append([]renewer.Option{renewer.WithIdentity(tt.identity)}, tt.ropts...)...)
			if err == nil {
				e, err = election.New(r, tt.give...)
			}
			checkOptionError(t, err, tt.want)
			if e != nil {
				t.Errorf("New returned an Election with error %v", err)
			}
		})
	}
}

// checkOptionError fails t with optionErrorMismatch's verdict.
func checkOptionError(t *testing.T, err error, want renewer.OptionError) {
	t.Helper()
	if m := optcheck.Mismatch(err, want); m != "" {
		t.Error(m)
	}
}

func TestNewNilRenewer(t *testing.T) {
	e, err := election.New(nil)
	checkOptionError(t, err, renewer.OptionError{Pkg: "election", Field: "renewer", Rule: "not nil"})
	if e != nil {
		t.Errorf("New(nil) returned an Election with error %v", err)
	}
}

// TestNewAcceptsValidOptions: the Election takes its identity and timing
// from the Renewer.
func TestNewAcceptsValidOptions(t *testing.T) {
	r, err := renewer.New(leasetest.New(),
		renewer.WithIdentity("replica-1"),
		renewer.WithDuration(30*time.Second),
		renewer.WithRenewInterval(5*time.Second),
		renewer.WithPollInterval(500*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	e, err := election.New(r,
		election.WithReleaseOnCancel(false),
		election.WithLogger(nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Identity(); got != "replica-1" {
		t.Errorf("Identity = %q, want %q", got, "replica-1")
	}
	want := renewer.Timing{Duration: 30 * time.Second, RenewInterval: 5 * time.Second, Margin: 6 * time.Second,
		BreakPeriod: 30 * time.Second, PollInterval: 500 * time.Millisecond, CallTimeout: 2500 * time.Millisecond}
	if got := e.Timing(); got != want {
		t.Errorf("Timing = %+v, want %+v", got, want)
	}
}
