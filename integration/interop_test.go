package integration_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// js runs the official JavaScript SDK (testdata/jsclient.cjs, the SDK from
// tools/azurite/node_modules, installed with Azurite) on container name,
// as a client that is not leasehold, and returns what it printed. It fails
// the test if node or the SDK is missing: these tests never skip.
func js(t *testing.T, args ...string) string {
	t.Helper()
	modules, err := filepath.Abs("../tools/azurite/node_modules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "@azure", "storage-blob")); err != nil {
		t.Fatalf("the JavaScript SDK is not installed (%v): run the tests with make test, which installs it with Azurite (tools/azurite/install.sh)", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"testdata/jsclient.cjs"}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "AZURE_STORAGE_CONNECTION_STRING="+connString(t))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("node jsclient.cjs %v: %v: %s", args, err, ee.Stderr)
		}
		t.Fatalf("node jsclient.cjs %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestInteropForeignHolderBlocks: a lease the JavaScript SDK took (no
// leasehold metadata) keeps leasehold out: TryAcquire answers
// ErrLeaseHeld, and Inspect shows it held with no leasehold holder.
func TestInteropForeignHolderBlocks(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "interop-blocks")
	js(t, "acquire", name)
	r, err := renewer.New(newLeaser(t, name), renewer.WithIdentity("lh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.TryAcquire(t.Context()); !errors.Is(err, renewer.ErrLeaseHeld) {
		t.Fatalf("TryAcquire on a foreign lease = %v, want ErrLeaseHeld", err)
	}
	st, err := r.Inspect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Held() || st.Holder != "" || st.Term != 0 {
		t.Errorf("Inspect = %+v, want held, with no leasehold holder or term", st)
	}
}

// TestInteropForeignReleaseHandsOver: a leasehold waiter takes the lease
// at its next poll once the JavaScript SDK releases it, and writes term 1.
func TestInteropForeignReleaseHandsOver(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "interop-release")
	id := js(t, "acquire", name)
	r, err := renewer.New(newLeaser(t, name), renewer.WithIdentity("lh"), renewer.WithPollInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *renewer.Lease, 1)
	go func() {
		ls, err := r.Acquire(t.Context())
		if err != nil {
			t.Errorf("Acquire: %v", err)
		}
		got <- ls
	}()
	time.Sleep(time.Second)
	released := time.Now()
	js(t, "release", name, id)
	select {
	case ls := <-got:
		if ls == nil {
			return
		}
		defer ls.Release(context.Background())
		t.Logf("held %v after the foreign release", time.Since(released).Round(time.Millisecond))
		if ls.Term() != 1 {
			t.Errorf("term %d, want 1", ls.Term())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not held within 10 s of the foreign release")
	}
}

// TestInteropForeignBreakStopsTheHolder: a break by the JavaScript SDK
// (period 0) ends a leasehold holding at its next renew: its context is
// cancelled, with a cause wrapping ErrLeaseLost, within a renew interval
// and a call timeout.
func TestInteropForeignBreakStopsTheHolder(t *testing.T) {
	t.Parallel()
	name, _ := newContainer(t, "interop-break")
	r, err := renewer.New(newLeaser(t, name), renewer.WithIdentity("lh"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := r.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	broken := time.Now()
	js(t, "break", name)
	bound := r.Timing().RenewInterval + r.Timing().CallTimeout + time.Second
	select {
	case <-ls.Done():
		t.Logf("holder stopped %v after the foreign break: %v", time.Since(broken).Round(time.Millisecond), context.Cause(ls.Context()))
		if !errors.Is(context.Cause(ls.Context()), renewer.ErrLeaseLost) {
			t.Errorf("cause %v, want ErrLeaseLost", context.Cause(ls.Context()))
		}
	case <-time.After(bound):
		t.Fatalf("the holder did not stop within %v of the foreign break", bound)
	}
}

// TestInteropForeignMetadataWrite: a metadata write without the lease ID
// (the JavaScript SDK's). On a container, the lease does not guard it: it
// succeeds while leasehold holds the lease and replaces the term, which is
// why no other client may write an election's or a lock's container
// metadata (docs/protocol.md). On a named lock's blob, the lease guards it:
// refused with 412, and the term stays.
func TestInteropForeignMetadataWrite(t *testing.T) {
	t.Parallel()
	name, cc := newContainer(t, "interop-metadata")
	for _, blob := range []bool{false, true} {
		var l renewer.Leaser = newLeaser(t, name)
		args := []string{"set-metadata", name}
		if blob {
			bl, err := azlease.NewBlob(cc, "orders/eu west", nil)
			if err != nil {
				t.Fatal(err)
			}
			l, args = bl, append(args, bl.BlobName())
		}
		r, err := renewer.New(l, renewer.WithIdentity("lh"))
		if err != nil {
			t.Fatal(err)
		}
		ls, err := r.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := js(t, args...)
		st, err := r.Inspect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !blob && (got != "written" || st.Term != 0):
			t.Errorf("container: foreign metadata write under a held lease: %q, term now %d; want written, term gone (the container lease does not guard metadata)", got, st.Term)
		case blob && (!strings.HasPrefix(got, "refused HTTP 412") || st.Term != ls.Term() || st.Holder != "lh"):
			t.Errorf("blob: foreign metadata write under a held lease: %q, holder %q term %d; want refused HTTP 412, lh term %d", got, st.Holder, st.Term, ls.Term())
		}
		t.Logf("blob %v: foreign metadata write %s; term after it %d", blob, got, st.Term)
		_ = ls.Release(context.Background())
	}
}
