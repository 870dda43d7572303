package leakcheck_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// blockUntil is a goroutine body of this module (the _test package's path
// is under it): it says it has started, then runs until release is closed.
func blockUntil(started chan<- struct{}, release <-chan struct{}, done chan<- struct{}) {
	close(started)
	<-release
	close(done)
}

// The checker can fail: a goroutine left running is reported, with its
// stack, and no longer once it has ended.
func TestRunningReportsALeftGoroutine(t *testing.T) {
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go blockUntil(started, release, done)
	<-started
	left := leakcheck.Wait(0)
	close(release)
	<-done
	if len(left) != 1 || !strings.Contains(left[0], "leakcheck_test.blockUntil") {
		t.Errorf("Running with one goroutine left = %q, want its stack", left)
	}
	if left := leakcheck.Wait(2 * time.Second); len(left) != 0 {
		t.Errorf("Running after the goroutine ended = %q, want none", left)
	}
}
