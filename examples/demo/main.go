// Command demo shows leader election with leasehold, failover included, on
// one machine: it runs three candidates as separate processes against the
// storage account named by AZURE_STORAGE_CONNECTION_STRING (Azurite under
// `make demo`), shows who leads, kills the leader with SIGKILL so that it
// cannot release its lease, and shows how long the next leader took to
// take over. Then it stops everything it started.
//
// The same binary runs the candidates: `demo candidate --name NAME ...`
// (started by the demo itself, with os.Executable).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "candidate" {
		err = runCandidate(os.Args[2:])
	} else {
		err = runDemo(os.Args[1:])
	}
	var ue *usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp), errors.As(err, &ue) && ue.quiet:
		os.Exit(exitCode(err)) // flag has printed the usage and what is wrong
	default:
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(exitCode(err))
	}
}
