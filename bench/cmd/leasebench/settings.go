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
	// clientGo: our library configured like client-go leaderelection's
	// defaults (LeaseDuration 15 s, RenewDeadline 10 s, RetryPeriod 2 s).
	// client-go renews every RetryPeriod (R = 2 s). Its standby calls
	// tryAcquireOrRenew under wait.JitterUntil(RetryPeriod, JitterFactor 1.2,
	// sliding), so it sleeps RetryPeriod*(1 + 1.2*U[0,1)) = 2..4.4 s, mean
	// 3.2 s; our jitter is ±20% around P, so P = 3.2 s gives the same mean
	// poll rate (2.56..3.84 s). The renew deadline (a leader stops 10 s after
	// its renewals start failing) would be M = 5 s; the settings leave the
	// margin at its default, so M stays 3 s. M changes none of the figures measured
	// here (it only matters when renewals fail).
	settingClientGo = newSetting("client-go", 15*time.Second, 2*time.Second, 3200*time.Millisecond,
		"client-go leaderelection defaults mapped onto leasehold: L 15 s, R 2 s (RetryPeriod), P 3.2 s ±20% (client-go sleeps 2..4.4 s, mean 3.2 s)")
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
	return []renewer.Option{renewer.WithIdentity(id), renewer.WithDuration(s.Lease),
		renewer.WithRenewInterval(s.Renew), renewer.WithPollInterval(s.Poll)}
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
	for _, s := range []setting{settingDefaults, settingClientGo, settingFast} {
		if s.Name == name {
			return s, nil
		}
	}
	return setting{}, fmt.Errorf("unknown setting %q", name)
}
