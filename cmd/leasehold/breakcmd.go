package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

const breakUsage = `  leasehold break NAME [--period DURATION] [--reason TEXT] [flags]

Breaks the lease of container NAME (with --container C, of lock NAME in
container C), whoever holds it, and says what it broke (holder, term), why
(--reason), and what happens next.

What happens next: no one can take the lock while the break is under way,
but a leasehold holder notices the break at its next renew and then releases
the lease at once, so others can take it from then, usually well before the
break completes. A fixed lease broken with the default period is renewed
within a third of its remaining time, so the holder notices within about
that (break prints the figure). A client that is not leasehold releases when
it pleases; the break completes after the period at the latest.

A leader under 'leasehold elect' (or the Go election package) whose lease
was broken stands aside for 3 poll intervals (2.25s at the default 750ms)
before it campaigns for the lease again, so that another live candidate
leads (a standby polling every poll interval takes it within about one);
with no other candidate, or none that polls the lease that often, it leads
again after that pause.

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
	fmt.Fprintf(stderr, "leasehold: %s: broke the lease%s; reason: %s\n", what, whose, *reason)
	fmt.Fprintf(stderr, "leasehold: %s: %s\n", what, breakOutcome(st, out.Owner, left, *period))
	return exitOK
}

// breakOutcome says what a break that completes in left will do: when the
// holder will notice, when others can take the lease, and what a broken
// leader does then.
//
// A leasehold holder renews every third of its validity window (L, or the
// break period of an infinite lease), and a renew of a broken lease is
// refused at once; it then releases the lease, so others can take it from
// then, not only when the break completes. For a fixed lease broken with
// the default period, left is the lease's remaining time, at most L and
// more than L - L/3 after a renew on time, so the next renew comes within
// left/3 (plus its round trip).
func breakOutcome(st renewer.Status, owner string, left, period time.Duration) string {
	aside := fmt.Sprintf("A leader under 'leasehold elect' (or the election package) whose lease was broken then stands aside "+
		"for %d poll intervals (%v at the default) so that another candidate leads; with none, it leads again.",
		election.BrokenStandAside, election.BrokenStandAside*renewer.DefaultPollInterval)
	if left <= 0 {
		return "the break is complete: anyone can take the lock now. " + aside
	}
	latest := fmt.Sprintf("at the latest in %v, when the break completes", left)
	switch {
	case owner != "leasehold" && owner != "stale":
		return fmt.Sprintf("a client that is not leasehold learns of the break when it next renews; others can take the lock "+
			"once it releases it, %s.", latest)
	case st.Infinite:
		return fmt.Sprintf("%s notices at its next renew, within a third of its break period (5s at the default 15s, at most 20s), "+
			"and releases the lease: others can take it from then, %s. %s", st.Holder, latest, aside)
	}
	notice := 20 * time.Second // a third of the longest lease
	if left < period {
		notice = (left/3 + time.Second).Round(time.Second) // left is the lease's remaining time
	}
	notice = min(notice, left)
	return fmt.Sprintf("%s notices at its next renew, within about %v, and releases the lease: others can take it from then, %s. %s",
		st.Holder, notice, latest, aside)
}
