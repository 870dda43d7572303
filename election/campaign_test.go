package election_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A campaign cancelled at any point of the acquisition leaves nothing held,
// and the candidate can campaign again.
func TestCampaignCancelledHoldsNothing(t *testing.T) {
	tests := []struct {
		name string
		give leasetest.Op // the call after which ctx is cancelled
	}{
		{name: "after reading the state", give: leasetest.OpProperties},
		{name: "after acquiring", give: leasetest.OpAcquire},
		{name: "after writing the term", give: leasetest.OpSetMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				ctx, cancel := context.WithCancel(t.Context())
				c.SetAfter(func(_ context.Context, call leasetest.Call, err error) error {
					if call.Op == tt.give {
						cancel()
					}
					return err
				})
				e := newCandidate(t, c, "a")
				ld, err := e.Campaign(ctx)
				if !errors.Is(err, context.Canceled) || ld != nil {
					t.Fatalf("Campaign = %v, %v; want nil, context.Canceled", ld, err)
				}
				synctest.Wait()
				if got := c.State(); got == renewer.StateLeased {
					t.Errorf("state after cancelled campaign = %v, want not leased", got)
				}
				c.SetAfter(nil)
				ld, err = e.Campaign(t.Context())
				if err != nil {
					t.Fatalf("Campaign again: %v", err)
				}
				if err := ld.Resign(t.Context()); err != nil {
					t.Errorf("Resign: %v", err)
				}
			})
		})
	}
}

// A campaign waiting for another leader returns when ctx ends, having
// acquired nothing.
func TestCampaignBlocksUntilFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		b := newCandidate(t, c, "b")
		la, err := a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Campaign(t.Context()); !errors.Is(err, renewer.ErrInUse) {
			t.Errorf("second Campaign while leading = %v, want renewer.ErrInUse", err)
		}

		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		_, err = b.Campaign(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Campaign while a leads = %v, want DeadlineExceeded", err)
		}

		// a resigns: b leads within a poll interval (jittered by 20%).
		got := make(chan *election.Leadership, 1)
		go func() {
			lb, err := b.Campaign(t.Context())
			if err != nil {
				t.Error(err)
			}
			got <- lb
		}()
		synctest.Wait() // b is polling
		start := time.Now()
		if err := la.Resign(t.Context()); err != nil {
			t.Fatalf("Resign: %v", err)
		}
		if cause := context.Cause(la.Context()); !errors.Is(cause, renewer.ErrReleased) {
			t.Errorf("cause after Resign = %v, want renewer.ErrReleased", cause)
		}
		lb := recv(t, got, time.Minute)
		if took := time.Since(start); took > pollP*12/10 {
			t.Errorf("handover took %v, want at most %v", took, pollP*12/10)
		}
		if lb.Term() != la.Term()+1 || lb.Identity() != "b" {
			t.Errorf("b leads term %d as %q, want term %d as b", lb.Term(), lb.Identity(), la.Term()+1)
		}
		if err := la.Resign(t.Context()); err != nil {
			t.Errorf("second Resign = %v, want nil", err)
		}
		if err := b.Resign(t.Context()); err != nil {
			t.Errorf("Election.Resign = %v", err)
		}
		if lb.Context().Err() == nil {
			t.Error("b's context live after Election.Resign")
		}
	})
}

// A leader whose renewals fail loses leadership (cause renewer.ErrLeaseLost) before its
// lease expires, and Resign then reports the loss.
func TestLeadershipLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		e := newCandidate(t, c, "a")
		ld, err := e.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRenew {
				return renewer.ErrThrottled
			}
			return nil
		})
		start := time.Now()
		<-ld.Done()
		if took := time.Since(start); took >= leaseL {
			t.Errorf("lost after %v, want before the lease expires (%v)", took, leaseL)
		}
		cause := context.Cause(ld.Context())
		if !errors.Is(cause, renewer.ErrLeaseLost) {
			t.Errorf("cause = %v, want renewer.ErrLeaseLost", cause)
		}
		if err := ld.Resign(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
			t.Errorf("Resign after loss = %v, want renewer.ErrLeaseLost", err)
		}
	})
}
