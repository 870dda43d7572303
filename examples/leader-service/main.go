// Command leader-service is a replicated HTTP service in which one replica,
// the leader, runs a background loop, elected with leasehold on the lease
// of an Azure Blob Storage container (AZURE_STORAGE_CONNECTION_STRING).
//
// Every replica serves, on its own loopback address:
//
//	GET /leader   who leads and with which term, as this replica last saw it (JSON)
//	GET /healthz  200 unless this replica leads and its lease renewals are overdue
//
// SIGINT or SIGTERM stops the leader's loop, releases the lease (a standby
// takes over at its next poll) and exits 0.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

func main() {
	err := run(os.Args[1:])
	var ue *usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "leader-service:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "leader-service:", err)
		os.Exit(1)
	}
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type options struct {
	addr      string
	container string
	id        string
	lease     time.Duration
	poll      time.Duration
	work      time.Duration
	tolerance time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("leader-service", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "loopback address to serve /leader and /healthz on (port 0: any free port)")
	fs.StringVar(&o.container, "container", "leader-service", "container whose lease elects the leader (created if missing)")
	fs.StringVar(&o.id, "id", defaultID(), "this replica's identity, unique among the replicas")
	fs.DurationVar(&o.lease, "lease", renewer.DefaultDuration, "lease duration: whole seconds from 15s to 60s")
	fs.DurationVar(&o.poll, "poll", renewer.DefaultPollInterval, "how often a standby asks whether the lease is free")
	fs.DurationVar(&o.work, "work", 5*time.Second, "how often the leader's background loop runs")
	fs.DurationVar(&o.tolerance, "health-tolerance", 5*time.Second, "how late a leader's renewal may be before /healthz fails")
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{msg: err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return o, &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case o.work <= 0:
		return o, &usageError{msg: fmt.Sprintf("--work %v: want more than 0", o.work)}
	case o.tolerance < 0:
		return o, &usageError{msg: fmt.Sprintf("--health-tolerance %v: want 0 or more", o.tolerance)}
	}
	if err := checkLoopback(o.addr); err != nil {
		return o, &usageError{msg: err.Error()}
	}
	return o, nil
}

// checkLoopback accepts host:port with a loopback host: this example never
// listens beyond the machine.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: want host:port, such as 127.0.0.1:8080", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--addr %q: port %q: want 0 to 65535", addr, port)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--addr %q: want a loopback host (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

func defaultID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "replica"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		return errors.New("AZURE_STORAGE_CONNECTION_STRING is not set: run `make azurite` and export the value it prints, or use your storage account's")
	}
	l, err := azlease.FromConnectionString(cs, o.container,
		&azlease.Options{CreateContainer: true})
	if err != nil {
		return err
	}
	log, err := zap.NewProduction()
	if err != nil {
		return fmt.Errorf("make logger: %w", err)
	}
	defer func() { _ = log.Sync() }()
	log = log.With(zap.String("replica", o.id))
	// The renewer holds the lease, with this replica's identity and timing;
	// the election campaigns, leads and stands by through it.
	r, err := renewer.New(l, renewer.WithIdentity(o.id), renewer.WithDuration(o.lease),
		renewer.WithPollInterval(o.poll), renewer.WithLogger(log.Named("renewer")))
	if err != nil {
		return err
	}
	e, err := election.New(r, election.WithLogger(log.Named("election")))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}

	s := &service{id: o.id, log: log, work: o.work}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /leader", s.serveLeader)
	mux.Handle("GET /healthz", e.HealthHandler(o.tolerance))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	served := make(chan error, 1) // written once by the Serve goroutine
	go func() {
		err := srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			cancel(fmt.Errorf("serve: %w", err))
		}
		served <- err
	}()
	log.Info("serving", zap.String("addr", ln.Addr().String()), zap.Stringer("container", l))

	runErr := e.Run(ctx, election.Callbacks{
		OnElected:   s.lead,
		OnDemoted:   func() { log.Info("demoted: no longer leading") },
		OnNewLeader: s.newLeader,
	})
	// Run returns once ctx has ended (it has resigned and released) or
	// when campaigning cannot go on.
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", zap.Error(err))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if runErr != nil {
		return runErr
	}
	log.Info("stopped")
	return nil
}

// service holds what /leader reports. It is safe for concurrent use.
type service struct {
	id   string
	log  *zap.Logger
	work time.Duration

	leader  atomic.Pointer[election.Leader] // the last leader observed; nil before the first observation
	leading atomic.Bool                     // OnElected is running and its context not done
}

// newLeader is Run's OnNewLeader: it records who leads. Run observes the
// lease on every poll while campaigning, so /leader costs no storage call.
func (s *service) newLeader(identity string, term int64) {
	s.leader.Store(&election.Leader{Identity: identity, Term: term})
	if identity == "" {
		s.log.Info("no leader")
		return
	}
	s.log.Info("new leader", zap.String("leader", identity), zap.Int64("term", term))
}

// lead is Run's OnElected: the leader's background loop. It stops when ctx
// is done: the term ended (resigned, lost, or shutting down).
func (s *service) lead(ctx context.Context, term int64) {
	s.leading.Store(true)
	defer s.leading.Store(false)
	s.log.Info("elected: starting the leader's loop", zap.Int64("term", term))
	t := time.NewTicker(s.work)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			s.log.Info("leader's loop stopped", zap.Int64("term", term), zap.NamedError("cause", context.Cause(ctx)))
			return
		case <-t.C:
			// Real work goes here, carrying term as a fencing token on
			// every write so that a store can reject a deposed leader.
			s.log.Info("leader's loop", zap.Int64("term", term), zap.Int("round", n))
		}
	}
}

// leaderView is the JSON of /leader.
type leaderView struct {
	Replica  string `json:"replica"`  // this replica's identity
	Leader   string `json:"leader"`   // who leads; "" for no one, or not known yet
	Term     int64  `json:"term"`     // the leader's term; 0 with no leader
	IsLeader bool   `json:"isLeader"` // this replica leads
	Known    bool   `json:"known"`    // false until this replica has read the lease once
}

func (s *service) serveLeader(w http.ResponseWriter, _ *http.Request) {
	v := leaderView{Replica: s.id, IsLeader: s.leading.Load()}
	if l := s.leader.Load(); l != nil {
		v.Leader, v.Term, v.Known = l.Identity, l.Term, true
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
