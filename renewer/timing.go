package renewer

import (
	"fmt"
	"time"
)

// Limits and defaults of the lease timing. See the package documentation for
// how they combine into the validity deadline, and [Timing.Validate] for the
// rules.
const (
	// MinDuration and MaxDuration bound a fixed lease's duration, as the
	// service does.
	MinDuration = 15 * time.Second
	MaxDuration = 60 * time.Second
	// MaxBreakPeriod is the longest break period the service accepts.
	MaxBreakPeriod = 60 * time.Second
	// DefaultDuration is the lease duration unless WithDuration says otherwise.
	DefaultDuration = 15 * time.Second
	// DefaultInfiniteBreakPeriod is the break period of infinite leases
	// unless WithBreakPeriod says otherwise. (A fixed lease's default break
	// period is its duration.) It is also the least break period of an
	// infinite lease.
	DefaultInfiniteBreakPeriod = 15 * time.Second
	// DefaultPollInterval is how often Acquire asks for a held lease,
	// unless WithPollInterval says otherwise.
	DefaultPollInterval = 750 * time.Millisecond
	// MinPollInterval is the shortest poll interval accepted.
	MinPollInterval = 10 * time.Millisecond
	// MinMargin is the smallest safety margin: it must cover the time a
	// holder takes to stop once its context is cancelled (a scheduler
	// delay, a GC pause) plus the difference between its clock's rate and
	// the service's (the library assumes at most 1%: 0.6 s over a 60 s
	// window).
	MinMargin = time.Second
	// MinRenewInterval and MinCallTimeout are the smallest renew interval
	// and call timeout accepted: below them a call cannot complete.
	MinRenewInterval = time.Millisecond
	MinCallTimeout   = time.Millisecond
	// defaultMinCallTimeout is the least default call timeout (half the
	// renew interval, unless that is shorter).
	defaultMinCallTimeout = 100 * time.Millisecond
)

// Timing is a Renewer's lease timing: the options of the same names, with
// the defaults filled in ([Renewer.Timing]). Every rule on it is in
// [Timing.Validate], and every default in one place (New derives them in
// this order):
//
//   - Duration: DefaultDuration.
//   - BreakPeriod: the duration, or DefaultInfiniteBreakPeriod for an
//     infinite lease.
//   - Margin: a fifth of the validity window ([Timing.Window]).
//   - RenewInterval: a third of the validity window.
//   - CallTimeout: half the renew interval, but at least 100 ms.
//   - PollInterval: DefaultPollInterval.
type Timing struct {
	Duration      time.Duration // L, or Infinite
	RenewInterval time.Duration // R
	Margin        time.Duration // M
	BreakPeriod   time.Duration // the period Break uses; for infinite leases also the validity window
	PollInterval  time.Duration // P, before jitter
	CallTimeout   time.Duration // bound of one storage call
}

// Window returns how long one successful renew proves the lease held,
// counted from its send time: L, or the break period for infinite leases,
// since only a break can end them.
func (t Timing) Window() time.Duration {
	if t.Duration == Infinite {
		return t.BreakPeriod
	}
	return t.Duration
}

// withDefaults returns t with the defaults derived for the fields left
// zero: the break period too unless breakSet (0 is a valid break period).
func (t Timing) withDefaults(breakSet bool) Timing {
	if !breakSet {
		t.BreakPeriod = t.Duration
		if t.Duration == Infinite {
			t.BreakPeriod = DefaultInfiniteBreakPeriod
		}
	}
	w := t.Window()
	if t.Margin == 0 {
		t.Margin = w / 5
	}
	if t.RenewInterval == 0 {
		t.RenewInterval = w / 3
	}
	if t.CallTimeout == 0 {
		t.CallTimeout = max(t.RenewInterval/2, defaultMinCallTimeout)
	}
	return t
}

// Validate checks every timing rule and returns an *OptionError naming the
// first field that breaks one, its value and the rule, or nil:
//
//   - Duration: whole seconds from MinDuration to MaxDuration, or Infinite.
//   - BreakPeriod: whole seconds from 0 to MaxBreakPeriod; for an infinite
//     lease at least DefaultInfiniteBreakPeriod, since it is the validity
//     window.
//   - Margin: at least MinMargin and less than half the window.
//   - RenewInterval: at least MinRenewInterval and less than the window
//     minus the margin, so that retries fit before the validity deadline.
//   - CallTimeout: at least MinCallTimeout.
//   - PollInterval: at least MinPollInterval.
func (t Timing) Validate() error {
	bad := func(field string, v time.Duration, rule string) error {
		return &OptionError{Field: field, Value: v, Rule: rule}
	}
	whole := func(d time.Duration) bool { return d%time.Second == 0 }
	if t.Duration != Infinite && (t.Duration < MinDuration || t.Duration > MaxDuration || !whole(t.Duration)) {
		return bad("lease duration", t.Duration, fmt.Sprintf("want whole seconds from %v to %v, or Infinite", MinDuration, MaxDuration))
	}
	if t.BreakPeriod < 0 || t.BreakPeriod > MaxBreakPeriod || !whole(t.BreakPeriod) {
		return bad("break period", t.BreakPeriod, fmt.Sprintf("want whole seconds from 0s to %v", MaxBreakPeriod))
	}
	if t.Duration == Infinite && t.BreakPeriod < DefaultInfiniteBreakPeriod {
		return bad("break period", t.BreakPeriod, fmt.Sprintf("an infinite lease needs at least %v, its validity window per renew", DefaultInfiniteBreakPeriod))
	}
	w := t.Window()
	switch {
	case t.Margin < MinMargin || t.Margin >= w/2:
		return bad("margin", t.Margin, fmt.Sprintf("want at least %v and less than half the validity window %v", MinMargin, w))
	case t.RenewInterval < MinRenewInterval || t.RenewInterval >= w-t.Margin:
		return bad("renew interval", t.RenewInterval, fmt.Sprintf("want at least %v and less than the validity window minus the margin (%v)", MinRenewInterval, w-t.Margin))
	case t.CallTimeout < MinCallTimeout:
		return bad("call timeout", t.CallTimeout, fmt.Sprintf("want at least %v", MinCallTimeout))
	case t.PollInterval < MinPollInterval:
		return bad("poll interval", t.PollInterval, fmt.Sprintf("want at least %v", MinPollInterval))
	}
	return nil
}

// releaseTries bounds the tries of one release (see Timing.ReleaseBound).
const releaseTries = 3

// retryIntervals are the first and the longest pause, before their ±50%
// jitter, between retries of calls made under a lease and of a release.
func (t Timing) retryIntervals() (initial, longest time.Duration) {
	initial = min(200*time.Millisecond, max(10*time.Millisecond, t.RenewInterval/10))
	return initial, max(initial, t.RenewInterval/4)
}

// ReleaseBound is the longest one release of a lease can take: the
// released marker's write (one try), then up to three tries of the release
// while the answer is transient (a try whose caller gave up may never
// reach storage), each call bounded by the call timeout, with the jittered
// pauses between them. Code that waits for a release without a deadline of
// its own (election's Resign, the mutex's Unlock with the holding's own
// context) waits this long at most.
func (t Timing) ReleaseBound() time.Duration {
	_, longest := t.retryIntervals()
	return (releaseTries+1)*t.CallTimeout + (releaseTries-1)*longest*3/2
}
