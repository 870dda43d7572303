package logbridge_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/internal/logbridge"
)

// Entries reach the slog handler with their levels, message, the logger's
// name and fields typed as slog would type them.
func TestFromSlog(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})
	log := logbridge.FromSlog(slog.New(h)).Named("renewer").With(zap.String("identity", "a"))
	u, _ := url.Parse("http://127.0.0.1:10000/devstoreaccount1/c")
	log.Debug("d", zap.Duration("left", 1500*time.Millisecond))
	log.Info("i", zap.Int64("term", 7), zap.Bool("ok", true), zap.Float64("f", 0.5))
	log.Warn("w", zap.Error(errors.New("boom")), zap.Stringer("container", u))
	log.Error("e")
	want := []string{
		`level=DEBUG msg="renewer: d" identity=a left=1.5s`,
		`level=INFO msg="renewer: i" identity=a term=7 ok=true f=0.5`,
		`level=WARN msg="renewer: w" identity=a error=boom container=http://127.0.0.1:10000/devstoreaccount1/c`,
		`level=ERROR msg="renewer: e" identity=a`,
	}
	if got := strings.Split(strings.TrimSpace(buf.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The default passes Warn and above to slog.Default(), as it is at each
// entry.
func TestDefaultWarnAndAbove(t *testing.T) {
	prev := slog.Default()
	defer slog.SetDefault(prev)
	log := logbridge.Default() // made before the default changes
	var buf bytes.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.Debug("per renew")
	log.Info("acquired")
	log.Warn("lost")
	out := buf.String()
	if strings.Contains(out, "per renew") || strings.Contains(out, "acquired") || !strings.Contains(out, "msg=lost") {
		t.Errorf("default logger wrote:\n%s\nwant the Warn entry only", out)
	}
}
