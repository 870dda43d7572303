package election_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A follower knows the leader and its published address from its own
// polls, with no storage call per question: what a service needs to
// forward a write to the leader (see examples/forward).
func ExampleElection_KnownLeader() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := leasetest.New()
	ra, _ := renewer.New(c, renewer.WithIdentity("replica-a"), renewer.WithPayload("http://127.0.0.1:8081"))
	a, _ := election.New(ra)
	ld, _ := a.Campaign(ctx)
	defer ld.Resign(context.Background())

	rb, _ := renewer.New(c, renewer.WithIdentity("replica-b"), renewer.WithPollInterval(10*time.Millisecond))
	b, _ := election.New(rb)
	done := make(chan error)
	go func() { done <- b.Run(ctx, election.Callbacks{}) }()
	for range 100 { // until b's first poll
		if _, seen := b.KnownLeader(); !seen.IsZero() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	l, _ := b.KnownLeader()
	fmt.Println(b.IsLeader(), l.Identity, l.Term, l.Payload)
	cancel()
	<-done
	// Output: false replica-a 1 http://127.0.0.1:8081
}

// Readiness probes: ReadyHandler is ready while the candidate leads or
// follows, LeaderReadyHandler only while it leads. Neither makes a storage
// call.
func ExampleElection_LeaderReadyHandler() {
	ctx := context.Background()
	c := leasetest.New()
	r, _ := renewer.New(c, renewer.WithIdentity("replica-a"))
	e, _ := election.New(r)
	probe := func(h http.Handler) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		fmt.Print(w.Code, " ", w.Body.String())
	}
	probe(e.LeaderReadyHandler(5 * time.Second))
	probe(e.ReadyHandler(5 * time.Second))
	ld, _ := e.Campaign(ctx)
	probe(e.LeaderReadyHandler(5 * time.Second))
	_ = ld.Resign(ctx)
	// Output:
	// 503 not ready: not leading; leader not known yet
	// 503 not ready: not campaigning (Run or Campaign is not under way)
	// 200 ok: leading, term 1
}
