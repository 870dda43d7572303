package leasetest_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestNamedBlobMetadataNeedsLeaseID: a Named lease refuses a metadata
// write without the lease ID while leased, as a blob does; a Container
// allows it, as a container does.
func TestNamedBlobMetadataNeedsLeaseID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		blob, err := n.Lease("x")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []renewer.Leaser{blob, leasetest.New()} {
			if _, err := l.Acquire(t.Context(), idA, 15*time.Second); err != nil {
				t.Fatal(err)
			}
			err := l.SetMetadata(t.Context(), "", map[string]string{"k": "v"})
			if want := l == renewer.Leaser(blob); errors.Is(err, renewer.ErrNoLease) != want {
				t.Errorf("SetMetadata without the lease ID on a leased %T (blob %v) = %v", l, want, err)
			}
		}
	})
}

// TestNamedList: one List reports every name's lease, keyed by name, with
// its holder's metadata; Lease returns one Container per name.
func TestNamedList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := leasetest.NewNamed()
		a, _ := n.Lease("a")
		if again, _ := n.Lease("a"); again != a {
			t.Error("Lease(a) twice gave two Containers")
		}
		b, _ := n.Lease("b/ü")
		if _, err := a.Acquire(t.Context(), idA, renewer.Infinite); err != nil {
			t.Fatal(err)
		}
		if err := a.SetMetadata(t.Context(), idA, map[string]string{renewer.MetadataHolder: "w1", renewer.MetadataTerm: "4"}); err != nil {
			t.Fatal(err)
		}
		got, err := n.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st := got["a"]; st.State != renewer.StateLeased || !st.Infinite || st.Holder != "w1" || st.Term != 4 {
			t.Errorf("List[a] = %+v, want leased, infinite, by w1, term 4", st)
		}
		if st, ok := got["b/ü"]; !ok || st.State != renewer.StateAvailable {
			t.Errorf("List[b/ü] = %+v, %v; want available", st, ok)
		}
		if n.Lists() != 1 || a.Calls(leasetest.OpProperties) != 0 {
			t.Errorf("lists = %d, properties calls = %d; want 1 and 0", n.Lists(), a.Calls(leasetest.OpProperties))
		}
		if key, err := n.LeaseKey(b); err != nil || key != "b/ü" {
			t.Errorf("LeaseKey(b) = %q, %v", key, err)
		}
		if _, err := n.LeaseKey(leasetest.New()); err == nil {
			t.Error("LeaseKey(a Container of no Named) = nil error, want one")
		}
		if md := b.Metadata(); md[renewer.MetadataName] != "b%2F%C3%BC" {
			t.Errorf("b's name in metadata = %q, want the query-escaped name", md[renewer.MetadataName])
		}
	})
}
