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
	// Extra are further renewer options of the setting (a named profile,
	// say), applied after the timing.
	Extra []renewer.Option `json:"-"`

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
	// fast: the documented fast hand-over setting: standbys poll every
	// 150 ms, at 24,000 calls an hour each.
	settingFast = newSetting("fast", renewer.DefaultDuration, renewer.DefaultDuration/3, 150*time.Millisecond,
		"fast hand-over: defaults with P 150 ms ±20%")
)

func (s setting) String() string {
	d := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	return fmt.Sprintf("%s (L %v, R %v, P %v ±20%%, M %v)", s.Name, d(s.LeaseS), d(s.RenewS), d(s.PollS), d(s.MarginS))
}

// renewerOptions returns the renewer options of s for the holder id: the
// identity and the timing (election and mutex take both from the Renewer).
func (s setting) renewerOptions(id string) []renewer.Option {
	opts := []renewer.Option{renewer.WithIdentity(id), renewer.WithDuration(s.Lease),
		renewer.WithRenewInterval(s.Renew), renewer.WithPollInterval(s.Poll)}
	return append(opts, s.Extra...)
}

// newElection returns candidate id of the election on l at s, over a
// Renewer of its own.
func (s setting) newElection(l renewer.Leaser, id string) (*election.Election, error) {
	r, err := renewer.New(l, s.renewerOptions(id)...)
	if err != nil {
		return nil, err
	}
	return election.New(r)
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
