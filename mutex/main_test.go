package mutex_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newMutex returns a Mutex on l that logs to the test, failing the test if
// New refuses the options.
func newMutex(t *testing.T, l renewer.Leaser, opts ...mutex.Option) *mutex.Mutex {
	t.Helper()
	m, err := mutex.New(l, append([]mutex.Option{mutex.WithLogger(zaptest.NewLogger(t))}, opts...)...)
	if err != nil {
		t.Fatalf("mutex.New: %v", err)
	}
	return m
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

// instant is a point on the test's clock, with a sequence number that
// orders events at the same (synctest) instant.
type instant struct {
	at  time.Time
	seq int64
}

var seq atomic.Int64

func now() instant { return instant{at: time.Now(), seq: seq.Add(1)} }

// before reports whether a is strictly before b.
func (a instant) before(b instant) bool {
	return a.at.Before(b.at) || a.at.Equal(b.at) && a.seq < b.seq
}

// holding is one holder's time as holder: from start until it stopped
// acting (stop; zero while it acts) or its validity deadline, whichever
// comes first. The deadline is the holder's own (Held.Deadline, as it was
// when the hold ended): the holder may act until then, whatever its
// context says.
type holding struct {
	who      string
	start    instant
	stop     instant
	deadline func() time.Time
}

// end is when the holding ended: it stopped acting, or its validity
// deadline passed. A deadline ends it before anything that happens at that
// instant.
func (h holding) end() instant {
	d := instant{at: h.deadline()}
	if h.stop.at.IsZero() || d.before(h.stop) {
		return d
	}
	return h.stop
}

// overlaps returns a message for every pair of holdings whose times
// overlap: one began before the other ended.
func overlaps(hs []holding) []string {
	var out []string
	for i := range hs {
		for j := range hs {
			a, b := hs[i], hs[j]
			if i == j || b.start.before(a.start) {
				continue
			}
			if end := a.end(); b.start.before(end) {
				out = append(out, fmt.Sprintf("%s began %v before %s ended (stopped or its validity deadline passed): two holders at once",
					b.who, end.at.Sub(b.start.at), a.who))
			}
		}
	}
	return out
}

// holdings records the holds of a test, for the overlap check.
type holdings struct {
	mu sync.Mutex // guards hs
	hs []*holding
}

// begin records that h's holder starts acting now. Its deadline is
// h.Deadline() as it was when h's context ended (the lease may go on
// under a later local holder).
func (r *holdings) begin(who string, h *mutex.Held) *holding {
	hd := &holding{who: who, start: now()}
	var (
		mu    sync.Mutex
		final time.Time
	)
	context.AfterFunc(h.Context(), func() {
		mu.Lock()
		defer mu.Unlock()
		final = h.Deadline()
	})
	hd.deadline = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		if final.IsZero() {
			return h.Deadline()
		}
		return final
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hs = append(r.hs, hd)
	return hd
}

// end records that hd's holder stopped acting now.
func (r *holdings) end(hd *holding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hd.stop = now()
}

// check fails the test if two holds overlap.
func (r *holdings) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := make([]holding, len(r.hs))
	for i, h := range r.hs {
		hs[i] = *h
	}
	for _, msg := range overlaps(hs) {
		t.Error(msg)
	}
}

// The overlap check finds overlaps, by stop time and by validity deadline,
// and accepts holdings that follow each other.
func TestOverlapsCheck(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int, seq int64) instant { return instant{at: t0.Add(time.Duration(s) * time.Second), seq: seq} }
	dl := func(s int) func() time.Time {
		return func() time.Time { return t0.Add(time.Duration(s) * time.Second) }
	}
	tests := []struct {
		name string
		give []holding
		want int
	}{
		{name: "one after the other", give: []holding{
			{who: "a", start: at(0, 1), stop: at(5, 2), deadline: dl(20)},
			{who: "b", start: at(5, 3), stop: at(9, 4), deadline: dl(30)},
		}, want: 0},
		{name: "next began before the previous stopped", give: []holding{
			{who: "a", start: at(0, 1), stop: at(5, 3), deadline: dl(20)},
			{who: "b", start: at(5, 2), stop: at(9, 4), deadline: dl(30)},
		}, want: 1},
		{name: "next began after the previous deadline, though it acted on", give: []holding{
			{who: "a", start: at(0, 1), stop: at(25, 4), deadline: dl(12)},
			{who: "b", start: at(13, 2), stop: at(30, 5), deadline: dl(40)},
		}, want: 0},
		{name: "next began before the deadline of one that never stopped", give: []holding{
			{who: "a", start: at(0, 1), deadline: dl(12)},
			{who: "b", start: at(11, 2), stop: at(30, 5), deadline: dl(40)},
		}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := overlaps(tt.give); len(got) != tt.want {
				t.Errorf("overlaps = %q, want %d", got, tt.want)
			}
		})
	}
}
