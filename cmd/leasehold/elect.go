package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
)

const electUsage = `  leasehold elect NAME --id ID [flags] -- CMD [ARGS...]

Campaigns in election NAME (the lease of container NAME, created if missing;
with --container C, the lease of NAME's blob in container C) as candidate ID,
and runs CMD while it leads, with LEASEHOLD_TERM (the leader's term, the
fencing token: the number status shows and the Go library's Leadership.Term
and Held.Term give for the same lease), LEASEHOLD_IDENTITY and
LEASEHOLD_CONTAINER (and with --container, LEASEHOLD_LOCK) in its
environment, in a process group of its own.

If leadership is lost, CMD's process group gets SIGTERM, then SIGKILL after
--grace (default 2 s, below the lease's 3 s safety margin, so CMD is gone
before anyone else can lead); then leasehold campaigns again, or with
--exit-on-loss exits 4. After a break of its lease ('leasehold break') it
stands aside for 3 poll intervals (2.25 s at the default) before it tries
to take the lease again, so that another candidate leads.
When CMD exits by itself, leasehold resigns (releases the lease, so a
standby takes over at its next poll) and exits with CMD's status. SIGINT,
SIGTERM and SIGHUP are forwarded to CMD while it runs; while campaigning
they end leasehold (exit 128+N).

` + parentDeathHelp

func runElect(args []string, stdout, stderr io.Writer) int {
	c := newCommand("elect", electUsage)
	var (
		id                    string
		grace, duration, poll time.Duration
		exitOnLoss            bool
		profile               string
	)
	c.fs.StringVar(&id, "id", "", "this candidate's `identity`, unique among candidates, printable ASCII (required)")
	durationVar(c.fs, &grace, "grace", defaultGrace, "after SIGTERM on loss, wait `duration` before SIGKILL")
	durationVar(c.fs, &poll, "poll-interval", renewer.DefaultPollInterval, "a standby asks storage every `duration` (jittered)")
	c.fs.BoolVar(&exitOnLoss, "exit-on-loss", false, "exit 4 when leadership is lost, instead of campaigning again")
	c.fs.StringVar(&profile, "profile", "default", "standby `profile`: default, fast-handover or low-cost (README: Standbys and profiles); every candidate of an election should use the same; --poll-interval, if given, overrides the profile's")
	leaseDurationFlag(c.fs, &duration)
	name, argv, err := c.parse(args, stdout, true)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return report(stderr, "", err)
	}
	if id == "" {
		return report(stderr, "", fail(exitUsage, "elect: --id is required (see leasehold elect --help)"))
	}
	if err := errors.Join(checkLeaseDuration("elect", duration), checkGrace("elect", grace)); err != nil {
		return report(stderr, "", firstFailure(err))
	}
	prof, err := election.ProfileNamed(profile)
	if err != nil {
		return report(stderr, "", badOption("elect", err, map[string]string{"profile": "--profile"}))
	}
	if err := lookCommand(argv[0]); err != nil {
		return report(stderr, "elect "+name, err)
	}
	acct, err := c.conn.connect("elect", name)
	if err != nil {
		return report(stderr, "", err)
	}
	log := c.logger(stderr)
	flags := map[string]string{"lease duration": "--lease-duration", "poll interval": "--poll-interval", "identity": "--id"}
	ropts := prof.RenewerOptions(renewer.WithIdentity(id), renewer.WithDuration(duration), renewer.WithLogger(log))
	if c.isSet("poll-interval") {
		ropts = append(ropts, renewer.WithPollInterval(poll))
	}
	r, err := renewer.New(acct.target, ropts...)
	if err != nil {
		return report(stderr, "", badOption("elect", err, flags))
	}
	var next renewer.Leaser // the profile's next-in-line lease, beside the election's
	if b, ok := acct.target.(renewer.Besider); ok {
		if next, err = b.Beside(election.NextInLineSuffix); err != nil {
			return report(stderr, "", badOption("elect", err, flags))
		}
	}
	e, err := election.New(r, prof.Options(next, election.WithLogger(log))...)
	if err != nil {
		return report(stderr, "", badOption("elect", err, flags))
	}
	what := "elect " + name

	sigs, stopSigs := notifySignals()
	defer stopSigs()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)

	unwatch := cancelOnSignal(sigs, cancel)
	start := time.Now()
	sctx, scancel := context.WithTimeout(ctx, c.giveUp)
	err = acct.ensureContainer(sctx)
	scancel()
	unwatch()
	if ierr := interrupted(ctx); ierr != nil {
		return report(stderr, what, ierr)
	}
	if err != nil {
		return report(stderr, what, gaveUp(c, err, start), acct.secrets...)
	}
	for {
		cctx, ccancel := context.WithCancelCause(ctx)
		unwatch := cancelOnSignal(sigs, cancel)
		stopGiveUp := giveUpWatch(c, r, ccancel)
		ld, err := e.Campaign(cctx)
		stopGiveUp()
		unwatch()
		var gu *gaveUpWaiting
		gave := errors.As(context.Cause(cctx), &gu)
		ccancel(nil)
		if ierr := interrupted(ctx); ierr != nil {
			if ld != nil {
				resign(ld)
			}
			return report(stderr, what, ierr)
		}
		if gave && err != nil {
			return report(stderr, what, fail(exitStorage, "gave up: no useful answer from storage for %v (%s %v) while campaigning",
				gu.since.Round(time.Second), c.flagName("give-up"), c.giveUp))
		}
		if err != nil {
			return report(stderr, what, acct.describe(ctx, err), acct.secrets...)
		}
		fmt.Fprintf(stderr, "leasehold: %s: elected (term %d, identity %s)\n", what, ld.Term(), id)
		code, lost := lead(stderr, what, acct, ld, id, name, argv, sigs, grace)
		if !lost || exitOnLoss {
			return code
		}
		if errors.Is(context.Cause(ld.Context()), renewer.ErrBroken) {
			fmt.Fprintf(stderr, "leasehold: %s: the lease was broken: campaigning again after standing aside for %v, so that another candidate leads\n",
				what, election.BrokenStandAside*e.Timing().PollInterval)
			continue
		}
		fmt.Fprintf(stderr, "leasehold: %s: campaigning again\n", what)
	}
}

// lead runs the command for one term. It returns the exit code and whether
// the term ended by a loss (the command was stopped).
func lead(stderr io.Writer, what string, acct *account, ld *election.Leadership, id, name string, argv []string, sigs <-chan os.Signal, grace time.Duration) (int, bool) {
	ch, err := startChild(argv, childEnv(ld.Term(), id, acct))
	if err != nil {
		resign(ld)
		return report(stderr, what, err), false
	}
	for {
		select {
		case <-ch.Done():
			err := resign(ld)
			if errors.Is(err, renewer.ErrLeaseLost) {
				return report(stderr, what, fail(exitLost, "lost leadership (term %d) before the command exited with status %d: %s",
					ld.Term(), ch.Status(), causeLine(err)), acct.secrets...), false
			}
			return commandExited(stderr, what, ch.Status(), "resigned", err, acct.secrets), false
		case <-ld.Done():
			fmt.Fprintf(stderr, "leasehold: %s: lost leadership (term %d): %s; stopping the command\n",
				what, ld.Term(), scrub(causeLine(context.Cause(ld.Context())), acct.secrets...))
			ch.stop(grace)
			resign(ld)
			return report(stderr, what, fail(exitLost, "leadership lost; the command was stopped (its status: %d)", ch.Status())), true
		case s := <-sigs:
			fmt.Fprintf(stderr, "leasehold: %s: forwarding %s to the command\n", what, sigName(s))
			ch.signal(toSyscall(s))
		}
	}
}

// resign ends the term, releasing the lease if it is still held, and
// returns nil or the loss cause.
func resign(ld *election.Leadership) error {
	ctx, cancel := context.WithTimeout(context.Background(), firstCallTimeout)
	defer cancel()
	return ld.Resign(ctx)
}
