package election_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestSeatsNamesTooLong: a named lock whose name leaves room for the first
// seat's name beside it but not the second's gets one seat (Seats 0), or a
// clear error (Seats 2), never a panic; and a Second that is Next is
// refused.
func TestSeatsNamesTooLong(t *testing.T) {
	n := leasetest.NewNamed()
	name := strings.Repeat("x", renewer.MaxNameLen-len("/"+election.NextInLineSuffix+"/"+election.SecondSeatSuffix)+1)
	l, err := n.Lease(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := renewer.New(l, renewer.WithIdentity("a"))
	if err != nil {
		t.Fatal(err)
	}
	next, err := l.Beside(election.NextInLineSuffix)
	if err != nil {
		t.Fatalf("the first seat's name should still fit: %v", err)
	}
	if _, err := election.New(r); err != nil {
		t.Errorf("New with a name too long for the second seat = %v, want one seat", err)
	}
	var oe *renewer.OptionError
	if _, err := election.New(r, election.WithStandby(election.Standby{Next: next, Seats: 2})); !errors.As(err, &oe) || oe.Field != "standby second" {
		t.Errorf("New with Seats 2 and no room for the second seat = %v, want an OptionError on standby second", err)
	}
	if _, err := election.New(r, election.WithStandby(election.Standby{Next: next, Second: next})); !errors.As(err, &oe) || oe.Field != "standby second" {
		t.Errorf("New with Second == Next = %v, want an OptionError on standby second", err)
	}
}
