package election_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// newCandidateWith is newCandidate with renewer options (a payload).
func newCandidateWith(t *testing.T, c *leasetest.Container, id string, ropts ...renewer.Option) *election.Election {
	t.Helper()
	log := zaptest.NewLogger(t)
	r, err := renewer.New(c, append([]renewer.Option{renewer.WithIdentity(id), renewer.WithLogger(log)}, ropts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e, err := election.New(r)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// probe serves one GET through h and returns the status and body.
func probe(h http.Handler) (int, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return w.Code, strings.TrimSpace(w.Body.String())
}

// A standby under Run knows the leader and its payload from its own polls,
// with no call of its own; once it leads, it knows itself. A process that
// only observes knows the leader from Observe's reads.
func TestKnownLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newCandidateWith(t, c, "a", renewer.WithPayload("http://127.0.0.1:8081"))
		b := newCandidateWith(t, c, "b", renewer.WithPayload("http://127.0.0.1:8082"))
		d := newCandidateWith(t, c, "dashboard")
		if l, seen := b.KnownLeader(); l != (election.Leader{}) || !seen.IsZero() {
			t.Fatalf("before any read: KnownLeader = %+v, %v; want nothing", l, seen)
		}
		ld, err := a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !a.IsLeader() || b.IsLeader() {
			t.Fatalf("IsLeader: a %v, b %v; want true, false", a.IsLeader(), b.IsLeader())
		}
		if l, seen := a.KnownLeader(); l != (election.Leader{Identity: "a", Term: 1, Payload: "http://127.0.0.1:8081"}) || !seen.Equal(time.Now()) {
			t.Errorf("leader's KnownLeader = %+v, %v; want itself, now", l, seen)
		}
		stop := runLater(t, b, election.Callbacks{})
		defer stop()
		time.Sleep(3 * pollP)
		want := election.Leader{Identity: "a", Term: 1, Payload: "http://127.0.0.1:8081"}
		l, seen := b.KnownLeader()
		if l != want || time.Since(seen) > pollP*6/5 {
			t.Errorf("standby's KnownLeader = %+v, seen %v ago; want %+v within a poll", l, time.Since(seen), want)
		}
		reads := c.Calls(leasetest.OpProperties)
		for range 100 {
			b.KnownLeader()
			b.IsLeader()
		}
		if n := c.Calls(leasetest.OpProperties); n != reads {
			t.Errorf("KnownLeader and IsLeader made %d storage reads, want 0", n-reads)
		}

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		obs := d.Observe(ctx)
		if got := recv(t, obs, time.Second); got != want {
			t.Errorf("Observe = %+v, want %+v", got, want)
		}
		if l, _ := d.KnownLeader(); l != want {
			t.Errorf("observer's KnownLeader = %+v, want %+v", l, want)
		}

		if err := ld.Resign(t.Context()); err != nil {
			t.Fatal(err)
		}
		if l, seen := a.KnownLeader(); l != (election.Leader{}) || !seen.Equal(time.Now()) {
			t.Errorf("after resigning: a's KnownLeader = %+v, %v; want no leader as of now, never itself", l, seen)
		}
		time.Sleep(3 * pollP)
		if !b.IsLeader() {
			t.Fatal("b does not lead after a resigned")
		}
		want = election.Leader{Identity: "b", Term: 2, Payload: "http://127.0.0.1:8082"}
		if l, _ := b.KnownLeader(); l != want {
			t.Errorf("new leader's KnownLeader = %+v, want %+v", l, want)
		}
		if got := recv(t, obs, 2*time.Second); got == (election.Leader{}) {
			got = recv(t, obs, 2*time.Second) // the no-leader moment between
			if got != want {
				t.Errorf("Observe = %+v, want %+v", got, want)
			}
		}
		if l, _ := d.KnownLeader(); l != want {
			t.Errorf("observer's KnownLeader after failover = %+v, want %+v", l, want)
		}
	})
}

// Readiness and health over httptest: a leader is ready on both handlers;
// a standby is ready on ReadyHandler only, naming the leader; a standby
// cut off from storage is unhealthy and unready once its polls have not
// reached storage for longer than the bound, and recovers with the next
// answer; a candidate that does not campaign is not ready.
func TestReadinessAndStandbyHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const tolerance = time.Second
		c := leasetest.New()
		a := newCandidate(t, c, "a")
		b := newCandidate(t, c, "b")
		idle := newCandidate(t, c, "idle")

		if code, body := probe(idle.ReadyHandler(tolerance)); code != http.StatusServiceUnavailable || !strings.Contains(body, "not campaigning") {
			t.Errorf("idle ReadyHandler = %d %q, want 503 not campaigning", code, body)
		}
		if err := idle.Check(tolerance); err != nil {
			t.Errorf("idle Check = %v, want nil", err)
		}

		ld, err := a.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer ld.Resign(context.Background())
		stop := runLater(t, b, election.Callbacks{})
		defer stop()
		time.Sleep(2 * pollP)

		for _, tt := range []struct {
			name string
			h    http.Handler
			code int
			body string
		}{
			{"leader ready", a.ReadyHandler(tolerance), 200, `ok: leading, term 1`},
			{"leader leader-ready", a.LeaderReadyHandler(tolerance), 200, "ok: leading, term 1"},
			{"standby ready", b.ReadyHandler(tolerance), 200, `ok: following, leader "a" term 1`},
			{"standby leader-ready", b.LeaderReadyHandler(tolerance), 503, `not leading; leader "a" term 1`},
			{"standby health", b.HealthHandler(tolerance), 200, "ok"},
		} {
			if code, body := probe(tt.h); code != tt.code || !strings.Contains(body, tt.body) {
				t.Errorf("%s: %d %q, want %d %q", tt.name, code, body, tt.code, tt.body)
			}
		}

		// Cut the standby's reads, acquires and releases (the leader only
		// renews). The releases too: a standby whose acquires go
		// unanswered twice in a row releases their lease ID, and storage
		// answering that release is contact.
		var mu sync.Mutex
		cut := true
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			mu.Lock()
			defer mu.Unlock()
			if cut && (call.Op == leasetest.OpProperties || call.Op == leasetest.OpAcquire || call.Op == leasetest.OpRelease) {
				return renewer.ErrThrottled
			}
			return nil
		})
		cutAt := time.Now()
		bound := b.Timing().PollInterval*6/5 + 2*b.Timing().CallTimeout + tolerance
		time.Sleep(bound / 2)
		if err := b.Check(tolerance); err != nil {
			t.Errorf("standby cut off for %v (< bound %v): Check = %v, want nil", time.Since(cutAt), bound, err)
		}
		time.Sleep(bound)
		err = b.Check(tolerance)
		if !errors.Is(err, election.ErrStorageUnreachable) || !strings.Contains(err.Error(), "bound") {
			t.Errorf("standby cut off for %v (> bound %v): Check = %v, want ErrStorageUnreachable", time.Since(cutAt), bound, err)
		}
		code, body := probe(b.HealthHandler(tolerance))
		t.Logf("cut standby /healthz: %d %s", code, body)
		if code != 500 || !strings.Contains(body, "storage not reached") {
			t.Errorf("cut standby health: %d %q, want 500 storage not reached", code, body)
		}
		if code, body := probe(b.ReadyHandler(tolerance)); code != 503 || !strings.Contains(body, "storage not reached") {
			t.Errorf("cut standby ready: %d %q, want 503 storage not reached", code, body)
		}
		if code, _ := probe(a.LeaderReadyHandler(tolerance)); code != 200 {
			t.Errorf("leader renewing while the standby is cut: leader-ready %d, want 200", code)
		}

		mu.Lock()
		cut = false
		mu.Unlock()
		time.Sleep(2 * pollP)
		if err := b.Check(tolerance); err != nil {
			t.Errorf("standby reconnected: Check = %v, want nil", err)
		}
	})
}

// The election logs through the renewer's logger unless given its own:
// a renewer given a *slog.Logger carries the election's entries too.
func TestElectionLogsThroughRenewer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var msgs []string
		h := handlerFunc(func(r slog.Record) {
			mu.Lock()
			defer mu.Unlock()
			msgs = append(msgs, r.Level.String()+" "+r.Message)
		})
		c := leasetest.New()
		r, err := renewer.New(c, renewer.WithIdentity("a"), renewer.WithSlog(slog.New(h)))
		if err != nil {
			t.Fatal(err)
		}
		e, err := election.New(r)
		if err != nil {
			t.Fatal(err)
		}
		ld, err := e.Campaign(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		_ = ld.Resign(t.Context())
		mu.Lock()
		defer mu.Unlock()
		all := strings.Join(msgs, "\n")
		for _, want := range []string{"INFO lease acquired", "INFO elected", "INFO resigning", "INFO lease released"} {
			if !strings.Contains(all, want) {
				t.Errorf("no %q in:\n%s", want, all)
			}
		}
	})
}

// handlerFunc is a slog.Handler calling f with every record.
type handlerFunc func(slog.Record)

func (f handlerFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (f handlerFunc) Handle(_ context.Context, r slog.Record) error { f(r); return nil }
func (f handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f handlerFunc) WithGroup(string) slog.Handler                 { return f }
