package mutex_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/leakcheck"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// newMutex returns a Mutex on l that logs to the test, over a Renewer of
// its own built with ropts (identity, timing), failing the test if
// renewer.New or mutex.New refuses the options.
func newMutex(t *testing.T, l renewer.Leaser, ropts []renewer.Option, opts ...mutex.Option) *mutex.Mutex {
	t.Helper()
	log := zaptest.NewLogger(t)
	r, err := renewer.New(l, with([]renewer.Option{renewer.WithLogger(log)}, ropts...)...)
	if err != nil {
		t.Fatalf("renewer.New: %v", err)
	}
	m, err := mutex.New(r, append([]mutex.Option{mutex.WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatalf("mutex.New: %v", err)
	}
	return m
}

// with returns the renewer options base followed by more, leaving base
// unchanged (base is often a package variable shared by tests).
func with(base []renewer.Option, more ...renewer.Option) []renewer.Option {
	return append(slices.Clip(base), more...)
}

// named returns the renewer options of a Mutex with the given identity and
// otherwise the defaults.
func named(identity string) []renewer.Option {
	return []renewer.Option{renewer.WithIdentity(identity)}
}

// mustLock locks m or fails the test.
func mustLock(t *testing.T, m *mutex.Mutex) *mutex.Held {
	t.Helper()
	h, err := m.Lock(t.Context())
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return h
}

// mustUnlock unlocks h or fails the test.
func mustUnlock(t *testing.T, h *mutex.Held) {
	t.Helper()
	if err := h.Unlock(t.Context()); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

// lockLater starts m.Lock in a goroutine of the synctest bubble and waits
// until it blocks. The returned func waits for that Lock to return and
// returns its Held, ending the test if Lock failed (who names the locker
// in the error).
func lockLater(t *testing.T, m *mutex.Mutex, who string) (next func() *mutex.Held) {
	t.Helper()
	ch := make(chan *mutex.Held, 1)
	go func() {
		h, err := m.Lock(t.Context())
		if err != nil {
			t.Errorf("%s: Lock: %v", who, err)
		}
		ch <- h
	}()
	synctest.Wait()
	return func() *mutex.Held {
		t.Helper()
		h := <-ch
		if h == nil {
			t.FailNow()
		}
		return h
	}
}

// errDown is the transient error of a faultyLeaser that is down.
var errDown = errors.New("test: storage unreachable")

// faultyLeaser passes every call to the Leaser it wraps until it is told to
// fail: down fails every call (a holder cut off or crashed), noBeat fails
// only metadata writes (a holder that renews but whose heartbeat stalls).
type faultyLeaser struct {
	renewer.Leaser
	down   atomic.Bool
	noBeat atomic.Bool
}

func (f *faultyLeaser) fail() error {
	if f.down.Load() {
		return errDown
	}
	return nil
}

func (f *faultyLeaser) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	if err := f.fail(); err != nil {
		return "", err
	}
	return f.Leaser.Acquire(ctx, id, d)
}

func (f *faultyLeaser) Renew(ctx context.Context, id string) (string, error) {
	if err := f.fail(); err != nil {
		return "", err
	}
	return f.Leaser.Renew(ctx, id)
}

func (f *faultyLeaser) Release(ctx context.Context, id string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Leaser.Release(ctx, id)
}

func (f *faultyLeaser) Properties(ctx context.Context) (renewer.Properties, error) {
	if err := f.fail(); err != nil {
		return renewer.Properties{}, err
	}
	return f.Leaser.Properties(ctx)
}

func (f *faultyLeaser) SetMetadata(ctx context.Context, id string, md map[string]string) error {
	if err := f.fail(); err != nil {
		return err
	}
	if f.noBeat.Load() {
		return errDown
	}
	return f.Leaser.SetMetadata(ctx, id, md)
}

// crashedHolder leaves the container leased for d (renewer.Infinite for an
// infinite lease) by a holder that then crashed, with its term and
// heartbeat written, as a real holder would have.
func crashedHolder(t *testing.T, c *leasetest.Container, d time.Duration, term int64) {
	t.Helper()
	const id = "0f0f0f0f-0000-4000-8000-000000000001"
	if _, err := c.Acquire(t.Context(), id, d); err != nil {
		t.Fatalf("crashed holder: acquire: %v", err)
	}
	md := map[string]string{
		renewer.MetadataHolder:    "crashed",
		renewer.MetadataTerm:      strconv.FormatInt(term, 10),
		renewer.MetadataHeartbeat: "3",
	}
	if err := c.SetMetadata(t.Context(), id, md); err != nil {
		t.Fatalf("crashed holder: write term: %v", err)
	}
}
