package renewer

import (
	"context"
	"log/slog"
	"math"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logging. The library logs through a *zap.Logger inside; a *slog.Logger
// given with WithSlog (and the default, slog.Default()) is reached through
// slogCore, a zapcore.Core that hands every entry to a slog.Handler. So
// either camp passes its own logger and needs no adapter.
//
// Levels, the same whichever logger:
//
//   - Warn: a lease lost (and why), a break, a renew that failed twice in a
//     row (storage unreachable, throttling, refused credentials), a
//     release that failed, a standby that cannot read the lease.
//   - Info: acquired, released, handed over, resigned, elected.
//   - Debug: everything per renew or per poll.

// WithSlog sets a *log/slog logger, as WithLogger sets a *zap.Logger (the
// last of the two given wins). Entries keep their levels (see WithLogger)
// and carry their fields as attributes: identity, container, term, error,
// and so on. A nil l means the default.
func WithSlog(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			c.log = nil
			return
		}
		c.log = zap.New(&slogCore{handler: func() slog.Handler { return l.Handler() }, min: slog.LevelDebug})
	}
}

// defaultLogger is the logger of a Renewer given none: slog.Default(), as
// it is at each entry (so a later slog.SetDefault is followed), at Warn and
// above only. A new user sees losses, breaks and persistent storage
// failures on stderr without configuring anything, and nothing per renew.
func defaultLogger() *zap.Logger {
	return zap.New(&slogCore{handler: func() slog.Handler { return slog.Default().Handler() }, min: slog.LevelWarn})
}

// Logger returns the logger the Renewer logs to: the one given with
// WithLogger or WithSlog, or the default (slog.Default(), Warn and above).
// election.New and mutex.New log to it too unless given their own.
func (r *Renewer) Logger() *zap.Logger { return r.log }

// slogCore is a zapcore.Core writing to a slog.Handler.
type slogCore struct {
	handler func() slog.Handler // looked up per entry
	min     slog.Level          // entries below are dropped
	attrs   []slog.Attr         // from With
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	sl := slogLevel(l)
	return sl >= c.min && c.handler().Enabled(context.Background(), sl)
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	out := *c
	out.attrs = append(append([]slog.Attr(nil), c.attrs...), attrsOf(fields)...)
	return &out
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	msg := e.Message
	if e.LoggerName != "" {
		msg = e.LoggerName + ": " + msg
	}
	rec := slog.NewRecord(e.Time, slogLevel(e.Level), msg, 0)
	rec.AddAttrs(c.attrs...)
	rec.AddAttrs(attrsOf(fields)...)
	return c.handler().Handle(context.Background(), rec)
}

func (c *slogCore) Sync() error { return nil }

// attrsOf turns zap fields into slog attributes, keeping durations, times,
// numbers and booleans typed and errors as their messages.
func attrsOf(fields []zapcore.Field) []slog.Attr {
	if len(fields) == 0 {
		return nil
	}
	out := make([]slog.Attr, 0, len(fields))
	for _, f := range fields {
		switch f.Type {
		case zapcore.StringType:
			out = append(out, slog.String(f.Key, f.String))
		case zapcore.Int64Type, zapcore.Int32Type, zapcore.Int16Type, zapcore.Int8Type:
			out = append(out, slog.Int64(f.Key, f.Integer))
		case zapcore.Uint64Type, zapcore.Uint32Type, zapcore.Uint16Type, zapcore.Uint8Type:
			out = append(out, slog.Uint64(f.Key, uint64(f.Integer)))
		case zapcore.BoolType:
			out = append(out, slog.Bool(f.Key, f.Integer == 1))
		case zapcore.DurationType:
			out = append(out, slog.Duration(f.Key, time.Duration(f.Integer)))
		case zapcore.Float64Type:
			out = append(out, slog.Float64(f.Key, math.Float64frombits(uint64(f.Integer))))
		case zapcore.ErrorType:
			if err, ok := f.Interface.(error); ok && err != nil {
				out = append(out, slog.String(f.Key, err.Error()))
			}
		case zapcore.SkipType:
		default:
			// Times, stringers and the rest: let zap's own encoder say
			// what the value is.
			enc := zapcore.NewMapObjectEncoder()
			f.AddTo(enc)
			for k, v := range enc.Fields {
				out = append(out, slog.Any(k, v))
			}
		}
	}
	return out
}

// logRenewed logs a successful renew: at Debug, or at Info when it follows
// failures that were logged at Warn.
func (ls *Lease) logRenewed(ok bool, failures int) {
	switch {
	case !ok:
	case failures >= 2:
		ls.r.log.Info("lease renewed after failures", zap.Int64("term", ls.term), zap.Int("failures", failures))
	default:
		if ce := ls.r.log.Check(zap.DebugLevel, "lease renewed"); ce != nil {
			ce.Write(zap.Int64("term", ls.term), zap.Int("retries", failures))
		}
	}
}

// logRenewFailed logs a failed renew try (failures tries failed before
// it): the first at Debug, since one lost request is routine; the second
// in a row at Warn, since storage is then failing for longer than a blip;
// later ones at Debug again, until the renew succeeds or the lease is lost
// (both logged).
func (ls *Lease) logRenewFailed(failures int, err error) {
	level := zap.DebugLevel
	msg := "renew failed; retrying"
	if failures == 1 {
		level, msg = zap.WarnLevel, "renew failed twice in a row; retrying until the validity deadline"
	}
	if ce := ls.r.log.Check(level, msg); ce != nil {
		ce.Write(zap.Int64("term", ls.term), zap.Int("failures", failures+1),
			zap.Duration("left", time.Until(ls.Deadline()).Round(time.Millisecond)), zap.Error(err))
	}
}
