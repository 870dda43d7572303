package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Toxiproxy is one in-process toxiproxy server (no API listener: toxics are
// set through its Go API) that every Link of a test process shares.
type Toxiproxy struct {
	srv *toxiproxy.ApiServer
}

// NewToxiproxy returns a toxiproxy server with logging and metrics off.
func NewToxiproxy() *Toxiproxy {
	return &Toxiproxy{srv: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())}
}

// A Link is the way one candidate process reaches storage, on loopback:
//
//	candidate -> toxiproxy proxy (latency, blackhole, reset) -> HTTP fault
//	layer (503/500 storms, renew requests cut, late delivery) -> storage
//
// It is safe for concurrent use.
type Link struct {
	proxy *toxiproxy.Proxy
	http  *httpFault
}

// NewLink starts a link to the storage endpoint at upstream (host:port, a
// loopback address), listening on a free loopback port.
func (tp *Toxiproxy) NewLink(name, upstream string) (*Link, error) {
	if err := loopbackOnly(upstream); err != nil {
		return nil, err
	}
	hf, err := newHTTPFault(upstream)
	if err != nil {
		return nil, err
	}
	p := toxiproxy.NewProxy(tp.srv, name, "127.0.0.1:0", hf.addr())
	if err := p.Start(); err != nil {
		hf.close()
		return nil, fmt.Errorf("start proxy %s: %w", name, err)
	}
	return &Link{proxy: p, http: hf}, nil
}

// Addr is the loopback address (host:port) candidates connect to.
func (l *Link) Addr() string {
	l.proxy.Lock()
	defer l.proxy.Unlock()
	return l.proxy.Listen
}

// Close stops the proxy and the HTTP layer, closing their connections.
func (l *Link) Close() {
	l.proxy.Stop()
	l.http.close()
}

func (l *Link) addToxic(name, typ, stream string, toxicity float64, attrs map[string]any) error {
	b, err := json.Marshal(map[string]any{
		"name": name, "type": typ, "stream": stream, "toxicity": toxicity, "attributes": attrs,
	})
	if err != nil {
		return err
	}
	if _, err := l.proxy.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("add toxic %s: %w", name, err)
	}
	return nil
}

func (l *Link) removeToxic(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.proxy.Toxics.RemoveToxic(ctx, name)
}

// Partition blackholes the link both ways: connections are accepted and
// kept open, and no byte goes through, as when the network drops packets.
func (l *Link) Partition() error {
	if err := l.addToxic("partition_up", "timeout", "upstream", 1, map[string]any{"timeout": 0}); err != nil {
		return err
	}
	return l.addToxic("partition_down", "timeout", "downstream", 1, map[string]any{"timeout": 0})
}

// Heal ends a partition; connections open during it are closed.
func (l *Link) Heal() {
	l.removeToxic("partition_up")
	l.removeToxic("partition_down")
}

// SetLatency delays every chunk of data each way by d (±jitter); 0 removes it.
func (l *Link) SetLatency(d, jitter time.Duration) error {
	l.removeToxic("latency_up")
	l.removeToxic("latency_down")
	if d == 0 {
		return nil
	}
	attrs := map[string]any{"latency": d.Milliseconds(), "jitter": jitter.Milliseconds()}
	if err := l.addToxic("latency_up", "latency", "upstream", 1, attrs); err != nil {
		return err
	}
	return l.addToxic("latency_down", "latency", "downstream", 1, attrs)
}

// SetResets resets (TCP RST) each new connection with probability p once it
// sends data; 0 removes it.
func (l *Link) SetResets(p float64) error {
	l.removeToxic("reset")
	if p == 0 {
		return nil
	}
	return l.addToxic("reset", "reset_peer", "upstream", p, map[string]any{"timeout": 0})
}

// Storm answers every request with status (503 ServerBusy or 500
// InternalError) for d.
func (l *Link) Storm(status int, d time.Duration) { l.http.set(modeStorm, status, d) }

// CutRenews resets the connection of every renew request, before it reaches
// storage, for d.
func (l *Link) CutRenews(d time.Duration) { l.http.set(modeCutRenew, 0, d) }

type faultMode int

const (
	modeNone faultMode = iota
	modeStorm
	modeCutRenew
)

// httpFault is a reverse proxy that can answer errors instead of storage,
// and hold requests or withhold answers (late.go).
type httpFault struct {
	ln        net.Listener
	srv       *http.Server
	rp        *httputil.ReverseProxy
	closed    chan struct{} // closed by close: held requests are dropped
	closeOnce sync.Once

	mu     sync.Mutex // guards the fields below
	mode   faultMode
	status int
	until  time.Time
	late   lateRules
	held   []*heldRequest // held and not yet flushed
}

func newHTTPFault(upstream string) (*httpFault, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	target := &url.URL{Scheme: "http", Host: upstream}
	h := &httpFault{ln: ln, rp: httputil.NewSingleHostReverseProxy(target), closed: make(chan struct{})}
	h.rp.ErrorLog = nil
	h.rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

func (h *httpFault) addr() string { return h.ln.Addr().String() }
func (h *httpFault) close() {
	h.closeOnce.Do(func() { close(h.closed) })
	_ = h.srv.Close()
}

func (h *httpFault) set(m faultMode, status int, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mode, h.status, h.until = m, status, time.Now().Add(d)
}

func (h *httpFault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	mode, status := h.mode, h.status
	if time.Now().After(h.until) {
		mode = modeNone
	}
	h.mu.Unlock()
	switch {
	case mode == modeStorm:
		code := "ServerBusy"
		if status == http.StatusInternalServerError {
			code = "InternalError"
		}
		w.Header().Set("x-ms-error-code", code)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>injected</Message></Error>`, code)
		}
		return
	case mode == modeCutRenew && strings.EqualFold(r.Header.Get("x-ms-lease-action"), "renew"):
		resetConn(w)
		return
	case h.serveLate(w, r):
		return
	}
	h.rp.ServeHTTP(w, r)
}

// loopbackOnly refuses any address that is not a loopback IP: the suite
// never injects faults anywhere else.
func loopbackOnly(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("address %q: %w", hostport, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback IP: the fault suite runs on loopback only", hostport)
	}
	return nil
}

// ThroughLink rewrites a storage connection string so that its blob endpoint
// is addr (a Link's).
func ThroughLink(connStr, addr string) (string, error) {
	parts := strings.Split(connStr, ";")
	found := false
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(k, "BlobEndpoint") {
			continue
		}
		u, err := url.Parse(v)
		if err != nil {
			return "", fmt.Errorf("BlobEndpoint: %w", err)
		}
		u.Host = addr
		parts[i] = k + "=" + u.String()
		found = true
	}
	if !found {
		return "", fmt.Errorf("connection string has no BlobEndpoint: the fault suite needs a local emulator")
	}
	return strings.Join(parts, ";"), nil
}

// Upstream returns the host:port of a connection string's blob endpoint.
func Upstream(connStr string) (string, error) {
	for _, p := range strings.Split(connStr, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(k, "BlobEndpoint") {
			u, err := url.Parse(v)
			if err != nil {
				return "", fmt.Errorf("BlobEndpoint: %w", err)
			}
			if err := loopbackOnly(u.Host); err != nil {
				return "", err
			}
			return u.Host, nil
		}
	}
	return "", fmt.Errorf("connection string has no BlobEndpoint: the fault suite needs a local emulator")
}
