package election

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// The headers of a refusal by a candidate that does not lead (LeaderOnly,
// Route), and of a forwarded request (Route).
const (
	// HeaderLeader names the leader the refusing candidate knows of; it is
	// absent when it knows of none.
	HeaderLeader = "Leasehold-Leader"
	// HeaderTerm is that leader's term.
	HeaderTerm = "Leasehold-Term"
	// HeaderRefused marks a refusal made by LeaderOnly or Route (value
	// "not-leader"): Route treats a 421 as a sign that the leader moved
	// only when it carries this header, and passes any other 421 (the
	// leader's own handler's, a proxy's) through as it came.
	HeaderRefused = "Leasehold-Refused"
	// HeaderForwardedBy marks a request forwarded by Route, with the
	// forwarding candidate's identity: a candidate that does not lead
	// refuses it rather than forward it again (two candidates with stale
	// views would otherwise bounce it between them).
	HeaderForwardedBy = "Leasehold-Forwarded-By"
)

// LeaderOnly returns an http.Handler that serves h while this candidate
// leads (IsLeader), and otherwise refuses with 421 Misdirected Request,
// saying what it knows: "not leader; leader is X, term T" (with the
// headers HeaderLeader and HeaderTerm) or "not leader; leader unknown".
// It makes no storage call. A follower that forwarded the request should
// refresh its view of the leader on such a refusal (Route does).
//
// Leading when the request arrives is not leading when h writes: h must
// still fence its writes with the term (Leadership().Term()).
func (e *Election) LeaderOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if e.IsLeader() {
			h.ServeHTTP(w, req)
			return
		}
		e.refuse(w)
	})
}

// refuse answers a request that only the leader may serve: 421, with the
// leader this candidate knows of.
func (e *Election) refuse(w http.ResponseWriter) {
	w.Header().Set(HeaderRefused, "not-leader")
	l, _ := e.KnownLeader()
	if l.Identity == "" {
		http.Error(w, "not leader; leader unknown", http.StatusMisdirectedRequest)
		return
	}
	w.Header().Set(HeaderLeader, l.Identity)
	w.Header().Set(HeaderTerm, strconv.FormatInt(l.Term, 10))
	http.Error(w, fmt.Sprintf("not leader; leader is %s, term %d", l.Identity, l.Term), http.StatusMisdirectedRequest)
}

// Refresh reads who leads now, one storage call, and returns it as
// Leader does (ErrNoLeader if no one does), updating KnownLeader. It reads
// at most once per poll interval: a call within P of the last read Refresh
// made (whatever it answered) returns what KnownLeader knows, with no
// call, and concurrent calls share one read (a call waits for the read
// under way, or for ctx). It is for a follower whose view turned out stale (a
// forward refused by a candidate that no longer leads), not for polling:
// Campaign, Run and Observe keep KnownLeader fresh.
func (e *Election) Refresh(ctx context.Context) (Leader, error) {
	if ld := e.current(); ld != nil {
		return e.self(ld.Term()), nil
	}
	select { // one read at a time; the others wait for it, or for ctx
	case e.refresh <- struct{}{}:
	case <-ctx.Done():
		return Leader{}, fmt.Errorf("election: refresh: %w", context.Cause(ctx))
	}
	defer func() { <-e.refresh }()
	if !e.refreshed.IsZero() && time.Since(e.refreshed) < e.timing.PollInterval {
		l, _ := e.KnownLeader()
		if l == (Leader{}) {
			return l, ErrNoLeader
		}
		return l, nil
	}
	e.refreshed = time.Now() // whatever the read answers: a failing storage is not asked more often
	return e.Leader(ctx)
}

// RouteOptions are Route's options; the zero value, or nil, means the
// defaults.
type RouteOptions struct {
	// Transport sends forwarded requests. Default http.DefaultTransport.
	Transport http.RoundTripper
	// MaxBody is the most of a request's body that is kept to send it a
	// second time (after a refusal); a longer body is forwarded once and
	// a refusal answered as it came. Default 1 MiB.
	MaxBody int64
}

// Route returns an http.Handler for requests that only the leader may
// serve: h serves them while this candidate leads; otherwise each is
// forwarded to the leader this candidate knows of (KnownLeader, no storage
// call), at the URL addr returns for it. addr must check the leader's
// Payload, where leaders publish their address (renewer.WithPayload):
// anyone who can write the container's metadata can write it.
//
// A forward refused by a candidate that no longer leads (a 421 carrying
// HeaderRefused, from its LeaderOnly or its own Route) makes this
// candidate read who leads now (Refresh: one storage call, at most one per
// poll interval) and forward the request once more if that names another
// leader. Until a read shows another leader (for a lease duration at
// most), requests are not forwarded again to the leader that refused (503
// "leader moving; retry"), so each Route handler sends at most one request
// per hand-over to a leader that left, however stale its view was
// (requests already on their way when the refusal came aside). Any other
// answer, a 421 without HeaderRefused included, is passed on as it came.
//
// A candidate that knows of no leader reads who leads (Refresh, at most
// once per poll interval) before it answers 503 "no leader known"; when
// addr refuses the leader's payload, Route answers 503 with the reason; a
// forward that fails answers 502. A forwarded request carries
// HeaderForwardedBy; a candidate that does not lead refuses such a request
// with 421 rather than forward it again.
func (e *Election) Route(h http.Handler, addr func(Leader) (*url.URL, error), opts *RouteOptions) http.Handler {
	rt := &router{e: e, h: h, addr: addr, transport: http.DefaultTransport, maxBody: 1 << 20}
	if opts != nil {
		if opts.Transport != nil {
			rt.transport = opts.Transport
		}
		if opts.MaxBody > 0 {
			rt.maxBody = opts.MaxBody
		}
	}
	return rt
}

// router is a Route handler.
type router struct {
	e         *Election
	h         http.Handler
	addr      func(Leader) (*url.URL, error)
	transport http.RoundTripper
	maxBody   int64

	mu        sync.Mutex
	refused   Leader    // the last leader that refused a forward as not leading
	refusedAt time.Time // when; a refusal is forgotten a lease duration later
}

// errRefused marks a forward that the other candidate refused with 421.
var errRefused = errors.New("refused: not the leader")

func (rt *router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if rt.e.IsLeader() {
		rt.h.ServeHTTP(w, req)
		return
	}
	if req.Header.Get(HeaderForwardedBy) != "" {
		rt.e.refuse(w)
		return
	}
	var body []byte // kept to send again; nil: not kept (too long, or none)
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, rt.maxBody+1))
		if err != nil {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if int64(len(b)) <= rt.maxBody {
			body = b
		} else {
			req.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), req.Body), req.Body}
		}
	}
	l := rt.known(req.Context())
	for try := 1; ; try++ {
		if l == (Leader{}) {
			http.Error(w, "no leader known; retry", http.StatusServiceUnavailable)
			return
		}
		if l == rt.lastRefused() {
			http.Error(w, fmt.Sprintf("leader moving (%s, term %d, no longer leads); retry", l.Identity, l.Term), http.StatusServiceUnavailable)
			return
		}
		target, err := rt.addr(l)
		if err != nil {
			http.Error(w, fmt.Sprintf("leader %s, term %d: %v; retry", l.Identity, l.Term, err), http.StatusServiceUnavailable)
			return
		}
		if body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		again := try == 1 && (body != nil || req.Body == nil || req.Body == http.NoBody)
		err = rt.forward(w, req, l, target, again)
		if !errors.Is(err, errRefused) {
			return
		}
		rt.mu.Lock()
		rt.refused, rt.refusedAt = l, time.Now()
		rt.mu.Unlock()
		if !again {
			return // the refusal was passed on as it came
		}
		next, _ := rt.e.Refresh(req.Context())
		if next == l || next == (Leader{}) {
			http.Error(w, fmt.Sprintf("leader moving (%s, term %d, refused as not leading); retry", l.Identity, l.Term), http.StatusServiceUnavailable)
			return
		}
		l = next
	}
}

// known returns the leader to forward to: KnownLeader, or, when that is
// no leader or the leader that last refused a forward, what a Refresh
// reads (at most one read per poll interval).
func (rt *router) known(ctx context.Context) Leader {
	l, _ := rt.e.KnownLeader()
	if l == (Leader{}) || l == rt.lastRefused() {
		if next, err := rt.e.Refresh(ctx); err == nil || errors.Is(err, ErrNoLeader) {
			l = next
		}
	}
	return l
}

// lastRefused returns the leader that last refused a forward, for a lease
// duration after the refusal: by then a leader that left has lost its
// lease, and one that refused in error (in the instant between winning
// and counting itself leader) is forwarded to again.
func (rt *router) lastRefused() Leader {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if time.Since(rt.refusedAt) > rt.e.timing.Duration {
		return Leader{}
	}
	return rt.refused
}

// forward sends req to the leader l at target and copies its answer to w.
// With again, a refusal (a 421 carrying HeaderRefused) is not copied:
// forward returns errRefused, and the request may be sent again. Without
// it, the refusal is copied as it came (and errRefused still returned, so
// that the refusal is remembered).
func (rt *router) forward(w http.ResponseWriter, req *http.Request, l Leader, target *url.URL, again bool) error {
	var result error
	proxy := &httputil.ReverseProxy{
		Transport: rt.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set(HeaderForwardedBy, rt.e.identity)
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode != http.StatusMisdirectedRequest || resp.Header.Get(HeaderRefused) == "" {
				return nil // an answer like any other, passed on as it came
			}
			result = errRefused
			if again {
				return errRefused // to ErrorHandler, which writes nothing
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if errors.Is(err, errRefused) {
				return
			}
			http.Error(w, fmt.Sprintf("forward to the leader %s (term %d) at %s: %v; retry", l.Identity, l.Term, target.Redacted(), err), http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, req)
	return result
}
