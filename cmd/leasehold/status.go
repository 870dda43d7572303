package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/leasehold/leasehold/renewer"
)

const statusUsage = `  leasehold status NAME [--json] [flags]

Shows the lease state of container NAME and its last holder's identity and
term, with one storage call and without taking anything. Holder and term stay
after a holder releases; "held" says whether a lease is active. Right after a
new holder acquires, they may still name the previous holder for one round
trip. The service does not report a lease's duration, only whether it is
fixed or infinite.

With --json, one object on stdout:
  {"container":"jobs","state":"leased","held":true,"holder":"worker-1",
   "term":7,"heartbeat":0,"infinite":false,"duration":"fixed"}
state is one of available, leased, expired, breaking, broken; duration is
"fixed", "infinite", or "" when no lease is active.`

// statusJSON is the --json output.
type statusJSON struct {
	Container string `json:"container"`
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
	st, err := renewer.Inspect(ctx, acct.leaser)
	if err != nil {
		return report(stderr, "status "+name, acct.describe(ctx, err), acct.secrets...)
	}
	out := statusJSON{
		Container: name,
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
	if *asJSON {
		b, _ := json.Marshal(out) // a struct of strings, ints and bools
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	switch {
	case out.Held:
		fmt.Fprintf(stdout, "%s: %s by %s (term %d, %s lease", name, out.State, orUnknown(out.Holder), out.Term, out.Duration)
		if out.Heartbeat > 0 {
			fmt.Fprintf(stdout, ", heartbeat %d", out.Heartbeat)
		}
		fmt.Fprintln(stdout, ")")
	case out.Term > 0:
		fmt.Fprintf(stdout, "%s: %s; last held by %s (term %d)\n", name, out.State, orUnknown(out.Holder), out.Term)
	default:
		fmt.Fprintf(stdout, "%s: %s; never held\n", name, out.State)
	}
	return exitOK
}
