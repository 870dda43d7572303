package election_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// The health check passes for a standby and for a leader whose renewals
// are current, and fails once the leader's renewals are overdue beyond the
// tolerance.
func TestHealthCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const tolerance = 2 * time.Second
		c := leasetest.New()
		e := newCandidate(t, c, "a") // R = 5 s
		h := e.HealthHandler(tolerance)
		status := func() int {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			return w.Code
		}
		if err := e.Check(tolerance); err != nil || status() != http.StatusOK {
			t.Fatalf("standby: Check = %v, status %d; want nil, 200", err, status())
		}
		ld, err := e.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ld.Resign(context.Background()) })
		time.Sleep(20*time.Second + time.Second/2) // four renewals; between two
		if err := e.Check(tolerance); err != nil || status() != http.StatusOK {
			t.Fatalf("leader renewing: Check = %v, status %d; want nil, 200", err, status())
		}

		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRenew {
				return renewer.ErrThrottled
			}
			return nil
		})
		last := ld.LastRenewed()
		time.Sleep(time.Until(last.Add(5*time.Second + tolerance + time.Second)))
		if err := e.Check(tolerance); !errors.Is(err, election.ErrRenewalOverdue) || status() != http.StatusInternalServerError {
			t.Fatalf("leader not renewing: Check = %v, status %d; want ErrRenewalOverdue, 500", err, status())
		}
		<-ld.Done() // lost at the validity deadline: no longer leads
		if err := e.Check(tolerance); err != nil {
			t.Fatalf("after the loss: Check = %v, want nil", err)
		}
		_ = ld.Resign(t.Context())
	})
}
