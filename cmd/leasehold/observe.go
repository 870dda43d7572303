package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

const observeUsage = `  leasehold observe NAME [--json] [--count N] [--interval D] [flags]
  leasehold observe NAME --container C [...]

Watches who holds lease NAME (container NAME; with --container C, lock NAME
in container C) and prints one line per change: first the current state,
then each change of state, holder, term or payload (what the holder
published with its term, e.g. its address), like 'etcdctl elect --listen'. It
reads the lease every --interval with one storage call (renewer.Inspect) and
holds nothing. Changes between two reads are not seen; a holder that came
and went between them is missed. Observation is for people and routing,
never for safety: only a holder's own lease says whether it holds.

Runs until interrupted (exit 128+N), --count lines (exit 0), or storage has
not answered for --give-up (exit 5).

A line: TIME NAME: STATE by HOLDER (term T, ...), as status prints it, with
TIME in UTC. With --json, one object per line: status --json's, with "time".`

// observed is one line of observe --json.
type observed struct {
	Time string `json:"time"`
	statusJSON
}

func runObserve(args []string, stdout, stderr io.Writer) int {
	c := newCommand("observe", observeUsage)
	asJSON := c.fs.Bool("json", false, "print one JSON object per change")
	count := c.fs.Int("count", 0, "stop after `N` lines, the first (the current state) included (0: until interrupted)")
	var interval time.Duration
	durationVar(c.fs, &interval, "interval", renewer.DefaultPollInterval, "read the lease every `duration` (at least 100ms)")
	name, _, err := c.parse(args, stdout, false)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return report(stderr, "", err)
	}
	if interval < 100*time.Millisecond || *count < 0 {
		return report(stderr, "", fail(exitUsage, "observe: want %s of at least 100ms and %s of 0 or more", c.flagName("interval"), c.flagName("count")))
	}
	acct, err := c.conn.connect("observe", name)
	if err != nil {
		return report(stderr, "", err)
	}
	what := name
	if acct.lock != "" {
		what = acct.container + ": " + name
	}
	var (
		last  statusJSON
		lines int
	)
	read := func(ctx context.Context) ([]statusJSON, error) {
		st, err := renewer.Inspect(ctx, acct.target)
		if errors.Is(err, renewer.ErrContainerNotFound) {
			// Nothing holds a lease there yet: wait for it.
			out := statusOf(acct.container, acct.lock, renewer.Status{State: renewer.StateAvailable})
			out.Note = "the container does not exist yet"
			return []statusJSON{out}, nil
		}
		if err != nil {
			return nil, err
		}
		return []statusJSON{statusOf(acct.container, acct.lock, st)}, nil
	}
	show := func(outs []statusJSON) bool {
		out := outs[0]
		if lines > 0 && sameHolding(last, out) {
			return false
		}
		last = out
		lines++
		now := time.Now().UTC().Format(time.RFC3339)
		if *asJSON {
			b, _ := json.Marshal(observed{Time: now, statusJSON: out}) // strings, ints and bools
			fmt.Fprintf(stdout, "%s\n", b)
		} else {
			printStatus(stdout, now+" "+what, out)
		}
		return *count > 0 && lines >= *count
	}
	err = poll(c, acct, interval, read, show, stderr, "observe "+what)
	if err != nil {
		return report(stderr, "observe "+what, err, acct.secrets...)
	}
	fmt.Fprintf(stderr, "leasehold: observe %s: %d lines shown (--count %d)\n", what, lines, *count)
	return exitOK
}

// sameHolding reports whether a and b show the same holding: what observe
// prints a line for when it changes. The age and heartbeat change on
// their own and are not compared.
func sameHolding(a, b statusJSON) bool {
	return a.State == b.State && a.Holder == b.Holder && a.Term == b.Term && a.Payload == b.Payload &&
		a.Owner == b.Owner && a.Duration == b.Duration
}

// poll calls read every interval, and show with what it read, until show
// says stop (nil), a signal (a *failure with exit 128+N), or storage has not
// answered for --give-up (a *failure with exit 5). Failed reads in between
// are reported on stderr, one line each.
func poll(c *command, acct *account, interval time.Duration, read func(context.Context) ([]statusJSON, error),
	show func([]statusJSON) (stop bool), stderr io.Writer, what string) error {
	sigs, stopSigs := notifySignals()
	defer stopSigs()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	unwatch := cancelOnSignal(sigs, cancel)
	defer unwatch()

	lastOK := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return interrupted(ctx)
		case <-t.C:
		}
		start := time.Now()
		rctx, rcancel := context.WithTimeout(ctx, min(firstCallTimeout, c.giveUp, max(interval, time.Second)*5))
		outs, err := read(rctx)
		if ierr := interrupted(ctx); ierr != nil {
			rcancel()
			return ierr
		}
		if err != nil {
			derr := acct.describe(rctx, err)
			rcancel()
			if time.Since(lastOK) >= c.giveUp || errors.Is(err, renewer.ErrForbidden) || errors.Is(err, renewer.ErrContainerNotFound) {
				return gaveUp(c, derr, lastOK)
			}
			fmt.Fprintf(stderr, "leasehold: %s: %s; trying again\n", what, derr)
		} else {
			rcancel()
			lastOK = time.Now()
			if show(outs) {
				return nil
			}
		}
		t.Reset(max(0, interval-time.Since(start)))
	}
}

// gaveUp is the exit-5 failure of storage not answered for --give-up
// since last (or of an answer no retry can change).
func gaveUp(c *command, cause error, last time.Time) error {
	var f *failure
	msg := cause.Error()
	if errors.As(cause, &f) {
		msg = f.msg
	}
	if since := time.Since(last); since >= c.giveUp {
		return fail(exitStorage, "gave up: no answer from storage for %v (%s %v): %s", since.Round(time.Second), c.flagName("give-up"), c.giveUp, msg)
	}
	return fail(exitStorage, "%s", msg)
}

// watchStatus is status --watch: the table again every interval.
func watchStatus(c *command, acct *account, what string, all bool, read func(context.Context) ([]statusJSON, error),
	asJSON bool, interval time.Duration, count int, stdout, stderr io.Writer) int {
	tty := isTerminal(stdout)
	shown := 0
	show := func(outs []statusJSON) bool {
		shown++
		switch {
		case asJSON && all:
			b, _ := json.Marshal(outs)
			fmt.Fprintf(stdout, "%s\n", b)
		case asJSON:
			b, _ := json.Marshal(outs[0])
			fmt.Fprintf(stdout, "%s\n", b)
		default:
			var b strings.Builder
			if tty {
				b.WriteString("\x1b[H\x1b[2J") // home, clear: redraw in place
			} else if shown > 1 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%s  every %v  %s\n", what, interval, time.Now().UTC().Format(time.RFC3339))
			writeTable(&b, all, outs)
			_, _ = io.WriteString(stdout, b.String())
		}
		return count > 0 && shown >= count
	}
	if err := poll(c, acct, interval, read, show, stderr, "status "+what); err != nil {
		return report(stderr, "status "+what, err, acct.secrets...)
	}
	fmt.Fprintf(stderr, "leasehold: status %s: %d tables shown (--count %d)\n", what, shown, count)
	return exitOK
}

// writeTable writes the status table: a row per lock.
func writeTable(w io.Writer, all bool, outs []statusJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	first := "CONTAINER"
	if all || (len(outs) > 0 && outs[0].Lock != "") {
		first = "LOCK"
	}
	fmt.Fprintf(tw, "%s\tSTATE\tHOLDER\tTERM\tAGE\tNOTE\n", first)
	if len(outs) == 0 {
		fmt.Fprintf(tw, "(no locks)\t\t\t\t\t\n")
	}
	for _, o := range outs {
		n := o.Container
		if o.Lock != "" {
			n = fmt.Sprintf("%q", o.Lock)
		}
		holder, term, age, note := orDash(o.Holder), "-", "-", ""
		if o.Term > 0 {
			term = fmt.Sprint(o.Term)
		}
		if o.age >= 0 {
			age = o.age.Round(time.Second).String()
		}
		switch o.Owner {
		case "unknown":
			holder, term, note = "?", "-", "not leasehold, or leasehold before its term write"
		case "foreign":
			holder, term, note = "?", "-", fmt.Sprintf("not leasehold: %s released term %d", orUnknown(o.Holder), o.Term)
		case "stale":
			holder, note = o.Holder+"?", "heartbeat stopped: maybe not leasehold"
		}
		switch {
		case !o.Held && o.Term > 0 && o.Released:
			note = "last holder, released"
		case !o.Held && o.Term > 0:
			note = "last holder"
		}
		if o.Duration == "infinite" {
			note = strings.TrimPrefix(note+"; infinite", "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n, o.State, holder, term, age, note)
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
