package leasetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// The timing of the network cases: a late request reaches storage
// lateDelay after it was sent; its caller gives up after giveUpAfter, well
// before, and the case makes its next holding in between.
const (
	lateDelay   = 2 * time.Second
	giveUpAfter = 300 * time.Millisecond
)

// networkCases are the cases of requests that reach storage late, twice, or
// whose answer is lost: what storage does with them is what the lease-ID
// rule of a renewer rests on (every holding gets a fresh lease ID).
func networkCases() []testCase {
	return []testCase{
		{name: "late_release_of_ended_holding_refused_after_fresh_id", net: lateReleaseAfter(idB)},
		{name: "late_release_of_reused_id_frees_the_later_holding", net: lateReleaseAfter(idA)},
		{name: "late_renew_of_ended_holding_refused_after_fresh_id", net: lateRenewAfterFreshID},
		{name: "late_acquire_refused_while_another_id_holds", net: lateAcquire},
		{name: "acquire_answer_lost_retry_same_id_holds_once", net: lostAcquireRetried},
		{name: "duplicated_acquire_answers_201_holds_once", net: duplicatedAcquire},
		{name: "duplicated_release_second_answers_mismatch", net: duplicatedRelease},
		{name: "late_set_metadata_of_ended_holding_refused_after_fresh_id", net: lateSetMetadataAfter(idB)},
		{name: "late_set_metadata_of_reused_id_overwrites_the_later_term", net: lateSetMetadataAfter(idA)},
		{name: "change_answer_lost_retry_answers_200", net: lostChangeRetried},
		{name: "duplicated_change_answers_200", net: duplicatedChange},
	}
}

// lateReleaseAfter: A's holding ends (broken), its release is sent and the
// caller gives up; the next holding acquires with next; then the release
// lands. With a fresh ID it is refused and the new holding is intact. With
// A again (one ID for every holding) it frees the later holding: storage
// cannot tell the holdings apart.
func lateReleaseAfter(next string) func(t *testing.T, l renewer.Leaser, n *Network) {
	return func(t *testing.T, l renewer.Leaser, n *Network) {
		rec := record(n)
		mustAcquire(t, l, idA, 15*time.Second)
		mustBreak(t, l, 0)
		n.SetDelivery(once(isCall(OpRelease, idA), Delivery{RequestDelay: lateDelay}))
		wantGaveUp(t, "Release(A)", l.Release(giveUpCtx(t), idA))
		mustAcquire(t, l, next, 15*time.Second)
		settle(t, n)
		if next == idA {
			rec.want(t, OpRelease, idA, landed{copyNo: 1, late: true, err: nil})
			wantState(t, l, available)
			wantErr(t, "SetMetadata(A) of the later holding", l.SetMetadata(callCtx(t), idA, nil), renewer.ErrNoLease)
			return
		}
		rec.want(t, OpRelease, idA, landed{copyNo: 1, late: true, err: renewer.ErrNoLease})
		wantHeldBy(t, l, next)
	}
}

// lateRenewAfterFreshID: A's holding ends (broken), a renew of A is sent
// and its caller gives up; B acquires; the renew lands and is refused.
func lateRenewAfterFreshID(t *testing.T, l renewer.Leaser, n *Network) {
	rec := record(n)
	mustAcquire(t, l, idA, 15*time.Second)
	mustBreak(t, l, 0)
	n.SetDelivery(once(isCall(OpRenew, idA), Delivery{RequestDelay: lateDelay}))
	_, err := l.Renew(giveUpCtx(t), idA)
	wantGaveUp(t, "Renew(A)", err)
	mustAcquire(t, l, idB, 15*time.Second)
	settle(t, n)
	rec.want(t, OpRenew, idA, landed{copyNo: 1, late: true, err: renewer.ErrNoLease})
	wantHeldBy(t, l, idB)
}

// lateAcquire: an acquire of A is sent and its caller gives up; B acquires
// the free container; A's acquire lands and is refused.
func lateAcquire(t *testing.T, l renewer.Leaser, n *Network) {
	rec := record(n)
	n.SetDelivery(once(isCall(OpAcquire, idA), Delivery{RequestDelay: lateDelay}))
	_, err := l.Acquire(giveUpCtx(t), idA, 15*time.Second)
	wantGaveUp(t, "Acquire(A)", err)
	mustAcquire(t, l, idB, 15*time.Second)
	settle(t, n)
	rec.want(t, OpAcquire, idA, landed{copyNo: 1, late: true, err: renewer.ErrLeaseHeld})
	wantHeldBy(t, l, idB)
}

// lostAcquireRetried: acquire(A) is applied and its answer lost; the caller
// sees a transient error, retries with the same ID and gets it: one lease,
// A's.
func lostAcquireRetried(t *testing.T, l renewer.Leaser, n *Network) {
	rec := record(n)
	n.SetDelivery(once(isCall(OpAcquire, idA), Delivery{LoseAnswer: true}))
	got, err := l.Acquire(callCtx(t), idA, 15*time.Second)
	wantTransient(t, "Acquire(A), answer lost", got, err)
	wantState(t, l, leased)
	mustAcquire(t, l, idA, 15*time.Second)
	settle(t, n)
	rec.want(t, OpAcquire, idA, landed{copyNo: 1, err: nil}, landed{copyNo: 1, err: nil})
	wantHeldBy(t, l, idA)
}

// duplicatedAcquire: acquire(A) reaches storage twice; both are accepted
// and the caller gets the second answer: A holds one lease.
func duplicatedAcquire(t *testing.T, l renewer.Leaser, n *Network) {
	rec := record(n)
	n.SetDelivery(once(isCall(OpAcquire, idA), Delivery{Duplicate: true, DuplicateDelay: time.Second}))
	mustAcquire(t, l, idA, 15*time.Second)
	settle(t, n)
	rec.want(t, OpAcquire, idA, landed{copyNo: 1, err: nil}, landed{copyNo: 2, err: nil})
	wantHeldBy(t, l, idA)
}

// duplicatedRelease: release(A) reaches storage twice; the first frees the
// container, the second (whose answer the caller gets) is refused with a
// mismatch, which a renewer must take as released.
func duplicatedRelease(t *testing.T, l renewer.Leaser, n *Network) {
	rec := record(n)
	mustAcquire(t, l, idA, 15*time.Second)
	n.SetDelivery(once(isCall(OpRelease, idA), Delivery{Duplicate: true, DuplicateDelay: time.Second}))
	wantErr(t, "Release(A), delivered twice", l.Release(callCtx(t), idA), renewer.ErrNoLease)
	settle(t, n)
	rec.want(t, OpRelease, idA, landed{copyNo: 1, err: nil}, landed{copyNo: 2, err: renewer.ErrNoLease})
	wantState(t, l, available)
}

// lateSetMetadataAfter: A's holding writes term 1; its next write (term 1
// again, a retry or heartbeat) is sent and its caller gives up; A's holding
// ends (broken); the next holding acquires with next and writes term 2;
// then A's write lands. With a fresh ID it is refused and term 2 stays.
// With A again it lands and the term goes back to 1.
func lateSetMetadataAfter(next string) func(t *testing.T, l renewer.Leaser, n *Network) {
	return func(t *testing.T, l renewer.Leaser, n *Network) {
		rec := record(n)
		term1 := map[string]string{"term": "1", "holder": "a"}
		term2 := map[string]string{"term": "2", "holder": "b"}
		mustAcquire(t, l, idA, 15*time.Second)
		mustSetMetadata(t, l, idA, term1)
		n.SetDelivery(once(isCall(OpSetMetadata, idA), Delivery{RequestDelay: lateDelay}))
		wantGaveUp(t, "SetMetadata(A, term 1)", l.SetMetadata(giveUpCtx(t), idA, term1))
		mustBreak(t, l, 0)
		mustAcquire(t, l, next, 15*time.Second)
		mustSetMetadata(t, l, next, term2)
		settle(t, n)
		if next == idA {
			// The late write and the later holding's own write both
			// carry A: the first two landings of A are A's holding 1
			// writes, then the later holding's, then the late one.
			rec.want(t, OpSetMetadata, idA,
				landed{copyNo: 1, err: nil}, landed{copyNo: 1, err: nil}, landed{copyNo: 1, late: true, err: nil})
			wantMetadata(t, l, term1)
			return
		}
		rec.want(t, OpSetMetadata, idA,
			landed{copyNo: 1, err: nil}, landed{copyNo: 1, late: true, err: renewer.ErrNoLease})
		wantMetadata(t, l, term2)
		wantHeldBy(t, l, next)
	}
}

// lostChangeRetried: change(A -> C) is applied and its answer lost; the
// caller retries it and gets 200 with C: a change to the current ID is
// idempotent.
func lostChangeRetried(t *testing.T, l renewer.Leaser, n *Network) {
	rec := record(n)
	mustAcquire(t, l, idA, 15*time.Second)
	n.SetDelivery(once(isCall(OpChange, idA), Delivery{LoseAnswer: true}))
	got, err := l.Change(callCtx(t), idA, idC)
	wantTransient(t, "Change(A, C), answer lost", got, err)
	checkCell(t, l, change(idA, idC, "change_A_to_C_retried"), []outcome{leasedTo(idC)})
	settle(t, n)
	rec.want(t, OpChange, idA, landed{copyNo: 1, err: nil}, landed{copyNo: 1, err: nil})
	wantHeldBy(t, l, idC)
}

// duplicatedChange: change(A -> C) reaches storage twice; the caller gets
// the second answer, 200 with C.
func duplicatedChange(t *testing.T, l renewer.Leaser, n *Network) {
	rec := record(n)
	mustAcquire(t, l, idA, 15*time.Second)
	n.SetDelivery(once(isCall(OpChange, idA), Delivery{Duplicate: true, DuplicateDelay: time.Second}))
	checkCell(t, l, change(idA, idC, "change_A_to_C_twice"), []outcome{leasedTo(idC)})
	settle(t, n)
	rec.want(t, OpChange, idA, landed{copyNo: 1, err: nil}, landed{copyNo: 2, err: nil})
}

// giveUpCtx is the context of a caller that gives up long before its
// request lands.
func giveUpCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), giveUpAfter)
	t.Cleanup(cancel)
	return ctx
}

// settle waits for every request on its way to land.
func settle(t *testing.T, n *Network) {
	t.Helper()
	if err := n.Settle(callCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// once returns a delivery function that gives d to the first call match
// accepts and carries every other call at once.
func once(match func(Call) bool, d Delivery) func(Call) Delivery {
	var (
		mu   sync.Mutex // guards used
		used bool
	)
	return func(c Call) Delivery {
		mu.Lock()
		defer mu.Unlock()
		if used || !match(c) {
			return Delivery{}
		}
		used = true
		return d
	}
}

// isCall matches calls of op with lease ID id.
func isCall(op Op, id string) func(Call) bool {
	return func(c Call) bool { return c.Op == op && strings.EqualFold(c.LeaseID, id) }
}

// recorder keeps the landings a Network reports.
type recorder struct {
	mu  sync.Mutex // guards all
	all []Landing
}

// landed is a landing a case expects.
type landed struct {
	copyNo int
	late   bool
	err    error // the sentinel (by errors.Is), or nil
}

func record(n *Network) *recorder {
	r := &recorder{}
	n.SetLanded(func(l Landing) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.all = append(r.all, l)
	})
	return r
}

// want checks the landings of op with lease ID id, in order.
func (r *recorder) want(t *testing.T, op Op, id string, want ...landed) {
	t.Helper()
	r.mu.Lock()
	var got []Landing
	for _, l := range r.all {
		if l.Call.Op == op && strings.EqualFold(l.Call.LeaseID, id) {
			got = append(got, l)
		}
	}
	r.mu.Unlock()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		w, g := want[i], got[i]
		errOK := (w.err == nil && g.Err == nil) || (w.err != nil && errors.Is(g.Err, w.err))
		ok = errOK && g.Copy == w.copyNo && g.Late == w.late
	}
	if !ok {
		t.Errorf("landings of %s(%s):\n got %s\nwant %s", op, id, describeLandings(got), describeWanted(want))
	}
}

func describeLandings(ls []Landing) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "[copy %d, late %v, err %v] ", l.Copy, l.Late, l.Err)
	}
	if len(ls) == 0 {
		return "none"
	}
	return b.String()
}

func describeWanted(ls []landed) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "[copy %d, late %v, err %v] ", l.copyNo, l.late, l.err)
	}
	return b.String()
}

// wantGaveUp checks that a caller that gave up got its context's error.
func wantGaveUp(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s, caller giving up after %v: error = %v, want context.DeadlineExceeded", call, giveUpAfter, err)
	}
}

// definitives are renewer's sentinels for the service's definitive answers.
var definitives = []error{
	renewer.ErrLeaseHeld, renewer.ErrNoLease, renewer.ErrContainerNotFound,
	renewer.ErrBadRequest, renewer.ErrForbidden, renewer.ErrThrottled,
}

// wantTransient checks that a call whose answer was lost failed with an
// error that claims nothing about storage: no renewer sentinel, no ID.
func wantTransient(t *testing.T, call, got string, err error) {
	t.Helper()
	if err == nil || got != "" {
		t.Errorf("%s = %q, %v; want \"\" and an error", call, got, err)
		return
	}
	for _, d := range definitives {
		if errors.Is(err, d) {
			t.Errorf("%s: error = %v, which says %q: want a transport failure, no service answer", call, err, d)
		}
	}
}

// wantHeldBy checks that id holds an active lease: a metadata write under
// it succeeds and another ID cannot acquire.
func wantHeldBy(t *testing.T, l renewer.Leaser, id string) {
	t.Helper()
	wantState(t, l, leased)
	wantErr(t, "SetMetadata with the holder's lease ID "+id, l.SetMetadata(callCtx(t), id, props(t, l).Metadata), nil)
	other := idC
	if strings.EqualFold(id, idC) {
		other = idB
	}
	_, err := l.Acquire(callCtx(t), other, 15*time.Second)
	wantErr(t, "Acquire by another ID while "+id+" holds", err, renewer.ErrLeaseHeld)
}
