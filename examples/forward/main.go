// Command forward is a replicated key-value service in which only the
// leader applies writes and every other replica forwards them to it: the
// leader publishes its address with its term (renewer.WithPayload), and
// followers read it from what their own polls of the election last saw
// (Election.KnownLeader), with no storage call per request.
//
// Every replica serves, on its own loopback address:
//
//	PUT /kv/{key}  apply a write (the leader) or forward it to the leader (the others)
//	GET /kv/{key}  read the leader's value (forwarded like a write)
//	GET /leader    whom this replica knows as leader, and its address (JSON)
//	GET /readyz    200 while the election works (Election.ReadyHandler)
//
// The lease is that of an Azure Blob Storage container
// (AZURE_STORAGE_CONNECTION_STRING). SIGINT or SIGTERM resigns and exits 0.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "forward:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "forward:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, container, id string
	poll                time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("forward", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "loopback address to serve on, and to publish as this replica's address while it leads (port 0: any free port)")
	fs.StringVar(&o.container, "container", "forward-example", "container whose lease elects the leader (created if missing)")
	fs.StringVar(&o.id, "id", "replica-"+strconv.Itoa(os.Getpid()), "this replica's identity, unique among the replicas")
	fs.DurationVar(&o.poll, "poll", renewer.DefaultPollInterval, "how often a follower reads the lease (and so how fresh its idea of the leader is)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil || !loopbackHost(host) {
		return o, fmt.Errorf("--addr %q: want a loopback host:port, such as 127.0.0.1:8080", o.addr)
	}
	return o, nil
}

// loopbackHost reports whether host is a loopback name or address: this
// example neither listens nor forwards beyond the machine.
func loopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func run(o options) error {
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		return errors.New("AZURE_STORAGE_CONNECTION_STRING is not set: run `make azurite` and export the value it prints")
	}
	l, err := azlease.FromConnectionString(cs, o.container, &azlease.Options{CreateContainer: true})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, l, o, ln)
}

// serve runs one replica on ln until ctx ends.
func serve(ctx context.Context, l renewer.Leaser, o options, ln net.Listener) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("replica", o.id)
	self := "http://" + ln.Addr().String()
	// The payload is what followers forward to: this replica's address,
	// written with its term whenever it is elected.
	r, err := renewer.New(l, renewer.WithIdentity(o.id), renewer.WithPollInterval(o.poll),
		renewer.WithPayload(self), renewer.WithSlog(log))
	if err != nil {
		return err
	}
	e, err := election.New(r)
	if err != nil {
		return err
	}
	s := &replica{e: e, log: log, data: map[string]entry{}}
	mux := http.NewServeMux()
	kv := s.kv()
	mux.Handle("PUT /kv/{key}", kv)
	mux.Handle("GET /kv/{key}", kv)
	mux.HandleFunc("GET /leader", s.serveLeader)
	mux.Handle("GET /readyz", e.ReadyHandler(5*time.Second))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String())

	runErr := e.Run(ctx, election.Callbacks{
		OnElected: func(ctx context.Context, term int64) { <-ctx.Done() },
		OnNewLeader: func(id string, term int64) {
			log.Info("leader", "leader", id, "term", term)
		},
	})
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return runErr
}

// replica is one replica's state. Its methods are safe for concurrent use.
type replica struct {
	e   *election.Election
	log *slog.Logger

	mu   sync.Mutex
	data map[string]entry
}

// entry is a stored value with the term of the leader that wrote it: the
// fencing number a real store would compare.
type entry struct {
	Value string `json:"value"`
	Term  int64  `json:"term"`
}

// kv serves the key-value API: the leader applies; a follower forwards to
// the leader's published address (election.Route), and on a refusal (421:
// that replica no longer leads) reads who leads now and forwards once
// more. A forwarded request that reaches a replica that does not lead is
// refused with 421 (LeaderOnly), never forwarded again.
func (s *replica) kv() http.Handler {
	return s.e.Route(s.e.LeaderOnly(http.HandlerFunc(s.serveKV)), leaderURL, nil)
}

// serveKV serves a request as the leader (LeaderOnly lets it through only
// while this replica leads; the term can still end in between).
func (s *replica) serveKV(w http.ResponseWriter, req *http.Request) {
	ld := s.e.Leadership()
	if ld == nil {
		http.Error(w, "leadership ended; retry", http.StatusServiceUnavailable)
		return
	}
	s.apply(w, req, ld)
}

// leaderURL checks the leader's payload before anything is sent to it: a
// leader must be known and must have published an http URL on loopback.
// (Anyone who can write the container's metadata can write the payload.)
func leaderURL(l election.Leader) (*url.URL, error) {
	if l.Identity == "" {
		return nil, errors.New("no leader known")
	}
	u, err := url.Parse(l.Payload)
	if err != nil || u.Scheme != "http" || !loopbackHost(u.Hostname()) || u.Path != "" {
		return nil, fmt.Errorf("leader %q published %q: want http://<loopback host>:<port>", l.Identity, l.Payload)
	}
	return u, nil
}

// apply serves a request as leader: the write carries the leader's term.
func (s *replica) apply(w http.ResponseWriter, req *http.Request, ld *election.Leadership) {
	key := req.PathValue("key")
	w.Header().Set("X-Leader", s.e.Identity())
	w.Header().Set("Content-Type", "application/json")
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Method == http.MethodGet {
		v, ok := s.data[key]
		if !ok {
			http.Error(w, "no such key", http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ld.Context().Err() != nil { // lost while reading the body: do not write
		http.Error(w, "leadership ended; retry", http.StatusServiceUnavailable)
		return
	}
	v := entry{Value: string(body), Term: ld.Term()}
	s.data[key] = v
	_ = json.NewEncoder(w).Encode(v)
}

func (s *replica) serveLeader(w http.ResponseWriter, _ *http.Request) {
	l, seen := s.e.KnownLeader()
	out := struct {
		Replica  string `json:"replica"`
		IsLeader bool   `json:"isLeader"`
		Leader   string `json:"leader"`
		Term     int64  `json:"term"`
		Address  string `json:"address"`
		SeenMs   int64  `json:"seenMsAgo"`
		Known    bool   `json:"known"`
	}{s.e.Identity(), s.e.IsLeader(), l.Identity, l.Term, l.Payload, time.Since(seen).Milliseconds(), !seen.IsZero()}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
