package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Only a known leader with an http URL on loopback is forwarded to.
func TestLeaderURL(t *testing.T) {
	for _, tt := range []struct {
		give election.Leader
		ok   bool
	}{
		{election.Leader{Identity: "a", Term: 1, Payload: "http://127.0.0.1:8081"}, true},
		{election.Leader{Identity: "a", Term: 1, Payload: "http://[::1]:8081"}, true},
		{election.Leader{}, false},
		{election.Leader{Identity: "a", Term: 1}, false},
		{election.Leader{Identity: "a", Term: 1, Payload: "http://10.0.0.5:8081"}, false},
		{election.Leader{Identity: "a", Term: 1, Payload: "https://127.0.0.1:8081"}, false},
		{election.Leader{Identity: "a", Term: 1, Payload: "http://127.0.0.1:8081/x"}, false},
	} {
		if _, err := leaderURL(tt.give); (err == nil) != tt.ok {
			t.Errorf("leaderURL(%+v) = %v, want ok %v", tt.give, err, tt.ok)
		}
	}
}

// A replica that does not lead answers a forwarded request 421 (not
// leader) instead of forwarding it again.
func TestNoSecondHop(t *testing.T) {
	c := leasetest.New()
	r, err := renewer.New(c, renewer.WithIdentity("b"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := election.New(r)
	if err != nil {
		t.Fatal(err)
	}
	s := &replica{e: e, log: slog.Default(), data: map[string]entry{}}
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPut, "/kv/k", strings.NewReader("v"))
	req.Header.Set(election.HeaderForwardedBy, "a")
	s.kv().ServeHTTP(w, req)
	if w.Code != http.StatusMisdirectedRequest || !strings.Contains(w.Body.String(), "not leader") {
		t.Errorf("forwarded request to a non-leader: %d %q, want 421 not leader", w.Code, w.Body.String())
	}
}

// In memory, two replicas in one process: a write to the follower is
// applied by the leader.
func TestForwardInMemory(t *testing.T) {
	c := leasetest.New()
	ctx, cancel := context.WithCancel(context.Background())
	ids := []string{"a", "b"}
	addrs := map[string]string{}
	dones := make([]chan error, 2)
	for i, id := range ids {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[id] = ln.Addr().String()
		dones[i] = make(chan error, 1)
		go func() { dones[i] <- serve(ctx, c, options{id: id, poll: 50 * time.Millisecond}, ln) }()
	}
	defer func() {
		cancel()
		for _, d := range dones {
			if err := <-d; err != nil {
				t.Errorf("serve = %v", err)
			}
		}
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	// put sends a write to replica id and returns the status and who
	// applied it.
	put := func(id string) (int, string) {
		req, _ := http.NewRequest(http.MethodPut, "http://"+addrs[id]+"/kv/k", strings.NewReader("v"))
		resp, err := client.Do(req)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Leader")
	}
	leader := ""
	for range 50 { // bounded: 50 tries, 5 s, until one of them leads and the other knows it
		if code, by := put("a"); code == http.StatusOK {
			if code, by2 := put("b"); code == http.StatusOK && by2 == by {
				leader = by
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if leader == "" {
		t.Fatal("no write was applied by one leader through both replicas")
	}
	follower := "a"
	if leader == "a" {
		follower = "b"
	}
	if code, by := put(follower); code != http.StatusOK || by != leader {
		t.Errorf("PUT via the follower %s: %d by %q, want 200 by %s", follower, code, by, leader)
	}
}
