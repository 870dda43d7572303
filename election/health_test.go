package election_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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
		<-ld.Done()     // lost at the validity deadline: no longer leads
		synctest.Wait() // and the release sent after the loss has been answered: storage works
		if err := e.Check(tolerance); err != nil {
			t.Fatalf("after the loss: Check = %v, want nil", err)
		}
		_ = ld.Resign(t.Context())
	})
}

// TestHealthFollowsTheCutThroughRoleChanges cuts a leader off from storage
// (both its links: the leader's lease and the seats) and probes its
// HealthHandler every 100 ms: unhealthy once its renewals are overdue
// (R + tolerance), and never healthy again while it is cut, though its
// term ends and it campaigns again as a standby (which, judged from its
// new campaign's start, looked healthy for half a minute). Once storage
// answers again, healthy within a few poll intervals. The same for a
// seat holder cut off: unhealthy within its own bound, not a
// backbencher's.
func TestHealthFollowsTheCutThroughRoleChanges(t *testing.T) {
	t.Parallel()
	const tolerance = time.Second
	var body string // the last answer's
	probe := func(e *election.Election) int {
		rec := httptest.NewRecorder()
		e.HealthHandler(tolerance).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		body = strings.TrimSpace(rec.Body.String())
		return rec.Code
	}
	revive := func(c *cand) { c.main.dead.Store(false); c.next.dead.Store(false); c.next2.dead.Store(false) }
	for _, tc := range []struct {
		name  string
		who   func(leader *cand, standbys []*cand) *cand
		bound time.Duration // from the cut to the first unhealthy answer
	}{
		{"leader", func(l *cand, _ []*cand) *cand { return l }, 5*time.Second + tolerance + 100*time.Millisecond},
		{"seat holder", func(_ *cand, s []*cand) *cand { return seated(s)[0] },
			2*pollP*6/5 + 2*2500*time.Millisecond + tolerance + 100*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				leader, standbys := w.startElection(election.ProfileDefault, 3, true)
				time.Sleep(10 * time.Second)
				c := tc.who(leader, standbys)
				if code := probe(c.e); code != http.StatusOK {
					t.Fatalf("before the cut: %d, want 200", code)
				}
				cut := time.Now()
				c.die()
				var bad time.Time
				for time.Since(cut) < 2*time.Minute {
					code := probe(c.e)
					if d := time.Since(cut); d == 6*time.Second || d == 20*time.Second {
						t.Logf("%v after the cut (leading %v): %d %s", d, c.e.IsLeader(), code, body)
					}
					switch {
					case code != http.StatusOK && bad.IsZero():
						bad = time.Now()
					case code == http.StatusOK && !bad.IsZero():
						t.Fatalf("healthy again %v after the cut (unhealthy from %v on), with no storage answer since; leading %v, seat %v",
							time.Since(cut), bad.Sub(cut), c.e.IsLeader(), c.e.IsNextInLine())
					}
					time.Sleep(100 * time.Millisecond)
				}
				if bad.IsZero() || bad.Sub(cut) > tc.bound {
					t.Fatalf("first unhealthy answer %v after the cut (zero: never), want within %v", bad.Sub(cut), tc.bound)
				}
				t.Logf("unhealthy %v after the cut, and for the 2 minutes it lasted", bad.Sub(cut))
				revive(c)
				back := time.Now()
				for probe(c.e) != http.StatusOK && time.Since(back) < time.Minute {
					time.Sleep(100 * time.Millisecond)
				}
				t.Logf("%v after storage answered again: %s", time.Since(back), body)
				if d := time.Since(back); d > 3*time.Second {
					t.Errorf("healthy %v after storage answered again, want within a few poll intervals", d)
				}
				stopAll(append(standbys, leader)...)
			})
		})
	}
}
