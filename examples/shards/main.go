// Command shards spreads K shards over the live workers of a group with
// package shard: each shard is a named lock (a blob lease) in one container,
// GROUP-part-0 .. GROUP-part-K-1, and each live worker holds one of N member
// locks, GROUP-member-0 .., the container and blobs created if missing. Each
// worker reads the whole group with one List Blobs call per poll
// (shard.WithLister). Every worker owns its
// fair share, floor or ceil of K / workers; when a worker joins, the others
// hand it shards; when one leaves or dies, the others take its shards over.
// Storage is AZURE_STORAGE_CONNECTION_STRING.
//
// Every change of ownership is logged as "shards owned" with the full list.
// SIGINT or SIGTERM stops every shard's work, releases every lease (others
// take the shards at their next poll) and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/shard"
)

// maxShards bounds --shards: each shard is a container and a lease.
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
	shards    int
	members   int
	id        string
	container string
	group     string
	lease     time.Duration
	poll      time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("shards", flag.ContinueOnError)
	fs.IntVar(&o.shards, "shards", 4, "number of shards K, 1 to 64")
	fs.IntVar(&o.members, "members", 0, "most workers live at once (member leases); 0: min(16, K)")
	fs.StringVar(&o.id, "id", defaultID(), "this worker's identity, unique among the workers")
	fs.StringVar(&o.container, "container", "shards", "the container that holds the group's locks (created if missing)")
	fs.StringVar(&o.group, "group", "shards", "the group's name: shard i is the lock GROUP-part-i")
	fs.DurationVar(&o.lease, "lease", renewer.DefaultDuration, "lease duration: whole seconds from 15s to 60s")
	fs.DurationVar(&o.poll, "poll", renewer.DefaultPollInterval, "how often a worker reads the group and rebalances")
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
	case o.members < 0:
		return o, &usageError{msg: fmt.Sprintf("--members %d: want 0 (the default) or more", o.members)}
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
	// The renewers and the member say only what goes wrong (Warn: a lost
	// lease, failing renewals); the worker logs ownership itself.
	quiet := log.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))

	parts := make([]string, o.shards)
	for i := range parts {
		parts[i] = strconv.Itoa(i)
	}
	cl, err := azlease.FromConnectionString(cs, o.container, &azlease.Options{CreateContainer: true})
	if err != nil {
		return err
	}
	lister, err := azlease.NewLister(cl.Client())
	if err != nil {
		return err
	}
	leasers := func(name string) (renewer.Leaser, error) { return cl.Blob(name) }
	m, err := shard.New(o.group, parts, leasers,
		shard.WithRenewerOptions(renewer.WithIdentity(o.id), renewer.WithDuration(o.lease),
			renewer.WithPollInterval(o.poll), renewer.WithLogger(quiet)),
		shard.WithMaxMembers(o.members), shard.WithLister(lister), shard.WithLogger(quiet))
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("starting", zap.Int("shards", o.shards), zap.String("container", o.container), zap.String("group", o.group))
	var (
		mu    sync.Mutex // serializes the "shards owned" lines
		terms = map[int]int64{}
	)
	report := func(i int, term int64, owned bool) {
		mu.Lock()
		defer mu.Unlock()
		if owned {
			terms[i] = term
		} else {
			delete(terms, i)
		}
		held := make([]int, 0, len(terms))
		for s := range terms {
			held = append(held, s)
		}
		slices.Sort(held)
		log.Info("shards owned", zap.Ints("shards", held), zap.Int("shard", i), zap.Int64("term", term), zap.Bool("taken", owned))
	}
	err = m.Run(ctx, func(ctx context.Context, p shard.Partition) {
		i, _ := strconv.Atoi(p.Name)
		report(i, p.Term, true)
		defer report(i, p.Term, false)
		work(ctx, i, p.Term)
	})
	if err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// work stands for the shard's work: it runs until ctx ends (the shard is
// handed back, lost, or the worker stops), carrying term, the shard's
// fencing number, in every write it would make.
func work(ctx context.Context, i int, term int64) {
	_, _ = i, term
	<-ctx.Done()
}
