package election_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/renewer"
)

// TestRouteThroughHandOvers: five replicas, each serving writes through
// Route (the leader applies them, the others forward them to the leader's
// published address), and a client writing through every replica every
// 200 ms, through two hand-overs. Backbenchers learn of a new leader only
// at their Check (a minute), so without a refresh on refusal they would
// forward to the leader that left for up to a minute. Each follower must
// send at most one forward per hand-over to a replica that no longer
// leads, and every replica must route writes to the new leader within a
// second or two of it leading.
func TestRouteThroughHandOvers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		net := memTransport{} // every replica's server, in memory: synctest time cannot wait on a socket
		addr := func(l election.Leader) (*url.URL, error) {
			u, err := url.Parse(l.Payload)
			if err != nil || u.Scheme != "http" || !strings.HasPrefix(u.Host, "127.0.0.1:") {
				return nil, fmt.Errorf("bad address %q", l.Payload)
			}
			return u, nil
		}
		var (
			mu       sync.Mutex
			refusals = map[string]int{} // forwarder -> forwards refused as not leader
			applied  = map[string]int{} // replica -> writes applied as leader
		)
		var cands []*cand
		for i := range 5 {
			id := fmt.Sprintf("r%d", i)
			host := fmt.Sprintf("127.0.0.1:%d", 9100+i)
			c := w.addWith(id, election.ProfileDefault, true, renewer.WithPayload("http://"+host))
			cands = append(cands, c)
			apply := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				mu.Lock()
				applied[id]++
				mu.Unlock()
				fmt.Fprintf(w, "applied by %s", id)
			})
			route := c.e.Route(apply, addr, &election.RouteOptions{Transport: net})
			net[host] = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if by := req.Header.Get(election.HeaderForwardedBy); by != "" && !c.e.IsLeader() {
					mu.Lock()
					refusals[by]++
					mu.Unlock()
				}
				route.ServeHTTP(w, req)
			})
		}
		time.Sleep(5 * time.Second)
		leader := func() *cand {
			for _, c := range cands {
				if c.e.IsLeader() {
					return c
				}
			}
			return nil
		}
		// The client: a write through every replica every 200 ms; failed
		// writes (503 while the leader moves) are counted, not retried.
		ctx, stopClient := context.WithCancel(t.Context())
		var client sync.WaitGroup
		lastFail := map[string]time.Time{}
		client.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				for j, c := range cands {
					host := fmt.Sprintf("127.0.0.1:%d", 9100+j)
					req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+host+"/kv/k", strings.NewReader(fmt.Sprint(i)))
					resp, err := net.RoundTrip(req)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					if resp.StatusCode != http.StatusOK {
						mu.Lock()
						lastFail[c.id] = time.Now()
						mu.Unlock()
					}
				}
				if !wait.Sleep(ctx, 200*time.Millisecond) {
					return
				}
			}
		})
		for round := 1; round <= 2; round++ {
			time.Sleep(10 * time.Second)
			old := leader()
			if old == nil {
				t.Fatalf("round %d: no leader", round)
			}
			if err := old.e.Resign(t.Context()); err != nil {
				t.Fatal(err)
			}
			resigned := time.Now()
			var next *cand
			for next == nil && time.Since(resigned) < 10*time.Second {
				time.Sleep(10 * time.Millisecond)
				if l := leader(); l != nil && l != old {
					next = l
				}
			}
			if next == nil {
				t.Fatalf("round %d: no new leader within 10 s of %s's resignation", round, old.id)
			}
			led := time.Now()
			time.Sleep(5 * time.Second)
			mu.Lock()
			for _, c := range cands {
				if f := lastFail[c.id]; f.After(led.Add(2 * time.Second)) {
					t.Errorf("round %d: a write through %s failed %v after %s led, want routed within 2 s", round, c.id, f.Sub(led), next.id)
				}
			}
			mu.Unlock()
			t.Logf("round %d: %s resigned, %s led %v later", round, old.id, next.id, led.Sub(resigned))
		}
		stopClient()
		client.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cands {
			if n := refusals[c.id]; n > 2 {
				t.Errorf("%s forwarded %d writes to a replica that no longer led over two hand-overs, want at most 2", c.id, n)
			}
		}
		t.Logf("refused forwards per follower: %v; writes applied per replica: %v", refusals, applied)
		stopAll(cands...)
	})
}
