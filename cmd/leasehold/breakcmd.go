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
container C), whoever holds it, and says what it broke
(holder, term) and why (--reason). The holder sees the break at its next
renew and loses the lock: under 'leasehold lock' or 'elect' its command gets
SIGTERM. No one can take the lock until the break period is over, or until
the stopped holder releases.

--period defaults to 60s, the longest the service allows. The service ends a
fixed lease after the shorter of the period and the lease's remaining time,
so the default never ends a lease before it would have expired on its own,
whatever duration its holder chose: a live holder always learns of the loss
before anyone else can take the lock.

HAZARD: a shorter period (0 breaks at once) can end the lease while a live
holder still believes it holds it, for up to its lease duration, so two
holders may act at once. Use it only for a holder you know is dead.`

func runBreak(args []string, stdout, stderr io.Writer) int {
	c := newCommand("break", breakUsage)
	period := c.fs.Duration("period", renewer.MaxBreakPeriod, "break `period`: whole seconds from 0s to 60s (see the hazard above)")
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
		renewer.WithCallTimeout(firstCallTimeout))
	if err != nil {
		return report(stderr, "", badOption("break", err, map[string]string{"break period": "--period"}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), firstCallTimeout)
	defer cancel()
	st, err := r.Inspect(ctx)
	if err != nil {
		return report(stderr, what, acct.describe(ctx, err), acct.secrets...)
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
	fmt.Fprintf(stderr, "leasehold: %s: broke the lease of %s (term %d, was %s); no one can take it for %v; reason: %s\n",
		what, orUnknown(st.Holder), st.Term, st.State, left, *reason)
	return exitOK
}
