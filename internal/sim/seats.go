package sim

import (
	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

// seatStandby gives s the second seat's lease and the number of seats
// (Options.Seats: 0 the library's default, two seats).
func seatStandby(s *election.Standby, second renewer.Leaser, seats int) {
	s.Second, s.Seats = second, seats
}
