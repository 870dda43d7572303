package integration_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// TestInteropReleasedThenForeign: the scenario with the official
// JavaScript SDK. A leasehold holder releases, the SDK takes the lease,
// leaving the metadata as it was: Inspect must say that the holder named
// there released (Status.Released), so that the lease is reported as
// another client's (Status.Foreign), not as that holder's.
func TestInteropReleasedThenForeign(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "interop-released")
	r, err := renewer.New(newLeaser(t, name), renewer.WithIdentity("lh-c1p"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := r.TryAcquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	id := js(t, "acquire", name)
	defer js(t, "release", name, id)
	st, err := r.Inspect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Held() || !st.Released || !st.Foreign() || st.Holder != "lh-c1p" || st.Term != ls.Term() {
		t.Errorf("Inspect after lh-c1p released and the JavaScript SDK acquired = %+v (Foreign %v); want held, released, foreign, naming lh-c1p and term %d as the one that released",
			st, st.Foreign(), ls.Term())
	}
}

// TestInteropForeignBreakIsABreak: a break by the JavaScript SDK ends a
// leasehold holding with a cause the holder can tell from other losses
// (renewer.ErrBroken, through the adapter's reading of the service's
// LeaseIsBrokenAndCannotBeRenewed), on which an election candidate stands
// aside.
func TestInteropForeignBreakIsABreak(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "interop-isbreak")
	r, err := renewer.New(newLeaser(t, name), renewer.WithIdentity("lh"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := r.TryAcquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Release(context.Background())
	js(t, "break", name)
	select {
	case <-ls.Done():
		if cause := context.Cause(ls.Context()); !errors.Is(cause, renewer.ErrBroken) || !errors.Is(cause, renewer.ErrLeaseLost) {
			t.Errorf("cause %v, want ErrLeaseLost wrapping ErrBroken", cause)
		}
	case <-time.After(r.Timing().RenewInterval + r.Timing().CallTimeout + time.Second):
		t.Fatal("the holder did not stop after the break")
	}
}
