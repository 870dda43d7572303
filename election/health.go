package election

import (
	"fmt"
	"net/http"
	"time"
)

// Check reports whether this candidate is healthy: it returns nil when it
// does not lead, or when it leads and its last successful renewal is no
// older than the renew interval plus tolerance; otherwise an error wrapping
// ErrRenewalOverdue. A leader whose renewals are overdue is failing to
// reach storage and will lose its lease at its validity deadline; a health
// probe that restarts it early is a choice, like client-go's
// HealthzAdaptor. A tolerance of a few seconds, or a fraction of the lease
// duration, avoids failing on one slow renewal.
//
// Check makes no storage call and is safe for concurrent use.
func (e *Election) Check(tolerance time.Duration) error {
	ld := e.current()
	if ld == nil {
		return nil
	}
	since := time.Since(ld.LastRenewed())
	if since > e.timing.RenewInterval+tolerance {
		return fmt.Errorf("%w: term %d last renewed %v ago; renew interval %v, tolerance %v",
			ErrRenewalOverdue, ld.Term(), since.Round(time.Millisecond), e.timing.RenewInterval, tolerance)
	}
	return nil
}

// HealthHandler returns an http.Handler for a health probe: it answers
// 200 "ok" when Check(tolerance) passes, and 500 with Check's error when
// it does not.
func (e *Election) HealthHandler(tolerance time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := e.Check(tolerance); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}
