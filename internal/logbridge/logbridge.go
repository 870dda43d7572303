// Package logbridge lets the library, which logs through *zap.Logger
// inside, log to a *log/slog logger: a zapcore.Core handing every entry to
// a slog.Handler. Packages renewer, election and mutex use it for their
// WithSlog options and their default (slog.Default() at Warn).
package logbridge

import (
	"context"
	"log/slog"
	"math"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// FromSlog returns a *zap.Logger writing to l's handler, at every level
// that handler enables.
func FromSlog(l *slog.Logger) *zap.Logger {
	return zap.New(&slogCore{handler: func() slog.Handler { return l.Handler() }, min: slog.LevelDebug})
}

// Default returns a *zap.Logger writing to slog.Default() as it is at each
// entry (so a later slog.SetDefault is followed), at Warn and above only.
func Default() *zap.Logger {
	return zap.New(&slogCore{handler: func() slog.Handler { return slog.Default().Handler() }, min: slog.LevelWarn})
}

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
