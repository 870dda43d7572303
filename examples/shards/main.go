// Command shards shares K shards among workers: each shard is the lease of
// its own container (PREFIX-0 .. PREFIX-K-1, created if missing), and a
// worker holds as many as it can, up to --max, each with its own
// renewer.Renewer. When a worker dies, its shards' leases expire and the
// other workers take them over. Storage is AZURE_STORAGE_CONNECTION_STRING.
//
// Every change of ownership is logged as "shards owned" with the full list.
// SIGINT or SIGTERM releases every shard (others take them at their next
// poll) and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// maxShards bounds --shards: each shard is a container and a goroutine.
const maxShards = 64

func main() {
	err := run(os.Args[1:])
	var ue *usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "shards:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "shards:", err)
		os.Exit(1)
	}
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type options struct {
	shards int
	max    int
	id     string
	prefix string
	lease  time.Duration
	poll   time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("shards", flag.ContinueOnError)
	fs.IntVar(&o.shards, "shards", 4, "number of shards K, 1 to 64")
	fs.IntVar(&o.max, "max", 0, "most shards this worker holds at once; 0: all of them")
	fs.StringVar(&o.id, "id", defaultID(), "this worker's identity, unique among the workers")
	fs.StringVar(&o.prefix, "prefix", "shards", "container name prefix: shard i is container PREFIX-i")
	fs.DurationVar(&o.lease, "lease", renewer.DefaultDuration, "lease duration: whole seconds from 15s to 60s")
	fs.DurationVar(&o.poll, "poll", renewer.DefaultPollInterval, "how often a worker asks for each shard it does not hold")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{msg: err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return o, &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case o.shards < 1 || o.shards > maxShards:
		return o, &usageError{msg: fmt.Sprintf("--shards %d: want 1 to %d", o.shards, maxShards)}
	case o.max < 0:
		return o, &usageError{msg: fmt.Sprintf("--max %d: want 0 (no cap) or more", o.max)}
	}
	if o.max == 0 || o.max > o.shards {
		o.max = o.shards
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
	// The renewers say only what goes wrong (Warn: a lost lease, failing
	// renewals); the worker logs ownership itself.
	rlog := log.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))

	renewers := make([]*renewer.Renewer, o.shards)
	for i := range renewers {
		l, err := azlease.FromConnectionString(cs, o.prefix+"-"+strconv.Itoa(i),
			&azlease.Options{CreateContainer: true})
		if err != nil {
			return err
		}
		renewers[i], err = renewer.New(l, renewer.WithIdentity(o.id), renewer.WithDuration(o.lease),
			renewer.WithPollInterval(o.poll), renewer.WithLogger(rlog.With(zap.Int("shard", i))))
		if err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("starting", zap.Int("shards", o.shards), zap.Int("max", o.max), zap.String("prefix", o.prefix))
	err = newWorker(log, o.max, o.poll).run(ctx, renewers)
	if err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
