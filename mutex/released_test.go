package mutex_test

import (
	"strings"
	"testing"
	"testing/synctest"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestBreakOnTimeoutNamesAnotherClient: a leasehold holder released and a
// client that is not leasehold took an infinite lease and went silent.
// Break-on-timeout breaks it, and says whom it broke: another client, not
// the holder that had released.
func TestBreakOnTimeoutNamesAnotherClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		h := mustLock(t, newMutex(t, c, []renewer.Option{renewer.WithIdentity("released-holder")}))
		mustUnlock(t, h)
		if _, err := c.Acquire(t.Context(), "0f0f0f0f-0000-4000-8000-000000000003", renewer.Infinite); err != nil {
			t.Fatal(err)
		}
		core, logs := observer.New(zap.InfoLevel)
		r, err := renewer.New(c, append(infinite, renewer.WithLogger(zap.New(core)))...)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mutex.New(r, breakAfter30s, mutex.WithLogger(zap.New(core)))
		if err != nil {
			t.Fatal(err)
		}
		mustUnlock(t, mustLock(t, m))
		found := false
		for _, e := range logs.FilterMessage("breaking the lock").All() {
			reason, _ := e.ContextMap()["reason"].(string)
			found = true
			if !strings.Contains(reason, "a client that is not leasehold") || strings.Contains(reason, `holder "released-holder",`) {
				t.Errorf("break reason %q: want it to name a client that is not leasehold, not the holder that released", reason)
			}
		}
		if !found {
			t.Error("no break logged")
		}
	})
}
