// Package leakcheck fails a test binary whose tests leave goroutines of this
// module running: the library's promise that Release, Resign and Unlock
// stop every goroutine they started, checked after every package's tests.
// (It replaces go.uber.org/goleak, so the library's go.mod requires no
// module that only its tests use.)
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// module is the import path prefix of the code whose goroutines count.
const module = "github.com/leasehold/leasehold/"

// Main runs the tests and then, if they passed, waits up to 5 s for the
// goroutines they left running in this module to end; if some do not, it
// prints their stacks and exits 1. Use it as TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if left := Wait(5 * time.Second); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) of %s still running after the tests:\n\n%s\n",
				len(left), strings.TrimSuffix(module, "/"), strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// Wait polls, every 50 ms until within, for Running to report none, and
// returns what it last reported.
func Wait(within time.Duration) []string {
	deadline := time.Now().Add(within)
	for {
		left := Running()
		if len(left) == 0 || !time.Now().Before(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Running returns the stacks of the goroutines, other than the caller's,
// that run code of this module outside this package and outside test
// functions' frames of the testing package (a test still running is not a
// leak: Main calls it after every test returned).
func Running() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var left []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the caller's own goroutine comes first
			continue
		}
		if strings.Contains(g, module) && !strings.Contains(g, module+"internal/leakcheck.") {
			left = append(left, g)
		}
	}
	return left
}
