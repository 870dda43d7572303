package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

const breakUsage = `  leasehold break NAME [--period DURATION] [--reason TEXT] [flags]

Breaks the lease of container NAME (with --container C, of lock NAME in
container C), whoever holds it, and says what it broke (holder, term) and
why (--reason). No one can take the lock until the break completes (after
the period), or until the stopped holder releases.

How long a broken holder may still act: until its next renew fails. A
leasehold holder renews every renew interval R (a third of its lease
duration L: 5s at the default 15s, 20s at 60s) and each renew may take up to
a call timeout (R/2), so it learns of the break at most R + R/2 after the
break (7.5s at 15s, 30s at 60s); under 'leasehold lock' or 'elect' its
command then gets SIGTERM, and SIGKILL after its --grace (2s by default).
If its renews cannot reach storage at all, it stops at its own validity
deadline instead: at most L - L/5 after its last successful renew.

--period defaults to 60s, the longest the service allows. The service ends
a fixed lease after the shorter of the period and the lease's remaining
time, so the default never ends a lease before it would have expired on its
own, whatever duration its holder chose: the break completes no sooner than
the holder's validity deadline, so a live holder never acts past the break's
completion, and no one else can take the lock before it has stopped.

HAZARD: a shorter period (0 breaks at once) can complete the break while the
holder still acts (for the window above), so two holders may act at once.
Use it only for a holder you know is dead.`

func runBreak(args []string, stdout, stderr io.Writer) int {
	c := newCommand("break", breakUsage)
	var periodV time.Duration
	period := &periodV
	durationVar(c.fs, period, "period", renewer.MaxBreakPeriod, "break `period`: whole seconds from 0s to 60s (see the hazard above)")
	reason := c.fs.String("reason", "", "why, for the log and the output")
	name, _, err := c.parse(args, stdout, false)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return report(stderr, "", err)
	}
	if *period < 0 || *period > renewer.MaxBreakPeriod || *period%time.Second != 0 {
		return report(stderr, "", fail(exitUsage, "break: --period %v: want whole seconds from 0s to 60s", *period))
	}
	if *reason == "" {
		*reason = "operator break with leasehold (no --reason given)"
	}
	acct, err := c.conn.connect("break", name)
	if err != nil {
		return report(stderr, "", err)
	}
	what := "break " + name
	r, err := renewer.New(acct.target, renewer.WithBreakPeriod(*period), renewer.WithLogger(c.logger(stderr)),
		renewer.WithCallTimeout(min(firstCallTimeout, c.giveUp)))
	if err != nil {
		return report(stderr, "", badOption("break", err, map[string]string{"break period": "--period"}))
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), c.giveUp)
	defer cancel()
	st, err := r.Inspect(ctx)
	if err != nil {
		return report(stderr, what, gaveUp(c, acct.describe(ctx, err), start), acct.secrets...)
	}
	left, err := r.Break(ctx, *reason)
	switch {
	case errors.Is(err, renewer.ErrNoLease):
		fmt.Fprintf(stderr, "leasehold: %s: not leased (state %s); nothing to break\n", what, st.State)
		return exitOK
	case err != nil:
		return report(stderr, what, acct.describe(ctx, err), acct.secrets...)
	}
	if *period < renewer.MaxBreakPeriod {
		fmt.Fprintf(stderr, "leasehold: %s: warning: --period %v may end the lease before a live holder notices\n", what, *period)
	}
	out := statusOf(acct.container, acct.lock, st)
	whose := fmt.Sprintf(" of %s (term %d, was %s)", orUnknown(st.Holder), st.Term, st.State)
	if out.Owner != "leasehold" {
		whose = fmt.Sprintf(" (was %s: %s)", st.State, out.Note)
	}
	fmt.Fprintf(stderr, "leasehold: %s: broke the lease%s; no one can take it for %v; reason: %s\n",
		what, whose, left, *reason)
	return exitOK
}
