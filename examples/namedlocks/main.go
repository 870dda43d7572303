// Command namedlocks holds many named locks in one container: lock
// PREFIX0 .. PREFIX(N-1) (names with any characters, "tenant/0" by
// default), each the lease of a blob in container --container (created if
// missing). A worker takes every lock it can and waits for the others
// through one shared observer: one List Blobs call per poll interval serves
// all its waiting locks, where each would otherwise poll on its own.
// Storage is AZURE_STORAGE_CONNECTION_STRING.
//
// It logs (JSON, one line each) "acquired" and "released" per lock, and
// every --report interval "calls": the storage calls it made so far, by
// kind, the locks held, and what polling each lock on its own would have
// cost. With --hold 0 it keeps what it takes; otherwise it releases each
// lock after --hold and waits for it again. SIGINT or SIGTERM releases
// every lock (other workers take them at their next poll) and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// maxLocks bounds --locks: each lock is a goroutine and a renewer.
const maxLocks = 10000

func main() {
	err := run(os.Args[1:])
	var ue *usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "namedlocks:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "namedlocks:", err)
		os.Exit(1)
	}
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type options struct {
	container string
	locks     int
	prefix    string
	id        string
	hold      time.Duration
	poll      time.Duration
	report    time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("namedlocks", flag.ContinueOnError)
	fs.StringVar(&o.container, "container", "", "container of the locks (required)")
	fs.IntVar(&o.locks, "locks", 20, "number of locks N, 1 to 10000")
	fs.StringVar(&o.prefix, "prefix", "tenant/", "lock i is named PREFIX followed by i: any text")
	fs.StringVar(&o.id, "id", defaultID(), "this worker's identity")
	fs.DurationVar(&o.hold, "hold", 0, "release each lock after holding it this long, then wait for it again; 0 keeps it")
	fs.DurationVar(&o.poll, "poll", renewer.DefaultPollInterval, "how often the shared observer lists the container while locks are awaited")
	fs.DurationVar(&o.report, "report", 5*time.Second, "how often to log the calls made")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{msg: err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return o, &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case o.container == "":
		return o, &usageError{msg: "--container is required"}
	case o.locks < 1 || o.locks > maxLocks:
		return o, &usageError{msg: fmt.Sprintf("--locks %d: want 1 to %d", o.locks, maxLocks)}
	case o.hold < 0 || o.report <= 0:
		return o, &usageError{msg: "want --hold >= 0 and --report > 0"}
	}
	if err := azlease.ValidateContainerName(o.container); err != nil {
		return o, &usageError{msg: err.Error()}
	}
	if err := renewer.ValidateName(o.prefix + strconv.Itoa(o.locks-1)); err != nil {
		return o, &usageError{msg: fmt.Sprintf("--prefix: %v", err)}
	}
	return o, nil
}

func defaultID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// counter is an SDK policy counting requests by kind.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Do(req *policy.Request) (*http.Response, error) {
	r := req.Raw()
	kind := "other"
	switch q := r.URL.Query(); {
	case q.Get("comp") == "list":
		kind = "list"
	case q.Get("comp") == "lease":
		kind = "lease " + header(r.Header, "x-ms-lease-action")
	case q.Get("comp") == "metadata":
		kind = "set metadata"
	case r.Method == http.MethodHead:
		kind = "properties"
	case r.Method == http.MethodPut:
		kind = "create"
	}
	c.mu.Lock()
	c.n[kind]++
	c.mu.Unlock()
	return req.Next()
}

// header is h's value for key in any case: the SDK sets its x-ms-*
// headers with lower-case keys, past http.Header's canonical form.
func header(h http.Header, key string) string {
	for k, v := range h {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
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
	log, err := zap.NewProduction()
	if err != nil {
		return fmt.Errorf("make logger: %w", err)
	}
	defer func() { _ = log.Sync() }()
	log = log.With(zap.String("worker", o.id))
	rlog := log.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))

	calls := &counter{n: map[string]int{}}
	cc, err := container.NewClientFromConnectionString(cs, o.container, &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry:           policy.RetryOptions{MaxRetries: -1}, // the renewers retry, bounded by each lease's deadline
		PerCallPolicies: []policy.Policy{calls},
	}})
	if err != nil {
		return errors.New("malformed AZURE_STORAGE_CONNECTION_STRING")
	}
	obs, err := azlease.NewObserver(cc, &renewer.ObserverOptions{Logger: rlog})
	if err != nil {
		return err
	}
	renewers := make([]*renewer.Renewer, o.locks)
	for i := range renewers {
		l, err := azlease.NewBlob(cc, o.prefix+strconv.Itoa(i), &azlease.Options{CreateContainer: true})
		if err != nil {
			return &usageError{msg: err.Error()}
		}
		renewers[i], err = renewer.New(l, renewer.WithIdentity(o.id), renewer.WithPollInterval(o.poll),
			renewer.WithObserver(obs), renewer.WithLogger(rlog.With(zap.String("lock", l.Name()))))
		if err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("starting", zap.Int("locks", o.locks), zap.String("container", o.container), zap.Duration("poll", o.poll))
	var held atomic.Int64
	var wg sync.WaitGroup
	for _, r := range renewers {
		wg.Go(func() { holdLoop(ctx, log, r, o.hold, &held) })
	}
	start := time.Now()
	report := func() {
		polls := int(time.Since(start) / o.poll)
		log.Info("calls", zap.Any("calls", calls.snapshot()), zap.Int64("held", held.Load()),
			zap.Int("polling_alone_would_be_about", polls*(o.locks-int(held.Load()))))
	}
	t := time.NewTicker(o.report)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-t.C:
			report()
		case <-ctx.Done():
		}
	}
	wg.Wait()
	report()
	log.Info("stopped")
	return nil
}

// holdLoop takes r's lock whenever it can, holds it for hold (0: until
// ctx ends or the lock is lost), releases it, and waits for it again.
func holdLoop(ctx context.Context, log *zap.Logger, r *renewer.Renewer, hold time.Duration, held *atomic.Int64) {
	name := r.Leaser().(*azlease.BlobLeaser).Name()
	for ctx.Err() == nil {
		ls, err := r.Acquire(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("acquire failed", zap.String("lock", name), zap.Error(err))
				time.Sleep(time.Second)
			}
			continue
		}
		held.Add(1)
		log.Info("acquired", zap.String("lock", name), zap.Int64("term", ls.Term()))
		var timeout <-chan time.Time
		if hold > 0 {
			timeout = time.After(hold)
		}
		select {
		case <-ctx.Done():
		case <-ls.Done():
		case <-timeout:
		}
		err = ls.Release(context.Background())
		held.Add(-1)
		log.Info("released", zap.String("lock", name), zap.Int64("term", ls.Term()), zap.Error(err))
		if hold > 0 {
			time.Sleep(hold / 4) // let others in: an Acquire's first try is its own
		}
	}
}
