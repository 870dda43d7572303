package renewer_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// errLost is what a caller sees when its request's answer never came back.
var errLost = errors.New("test: answer lost")

// lateNet is a Leaser between a holder and storage whose requests can be
// held back: a held request is not applied now (its caller sees errLost, as
// after a timeout) and reaches storage later, when the test delivers it, as
// a request delayed in the network does.
type lateNet struct {
	renewer.Leaser

	mu       sync.Mutex
	holdOp   func(op string) bool // which requests to hold back
	held     []func() error       // requests held back, in order
	sentIDs  []string             // lease IDs of every acquire sent
	changed  []string             // lease IDs proposed by every change sent
	metadata []sentMetadata       // every SetMetadata sent, applied or held
}

type sentMetadata struct {
	id string
	md map[string]string
}

func (n *lateNet) hold(op string, apply func() error) (held bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.holdOp == nil || !n.holdOp(op) {
		return false
	}
	n.held = append(n.held, apply)
	return true
}

// holdBack makes requests for which f reports true late, from now on.
func (n *lateNet) holdBack(f func(op string) bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.holdOp = f
}

// deliver applies every request held back so far, as storage would when
// they finally arrive, and returns their answers.
func (n *lateNet) deliver() []error {
	n.mu.Lock()
	held := n.held
	n.held = nil
	n.mu.Unlock()
	var errs []error
	for _, apply := range held {
		errs = append(errs, apply())
	}
	return errs
}

func (n *lateNet) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	n.mu.Lock()
	n.sentIDs = append(n.sentIDs, id)
	n.mu.Unlock()
	if n.hold("acquire", func() error { _, err := n.Leaser.Acquire(context.Background(), id, d); return err }) {
		return "", errLost
	}
	return n.Leaser.Acquire(ctx, id, d)
}

func (n *lateNet) Change(ctx context.Context, id, proposed string) (string, error) {
	n.mu.Lock()
	n.changed = append(n.changed, proposed)
	n.mu.Unlock()
	if n.hold("change", func() error { _, err := n.Leaser.Change(context.Background(), id, proposed); return err }) {
		return "", errLost
	}
	return n.Leaser.Change(ctx, id, proposed)
}

func (n *lateNet) Release(ctx context.Context, id string) error {
	if n.hold("release", func() error { return n.Leaser.Release(context.Background(), id) }) {
		return errLost
	}
	return n.Leaser.Release(ctx, id)
}

func (n *lateNet) SetMetadata(ctx context.Context, id string, md map[string]string) error {
	n.mu.Lock()
	n.metadata = append(n.metadata, sentMetadata{id, maps.Clone(md)})
	n.mu.Unlock()
	if n.hold("setmetadata", func() error { return n.Leaser.SetMetadata(context.Background(), id, md) }) {
		return errLost
	}
	return n.Leaser.SetMetadata(ctx, id, md)
}

// resend applies again, now, the i-th SetMetadata that was sent: a
// duplicate delivered late.
func (n *lateNet) resend(i int) error {
	n.mu.Lock()
	m := n.metadata[i]
	n.mu.Unlock()
	return n.Leaser.SetMetadata(context.Background(), m.id, m.md)
}

func only(op string) func(string) bool { return func(o string) bool { return o == op } }

func inspect(t *testing.T, l renewer.Leaser) renewer.Status {
	t.Helper()
	st, err := renewer.Inspect(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestLateReleaseCannotFreeALaterHolding: a release of an ended holding
// that reaches storage after the same Renewer acquired again must not free
// the new holding. (With one lease ID for every holding it did: two live
// holders.)
func TestLateReleaseCannotFreeALaterHolding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		net := &lateNet{Leaser: c}
		r := newRenewer(t, net, "a")
		first := mustAcquire(t, r)
		net.holdBack(only("release"))
		if err := first.Release(t.Context()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		net.holdBack(nil)
		// The release has not arrived: the storage lease stays until it
		// expires, and then the Renewer acquires again.
		var second *renewer.Lease
		for range 30 {
			ls, err := r.TryAcquire(t.Context())
			if err == nil {
				second = ls
				break
			}
			time.Sleep(time.Second)
		}
		if second == nil {
			t.Fatal("the Renewer did not acquire again within 30 s")
		}
		defer second.Release(context.Background())
		for _, err := range net.deliver() {
			if !errors.Is(err, renewer.ErrNoLease) {
				t.Errorf("late release of the first holding answered %v, want ErrNoLease", err)
			}
		}
		other := newRenewer(t, c, "b")
		if ls, err := other.TryAcquire(t.Context()); err == nil {
			_ = ls.Release(context.Background())
			t.Fatalf("another holder acquired while term %d was live: two holders", second.Term())
		}
		if second.Context().Err() != nil {
			t.Errorf("second holding ended: %v", context.Cause(second.Context()))
		}
	})
}

// TestLateTermWriteCannotRewindTerm: the term write of an ended holding,
// delivered again after a later holding wrote its term, must not put the
// older term back (terms going backwards break fencing).
func TestLateTermWriteCannotRewindTerm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		net := &lateNet{Leaser: c}
		r := newRenewer(t, net, "a")
		first := mustAcquire(t, r)
		_ = first.Release(t.Context())
		second := mustAcquire(t, r)
		if err := net.resend(0); !errors.Is(err, renewer.ErrNoLease) {
			t.Errorf("late duplicate of term %d's write answered %v, want ErrNoLease", first.Term(), err)
		}
		if got := inspect(t, c).Term; got != second.Term() {
			t.Errorf("term in storage after a late write = %d, want %d", got, second.Term())
		}
		_ = second.Release(t.Context())
		third := mustAcquire(t, newRenewer(t, c, "b"))
		defer third.Release(context.Background())
		if third.Term() <= second.Term() {
			t.Errorf("terms %d then %d: fencing numbers must increase", second.Term(), third.Term())
		}
	})
}

// TestTermFixedAcrossRetries: a term write whose answer was lost is retried
// with the same term, so a duplicate of it delivered later changes nothing;
// the next holder's term is higher.
func TestTermFixedAcrossRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		lost := true
		c.SetAfter(func(_ context.Context, call leasetest.Call, err error) error {
			if call.Op == leasetest.OpSetMetadata && err == nil && lost {
				lost = false
				return errLost // applied, answer lost
			}
			return err
		})
		net := &lateNet{Leaser: c}
		ls := mustAcquire(t, newRenewer(t, net, "a"))
		if len(net.metadata) != 2 {
			t.Fatalf("%d metadata writes, want 2 (one lost answer, one retry)", len(net.metadata))
		}
		_ = net.resend(0) // the first try, duplicated and late
		_ = ls.Release(t.Context())
		next := mustAcquire(t, newRenewer(t, c, "b"))
		defer next.Release(context.Background())
		if ls.Term() != 1 || next.Term() != 2 {
			t.Errorf("terms %d then %d, want 1 then 2", ls.Term(), next.Term())
		}
	})
}

// TestHoldingsUseFreshLeaseIDs: every holding proposes a lease ID used by
// no other; the attempts of one Acquire share one.
func TestHoldingsUseFreshLeaseIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		net := &lateNet{Leaser: c}
		r := newRenewer(t, net, "a")
		seen := map[string]bool{}
		for range 3 {
			ls := mustAcquire(t, r)
			_ = ls.Release(t.Context())
		}
		for _, id := range net.sentIDs {
			if seen[id] {
				t.Errorf("lease ID %s proposed by two holdings", id)
			}
			seen[id] = true
		}
		// One Acquire whose first answer is lost (the acquire applied)
		// proposes the same ID again and gets the lease it already has.
		net.sentIDs = nil
		applied := 0
		c.SetAfter(func(_ context.Context, call leasetest.Call, err error) error {
			if call.Op == leasetest.OpAcquire && err == nil && applied == 0 {
				applied++
				return errLost
			}
			return err
		})
		ls, err := r.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer ls.Release(context.Background())
		if len(net.sentIDs) != 2 || net.sentIDs[0] != net.sentIDs[1] || seen[net.sentIDs[0]] {
			t.Errorf("acquire IDs after a lost answer = %v, want the same fresh ID twice", net.sentIDs)
		}
	})
}

// TestHandOver: a hand-over ends the old holding and starts a new one
// with its own lease ID and the next term, on the same storage lease.
func TestHandOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		net := &lateNet{Leaser: c}
		r := newRenewer(t, net, "a")
		first := mustAcquire(t, r)
		second, err := first.HandOver(t.Context())
		if err != nil {
			t.Fatalf("HandOver: %v", err)
		}
		if got := context.Cause(first.Context()); !errors.Is(got, renewer.ErrHandedOver) {
			t.Errorf("first holding's cause = %v, want ErrHandedOver", got)
		}
		if second.Term() != first.Term()+1 || inspect(t, c).Term != second.Term() {
			t.Errorf("terms: first %d, second %d, storage %d; want second = first + 1 = storage",
				first.Term(), second.Term(), inspect(t, c).Term)
		}
		if !second.Deadline().Equal(first.Deadline()) {
			t.Errorf("deadline moved on hand-over: %v -> %v", first.Deadline(), second.Deadline())
		}
		if err := first.Release(t.Context()); err != nil {
			t.Errorf("Release of the handed-over holding: %v, want nil", err)
		}
		// A late write or release of the first holding finds another ID.
		if err := net.resend(0); !errors.Is(err, renewer.ErrNoLease) {
			t.Errorf("late term write of the first holding answered %v, want ErrNoLease", err)
		}
		for _, id := range []string{net.sentIDs[0], net.changed[0]} {
			if err := c.Release(t.Context(), id); !errors.Is(err, renewer.ErrNoLease) {
				t.Errorf("late release of the first holding (ID %s) answered %v, want ErrNoLease", id, err)
			}
		}
		if _, err := r.TryAcquire(t.Context()); !errors.Is(err, renewer.ErrInUse) {
			t.Errorf("TryAcquire during the second holding = %v, want ErrInUse", err)
		}
		time.Sleep(3 * renewEvery)
		if second.Context().Err() != nil || c.State() != renewer.StateLeased {
			t.Fatalf("second holding not renewed: %v, state %v", context.Cause(second.Context()), c.State())
		}
		third, err := second.HandOver(t.Context())
		if err != nil {
			t.Fatalf("second HandOver: %v", err)
		}
		if err := third.Release(t.Context()); err != nil {
			t.Errorf("Release: %v", err)
		}
		if c.State() != renewer.StateAvailable {
			t.Errorf("state after release = %v, want available", c.State())
		}
		if _, err := third.HandOver(t.Context()); !errors.Is(err, renewer.ErrReleased) {
			t.Errorf("HandOver of a released lease = %v, want ErrReleased", err)
		}
	})
}

// TestHandOverFailsWhenLost: a hand-over of a lease someone broke fails
// with a loss and leaves nothing held.
func TestHandOverFailsWhenLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, c, "a"))
		if _, err := c.Break(t.Context(), 0); err != nil {
			t.Fatal(err)
		}
		next, err := ls.HandOver(t.Context())
		if !errors.Is(err, renewer.ErrLeaseLost) || next != nil {
			t.Fatalf("HandOver of a broken lease = %v, %v; want ErrLeaseLost", next, err)
		}
		if ls.Context().Err() == nil {
			t.Error("the old holding is still live")
		}
	})
}

// TestInvalidTermRefused: a term in the metadata that is not a whole
// number below MaxInt64 stops the acquisition with ErrInvalidTerm, holding
// nothing, rather than being read as 0 or overflowing.
func TestInvalidTermRefused(t *testing.T) {
	tests := []struct {
		name, give string
		want       int64 // term acquired; 0: refused
	}{
		{name: "absent", give: "", want: 1},
		{name: "zero", give: "0", want: 1},
		{name: "largest", give: "9223372036854775806", want: 9223372036854775807},
		{name: "no successor", give: "9223372036854775807"},
		{name: "too big", give: "9223372036854775808"},
		{name: "negative", give: "-1"},
		{name: "plus sign", give: "+5"},
		{name: "not a number", give: "seven"},
		{name: "exponent", give: "1e3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				if tt.give != "" {
					if err := c.SetMetadata(t.Context(), "", map[string]string{renewer.MetadataTerm: tt.give}); err != nil {
						t.Fatal(err)
					}
				}
				ls, err := newRenewer(t, c, "a").Acquire(t.Context())
				if tt.want == 0 {
					if !errors.Is(err, renewer.ErrInvalidTerm) || !renewer.Permanent(err) {
						t.Errorf("Acquire = %v, want a permanent ErrInvalidTerm", err)
					}
					if c.State() != renewer.StateAvailable {
						t.Errorf("state = %v, want available: nothing held", c.State())
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer ls.Release(context.Background())
				if ls.Term() != tt.want {
					t.Errorf("term = %d, want %d", ls.Term(), tt.want)
				}
			})
		})
	}
}

// firstOf holds back the first request of each of ops.
func firstOf(ops ...string) func(string) bool {
	seen := map[string]bool{}
	return func(op string) bool {
		for _, o := range ops {
			if o == op && !seen[op] {
				seen[op] = true
				return true
			}
		}
		return false
	}
}

// TestLateAcquireCannotReviveATermWrite: an acquire and a term write of
// one holding, both delivered late after a later holding ended, must not
// put the older term back. The late acquire makes its ID active again (for
// one duration, held by no one); no metadata write is ever sent under an
// ID that was sent in an acquire, so the late write finds another ID.
// (Found by review: with the term written under the acquire's own ID the
// next holder reused a fencing number.)
func TestLateAcquireCannotReviveATermWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		net := &lateNet{Leaser: c}
		net.holdBack(firstOf("acquire", "setmetadata"))
		a, err := newRenewer(t, net, "a").Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		net.holdBack(nil)
		_ = a.Release(t.Context())
		b := mustAcquire(t, newRenewer(t, c, "b"))
		_ = b.Release(t.Context())
		errs := net.deliver() // the late acquire, then the late term write
		if len(errs) != 2 || errs[0] != nil || !errors.Is(errs[1], renewer.ErrNoLease) {
			t.Errorf("late acquire, late term write answered %v; want nil (revived), ErrNoLease", errs)
		}
		if got := inspect(t, c).Term; got != b.Term() {
			t.Errorf("term in storage after the late requests = %d, want %d", got, b.Term())
		}
		time.Sleep(renewer.DefaultDuration + time.Second) // the revived lease expires
		next := mustAcquire(t, newRenewer(t, c, "c"))
		defer next.Release(context.Background())
		if next.Term() <= b.Term() {
			t.Errorf("terms %d then %d: fencing numbers must increase", b.Term(), next.Term())
		}
	})
}

// TestHandOverEndsTheLeaseEvenIfCancelled: a hand-over whose ctx has ended
// holds nothing afterwards, the old Lease included.
func TestHandOverEndsTheLeaseEvenIfCancelled(t *testing.T) {
	for range 20 {
		synctest.Test(t, func(t *testing.T) {
			c := leasetest.New()
			ls := mustAcquire(t, newRenewer(t, c, "a"))
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if next, err := ls.HandOver(ctx); !errors.Is(err, context.Canceled) || next != nil {
				t.Fatalf("HandOver(cancelled) = %v, %v; want context.Canceled", next, err)
			}
			synctest.Wait()
			if ls.Context().Err() == nil || c.State() != renewer.StateAvailable {
				t.Errorf("after a cancelled hand-over: old lease live %v, state %v; want ended, available",
					ls.Context().Err() == nil, c.State())
			}
		})
	}
}

// TestReleaseRetriedUntilItArrives: a release that does not reach storage
// (its caller gave up: a timeout, a reset) is tried again, a bounded
// number of times, so the lease is free at once rather than after it
// expires; a definitive answer ends the tries.
func TestReleaseRetriedUntilItArrives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		dropped := 0
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRelease && dropped < 2 {
				dropped++
				return errLost // never arrived
			}
			return nil
		})
		ls := mustAcquire(t, newRenewer(t, c, "a"))
		if err := ls.Release(t.Context()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if got := c.Calls(leasetest.OpRelease); got != 3 || c.State() != renewer.StateAvailable {
			t.Errorf("release tries = %d, state %v; want 3 tries and available", got, c.State())
		}
		// Every try lost: three tries, then the lease is left to expire.
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRelease {
				return errLost
			}
			return nil
		})
		before := c.Calls(leasetest.OpRelease)
		ls = mustAcquire(t, newRenewer(t, c, "b"))
		_ = ls.Release(t.Context())
		if got := c.Calls(leasetest.OpRelease) - before; got != 3 {
			t.Errorf("release tries with every try lost = %d, want 3", got)
		}
	})
}

// A credential that may take the lease but not read it (a SAS with write
// but not read permission) ends the acquisition at once with ErrForbidden:
// it does not retry the term read until the validity deadline, and leaves
// nothing held.
func TestForbiddenSetUpEndsTheAcquisitionAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpProperties {
				return fmt.Errorf("properties: %w (HTTP 403 AuthorizationPermissionMismatch)", renewer.ErrForbidden)
			}
			return nil
		})
		start := time.Now()
		_, err := newRenewer(t, c, "a").Acquire(t.Context())
		if !errors.Is(err, renewer.ErrForbidden) || !renewer.Permanent(err) {
			t.Fatalf("Acquire = %v, want a permanent ErrForbidden", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("Acquire gave up after %v, want at once (no retries until the deadline)", took)
		}
		c.SetBefore(nil)
		if st, err := renewer.Inspect(t.Context(), c); err != nil || st.Held() {
			t.Errorf("after the refused set-up: status %+v, %v; want nothing held", st, err)
		}
	})
}
