package election_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A service whose writes only the leader may apply mounts them behind
// Route: the leader serves them, the others forward them to the address
// the leader published with its term (renewer.WithPayload). Here
// replica-1 leads and replica-2 forwards to it; the transport is in
// memory (in production, http.DefaultTransport and a real listener).
func ExampleElection_Route() {
	c := leasetest.New() // in production: azlease.FromConnectionString(conn, "kv-leader", nil)
	servers := map[string]http.Handler{}
	newReplica := func(id, host string) (*election.Election, error) {
		r, err := renewer.New(c, renewer.WithIdentity(id), renewer.WithPayload("http://"+host))
		if err != nil {
			return nil, err
		}
		e, err := election.New(r)
		if err != nil {
			return nil, err
		}
		apply := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			fmt.Fprintf(w, "applied by %s", id)
		})
		addr := func(l election.Leader) (*url.URL, error) { // check what the leader published
			u, err := url.Parse(l.Payload)
			if err != nil || u.Scheme != "http" || !strings.HasPrefix(u.Host, "127.0.0.1:") {
				return nil, fmt.Errorf("leader %s published %q", l.Identity, l.Payload)
			}
			return u, nil
		}
		servers[host] = e.Route(apply, addr, &election.RouteOptions{Transport: memTransport(servers)})
		return e, nil
	}
	e1, err := newReplica("replica-1", "127.0.0.1:8081")
	if err == nil {
		_, err = newReplica("replica-2", "127.0.0.1:8082")
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	ld, err := e1.Campaign(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ld.Resign(context.Background())

	req := httptest.NewRequest(http.MethodPut, "http://127.0.0.1:8082/kv/color", strings.NewReader("blue"))
	rec := httptest.NewRecorder()
	servers["127.0.0.1:8082"].ServeHTTP(rec, req) // a write sent to replica-2
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 applied by replica-1
}

// memTransport serves each request with the handler of its host.
type memTransport map[string]http.Handler

func (m memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := m[req.URL.Host]
	if !ok {
		return nil, fmt.Errorf("no server at %s", req.URL.Host)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// A candidate that does not lead refuses what only the leader may serve,
// saying whom it knows of.
func ExampleElection_LeaderOnly() {
	r, err := renewer.New(leasetest.New(), renewer.WithIdentity("replica-2"))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := election.New(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := e.LeaderOnly(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprint(w, "served")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/jobs", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 421 not leader; leader unknown
}
