package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// settings are the flags the demo and its candidates share: the demo
// passes its own to every candidate it starts.
type settings struct {
	container string
	lease     time.Duration
	poll      time.Duration
	verbose   bool
}

func (s *settings) register(fs *flag.FlagSet) {
	fs.StringVar(&s.container, "container", "leasehold-demo", "container whose lease the candidates contend for (created if missing)")
	fs.DurationVar(&s.lease, "lease", renewer.DefaultDuration, "lease duration L: whole seconds from 15s to 60s")
	fs.DurationVar(&s.poll, "poll", time.Second, "how often standbys ask whether the lease is free")
	fs.BoolVar(&s.verbose, "v", false, "show the candidates' own logs (zap, Info and above)")
}

// args returns the flags that reproduce s, for a candidate's command line.
func (s *settings) args() []string {
	return []string{"--container", s.container, "--lease", s.lease.String(), "--poll", s.poll.String(),
		fmt.Sprintf("-v=%t", s.verbose)}
}

// usageError is a bad command line: exit status 2. quiet: flag has
// already said what is wrong.
type usageError struct {
	msg   string
	quiet bool
}

func (e *usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue *usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// parse parses args into fs, and turns flag's errors into usage errors
// (flag has already printed them, with the usage).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error(), quiet: true}
	}
	if fs.NArg() > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// newLeaser returns the leaser of the demo's container, from
// AZURE_STORAGE_CONNECTION_STRING. Its String is the container's URL,
// which carries no secret.
func newLeaser(container string) (*azlease.Leaser, error) {
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		return nil, errors.New("AZURE_STORAGE_CONNECTION_STRING is not set: run `make demo`, which starts Azurite and sets it")
	}
	return azlease.FromConnectionString(cs, container,
		&azlease.Options{CreateContainer: true})
}

// newLogger returns a candidate's logger: console lines on stderr, without
// timestamps (the demo stamps every line it shows), Warn and above unless
// verbose.
func newLogger(verbose bool) *zap.Logger {
	level := zapcore.WarnLevel
	if verbose {
		level = zapcore.InfoLevel
	}
	enc := zap.NewDevelopmentEncoderConfig()
	enc.TimeKey = ""
	enc.CallerKey = ""
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), level)
	return zap.New(core)
}
