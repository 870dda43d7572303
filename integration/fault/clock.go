package fault

import (
	"time"

	"golang.org/x/sys/unix"
)

// Now returns CLOCK_MONOTONIC in nanoseconds: one clock shared by every
// process on the machine, which runs while a process is stopped (SIGSTOP).
func Now() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		// CLOCK_MONOTONIC is always present on Linux; fall back to a
		// reading that is at least monotonic within this process.
		return int64(time.Since(start)) + startNano
	}
	return ts.Nano()
}

var (
	start     = time.Now()
	startNano int64
)

// At converts t, a time.Time with a monotonic reading taken in this process,
// to the shared clock.
func At(t time.Time) int64 {
	return Now() - int64(time.Since(t))
}
