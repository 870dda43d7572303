package election_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestHealthAfterResignStaysHealthy: a Campaign leader that resigns, with
// storage answering throughout, is healthy after it (not campaigning
// again): a term that ended by a resign is no cut.
func TestHealthAfterResignStaysHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		e := newCandidate(t, c, "a")
		ld, err := e.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(7 * time.Second)
		if err := ld.Resign(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if err := e.Check(2 * time.Second); err != nil {
			t.Errorf("after a resign, storage fine: Check = %v", err)
		}
	})
}

// TestHealthAfterBreakStaysHealthy: a Campaign leader whose lease is
// broken (storage answering every call) is healthy after the loss: a term
// ended by storage's answer is no cut.
func TestHealthAfterBreakStaysHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		e := newCandidate(t, c, "a")
		ld, err := e.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if _, err := c.Break(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		<-ld.Done()
		time.Sleep(10 * time.Second)
		if err := e.Check(2 * time.Second); err != nil {
			t.Errorf("after the lease was broken, storage fine: Check = %v", err)
		}
	})
}
