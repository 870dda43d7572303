package azlease_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

func TestBlobNameRoundTrip(t *testing.T) {
	tests := []struct{ give, want string }{
		{"orders", "leasehold/orders"},
		{"Orders_eu-west", "leasehold/Orders_eu-west"},
		{"orders/eu west", "leasehold/orders.2Feu.20west"},
		{"a.b", "leasehold/a.2Eb"},
		{".", "leasehold/.2E"},
		{"ü", "leasehold/.C3.BC"},
		{"%2F", "leasehold/.252F"},
		{strings.Repeat("z", renewer.MaxNameLen), "leasehold/" + strings.Repeat("z", renewer.MaxNameLen)},
	}
	for _, tt := range tests {
		got, err := azlease.BlobName(tt.give)
		if err != nil || got != tt.want {
			t.Errorf("BlobName(%q) = %q, %v; want %q", tt.give, got, err, tt.want)
			continue
		}
		if back, ok := azlease.LockName(got); !ok || back != tt.give {
			t.Errorf("LockName(%q) = %q, %v; want %q", got, back, ok, tt.give)
		}
	}
	// The longest encoding fits a blob name (at most 1,024 characters).
	worst, err := azlease.BlobName(strings.Repeat("/", renewer.MaxNameLen))
	if err != nil || len(worst) > 1024 {
		t.Errorf("BlobName of %d slashes: %d characters, %v; want at most 1024", renewer.MaxNameLen, len(worst), err)
	}
}

// TestBlobNamesDistinct: names that differ only in what is escaped, or in
// case, get different blobs.
func TestBlobNamesDistinct(t *testing.T) {
	names := []string{"a.b", "a.2Eb", "a/b", "a b", "A.b", "a_b", "a-b", "a.2eb", ".2E", "."}
	seen := map[string]string{}
	for _, n := range names {
		b, err := azlease.BlobName(n)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[b]; dup {
			t.Errorf("%q and %q share blob %q", prev, n, b)
		}
		seen[b] = n
	}
}

func TestLockNameRejectsOtherBlobs(t *testing.T) {
	for _, bn := range []string{"orders", "leasehold/", "leasehold/a.2", "leasehold/a.zz", "leasehold/a.2e", "leasehold/a b", "leasehold/.FF"} {
		if name, ok := azlease.LockName(bn); ok {
			t.Errorf("LockName(%q) = %q, true; want false", bn, name)
		}
	}
}

func TestBadLockNames(t *testing.T) {
	cc, err := container.NewClientWithNoCredential(secretURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", strings.Repeat("x", renewer.MaxNameLen+1), "bad\xff"} {
		_, err := azlease.NewBlob(cc, name, nil)
		var oe *renewer.OptionError
		if !errors.As(err, &oe) || oe.Field != "lock name" || oe.Pkg != "azlease" {
			t.Errorf("NewBlob(%q) = %v, want an azlease option error on the lock name", name, err)
		}
		if _, err := leasetest.NewNamed().Lease(name); !errors.Is(err, renewer.ErrInvalidOption) {
			t.Errorf("leasetest Lease(%q) = %v, want an option error", name, err)
		}
	}
	if _, err := azlease.NewBlob(nil, "x", nil); !errors.Is(err, renewer.ErrInvalidOption) {
		t.Errorf("NewBlob(nil) = %v, want an option error", err)
	}
	if _, err := azlease.NewLister(nil); !errors.Is(err, renewer.ErrInvalidOption) {
		t.Errorf("NewLister(nil) = %v, want an option error", err)
	}
}

func newBlobLeaser(t *testing.T, tr *transport, name string) *azlease.BlobLeaser {
	t.Helper()
	cc, err := container.NewClientWithNoCredential(secretURL, &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: tr,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := azlease.NewBlob(cc, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestBlobAcquireCreatesBlob: an acquire that finds the blob missing
// creates it with If-None-Match: * and the name in its metadata, and
// acquires again; a blob created meanwhile by someone else is fine.
func TestBlobAcquireCreatesBlob(t *testing.T) {
	for _, putAnswer := range []int{201, 409} {
		const id = "11111111-1111-4111-8111-111111111111"
		acquires := 0
		tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
			switch {
			case req.Method == http.MethodPut && req.URL.Query().Get("comp") == "lease":
				acquires++
				if acquires == 1 {
					return answer(req, 404, "BlobNotFound"), nil
				}
				return answer(req, 201, "", "x-ms-lease-id", id), nil
			case req.Method == http.MethodPut:
				if putAnswer == 409 {
					return answer(req, 409, "BlobAlreadyExists"), nil
				}
				return answer(req, 201, ""), nil
			}
			return answer(req, 500, "Unexpected"), nil
		}}
		l := newBlobLeaser(t, tr, "jobs/nightly")
		got, err := l.Acquire(t.Context(), id, renewer.DefaultDuration)
		if err != nil || got != id {
			t.Fatalf("put answering %d: Acquire = %q, %v; want %q", putAnswer, got, err, id)
		}
		sent := tr.requests()
		if len(sent) != 3 {
			t.Fatalf("put answering %d: %d requests, want 3 (acquire, create, acquire)", putAnswer, len(sent))
		}
		put := sent[1]
		if !strings.HasSuffix(put.URL.Path, "/c/leasehold/jobs.2Fnightly") {
			t.Errorf("create went to %s, want the lock's blob", put.URL.Path)
		}
		if header(put, "If-None-Match") != "*" {
			t.Errorf("create sent If-None-Match %q, want *", header(put, "If-None-Match"))
		}
		if v := header(put, "x-ms-meta-leasehold_name"); v != "jobs%2Fnightly" {
			t.Errorf("create sent name metadata %q, want %q", v, "jobs%2Fnightly")
		}
	}
}

// TestBlobMissing: a missing blob reads as a lock never taken, and a lease
// action on it answers as on an unleased container.
func TestBlobMissing(t *testing.T) {
	tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
		return answer(req, 404, "BlobNotFound"), nil
	}}
	l := newBlobLeaser(t, tr, "never")
	p, err := l.Properties(t.Context())
	if err != nil || p.State != renewer.StateAvailable || len(p.Metadata) != 0 {
		t.Errorf("Properties = %+v, %v; want Available, no metadata", p, err)
	}
	const id = "11111111-1111-4111-8111-111111111111"
	if _, err := l.Renew(t.Context(), id); !errors.Is(err, renewer.ErrNoLease) {
		t.Errorf("Renew = %v, want ErrLeaseIDMismatch", err)
	}
	if err := l.Release(t.Context(), id); !errors.Is(err, renewer.ErrNoLease) {
		t.Errorf("Release = %v, want ErrLeaseIDMismatch", err)
	}
	if _, err := l.Break(t.Context(), 0); !errors.Is(err, renewer.ErrNoLease) {
		t.Errorf("Break = %v, want ErrLeaseNotPresent", err)
	}
	if err := l.SetMetadata(t.Context(), id, nil); !errors.Is(err, renewer.ErrNoLease) {
		t.Errorf("SetMetadata(id) = %v, want ErrLeaseNotPresent", err)
	}
}

func TestListerLeaseKey(t *testing.T) {
	cc, err := container.NewClientWithNoCredential(secretURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := container.NewClientWithNoCredential("https://acct.blob.core.windows.net/other", nil)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := azlease.NewLister(cc)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := azlease.NewBlob(cc, "a/b", nil)
	if key, err := ls.LeaseKey(in); err != nil || key != "leasehold/a.2Fb" {
		t.Errorf("LeaseKey(lock in the container) = %q, %v", key, err)
	}
	out, _ := azlease.NewBlob(other, "a/b", nil)
	if _, err := ls.LeaseKey(out); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("LeaseKey(lock in another container) = %v, want an error without the query", err)
	}
	whole, _ := azlease.New(cc, nil)
	if _, err := ls.LeaseKey(whole); err == nil {
		t.Error("LeaseKey(a container lease) = nil error, want one")
	}
}
