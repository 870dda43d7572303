package renewer_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// recorder is a slog.Handler that keeps every record it is given, at
// every level.
type recorder struct {
	mu   *sync.Mutex
	recs *[]slog.Record
}

func newRecorder() recorder { return recorder{mu: new(sync.Mutex), recs: new([]slog.Record)} }

func (h recorder) Enabled(context.Context, slog.Level) bool { return true }
func (h recorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.recs = append(*h.recs, r.Clone())
	return nil
}
func (h recorder) WithAttrs([]slog.Attr) slog.Handler { return h } // the library adds its own via the record
func (h recorder) WithGroup(string) slog.Handler      { return h }

// lines returns the records as "LEVEL message key=value ...".
func (h recorder) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range *h.recs {
		var b strings.Builder
		fmt.Fprintf(&b, "%v %s", r.Level, r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		out = append(out, b.String())
	}
	return out
}

// find returns the first line that starts with prefix and contains every
// one of parts, or "".
func find(lines []string, prefix string, parts ...string) string {
next:
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		return l
	}
	return ""
}

func TestFindFailsOnMissingLine(t *testing.T) {
	lines := []string{"WARN lease lost term=1", "INFO lease acquired term=1"}
	if find(lines, "WARN lease lost", "term=2") != "" || find(lines, "DEBUG lease") != "" {
		t.Fatal("find matched a line that is not there")
	}
	if find(lines, "INFO lease acquired", "term=1") == "" {
		t.Fatal("find missed a line that is there")
	}
}

// A renewer given a *slog.Logger logs acquire at Info, each renew at Debug,
// the second failure in a row at Warn, and the loss at Warn with its cause;
// every record carries the identity and the term.
func TestSlogLevels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newRecorder()
		c := leasetest.New()
		r, err := renewer.New(c, renewer.WithIdentity("a"), renewer.WithSlog(slog.New(h)))
		if err != nil {
			t.Fatal(err)
		}
		ls := mustAcquire(t, r)
		time.Sleep(renewEvery + time.Second) // one renew
		failing(c, leasetest.OpRenew, renewer.ErrThrottled, func() bool { return true })
		<-ls.Done()
		_ = ls.Release(context.Background())
		lines := h.lines()
		for _, want := range [][]string{
			{"INFO lease acquired", "identity=a", "term=1"},
			{"DEBUG lease renewed", "identity=a", "term=1"},
			{"DEBUG renew failed; retrying", "failures=1"},
			{"WARN renew failed twice in a row", "failures=2", "throttling"},
			{"WARN lease lost", "identity=a", "term=1", "validity deadline passed"},
		} {
			if find(lines, want[0], want[1:]...) == "" {
				t.Errorf("no line %q with %q in:\n%s", want[0], want[1:], strings.Join(lines, "\n"))
			}
		}
		if n := strings.Count(strings.Join(lines, "\n"), "WARN renew failed"); n != 1 {
			t.Errorf("%d Warn lines for one failing renew, want 1", n)
		}
	})
}

// With no logger set, the renewer logs to slog.Default() at Warn and above
// only: the loss shows, acquire and renews do not.
func TestDefaultLoggerWarnOnly(t *testing.T) {
	h := newRecorder()
	prev := slog.Default()
	slog.SetDefault(slog.New(h))
	defer slog.SetDefault(prev)
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		r, err := renewer.New(c, renewer.WithIdentity("a"))
		if err != nil {
			t.Fatal(err)
		}
		ls := mustAcquire(t, r)
		time.Sleep(2 * renewEvery)
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRenew {
				return fmt.Errorf("renew: %w", renewer.ErrNoLease)
			}
			return nil
		})
		<-ls.Done()
		_ = ls.Release(context.Background())
	})
	lines := h.lines()
	if find(lines, "WARN lease lost", "identity=a", "term=1") == "" {
		t.Errorf("no Warn line for the loss in:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "WARN") && !strings.HasPrefix(l, "ERROR") {
			t.Errorf("default logger passed a line below Warn: %s", l)
		}
	}
}

// A *zap.Logger gets the same entries, with zap's own levels and fields.
func TestZapLevels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.DebugLevel)
		c := leasetest.New()
		r, err := renewer.New(c, renewer.WithIdentity("a"), renewer.WithLogger(zap.New(core)))
		if err != nil {
			t.Fatal(err)
		}
		ls := mustAcquire(t, r)
		if _, err := r.Break(t.Context(), "test"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(renewEvery + time.Second)
		<-ls.Done()
		_ = ls.Release(context.Background())
		if n := logs.FilterMessage("lease broken").FilterLevelExact(zapcore.WarnLevel).FilterField(zap.String("reason", "test")).Len(); n != 1 {
			t.Errorf("%d Warn entries for the break, want 1", n)
		}
		if n := logs.FilterMessage("lease lost").FilterLevelExact(zapcore.WarnLevel).FilterField(zap.String("identity", "a")).Len(); n != 1 {
			t.Errorf("%d Warn entries for the loss, want 1", n)
		}
	})
}

// A waiting Acquire says at Warn that storage fails, at the third failed
// poll in a row and every tenth after, and nothing above Debug while the
// lease is merely held by someone else.
func TestAcquirePollWarnings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newRecorder()
		c := leasetest.New()
		holder := newRenewer(t, c, "holder")
		ls := mustAcquire(t, holder)
		r, err := renewer.New(c, renewer.WithIdentity("waiter"), renewer.WithSlog(slog.New(h)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*renewer.DefaultPollInterval)
		defer cancel()
		if _, err := r.Acquire(ctx, renewer.Watching(func(renewer.Status, error) renewer.Verdict { return renewer.Verdict{} })); err == nil {
			t.Fatal("acquired a held lease")
		}
		_ = ls.Release(context.Background())
		if n := strings.Count(strings.Join(h.lines(), "\n"), "WARN"); n != 0 {
			t.Errorf("%d Warn lines while the lease was held, want 0:\n%s", n, strings.Join(h.lines(), "\n"))
		}

		c.SetBefore(func(context.Context, leasetest.Call) error { return renewer.ErrThrottled })
		h2 := newRecorder()
		r2, err := renewer.New(c, renewer.WithIdentity("cut-off"), renewer.WithSlog(slog.New(h2)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel = context.WithTimeout(t.Context(), 15*renewer.DefaultPollInterval)
		defer cancel()
		if _, err := r2.Acquire(ctx); err == nil {
			t.Fatal("acquired with storage failing")
		}
		lines := h2.lines()
		var warns []string
		for _, l := range lines {
			if strings.HasPrefix(l, "WARN") {
				warns = append(warns, l)
			}
		}
		if len(warns) != 2 || !strings.Contains(warns[0], "failed polls=3") || !strings.Contains(warns[1], "failed polls=13") {
			t.Errorf("Warn lines = %q, want two: at the 3rd and the 13th failed poll", warns)
		}
		if find(lines, "WARN cannot reach storage", "identity=cut-off", "throttling") == "" {
			t.Errorf("no Warn naming the identity and the error in:\n%s", strings.Join(lines, "\n"))
		}
	})
}
