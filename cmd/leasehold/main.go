// Command leasehold runs commands under a lock or as an elected leader, and
// inspects and breaks the locks, on Azure Blob Storage container leases, or
// (--container C) on blob leases of named locks in container C.
//
//	leasehold lock NAME [flags] -- CMD [ARGS...]
//	leasehold elect NAME --id ID [flags] -- CMD [ARGS...]
//	leasehold status NAME [--json]
//	leasehold status --container C [--json]
//	leasehold break NAME [--period DURATION] [--reason TEXT]
//	leasehold observe NAME [--json] [--count N]
//	leasehold status --container C --watch [--interval DURATION]
//	leasehold version
//
// Run `leasehold help` for the exit codes and the connection flags.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Exit codes of leasehold itself. A command run under lock or elect exits
// with its own status, which leasehold passes on; that status may coincide
// with these, and the last line leasehold writes to stderr tells them apart.
const (
	exitOK      = 0
	exitUsage   = 2   // bad flags, a bad container name, no account configured
	exitHeld    = 3   // the lock is held (--try) or --timeout expired first
	exitLost    = 4   // the lock or leadership was lost; the command was stopped
	exitStorage = 5   // storage refused the credentials, could not be reached, or failed
	exitNoExec  = 126 // the command was found but could not be run
	exitNoCmd   = 127 // the command was not found
	// 128+N: the command was killed by signal N, or leasehold was
	// interrupted by signal N before the command started.
)

const exitCodesHelp = `Exit codes:
  0        the command exited 0, or status/break/observe succeeded
  N        the command's own exit status, passed on
  2        usage error: bad flags, bad container name, no storage account configured
  3        the lock is held (--try), or --timeout expired before it was acquired
  4        the lock or leadership was lost; the command was stopped
  5        storage error: credentials refused, storage unreachable or not
           answering for --give-up, container missing
  126/127  the command could not be run / was not found
  128+N    the command was killed by signal N, or leasehold was interrupted by
           signal N while waiting
A command's own status can coincide with 2-5; leasehold's last line on stderr
always says why it exited: "leasehold: ...: the command exited with status N",
a usage error, "lost", "gave up", "interrupted by SIGNAL", a storage error.`

const mainUsage = `leasehold: run commands under a distributed lock or as an elected leader,
on Azure Blob Storage container leases.

Usage:
  leasehold lock    NAME [flags] -- CMD [ARGS...]   run CMD while holding lock NAME
  leasehold elect   NAME --id ID [flags] -- CMD ... run CMD while leading election NAME
  leasehold status  NAME [--json] [--watch]        show the lease state, holder and term
  leasehold status  --container C [--watch]        every lock of container C, as a table
  leasehold observe NAME [--json] [--count N]      print a line per leader/holder change
  leasehold break   NAME [--period D] [--reason R] break the lease, whoever holds it
  leasehold version                                the version (also --version)
  leasehold help    [COMMAND]

NAME is a container name (3-63 lower-case letters, digits and hyphens); lock
and elect create it if it is missing. With --container C, NAME is any text (up
to 256 bytes) naming a lock kept with others in container C, as the lease of a
blob there: 'leasehold status --container C' shows them all. Flags may come
before or after NAME; everything after -- is the command. Run 'leasehold
COMMAND --help' for a command's flags.

Every flag can also be set by an environment variable: LEASEHOLD_ and the
flag's name in upper case with - as _ (--lease-duration is
LEASEHOLD_LEASE_DURATION, --id LEASEHOLD_ID, --container LEASEHOLD_CONTAINER).
A flag on the command line wins; a bad value is an error naming the variable.
Durations want a unit (15s, 500ms, 2m): a bare number other than 0 is refused.

` + accountHelp + `

` + exitCodesHelp + "\n"

// accountHelp says where the storage account comes from, for every
// command's help.
const accountHelp = `Storage account (every command; the first of these that is given):
  --account-url URL       https://ACCOUNT.blob.core.windows.net with
                          DefaultAzureCredential (managed or workload identity,
                          environment, Azure CLI login); the identity needs the
                          Storage Blob Data Contributor role. http:// only for
                          a loopback host (the emulator).
  --account-url URL --sas the same URL, authorized by the SAS token in
                          AZURE_STORAGE_SAS_TOKEN: an account SAS (ss=b, srt=c,
                          sp=rw; sp=r for status), or with --container C a SAS
                          for C or for the lock's blob (sp=rw)
  --account-url URL with AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY set:
                          the account key (shared key) at that URL
  --connection-string S   a connection string (prefer the environment variable:
                          the command line is visible to other users)
  --emulator              Azurite's default local endpoint, 127.0.0.1:10000
  AZURE_STORAGE_CONNECTION_STRING
  AZURE_STORAGE_ACCOUNT   the account's name: https://NAME.blob.core.windows.net
                          with AZURE_STORAGE_KEY if set, else with --sas the SAS,
                          else DefaultAzureCredential
No key, token, SAS or connection string is ever printed.
A credential that storage refuses, or that cannot get a token, ends leasehold
with exit code 5 and the reason, and so does storage that has not answered
for --give-up (default 1m). A lock or leadership whose credential or storage
stops working while held is given up at its validity deadline: lock exits 4;
elect, refused when it campaigns again, exits 5.`

// defaultGiveUp is how long leasehold waits for storage to answer at all
// (--give-up) before it gives up with exit code 5.
const defaultGiveUp = time.Minute

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a command and returns the process's exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "lock":
		return runLock(rest, stdout, stderr)
	case "elect":
		return runElect(rest, stdout, stderr)
	case "status":
		return runStatus(rest, stdout, stderr)
	case "break":
		return runBreak(rest, stdout, stderr)
	case "observe":
		return runObserve(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionText())
		return exitOK
	case watchCommand:
		return runWatcher(rest, os.Stdin)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "leasehold: unknown command %q (want lock, elect, status, observe, break, version or help)\n", cmd)
	return exitUsage
}

// failure is an error with the exit code it ends leasehold with.
type failure struct {
	code int
	msg  string
}

func (f *failure) Error() string { return f.msg }

func fail(code int, format string, a ...any) error {
	return &failure{code: code, msg: fmt.Sprintf(format, a...)}
}

// report writes err as one line, prefixed with the command and container,
// and returns its exit code: a *failure's, or exitStorage for anything else
// (every other error comes from storage).
func report(stderr io.Writer, what string, err error, secrets ...string) int {
	code := exitStorage
	var f *failure
	if errors.As(err, &f) {
		code = f.code
	}
	msg := oneLine(scrub(err.Error(), secrets...))
	if what != "" {
		msg = what + ": " + msg
	}
	fmt.Fprintf(stderr, "leasehold: %s\n", msg)
	return code
}

// oneLine joins a multi-line message (azidentity's are) into one line.
func oneLine(s string) string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, " ")
}

// scrub replaces every non-empty secret in s.
func scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
