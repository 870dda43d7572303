package renewer

import (
	"errors"
	"log/slog"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/internal/logbridge"
)

// Logging. The library logs through a *zap.Logger inside; a *slog.Logger
// given with WithSlog (and the default, slog.Default()) is reached through
// internal/logbridge, a zapcore.Core that hands every entry to a
// slog.Handler. So either camp passes its own logger and needs no adapter.
//
// Levels, the same whichever logger:
//
//   - Warn: a lease lost (and why), a break, a renew that failed twice in a
//     row (storage unreachable, throttling, refused credentials), a
//     release that failed, an Acquire (a standby, a blocked Lock) whose
//     polls fail three times in a row (then every tenth).
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
		c.log = logbridge.FromSlog(l)
	}
}

// defaultLogger is the logger of a Renewer given none: slog.Default(), as
// it is at each entry (so a later slog.SetDefault is followed), at Warn and
// above only. A new user sees losses, breaks and persistent storage
// failures on stderr without configuring anything, and nothing per renew.
func defaultLogger() *zap.Logger {
	return logbridge.Default()
}

// Logger returns the logger the Renewer logs to: the one given with
// WithLogger or WithSlog, or the default (slog.Default(), Warn and above).
// election.New and mutex.New log to it too unless given their own.
func (r *Renewer) Logger() *zap.Logger { return r.log }

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

// logPoll logs a poll of Acquire that did not acquire, after failed polls
// in a row that failed for another reason than a held lease, and returns
// the new count. A held lease is routine (Debug); storage failing (a
// timeout, throttling, an unreachable endpoint) is Warn at the third poll
// in a row and every tenth after, so a waiter cut off from storage (a
// standby, a blocked Lock) says so without flooding the log.
func (r *Renewer) logPoll(failed, attempt int, err error) int {
	if errors.Is(err, ErrLeaseHeld) {
		r.log.Debug("lease held; polling", zap.Int("attempt", attempt), zap.Error(err))
		return 0
	}
	failed++
	if failed%10 == 3 {
		r.log.Warn("cannot reach storage; still trying to acquire", zap.Int("failed polls", failed), zap.Error(err))
	} else {
		r.log.Debug("lease not acquired; polling", zap.Int("attempt", attempt), zap.Error(err))
	}
	return failed
}
