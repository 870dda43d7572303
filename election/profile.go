package election

import (
	"fmt"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// A Profile is a tested bundle of settings for the candidates of one
// election, picked by name: the renewer's poll and renew intervals and
// heartbeats, and the election's Standby. Every candidate of an election
// uses the same profile:
//
//	p := election.ProfileDefault
//	r, err := renewer.New(l, p.RenewerOptions(renewer.WithIdentity(id))...)
//	...
//	next, err := l.Blob("next-in-line") // azlease: a blob lease in the same container
//	...
//	e, err := election.New(r, p.Options(next)...)
//
// The figures below are the deterministic simulation's (L = 15 s, leader
// + 4 standbys, `go test ./internal/sim -run TestProfiles -v`; see
// docs/simulation.md), calls per hour of storage calls of every kind.
type Profile struct {
	// Name is the profile's name: "default", "fast-handover" or
	// "low-cost".
	Name string
	// PollInterval is the renewer's P: the next in line's poll of the
	// leader's lease (with heartbeats: its poll once a predicted expiry
	// has passed with no new heartbeat).
	PollInterval time.Duration
	// RenewInterval is the renewer's R, or 0 for its default (L/3).
	RenewInterval time.Duration
	// Heartbeat makes a leader write a heartbeat after every renew
	// (renewer.WithHeartbeat), which Standby.Heartbeats needs.
	Heartbeat bool
	// Standby is the election's Standby, without its Next lease (given
	// to Options).
	Standby Standby
}

// The profiles. Each needs a next-in-line lease (Options' argument);
// without one, every standby polls the leader's lease itself every P.
var (
	// ProfileDefault: two seat holders poll in turns, once per 750 ms
	// between them; backbenchers try a seat every 30 s and read the
	// leader's lease every 60 s. Graceful hand-over within P (2P right
	// after a take-over), crash failover within L + 2P. About 6,200
	// calls an hour for a leader and 4 standbys (leader 720, seat holders
	// about 2,550 each, backbenchers about 180 each), each further
	// standby about 180.
	ProfileDefault = Profile{Name: "default", PollInterval: renewer.DefaultPollInterval,
		Standby: Standby{Retry: DefaultRetry, Check: DefaultCheck}}
	// ProfileFastHandover: as the default, with the seat holders polling
	// once per 100 ms between them: hand-over within about 150 ms, at
	// about 18,000 calls an hour for each seat holder (the backbenchers
	// cost the same as in the default).
	ProfileFastHandover = Profile{Name: "fast-handover", PollInterval: 100 * time.Millisecond,
		Standby: Standby{Retry: DefaultRetry, Check: DefaultCheck}}
	// ProfileLowCost: the leader renews every 6 s and writes a heartbeat
	// after each renew; one seat (a second would double the predicted
	// reads): the next in line sleeps until the leader's lease
	// would expire had it died, then polls every 250 ms around that
	// moment (every 2 s once a predicted expiry passed with no new
	// heartbeat); backbenchers try the seat every 60 s and read the
	// leader's lease every 5 minutes. Crash failover within about L + 1
	// s, but a graceful hand-over waits for the next predicted expiry: up
	// to about L; and right after a take-over the seat is empty until a
	// backbencher takes it (up to 72 s), and a failover then waits for a
	// backbencher's read (up to 6 minutes). About 1,800 calls an hour for
	// a leader and 4 standbys, each further standby about 70.
	ProfileLowCost = Profile{Name: "low-cost", PollInterval: 2 * time.Second, RenewInterval: 6 * time.Second, Heartbeat: true,
		Standby: Standby{Seats: 1, Retry: time.Minute, Check: 5 * time.Minute, Heartbeats: true}}
)

// Profiles lists the profiles, ProfileDefault first.
func Profiles() []Profile { return []Profile{ProfileDefault, ProfileFastHandover, ProfileLowCost} }

// ProfileNamed returns the profile called name, or an *renewer.OptionError
// listing the names.
func ProfileNamed(name string) (Profile, error) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, &renewer.OptionError{Pkg: "election", Field: "profile", Value: name,
		Rule: `want "default", "fast-handover" or "low-cost"`}
}

// RenewerOptions returns the renewer options of p, followed by more (an
// identity, a logger; a timing option in more overrides p's).
func (p Profile) RenewerOptions(more ...renewer.Option) []renewer.Option {
	opts := []renewer.Option{renewer.WithPollInterval(p.PollInterval)}
	if p.RenewInterval > 0 {
		opts = append(opts, renewer.WithRenewInterval(p.RenewInterval))
	}
	if p.Heartbeat {
		opts = append(opts, renewer.WithHeartbeat(true))
	}
	return append(opts, more...)
}

// Options returns the election options of p with next as the
// next-in-line lease, followed by more. With a nil next every standby
// polls the leader's lease itself (and p's heartbeats, if any, guide
// every standby's polls).
func (p Profile) Options(next renewer.Leaser, more ...Option) []Option {
	s := p.Standby
	s.Next = next
	return append([]Option{WithStandby(s)}, more...)
}

func (p Profile) String() string {
	return fmt.Sprintf("%s (P %v, heartbeats %v)", p.Name, p.PollInterval, p.Heartbeat)
}
