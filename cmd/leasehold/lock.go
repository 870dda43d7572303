package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
)

const lockUsage = `  leasehold lock NAME [flags] -- CMD [ARGS...]

Takes the lock NAME (the lease of container NAME, created if missing; with
--container C, the lease of NAME's blob in container C, both created if
missing, so that NAME can be any text and many locks share C), runs
CMD while it is held, and renews the lease meanwhile. CMD runs in a process
group of its own, with these variables added to its environment:
  LEASEHOLD_TERM       the fencing token: the lease's term, one more than the
                       previous holding's, the number status shows and the
                       Go library's Held.Term and Leadership.Term give for
                       the same lock; pass it with every write that matters,
                       and have the store reject a term lower than the
                       highest it has seen
  LEASEHOLD_IDENTITY   the holder identity written to the container (--id)
  LEASEHOLD_CONTAINER  NAME, or with --container the container
  LEASEHOLD_LOCK       NAME, with --container only

When CMD exits, the lock is released and leasehold exits with CMD's status.
If the lock is lost (broken, or not renewed before its validity ran out), CMD's
process group gets SIGTERM, then SIGKILL after --grace, and leasehold exits 4.
SIGINT, SIGTERM and SIGHUP are forwarded to CMD; the lock is kept until CMD
exits, then released.

Loss is detected before anyone else can take the lock, but CMD may go on for
up to --grace after that. The default (2 s) is below the lease's safety margin
(L/5, 3 s at 15 s), so CMD is gone before the lock can pass to anyone else; a
longer --grace gives up that guarantee. Either way, fence writes with
LEASEHOLD_TERM.

` + parentDeathHelp

func runLock(args []string, stdout, stderr io.Writer) int {
	c := newCommand("lock", lockUsage)
	var (
		timeout, grace, duration, poll time.Duration
		try                            bool
		id                             string
	)
	durationVar(c.fs, &timeout, "timeout", 0, "give up waiting for the lock after `duration` (exit 3); 0 waits for ever; not with --try")
	c.fs.BoolVar(&try, "try", false, "fail at once (exit 3) if the lock is held; not with --timeout")
	durationVar(c.fs, &grace, "grace", defaultGrace, "after SIGTERM on loss, wait `duration` before SIGKILL")
	durationVar(c.fs, &poll, "poll-interval", renewer.DefaultPollInterval, "ask storage every `duration` (jittered) while the lock is held elsewhere")
	c.fs.StringVar(&id, "id", "", "holder `identity` written to the container, printable ASCII (default hostname-pid)")
	leaseDurationFlag(c.fs, &duration)
	name, argv, err := c.parse(args, stdout, true)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		return report(stderr, "", err)
	}
	what := "lock " + name
	if err := errors.Join(checkLeaseDuration("lock", duration), checkGrace("lock", grace)); err != nil {
		return report(stderr, "", firstFailure(err))
	}
	if timeout < 0 || poll < 10*time.Millisecond {
		return report(stderr, "", fail(exitUsage, "lock: want --timeout >= 0 and --poll-interval >= 10ms"))
	}
	if try && c.isSet("timeout") {
		return report(stderr, "", fail(exitUsage, "lock: %s and %s together: --try gives up at once if the lock is held, --timeout waits that long; give one of them",
			c.flagName("try"), c.flagName("timeout")))
	}
	if err := lookCommand(argv[0]); err != nil {
		return report(stderr, what, err)
	}
	acct, err := c.conn.connect("lock", name)
	if err != nil {
		return report(stderr, "", err)
	}
	log := c.logger(stderr)
	ropts := []renewer.Option{
		renewer.WithDuration(duration),
		renewer.WithPollInterval(poll),
		renewer.WithLogger(log),
	}
	if id != "" {
		ropts = append(ropts, renewer.WithIdentity(id))
	}
	flags := map[string]string{"lease duration": "--lease-duration", "poll interval": "--poll-interval", "identity": "--id"}
	r, err := renewer.New(acct.target, ropts...)
	if err != nil {
		return report(stderr, "", badOption("lock", err, flags))
	}
	m, err := mutex.New(r, mutex.WithLogger(log))
	if err != nil {
		return report(stderr, "", badOption("lock", err, flags))
	}

	sigs, stopSigs := notifySignals()
	defer stopSigs()
	held, err := acquireLock(c, acct, r, m, sigs, try, timeout)
	if err != nil {
		return report(stderr, what, err, acct.secrets...)
	}
	return holdLock(stderr, what, acct, held, m.Identity(), name, argv, sigs, grace)
}

// acquireLock creates the container if missing and takes the lock, giving
// up on --try, --timeout or a signal.
func acquireLock(c *command, acct *account, r *renewer.Renewer, m *mutex.Mutex, sigs <-chan os.Signal, try bool, timeout time.Duration) (*mutex.Held, error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if timeout > 0 {
		var tcancel context.CancelFunc
		ctx, tcancel = context.WithTimeoutCause(ctx, timeout, errTimedOut)
		defer tcancel()
	}
	unwatch := cancelOnSignal(sigs, cancel)
	defer unwatch()

	start := time.Now()
	sctx, scancel := context.WithTimeout(ctx, c.giveUp)
	err := acct.ensureContainer(sctx)
	scancel()
	if err := interrupted(ctx); err != nil {
		return nil, err
	}
	if err != nil {
		gu := gaveUp(c, err, start)
		var f *failure
		if errors.Is(context.Cause(ctx), errTimedOut) && errors.As(gu, &f) {
			// --timeout expired first, even if storage had not answered
			// yet: exit 3, as documented, with what storage did.
			return nil, fail(exitHeld, "gave up after --timeout %v: %s", timeout, f.msg)
		}
		return nil, gu
	}

	stopGiveUp := giveUpWatch(c, r, cancel)
	defer stopGiveUp()
	var held *mutex.Held
	if try {
		held, err = m.TryLock(ctx)
	} else {
		held, err = m.Lock(ctx)
	}
	if err == nil {
		return held, nil
	}
	if err := interrupted(ctx); err != nil {
		return nil, err
	}
	var gu *gaveUpWaiting
	if errors.As(context.Cause(ctx), &gu) {
		return nil, fail(exitStorage, "gave up: no useful answer from storage for %v (%s %v) while waiting for the lock",
			gu.since.Round(time.Second), c.flagName("give-up"), c.giveUp)
	}
	if errors.Is(err, renewer.ErrLeaseHeld) || errors.Is(err, errTimedOut) {
		// Say who holds it, or why we could not tell.
		ictx, icancel := context.WithTimeout(context.Background(), min(firstCallTimeout, c.giveUp))
		defer icancel()
		st, serr := m.Status(ictx)
		if serr != nil {
			return nil, acct.describe(ictx, serr)
		}
		why := ""
		if errors.Is(err, errTimedOut) {
			why = fmt.Sprintf("gave up after --timeout %v: ", timeout)
		}
		out := statusOf(acct.container, acct.lock, st)
		if st.Held() {
			return nil, fail(exitHeld, "%s%s", why, heldBy(out))
		}
		return nil, fail(exitHeld, "%snot acquired (state now %s)", why, st.State)
	}
	return nil, acct.describe(ctx, err)
}

// holdLock runs the command while the lock is held, and returns the exit
// code.
func holdLock(stderr io.Writer, what string, acct *account, held *mutex.Held, identity, name string, argv []string, sigs <-chan os.Signal, grace time.Duration) int {
	unlock := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), firstCallTimeout)
		defer cancel()
		return held.Unlock(ctx)
	}
	ch, err := startChild(argv, childEnv(held.Term(), identity, acct))
	if err != nil {
		_ = unlock()
		return report(stderr, what, err)
	}
	fmt.Fprintf(stderr, "leasehold: %s: acquired (term %d, identity %s)\n", what, held.Term(), identity)
	for {
		select {
		case <-ch.Done():
			err := unlock()
			if errors.Is(err, renewer.ErrLeaseLost) {
				return report(stderr, what, fail(exitLost, "lost (term %d) before the command exited with status %d: %s",
					held.Term(), ch.Status(), causeLine(err)), acct.secrets...)
			}
			return commandExited(stderr, what, ch.Status(), "released", err, acct.secrets)
		case <-held.Done():
			fmt.Fprintf(stderr, "leasehold: %s: lost (term %d): %s; stopping the command\n",
				what, held.Term(), scrub(causeLine(context.Cause(held.Context())), acct.secrets...))
			ch.stop(grace)
			_ = unlock()
			return report(stderr, what, fail(exitLost, "lock lost; the command was stopped (its status: %d)", ch.Status()))
		case s := <-sigs:
			fmt.Fprintf(stderr, "leasehold: %s: forwarding %s to the command\n", what, sigName(s))
			ch.signal(toSyscall(s))
		}
	}
}

// commandExited reports, as the last line, that the command exited with
// status code and the lease was released (done, "released" or
// "resigned"), or that the release failed with relErr; it returns code.
func commandExited(stderr io.Writer, what string, code int, done string, relErr error, secrets []string) int {
	how := fmt.Sprintf("exited with status %d", code)
	if code > 128 && code < 128+65 {
		how = fmt.Sprintf("exited with status %d (killed by signal %d, %v)", code, code-128, syscall.Signal(code-128))
	}
	if relErr != nil {
		fmt.Fprintf(stderr, "leasehold: %s: the command %s; the release failed (the lease expires by itself): %s\n",
			what, how, scrub(causeLine(relErr), secrets...))
		return code
	}
	fmt.Fprintf(stderr, "leasehold: %s: the command %s; %s; passing its status on\n", what, how, done)
	return code
}

// gaveUpWaiting is the cause of a wait cut short by --give-up.
type gaveUpWaiting struct{ since time.Duration }

func (g *gaveUpWaiting) Error() string {
	return fmt.Sprintf("no useful answer from storage for %v", g.since.Round(time.Second))
}

// giveUpWatch cancels a wait with a *gaveUpWaiting cause once r has had no
// useful answer from storage (renewer.LastContact) for --give-up, counted
// from now at the earliest; stop ends the watch.
func giveUpWatch(c *command, r *renewer.Renewer, cancel context.CancelCauseFunc) (stop func()) {
	start := time.Now()
	quit := make(chan struct{}) // closed by stop
	done := make(chan struct{}) // closed by the goroutine
	tick := min(time.Second, c.giveUp/4)
	go func() {
		defer close(done)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				last := r.LastContact()
				if last.Before(start) {
					last = start
				}
				if since := time.Since(last); since >= c.giveUp {
					cancel(&gaveUpWaiting{since: since})
					return
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// childEnv is what the command learns about its hold: LEASEHOLD_LOCK
// only for a named lock (--container).
func childEnv(term int64, identity string, acct *account) []string {
	env := []string{
		"LEASEHOLD_TERM=" + strconv.FormatInt(term, 10),
		"LEASEHOLD_IDENTITY=" + identity,
		"LEASEHOLD_CONTAINER=" + acct.container,
	}
	if acct.lock != "" {
		env = append(env, "LEASEHOLD_LOCK="+acct.lock)
	}
	return env
}

// errTimedOut is the cause of a wait cut short by --timeout.
var errTimedOut = errors.New("--timeout expired")

// signalled is the cause of a wait cut short by a signal.
type signalled struct{ sig os.Signal }

func (s *signalled) Error() string { return "interrupted by " + sigName(s.sig) }

// cancelOnSignal cancels with a *signalled cause on the first signal, until
// stop is called; stop waits for its goroutine, so that later signals go
// to whoever reads sigs next.
func cancelOnSignal(sigs <-chan os.Signal, cancel context.CancelCauseFunc) (stop func()) {
	quit := make(chan struct{}) // closed by stop
	done := make(chan struct{}) // closed by the goroutine
	go func() {
		defer close(done)
		select {
		case s := <-sigs:
			cancel(&signalled{sig: s})
		case <-quit:
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// interrupted returns a *failure with exit code 128+N if ctx was cancelled
// by signal N, else nil.
func interrupted(ctx context.Context) error {
	var s *signalled
	if errors.As(context.Cause(ctx), &s) {
		return fail(signalExit(s.sig), "interrupted by %s while waiting", sigName(s.sig))
	}
	return nil
}

// causeLine shortens a loss cause to one line without the package prefixes
// repeated inside it.
func causeLine(err error) string {
	if err == nil {
		return "unknown cause"
	}
	s := oneLine(err.Error())
	for _, p := range []string{"mutex: unlock: ", "election: ", "renewer: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown holder"
	}
	return s
}

// firstFailure returns the first *failure joined in err.
func firstFailure(err error) error {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	return err
}
