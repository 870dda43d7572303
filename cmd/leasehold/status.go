package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

const statusUsage = `  leasehold status NAME [--json] [flags]
  leasehold status NAME --container C [--json] [flags]
  leasehold status --container C [--json] [flags]

Shows the lease state of container NAME (with --container C, of lock NAME in
container C) and its last holder's identity and term, with one storage call
and without taking anything. With --container C and no NAME, shows every lock
of container C, one line each (sorted by name), with one List Blobs call per
5,000 locks. Holder and term stay
after a holder releases; "held" says whether a lease is active. Right after a
new holder acquires, they may still name the previous holder for one round
trip. The service does not report a lease's duration, only whether it is
fixed or infinite.

With --json, one object on stdout (per lock, in a JSON array, for every lock
of a container; "lock" only with --container):
  {"container":"jobs","lock":"nightly/eu","state":"leased","held":true,
   "holder":"worker-1","term":7,"heartbeat":0,"infinite":false,"duration":"fixed"}
state is one of available, leased, expired, breaking, broken; duration is
"fixed", "infinite", or "" when no lease is active.`

// statusJSON is the --json output.
type statusJSON struct {
	Container string `json:"container"`
	Lock      string `json:"lock,omitempty"`
	State     string `json:"state"`
	Held      bool   `json:"held"`
	Holder    string `json:"holder"`
	Term      int64  `json:"term"`
	Heartbeat int64  `json:"heartbeat"`
	Infinite  bool   `json:"infinite"`
	Duration  string `json:"duration"`
}

func runStatus(args []string, stdout, stderr io.Writer) int {
	c := newCommand("status", statusUsage)
	c.anyName = true
	asJSON := c.fs.Bool("json", false, "print one JSON object")
	name, _, err := c.parse(args, stdout, false)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return report(stderr, "", err)
	}
	acct, err := c.conn.connect("status", name)
	if err != nil {
		return report(stderr, "", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), firstCallTimeout)
	defer cancel()
	if name == "" {
		return statusAll(ctx, acct, *asJSON, stdout, stderr)
	}
	what := name
	if acct.lock != "" {
		what = acct.container + ": " + name
	}
	st, err := renewer.Inspect(ctx, acct.target)
	if err != nil {
		return report(stderr, "status "+what, acct.describe(ctx, err), acct.secrets...)
	}
	out := statusOf(acct.container, acct.lock, st)
	if *asJSON {
		b, _ := json.Marshal(out) // a struct of strings, ints and bools
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	printStatus(stdout, what, out)
	return exitOK
}

// statusAll shows every named lock of the container.
func statusAll(ctx context.Context, acct *account, asJSON bool, stdout, stderr io.Writer) int {
	ls, err := azlease.NewLister(acct.leaser.Client())
	if err != nil {
		return report(stderr, "status "+acct.container, err)
	}
	locks, err := ls.Locks(ctx)
	if err != nil {
		return report(stderr, "status "+acct.container, acct.describe(ctx, err), acct.secrets...)
	}
	names := slices.Sorted(maps.Keys(locks))
	outs := make([]statusJSON, 0, len(names))
	for _, n := range names {
		outs = append(outs, statusOf(acct.container, n, locks[n]))
	}
	if asJSON {
		b, _ := json.Marshal(outs)
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	if len(outs) == 0 {
		fmt.Fprintf(stdout, "%s: no named locks\n", acct.container)
	}
	for _, out := range outs {
		printStatus(stdout, acct.container+": "+strconv.Quote(out.Lock), out)
	}
	return exitOK
}

func statusOf(container, lock string, st renewer.Status) statusJSON {
	out := statusJSON{
		Container: container,
		Lock:      lock,
		State:     st.State.String(),
		Held:      st.Held(),
		Holder:    st.Holder,
		Term:      st.Term,
		Heartbeat: st.Heartbeat,
		Infinite:  st.Held() && st.Infinite,
	}
	if st.Held() {
		out.Duration = "fixed"
		if st.Infinite {
			out.Duration = "infinite"
		}
	}
	return out
}

func printStatus(w io.Writer, what string, out statusJSON) {
	switch {
	case out.Held:
		fmt.Fprintf(w, "%s: %s by %s (term %d, %s lease", what, out.State, orUnknown(out.Holder), out.Term, out.Duration)
		if out.Heartbeat > 0 {
			fmt.Fprintf(w, ", heartbeat %d", out.Heartbeat)
		}
		fmt.Fprintln(w, ")")
	case out.Term > 0:
		fmt.Fprintf(w, "%s: %s; last held by %s (term %d)\n", what, out.State, orUnknown(out.Holder), out.Term)
	default:
		fmt.Fprintf(w, "%s: %s; never held\n", what, out.State)
	}
}
