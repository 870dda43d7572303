// Command metrics is one election candidate that shows what leasehold
// tells an operator: its metrics through OpenTelemetry and the Prometheus
// exporter, its logs through log/slog, and its health and readiness.
//
// It serves, on a loopback address:
//
//	GET /metrics       the Prometheus scrape: leasehold_lease_held, leasehold_storage_calls_total, ...
//	GET /healthz       200 unless renewals are overdue or a standby cannot reach storage
//	GET /readyz        200 while the election works (leading or following), with whom it knows as leader
//	GET /leader-ready  200 only while this candidate leads
//
// The lease is that of an Azure Blob Storage container
// (AZURE_STORAGE_CONNECTION_STRING; `make azurite` prints one for a local
// emulator). SIGINT or SIGTERM resigns and exits 0.
//
// It lives in a Go module of its own so that the Prometheus client stays
// out of the library's go.mod: the library needs only the OpenTelemetry
// API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

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
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, container, id string
	poll, tolerance     time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("metrics", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9464", "loopback address to serve /metrics, /healthz, /readyz and /leader-ready on (port 0: any free port)")
	fs.StringVar(&o.container, "container", "metrics-example", "container whose lease elects the leader (created if missing)")
	fs.StringVar(&o.id, "id", "candidate-"+strconv.Itoa(os.Getpid()), "this candidate's identity")
	fs.DurationVar(&o.poll, "poll", renewer.DefaultPollInterval, "how often a standby asks whether the lease is free")
	fs.DurationVar(&o.tolerance, "health-tolerance", 5*time.Second, "how late renewals or a standby's reads may be before /healthz fails")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	host, _, err := net.SplitHostPort(o.addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return o, fmt.Errorf("--addr %q: want a loopback host:port, such as 127.0.0.1:9464", o.addr)
	}
	return o, nil
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

// serve wires the observability and runs the election until ctx ends.
func serve(ctx context.Context, l renewer.Leaser, o options, ln net.Listener) error {
	// Logs: JSON lines on stderr at Info. Without WithSlog the library
	// would use slog.Default() at Warn and above: losses and breaks only.
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// Metrics: the application installs an OpenTelemetry SDK whose reader
	// is the Prometheus exporter, as the global MeterProvider. Libraries
	// (leasehold among them) record on the global provider by default, so
	// no option is needed; renewer.WithMeterProvider(mp) would pass it
	// explicitly.
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	otel.SetMeterProvider(mp)

	r, err := renewer.New(l, renewer.WithIdentity(o.id), renewer.WithPollInterval(o.poll),
		renewer.WithPayload("http://"+ln.Addr().String()), renewer.WithSlog(log),
		// Label the election's own lease leasehold_role="leader", as the
		// election labels its next-in-line seats "next_in_line".
		renewer.WithMetricAttributes(renewer.AttrRole.String(renewer.RoleLeader)))
	if err != nil {
		return err
	}
	e, err := election.New(r) // logs through the renewer's logger
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /healthz", e.HealthHandler(o.tolerance))
	mux.Handle("GET /readyz", e.ReadyHandler(o.tolerance))
	mux.Handle("GET /leader-ready", e.LeaderReadyHandler(o.tolerance))
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
