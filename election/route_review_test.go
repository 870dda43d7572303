package election_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestRouteAppMisdirectedPassesThrough: a 421 that the leader's own
// handler answers (for its own reasons, without HeaderRefused) is passed
// on as it came, and later requests are forwarded as before (it is no
// sign that the leader moved).
func TestRouteAppMisdirectedPassesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		net := memTransport{}
		addr := func(l election.Leader) (*url.URL, error) { return url.Parse(l.Payload) }
		var cands []*cand
		for i := range 2 {
			id := fmt.Sprintf("r%d", i)
			host := fmt.Sprintf("127.0.0.1:%d", 9200+i)
			c := w.addWith(id, election.ProfileDefault, true, renewer.WithPayload("http://"+host))
			cands = append(cands, c)
			h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.URL.Path == "/misdirected" {
					http.Error(w, "app says misdirected", http.StatusMisdirectedRequest)
					return
				}
				fmt.Fprint(w, "ok")
			})
			net[host] = c.e.Route(h, addr, &election.RouteOptions{Transport: net})
		}
		time.Sleep(5 * time.Second)
		var follower string
		for i, c := range cands {
			if !c.e.IsLeader() {
				follower = fmt.Sprintf("127.0.0.1:%d", 9200+i)
			}
		}
		do := func(path string) int {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+follower+path, nil)
			resp, err := net.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.StatusCode
		}
		if got := do("/x"); got != http.StatusOK {
			t.Fatalf("before: %d, want 200", got)
		}
		if got := do("/misdirected"); got != http.StatusMisdirectedRequest {
			t.Errorf("the handler's own 421: %d, want it passed on", got)
		}
		bad := 0
		for range 60 {
			time.Sleep(time.Second)
			if do("/x") != http.StatusOK {
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("after one 421 from the leader's own handler: %d of 60 later requests (one a second) not 200, leader unchanged", bad)
		}
	})
}

// TestRefreshRateLimitedUnderOutage: Refresh reads at most once per poll
// interval whatever the read answered: while storage fails, callers do
// not turn into a storage call each.
func TestRefreshRateLimitedUnderOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		e := newCandidate(t, c, "a")
		var reads atomic.Int64
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			reads.Add(1)
			return renewer.ErrThrottled
		})
		for range 100 {
			_, _ = e.Refresh(t.Context())
		}
		if n := reads.Load(); n > 1 {
			t.Errorf("100 Refresh calls within a poll interval while storage throttles: %d storage calls, want 1", n)
		}
	})
}
