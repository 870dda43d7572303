package main

import (
	"fmt"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
)

// setting is one named lease timing the benchmarks run with.
type setting struct {
	Name  string        `json:"name"`
	Lease time.Duration `json:"-"`
	Renew time.Duration `json:"-"`
	Poll  time.Duration `json:"-"`
	Note  string        `json:"note"`
	// Extra are further renewer options of the setting, applied after
	// the timing.
	Extra []renewer.Option `json:"-"`
	// Profile, if not nil, is the election profile the setting runs (its
	// timing and its Standby, with the next-in-line lease beside the
	// election's); Poll and Renew then are the profile's.
	Profile *election.Profile `json:"-"`
	// NoNext runs the election without a next-in-line lease
	// (election.WithStandby(election.Standby{})): every standby polls.
	NoNext bool `json:"-"`

	LeaseS float64 `json:"lease_s"`
	RenewS float64 `json:"renew_s"`
	PollS  float64 `json:"poll_s"`
	// MarginS is the renewer's effective safety margin: the settings do not
	// set renewer.WithMargin, so it is always the default L/5.
	MarginS float64 `json:"margin_s"`
}

func newSetting(name string, l, r, p time.Duration, note string) setting {
	return setting{Name: name, Lease: l, Renew: r, Poll: p, Note: note,
		LeaseS: l.Seconds(), RenewS: r.Seconds(), PollS: p.Seconds(), MarginS: (l / 5).Seconds()}
}

var (
	// defaults: the library's defaults, spelled out.
	settingDefaults = newSetting("defaults", renewer.DefaultDuration, renewer.DefaultDuration/3,
		renewer.DefaultPollInterval, "library defaults: L 15 s, R = L/3, P 750 ms ±20% jitter, M = L/5")
	// The other profiles, and the election without a next in line (every
	// standby polling the leader's lease).
	settingFastHandover = profileSetting(election.ProfileFastHandover,
		"election.ProfileFastHandover: the two seat holders poll in turns, once per 100 ms between them")
	settingLowCost = profileSetting(election.ProfileLowCost,
		"election.ProfileLowCost: R 6 s with heartbeats; one seat, whose holder sleeps until a dead leader's lease would expire and polls in a burst then")
	settingEveryStandby = func() setting {
		s := newSetting("every-standby-polls", renewer.DefaultDuration, renewer.DefaultDuration/3, renewer.DefaultPollInterval,
			"no next-in-line lease (election.WithStandby(election.Standby{})): every standby polls the leader's lease every 750 ms")
		s.NoNext = true
		return s
	}()
)

// profileSetting is the setting of election profile p at L = the default.
func profileSetting(p election.Profile, note string) setting {
	r := p.RenewInterval
	if r == 0 {
		r = renewer.DefaultDuration / 3
	}
	s := newSetting(p.Name, renewer.DefaultDuration, r, p.PollInterval, note)
	s.Profile = &p
	return s
}

func (s setting) String() string {
	d := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	return fmt.Sprintf("%s (L %v, R %v, P %v ±20%%, M %v)", s.Name, d(s.LeaseS), d(s.RenewS), d(s.PollS), d(s.MarginS))
}

// renewerOptions returns the renewer options of s for the holder id: the
// identity and the timing (election and mutex take both from the Renewer).
func (s setting) renewerOptions(id string) []renewer.Option {
	if s.Profile != nil {
		return append(s.Profile.RenewerOptions(renewer.WithIdentity(id), renewer.WithDuration(s.Lease)), s.Extra...)
	}
	opts := []renewer.Option{renewer.WithIdentity(id), renewer.WithDuration(s.Lease),
		renewer.WithRenewInterval(s.Renew), renewer.WithPollInterval(s.Poll)}
	return append(opts, s.Extra...)
}

// electionOptions returns the election options of s on l.
func (s setting) electionOptions(l renewer.Leaser) ([]election.Option, error) {
	switch {
	case s.NoNext:
		return []election.Option{election.WithStandby(election.Standby{})}, nil
	case s.Profile != nil:
		var next renewer.Leaser
		if b, ok := l.(renewer.Besider); ok {
			var err error
			if next, err = b.Beside(election.NextInLineSuffix); err != nil {
				return nil, err
			}
		}
		return s.Profile.Options(next), nil
	}
	return nil, nil // election.New's default: two next-in-line seats beside the election's lease
}

// newElection returns candidate id of the election on l at s, over a
// Renewer of its own.
func (s setting) newElection(l renewer.Leaser, id string) (*election.Election, error) {
	r, err := renewer.New(l, s.renewerOptions(id)...)
	if err != nil {
		return nil, err
	}
	eopts, err := s.electionOptions(l)
	if err != nil {
		return nil, err
	}
	return election.New(r, eopts...)
}

// newMutex returns the Mutex of holder id on l at s, over a Renewer of its
// own.
func (s setting) newMutex(l renewer.Leaser, id string) (*mutex.Mutex, error) {
	r, err := renewer.New(l, s.renewerOptions(id)...)
	if err != nil {
		return nil, err
	}
	return mutex.New(r)
}

func settingByName(name string) (setting, error) {
	for _, s := range leaseholdSettings {
		if s.Name == name {
			return s, nil
		}
	}
	return setting{}, fmt.Errorf("unknown setting %q", name)
}
