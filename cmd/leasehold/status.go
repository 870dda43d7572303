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
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

const statusUsage = `  leasehold status NAME [--json] [--watch [--interval D] [--count N]] [flags]
  leasehold status NAME --container C [--json] [--watch ...] [flags]
  leasehold status --container C [--json] [--watch ...] [flags]

Shows the lease state of container NAME (with --container C, of lock NAME in
container C) and its last holder's identity and term, with one storage call
and without taking anything. With --container C and no NAME, shows every lock
of container C, one line each (sorted by name), with one List Blobs call per
5,000 locks. Holder and term stay after a holder releases; "held" says
whether a lease is active. Right after a new holder acquires, they may still
name the previous holder for one round trip. The service does not report a
lease's duration, only whether it is fixed or infinite, and not at all while
it is being broken.

Who holds a lease: the service does not say; leasehold writes its holder and
term into the metadata under the lease, and a holder that releases writes a
released marker just before (a holder that lost its lease or crashed leaves
none). A lease whose metadata has no term is reported as "leased by a client
that is not leasehold, or by leasehold before it wrote its term"; a lease
held after its last leasehold holder released as "leased by a client that
is not leasehold" (or by leasehold in the round trip before its term
write), naming the holder that released; one whose holder writes heartbeats
(infinite leases) that stopped over 2m before as possibly another client's.
Whoever holds it, the text says whether the lease is fixed or infinite: an
infinite lease never expires, and only a break ends it.

With --watch, shows the table again every --interval (default 2s): redrawn
in place on a terminal, one table after another otherwise, until
interrupted (exit 128+N), --count tables, or storage has not answered for
--give-up (exit 5). Columns: LOCK (or CONTAINER), STATE, HOLDER, TERM, AGE
(since the holder's last metadata write, by the service's clock).

With --json, one object on stdout (per lock, in a JSON array, for every lock
of a container; "lock" only with --container; with --watch, one line per
refresh):
  {"container":"jobs","lock":"nightly/eu","state":"leased","held":true,
   "holder":"worker-1","term":7,"released":false,"heartbeat":0,"infinite":false,
   "duration":"fixed","owner":"leasehold","age_seconds":42}
state is one of available, leased, expired, breaking, broken; duration is
"fixed", "infinite", or "" when no lease is active or it is being broken;
released is true when the holder named released the lease (the lease, if
held, is then someone else's); owner is "" when no lease is active,
"leasehold" when the metadata names a leasehold holder that holds it,
"foreign" when its last leasehold holder released it and another client
holds it, "unknown" when the lease's metadata has no leasehold term, "stale"
when its heartbeat stopped (then "note" says more); age_seconds is left out
when the service did not say.`

// statusJSON is the --json output.
type statusJSON struct {
	Container  string `json:"container"`
	Lock       string `json:"lock,omitempty"`
	State      string `json:"state"`
	Held       bool   `json:"held"`
	Holder     string `json:"holder"`
	Term       int64  `json:"term"`
	Released   bool   `json:"released"`
	Heartbeat  int64  `json:"heartbeat"`
	Payload    string `json:"payload,omitempty"`
	Infinite   bool   `json:"infinite"`
	Duration   string `json:"duration"`
	Owner      string `json:"owner"`
	Note       string `json:"note,omitempty"`
	AgeSeconds *int64 `json:"age_seconds,omitempty"`

	age time.Duration // -1: unknown
}

// staleHeartbeat is how old a heartbeating holder's last write may be
// before status doubts that the holder is leasehold: a leasehold holder
// with heartbeats writes one every renew interval, at most 20 s (a third of
// the longest 60 s window).
const staleHeartbeat = 2 * time.Minute

func runStatus(args []string, stdout, stderr io.Writer) int {
	c := newCommand("status", statusUsage)
	c.anyName = true
	asJSON := c.fs.Bool("json", false, "print JSON: one object, or an array for a container")
	watch := c.fs.Bool("watch", false, "show the status again every --interval, as a table, until interrupted")
	var interval time.Duration
	durationVar(c.fs, &interval, "interval", 2*time.Second, "with --watch, refresh every `duration` (at least 100ms)")
	count := c.fs.Int("count", 0, "with --watch, stop after `N` tables (0: until interrupted)")
	name, _, err := c.parse(args, stdout, false)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return report(stderr, "", err)
	}
	if !*watch && (c.isSet("interval") || c.isSet("count")) {
		return report(stderr, "", fail(exitUsage, "status: %s and %s go with --watch", c.flagName("interval"), c.flagName("count")))
	}
	if interval < 100*time.Millisecond || *count < 0 {
		return report(stderr, "", fail(exitUsage, "status: want %s of at least 100ms and %s of 0 or more", c.flagName("interval"), c.flagName("count")))
	}
	acct, err := c.conn.connect("status", name)
	if err != nil {
		return report(stderr, "", err)
	}
	what := name
	switch {
	case name == "":
		what = acct.container
	case acct.lock != "":
		what = acct.container + ": " + name
	}
	read := func(ctx context.Context) ([]statusJSON, error) {
		if name == "" {
			return readAll(ctx, acct)
		}
		st, err := renewer.Inspect(ctx, acct.target)
		if err != nil {
			return nil, err
		}
		return []statusJSON{statusOf(acct.container, acct.lock, st)}, nil
	}
	if *watch {
		return watchStatus(c, acct, what, name == "", read, *asJSON, interval, *count, stdout, stderr)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), c.giveUp)
	defer cancel()
	outs, err := read(ctx)
	if err != nil {
		return report(stderr, "status "+what, gaveUp(c, acct.describe(ctx, err), start), acct.secrets...)
	}
	switch {
	case *asJSON && name == "":
		b, _ := json.Marshal(outs) // structs of strings, ints and bools
		fmt.Fprintf(stdout, "%s\n", b)
	case *asJSON:
		b, _ := json.Marshal(outs[0])
		fmt.Fprintf(stdout, "%s\n", b)
	case name == "":
		if len(outs) == 0 {
			fmt.Fprintf(stdout, "%s: no named locks\n", acct.container)
		}
		for _, out := range outs {
			printStatus(stdout, acct.container+": "+strconv.Quote(out.Lock), out)
		}
	default:
		printStatus(stdout, what, outs[0])
	}
	return exitOK
}

// readAll reads every named lock of the container, sorted by name.
func readAll(ctx context.Context, acct *account) ([]statusJSON, error) {
	ls, err := azlease.NewLister(acct.leaser.Client())
	if err != nil {
		return nil, err
	}
	locks, err := ls.Locks(ctx)
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(locks))
	outs := make([]statusJSON, 0, len(names))
	for _, n := range names {
		outs = append(outs, statusOf(acct.container, n, locks[n]))
	}
	return outs, nil
}

func statusOf(container, lock string, st renewer.Status) statusJSON {
	out := statusJSON{
		Container: container,
		Lock:      lock,
		State:     st.State.String(),
		Held:      st.Held(),
		Holder:    st.Holder,
		Term:      st.Term,
		Released:  st.Released,
		Heartbeat: st.Heartbeat,
		Payload:   st.Payload,
		Infinite:  st.State == renewer.StateLeased && st.Infinite,
		age:       -1,
	}
	if !st.LastModified.IsZero() && !st.Date.IsZero() && !st.Date.Before(st.LastModified) {
		out.age = st.Date.Sub(st.LastModified)
		secs := int64(out.age / time.Second)
		out.AgeSeconds = &secs
	}
	if st.State == renewer.StateLeased {
		// While a lease is being broken the service does not say whether
		// it was infinite: a breaking lease is neither.
		out.Duration = "fixed"
		if st.Infinite {
			out.Duration = "infinite"
		}
	}
	out.Owner, out.Note = ownerOf(st, out.age)
	return out
}

// ownerOf says who holds a held lease, as far as its metadata can tell:
// "leasehold" (the metadata names a leasehold holder and term), "foreign"
// (the leasehold holder named released it: another client holds it, or a
// leasehold holder before its term write), "unknown" (no term: the same
// two), "stale" (a heartbeating holder's heartbeat stopped), or "" if no
// lease is active; with a note for all but the first.
func ownerOf(st renewer.Status, age time.Duration) (owner, note string) {
	switch {
	case !st.Held():
		return "", ""
	case st.Released:
		return "foreign", fmt.Sprintf("leased by a client that is not leasehold (%s released term %d before it; "+
			"or a leasehold holder in the round trip before its term write)", orUnknown(st.Holder), st.Term)
	case st.Term == 0 || st.Holder == "":
		return "unknown", "leased by a client that is not leasehold, or by leasehold before it wrote its term"
	case st.Heartbeat > 0 && age > staleHeartbeat:
		return "stale", fmt.Sprintf("leased, but the heartbeat of %s (term %d) stopped %v ago: leased by a client that is not leasehold, "+
			"or %s cannot write its heartbeat", st.Holder, st.Term, age.Round(time.Second), st.Holder)
	}
	return "leasehold", ""
}

// heldBy is how --try and a --timeout name who holds a lease.
func heldBy(out statusJSON) string {
	if out.Owner != "leasehold" {
		return out.Note
	}
	verb := "held by"
	if out.State == renewer.StateBreaking.String() {
		verb = "being broken; held by"
	}
	return fmt.Sprintf("%s %s (term %d)", verb, out.Holder, out.Term)
}

func printStatus(w io.Writer, what string, out statusJSON) {
	age := ""
	if out.age >= 0 {
		age = fmt.Sprintf(", term written %v ago", out.age.Round(time.Second))
		if out.Heartbeat > 0 {
			age = fmt.Sprintf(", last heartbeat %v ago", out.age.Round(time.Second))
		}
	}
	switch {
	case out.Held && out.Owner != "leasehold":
		fmt.Fprintf(w, "%s: %s: %s%s\n", what, out.State, out.Note, durationNote(out))
	case out.State == renewer.StateBreaking.String():
		fmt.Fprintf(w, "%s: breaking: the lease of %s (term %d) is being broken%s\n", what, out.Holder, out.Term, age)
	case out.Held:
		fmt.Fprintf(w, "%s: %s by %s (term %d, %s lease", what, out.State, out.Holder, out.Term, out.Duration)
		if out.Heartbeat > 0 {
			fmt.Fprintf(w, ", heartbeat %d", out.Heartbeat)
		}
		if out.Payload != "" {
			fmt.Fprintf(w, ", payload %q", out.Payload)
		}
		fmt.Fprintf(w, "%s)\n", age)
	case out.Term > 0 && out.Released:
		ago := ""
		if out.age >= 0 {
			ago = fmt.Sprintf(" %v ago", out.age.Round(time.Second)) // the marker is the holder's last write
		}
		fmt.Fprintf(w, "%s: %s; last held by %s (term %d), released%s\n", what, out.State, orUnknown(out.Holder), out.Term, ago)
	case out.Term > 0:
		fmt.Fprintf(w, "%s: %s; last held by %s (term %d)\n", what, out.State, orUnknown(out.Holder), out.Term)
	default:
		fmt.Fprintf(w, "%s: %s; never held\n", what, out.State)
	}
}

// durationNote says, for a held lease whose holder is not (or no longer)
// leasehold, whether it is fixed or infinite: an infinite lease never
// expires, so the operator must know that only a break ends it.
func durationNote(out statusJSON) string {
	switch out.Duration {
	case "infinite":
		return "; infinite lease: it never expires, only a break ends it"
	case "fixed":
		return "; fixed lease: it expires unless its holder renews it"
	}
	return "" // breaking: the service does not say
}
