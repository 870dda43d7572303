package election_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name     string
		identity string
		give     []election.Option
		want     string // in the error message
	}{
		{name: "empty identity", identity: "", want: "identity is empty"},
		{name: "identity with control byte", identity: "a\nb", want: `identity "a\nb"`},
		{name: "nil option", identity: "a", give: []election.Option{nil}, want: "option 0 is nil"},
		{name: "short lease", identity: "a", give: []election.Option{election.WithDuration(14 * time.Second)}, want: "lease duration 14s"},
		{name: "long lease", identity: "a", give: []election.Option{election.WithDuration(61 * time.Second)}, want: "lease duration 1m1s"},
		{name: "infinite lease", identity: "a", give: []election.Option{election.WithDuration(renewer.Infinite)}, want: "lease duration Infinite"},
		{name: "renew too slow", identity: "a", give: []election.Option{election.WithRenewInterval(15 * time.Second)}, want: "renew interval 15s"},
		{name: "negative renew", identity: "a", give: []election.Option{election.WithRenewInterval(-time.Second)}, want: "renew interval -1s"},
		{name: "poll too fast", identity: "a", give: []election.Option{election.WithPollInterval(time.Millisecond)}, want: "poll interval 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := election.New(leasetest.New(), tt.identity, tt.give...)
			if !errors.Is(err, election.ErrInvalidOption) {
				t.Fatalf("New = %v, want ErrInvalidOption", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "election: invalid option: ") {
				t.Errorf("New = %q, want %q after the prefix", err, tt.want)
			}
		})
	}
}

func TestNewRejectsNilClients(t *testing.T) {
	if _, err := election.New(nil, "a"); !errors.Is(err, election.ErrInvalidOption) {
		t.Errorf("New(nil) = %v, want ErrInvalidOption", err)
	}
	_, err := election.NewFromContainer(nil, "a")
	if !errors.Is(err, election.ErrInvalidOption) || !errors.Is(err, renewer.ErrInvalidOption) {
		t.Errorf("NewFromContainer(nil) = %v, want ErrInvalidOption wrapping renewer's", err)
	}
}

func TestNewAcceptsValidOptions(t *testing.T) {
	_, err := election.New(leasetest.New(), "replica-1",
		election.WithDuration(30*time.Second),
		election.WithRenewInterval(5*time.Second),
		election.WithPollInterval(500*time.Millisecond),
		election.WithReleaseOnCancel(false),
		election.WithLogger(nil),
	)
	if err != nil {
		t.Fatal(err)
	}
}
