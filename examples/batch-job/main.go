// Command batch-job is a singleton batch job: however many copies start,
// one at a time runs, guarded by a leasehold mutex on an Azure Blob Storage
// container, and every write it makes carries the lock's fencing token to a
// store that rejects tokens lower than the highest it has seen. See
// README.md for how to run it against Azurite and what to watch.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

const emulatorConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"

// settings are the command-line flags.
type settings struct {
	emulator  bool
	container string
	storeDir  string
	id        string
	steps     int
	stepTime  time.Duration
	lateWrite time.Duration
	wait      time.Duration
}

func main() {
	var s settings
	flag.BoolVar(&s.emulator, "emulator", false, "use Azurite on 127.0.0.1:10000 (default: $AZURE_STORAGE_CONNECTION_STRING)")
	flag.StringVar(&s.container, "container", "batch-job", "the lock's container (created if missing)")
	flag.StringVar(&s.storeDir, "store", "batch-job-store", "directory of the fenced store")
	flag.StringVar(&s.id, "id", "", "holder identity (default hostname-pid)")
	flag.IntVar(&s.steps, "steps", 5, "steps of work, one store write each")
	flag.DurationVar(&s.stepTime, "step-time", time.Second, "duration of one step")
	flag.DurationVar(&s.lateWrite, "late-write", 0, "after losing the lock, act like a holder that was paused: wait this long, then write with the old token")
	flag.DurationVar(&s.wait, "wait", 2*time.Minute, "give up waiting for the lock after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := zap.NewDevelopmentConfig()
	cfg.DisableStacktrace = true
	log, err := cfg.Build()
	if err != nil {
		fmt.Fprintf(os.Stderr, "batch-job: logger: %v\n", err)
		os.Exit(1)
	}
	defer func() { _ = log.Sync() }()
	if err := run(ctx, s, log); err != nil {
		fmt.Fprintf(os.Stderr, "batch-job: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings, log *zap.Logger) error {
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if s.emulator {
		cs = emulatorConnectionString
	}
	if cs == "" {
		return errors.New("set AZURE_STORAGE_CONNECTION_STRING or pass --emulator")
	}
	l, err := azlease.FromConnectionString(cs, s.container,
		&azlease.Options{CreateContainer: true}) // Lock creates it if missing
	if err != nil {
		return err
	}
	ropts := []renewer.Option{renewer.WithLogger(log)}
	if s.id != "" {
		ropts = append(ropts, renewer.WithIdentity(s.id))
	}
	r, err := renewer.New(l, ropts...)
	if err != nil {
		return err
	}
	m, err := mutex.New(r, mutex.WithLogger(log))
	if err != nil {
		return err
	}
	store, err := openStore(s.storeDir)
	if err != nil {
		return err
	}

	wctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	log.Info("waiting for the lock", zap.String("container", s.container))
	held, err := m.Lock(wctx)
	if err != nil {
		return err
	}
	defer func() {
		if err := held.Unlock(context.Background()); err != nil {
			log.Warn("unlock", zap.Error(err))
		}
	}()
	token, term := held.Term(), held.Term() // the term is the one fencing number
	log.Info("holding the lock", zap.Int64("term", term), zap.Int64("token", token))

	for i := 1; i <= s.steps; i++ {
		select {
		case <-held.Done():
			return lost(held, store, s, m.Identity(), log, i)
		case <-time.After(s.stepTime): // one step of work
		}
		data := fmt.Sprintf("step %d/%d by %s", i, s.steps, m.Identity())
		// Checking the context first narrows the window; only the token
		// closes it, for a holder paused between this check and the write.
		if held.Context().Err() != nil {
			return lost(held, store, s, m.Identity(), log, i)
		}
		if err := store.Write(token, term, data); err != nil {
			return err
		}
		log.Info("wrote", zap.String("data", data), zap.Int64("token", token))
	}
	log.Info("done", zap.Int("steps", s.steps))
	return nil
}

// lost reports the loss of the lock at step i and, with --late-write, plays
// a holder that was paused through the loss and writes anyway: the store
// rejects it if anyone wrote with a newer token in between.
func lost(held *mutex.Held, store *fencedStore, s settings, id string, log *zap.Logger, i int) error {
	cause := context.Cause(held.Context())
	log.Warn("lost the lock; stopping", zap.Int("step", i), zap.Error(cause))
	if s.lateWrite <= 0 {
		return fmt.Errorf("lost the lock at step %d: %w", i, cause)
	}
	log.Warn("playing a paused holder: writing late with the old token", zap.Duration("after", s.lateWrite))
	time.Sleep(s.lateWrite)
	err := store.Write(held.Term(), held.Term(), fmt.Sprintf("LATE step %d by %s", i, id))
	if errors.Is(err, errStale) {
		log.Info("the store rejected the late write, as it should", zap.Error(err))
		return fmt.Errorf("lost the lock at step %d; late write rejected: %w", i, err)
	}
	if err != nil {
		return err
	}
	log.Warn("the store accepted the late write: no one wrote with a newer token in between")
	return fmt.Errorf("lost the lock at step %d", i)
}
