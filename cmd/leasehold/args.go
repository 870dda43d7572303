package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// command is one subcommand's flag set and what every command shares: the
// storage account flags and --verbose.
type command struct {
	name  string
	usage string // the lines after "Usage:", and the description
	fs    *flag.FlagSet
	conn  connFlags

	verbose bool
	giveUp  time.Duration
	// fromEnv names the flags set from LEASEHOLD_* variables (flag ->
	// variable), for messages.
	fromEnv map[string]string
	// anyName lets NAME be left out when --container is given (status
	// of every lock in the container).
	anyName bool
}

func newCommand(name, usage string) *command {
	c := &command{name: name, usage: usage, fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.StringVar(&c.conn.connectionString, "connection-string", "", "storage connection `string` (default $AZURE_STORAGE_CONNECTION_STRING; the command line is visible to other users)")
	c.fs.StringVar(&c.conn.accountURL, "account-url", "", "account `URL` (https://ACCOUNT.blob.core.windows.net; http:// only to a loopback host), authorized by DefaultAzureCredential, --sas, or $AZURE_STORAGE_KEY with $AZURE_STORAGE_ACCOUNT")
	c.fs.BoolVar(&c.conn.sas, "sas", false, "authorize --account-url with the SAS token in $"+sasTokenEnv+" instead of DefaultAzureCredential")
	c.fs.BoolVar(&c.conn.emulator, "emulator", false, "use Azurite's default local endpoint (http://127.0.0.1:10000/devstoreaccount1)")
	c.fs.StringVar(&c.conn.container, "container", "", "keep lock NAME, any text of up to 256 bytes, as the lease of a blob in container `C` with other named locks; without it NAME is a container")
	c.fs.BoolVar(&c.verbose, "verbose", false, "log the library's decisions to stderr")
	durationVar(c.fs, &c.giveUp, "give-up", defaultGiveUp, "give up (exit 5) when storage has not answered for `duration`: unreachable, timing out or failing")
	return c
}

// parse parses args: flags anywhere before "--", exactly one positional
// NAME, and, if wantCmd, a command after "--". Help is written to stdout
// and reported as errHelp; a usage error is returned as a *failure.
func (c *command) parse(args []string, stdout io.Writer, wantCmd bool) (name string, cmd []string, err error) {
	c.fs.SetOutput(io.Discard)
	before := args
	for i, a := range args {
		if a == "--" {
			before, cmd = args[:i], args[i+1:]
			break
		}
	}
	var names []string
	rest := before
	for {
		if err := c.fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.help(stdout)
				return "", nil, errHelp
			}
			return "", nil, fail(exitUsage, "%s: %s (see leasehold %s --help)", c.name, flagError(err), c.name)
		}
		if c.fs.NArg() == 0 {
			break
		}
		names = append(names, c.fs.Arg(0))
		rest = c.fs.Args()[1:]
	}
	fromEnv, err := applyEnv(c.name, c.fs)
	if err != nil {
		return "", nil, err
	}
	c.fromEnv = fromEnv
	if c.giveUp <= 0 {
		return "", nil, fail(exitUsage, "%s: %s %v: want more than 0", c.name, c.flagName("give-up"), c.giveUp)
	}
	switch {
	case len(names) == 0 && c.anyName && c.conn.container != "" && !wantCmd:
		return "", nil, c.checkContainer()
	case len(names) == 0 && c.conn.container != "":
		return "", nil, fail(exitUsage, "%s: missing lock NAME (see leasehold %s --help)", c.name, c.name)
	case len(names) == 0:
		return "", nil, fail(exitUsage, "%s: missing container NAME (see leasehold %s --help)", c.name, c.name)
	case len(names) > 1 && wantCmd:
		return "", nil, fail(exitUsage, "%s: unexpected argument %q: put the command after -- (see leasehold %s --help)", c.name, names[1], c.name)
	case len(names) > 1:
		return "", nil, fail(exitUsage, "%s: unexpected argument %q (see leasehold %s --help)", c.name, names[1], c.name)
	case wantCmd && len(cmd) == 0:
		return "", nil, fail(exitUsage, "%s: missing command: leasehold %s NAME [flags] -- CMD [ARGS...]", c.name, c.name)
	case !wantCmd && cmd != nil:
		return "", nil, fail(exitUsage, "%s: takes no command after --", c.name)
	}
	if c.conn.container != "" {
		if err := c.checkContainer(); err != nil {
			return "", nil, err
		}
		if err := renewer.ValidateName(names[0]); err != nil {
			return "", nil, badOption(c.name, err, nil)
		}
		return names[0], cmd, nil
	}
	if err := azlease.ValidateContainerName(names[0]); err != nil {
		var oe *renewer.OptionError
		if errors.As(err, &oe) {
			e := *oe
			e.Rule += " (or name the lock by any text and give its container with --container C)"
			err = &e
		}
		return "", nil, badOption(c.name, err, nil)
	}
	return names[0], cmd, nil
}

// checkContainer checks --container's value.
func (c *command) checkContainer() error {
	if err := azlease.ValidateContainerName(c.conn.container); err != nil {
		var oe *renewer.OptionError
		if errors.As(err, &oe) {
			e := *oe
			e.Field = "--container"
			err = &e
		}
		return badOption(c.name, err, nil)
	}
	return nil
}

// errHelp says that help was asked for and written: exit 0.
var errHelp = errors.New("help")

func (c *command) help(w io.Writer) {
	fmt.Fprintf(w, "Usage:\n%s\n\nFlags (each also from the environment variable shown; a flag given wins):\n", c.usage)
	printFlags(w, c.fs)
	fmt.Fprintf(w, "\n%s\n\n%s\n", accountHelp, exitCodesHelp)
}

// logger is a console logger on stderr with --verbose, else a no-op.
func (c *command) logger(stderr io.Writer) *zap.Logger {
	if !c.verbose {
		return zap.NewNop()
	}
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(stderr), zapcore.DebugLevel)
	return zap.New(core).Named("leasehold")
}

// badOption returns the usage failure (exit 2) of err, which a
// constructor returned for what cmd's flags and arguments gave it. A
// *renewer.OptionError reads "cmd: invalid option: FIELD VALUE: RULE",
// with FIELD the flag that set it when flags (field -> flag) names one;
// secrets are scrubbed from any other error.
func badOption(cmd string, err error, flags map[string]string, secrets ...string) error {
	var oe *renewer.OptionError
	if !errors.As(err, &oe) {
		return fail(exitUsage, "%s: %s", cmd, scrub(err.Error(), secrets...))
	}
	e := *oe
	e.Pkg = cmd // the command, not the package, prefixes the message
	if f, ok := flags[e.Field]; ok {
		e.Field = f
	}
	return fail(exitUsage, "%s", scrub(e.Error(), secrets...))
}

// leaseDurationFlag is --lease-duration: whole seconds from 15 s to 60 s.
func leaseDurationFlag(fs *flag.FlagSet, d *time.Duration) {
	durationVar(fs, d, "lease-duration", renewer.DefaultDuration, "lease `duration`: whole seconds from 15s to 60s; a crashed holder's lock passes on after it")
}

// isSet reports whether flag name was given, on the command line or by its
// environment variable.
func (c *command) isSet(name string) bool {
	set := false
	c.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// flagName is "--name", or "--name (from $LEASEHOLD_NAME)" for a flag the
// environment set.
func (c *command) flagName(name string) string {
	if env, ok := c.fromEnv[name]; ok {
		return "--" + name + " (from $" + env + ")"
	}
	return "--" + name
}

func checkLeaseDuration(cmd string, d time.Duration) error {
	if d < renewer.MinDuration || d > renewer.MaxDuration || d%time.Second != 0 {
		return fail(exitUsage, "%s: --lease-duration %v: want whole seconds from 15s to 60s", cmd, d)
	}
	return nil
}

func checkGrace(cmd string, d time.Duration) error {
	if d < 0 {
		return fail(exitUsage, "%s: --grace %v: want 0 or more", cmd, d)
	}
	return nil
}
