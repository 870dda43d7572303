package sim

import (
	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

// seatStandby gives s the second seat's lease and the number of seats
// (Options.Seats: 0 the library's default).
func seatStandby(s *election.Standby, second renewer.Leaser, seats int) {
	// Before the two-seat election: one seat, always.
	_, _, _ = s, second, seats
}
