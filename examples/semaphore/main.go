// Command semaphore runs jobs under a distributed semaphore: at most
// --slots of them at a time, across every process running it with the same
// --container and --name. Each slot is a named lock (a blob lease) in the
// container (created if missing); a waiting process reads every slot with
// one List Blobs call per poll. Storage is AZURE_STORAGE_CONNECTION_STRING.
//
// Each of the process's --workers goroutines takes a slot, "works" for
// --work, releases it and takes one again, --jobs times in all (0: until
// SIGINT or SIGTERM). It logs (JSON, one line each) "acquired" (slot,
// term) and "released" per job, and exits 0 once its jobs are done or on a
// signal, after releasing what it holds. A job's context is cancelled if
// its slot is lost, before anyone else can take the slot.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/semaphore"
)

func main() {
	if err := run(os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		msg := err.Error()
		if !strings.HasPrefix(msg, "semaphore: ") { // the package's own errors say it already
			msg = "semaphore: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("semaphore", flag.ContinueOnError)
	cname := fs.String("container", "", "container of the slots (required)")
	name := fs.String("name", "encoders", "the semaphore's name: printable ASCII without spaces")
	slots := fs.Int("slots", 2, "K: at most this many jobs at a time, across all processes")
	workers := fs.Int("workers", 3, "goroutines taking slots in this process")
	jobs := fs.Int("jobs", 0, "jobs to run in all, then exit (0: until a signal)")
	work := fs.Duration("work", time.Second, "how long each job holds its slot")
	poll := fs.Duration("poll", renewer.DefaultPollInterval, "how often a waiting process looks for a free slot")
	id := fs.String("id", "", "this process's identity (default hostname-pid)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *cname == "":
		return errors.New("--container is required")
	case *workers < 1:
		return fmt.Errorf("--workers %d: want at least 1", *workers)
	case *jobs < 0:
		return fmt.Errorf("--jobs %d: want 0 or more", *jobs)
	case *work <= 0:
		return fmt.Errorf("--work %v: want more than 0", *work)
	}
	conn := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if conn == "" {
		return errors.New("AZURE_STORAGE_CONNECTION_STRING is not set")
	}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(os.Stdout), zapcore.InfoLevel))
	defer func() { _ = log.Sync() }()

	l, err := azlease.FromConnectionString(conn, *cname, &azlease.Options{CreateContainer: true})
	if err != nil {
		return err
	}
	lister, err := azlease.NewLister(l.Client())
	if err != nil {
		return err
	}
	ropts := []renewer.Option{renewer.WithPollInterval(*poll)}
	if *id != "" {
		ropts = append(ropts, renewer.WithIdentity(*id))
	}
	sem, err := semaphore.New(*name, *slots,
		func(n string) (renewer.Leaser, error) { return l.Blob(n) }, // slot i: the named lock "NAME-slot-i"
		semaphore.WithRenewerOptions(ropts...), semaphore.WithLister(lister), semaphore.WithLogger(log.Named("semaphore")))
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var left atomic.Int64 // jobs still to start; unbounded with --jobs 0
	left.Store(int64(*jobs))
	var wg sync.WaitGroup
	for range *workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if *jobs > 0 && left.Add(-1) < 0 {
					return
				}
				held, err := sem.Acquire(ctx)
				if err != nil {
					if ctx.Err() == nil {
						log.Warn("acquire failed", zap.Error(err))
					}
					return
				}
				log.Info("acquired", zap.Int("slot", held.Slot()), zap.Int64("term", held.Term()))
				t := time.NewTimer(*work)
				select { // the job: it stops when its slot's context ends
				case <-t.C:
				case <-held.Done():
					log.Warn("slot lost", zap.Int("slot", held.Slot()), zap.Error(context.Cause(held.Context())))
				case <-ctx.Done():
				}
				t.Stop()
				err = held.Release(context.Background())
				log.Info("released", zap.Int("slot", held.Slot()), zap.Int64("term", held.Term()), zap.NamedError("lost", err))
			}
		})
	}
	wg.Wait()
	return nil
}
