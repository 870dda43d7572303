package integration_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestBlobConformance runs the lease state table against Azurite's blob
// leases: every case on a lock of its own (a blob never created before
// the case), all in one container, through azlease.NewBlob. The network
// cases send the SDK's own blob requests through a netTransport reading blob calls.
//
// Blob leases differ from container leases in two cells, declared in
// docs/lease-semantics.md and by Backend.Blob: a metadata write without
// the lease ID is refused while the blob is leased or breaking, and ends
// an expired or broken lease (the blob is modified: Available after).
func TestBlobConformance(t *testing.T) {
	cs := connString(t)
	name, _ := newContainer(t, "blobconf")
	var n atomic.Int64
	newBlob := func(t *testing.T, tr policy.Transporter) renewer.Leaser {
		opts := &container.ClientOptions{ClientOptions: policy.ClientOptions{
			Transport: tr,
			Retry:     policy.RetryOptions{MaxRetries: -1},
		}}
		cc, err := container.NewClientFromConnectionString(cs, name, opts)
		if err != nil {
			t.Fatal(err)
		}
		// A fresh lock per case, its name with characters to escape.
		l, err := azlease.NewBlob(cc, fmt.Sprintf("conformance/%d %s", n.Add(1), t.Name()), nil)
		if err != nil {
			t.Fatal(err)
		}
		// The suite wants a lease that exists, without metadata: a write
		// without lease ID creates the blob (TestNamedLocksSharedObserver
		// and azlease's unit tests cover acquiring a missing one).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.SetMetadata(ctx, "", nil); err != nil {
			t.Fatalf("create the lock's blob: %v", err)
		}
		return l
	}
	leasetest.RunConformance(t, leasetest.Backend{
		Name:      "azurite_blobs",
		NewLeaser: func(t *testing.T) renewer.Leaser { return newBlob(t, nil) },
		NewNetLeaser: func(t *testing.T) (renewer.Leaser, *leasetest.Network) {
			tr := newNetTransport()
			tr.callOf, tr.statusErr = blobCallOf, blobStatusError
			return newBlob(t, tr), &tr.net
		},
		Azurite: true,
		Blob:    true,
	})
}

// blobStatusError is statusError with the blob operations' lease codes.
func blobStatusError(resp *http.Response) error {
	code := resp.Header.Get("x-ms-error-code")
	if s, ok := blobLeaseCodes[code]; ok {
		return fmt.Errorf("HTTP %d %s: %w", resp.StatusCode, code, s)
	}
	return statusError(resp)
}

var blobLeaseCodes = map[string]error{
	"LeaseIdMismatchWithBlobOperation": renewer.ErrNoLease,
	"LeaseNotPresentWithBlobOperation": renewer.ErrNoLease,
	"LeaseIdMissing":                   renewer.ErrNoLease,
}

// blobCallOf names the leasetest.Call of a blob request, or says it is
// none (create blob, list blobs, container requests).
func blobCallOf(req *http.Request) (leasetest.Call, bool) {
	q := req.URL.Query()
	if q.Get("restype") != "" {
		return leasetest.Call{}, false
	}
	switch comp := q.Get("comp"); {
	case comp == "lease" && req.Method == http.MethodPut:
		return leaseCall(req)
	case comp == "metadata" && req.Method == http.MethodPut:
		return leasetest.Call{Op: leasetest.OpSetMetadata, LeaseID: header(req, "x-ms-lease-id")}, true
	case comp == "" && req.Method == http.MethodHead:
		return leasetest.Call{Op: leasetest.OpProperties}, true
	}
	return leasetest.Call{}, false
}

// countingTransport counts the requests of one SDK client by kind, and
// sends only to loopback addresses.
type countingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int // guarded by mu
}

func newCountingTransport() *countingTransport {
	return &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone(), n: map[string]int{}}
}

// Do implements policy.Transporter.
func (tr *countingTransport) Do(req *http.Request) (*http.Response, error) {
	if err := loopbackOnly(req); err != nil {
		return nil, err
	}
	kind := "other"
	q := req.URL.Query()
	switch {
	case q.Get("comp") == "list":
		kind = "list"
	case q.Get("comp") == "lease":
		kind = header(req, "x-ms-lease-action")
	case q.Get("comp") == "metadata":
		kind = "set metadata"
	case req.Method == http.MethodHead:
		kind = "properties"
	}
	tr.mu.Lock()
	tr.n[kind]++
	tr.mu.Unlock()
	return tr.base.RoundTrip(req)
}

func (tr *countingTransport) counts() map[string]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[string]int, len(tr.n))
	for k, v := range tr.n {
		out[k] = v
	}
	return out
}

func (tr *countingTransport) total() int {
	n := 0
	for _, v := range tr.counts() {
		n += v
	}
	return n
}

// TestNamedLocksSharedObserver: one process holds 60 named locks of one
// container; another waits on all 60 through one Observer (its SDK
// requests counted). While all are held, the waiters cost one List Blobs
// per poll interval, not one call per waiter; when the holder releases 10,
// the waiters take exactly those, each with term 2.
func TestNamedLocksSharedObserver(t *testing.T) {
	const locks, freed = 60, 10
	cs := connString(t)
	name, _ := newContainer(t, "named")
	clientFor := func(tr policy.Transporter) *container.Client {
		cc, err := container.NewClientFromConnectionString(cs, name, &container.ClientOptions{ClientOptions: policy.ClientOptions{
			Transport: tr,
			Retry:     policy.RetryOptions{MaxRetries: -1},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return cc
	}
	lockName := func(i int) string { return fmt.Sprintf("tenant/%02d", i) }

	// The holder: plain renewers, no observer.
	holderCC := clientFor(nil)
	held := make([]*renewer.Lease, locks)
	for i := range locks {
		l, err := azlease.NewBlob(holderCC, lockName(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := renewer.New(l, renewer.WithIdentity("holder"))
		if err != nil {
			t.Fatal(err)
		}
		if held[i], err = r.TryAcquire(t.Context()); err != nil {
			t.Fatalf("holder: TryAcquire(%s): %v", lockName(i), err)
		}
	}
	defer func() {
		for _, ls := range held {
			_ = ls.Release(context.Background())
		}
	}()

	// The waiter process: one client, counted, one Observer.
	tr := newCountingTransport()
	waiterCC := clientFor(tr)
	obs, err := azlease.NewObserver(waiterCC, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type won struct {
		i  int
		ls *renewer.Lease
	}
	wins := make(chan won, locks)
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now()
	for i := range locks {
		l, err := azlease.NewBlob(waiterCC, lockName(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := renewer.New(l, renewer.WithIdentity("waiter"), renewer.WithObserver(obs))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			ls, err := r.Acquire(ctx)
			if err == nil {
				wins <- won{i, ls}
			} else if ctx.Err() == nil {
				t.Errorf("waiter %d: Acquire: %v", i, err)
			}
		})
	}

	time.Sleep(10 * time.Second)
	elapsed := time.Since(start)
	got := tr.counts()
	t.Logf("%d waiters on %d held locks for %v: %v (%d calls; polling on their own at %v: about %d)",
		locks, locks, elapsed.Round(time.Millisecond), got, tr.total(), renewer.DefaultPollInterval,
		locks+int(elapsed/renewer.DefaultPollInterval)*locks)
	maxLists := int(elapsed/(renewer.DefaultPollInterval*4/5)) + 2
	if got["list"] > maxLists || got["list"] < 2 {
		t.Errorf("%d List Blobs calls in %v, want 2 to %d: one per poll interval", got["list"], elapsed, maxLists)
	}
	if got["acquire"] != locks {
		t.Errorf("%d acquire calls while all were held, want %d (each waiter's first poll only)", got["acquire"], locks)
	}
	if got["properties"] != 0 {
		t.Errorf("%d properties calls while all were held, want 0", got["properties"])
	}
	if len(wins) != 0 {
		t.Fatalf("a waiter won a held lock")
	}

	// Free the first 10: exactly those are taken, with term 2.
	for i := range freed {
		if err := held[i].Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(30 * time.Second)
	taken := map[int]bool{}
	for len(taken) < freed {
		select {
		case w := <-wins:
			if w.i >= freed {
				t.Errorf("waiter %d took a lock that is still held", w.i)
			}
			if w.ls.Term() != 2 {
				t.Errorf("waiter %d: term %d, want 2", w.i, w.ls.Term())
			}
			taken[w.i] = true
			defer w.ls.Release(context.Background())
		case <-deadline:
			t.Fatalf("after 30 s, waiters took %d of the %d freed locks", len(taken), freed)
		}
	}
	cancel()
	wg.Wait()
	for len(wins) > 0 {
		w := <-wins
		_ = w.ls.Release(context.Background())
		t.Errorf("waiter %d took a lock that is still held", w.i)
	}

	// The container's locks, listed by name.
	ls, err := azlease.NewLister(holderCC)
	if err != nil {
		t.Fatal(err)
	}
	all, err := ls.Locks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != locks {
		t.Errorf("Locks listed %d locks, want %d", len(all), locks)
	}
	for i := range locks {
		st := all[lockName(i)]
		want := "holder"
		if i < freed {
			want = "waiter"
		}
		if st.State != renewer.StateLeased || st.Holder != want {
			t.Errorf("lock %s: %v by %q, want leased by %q", lockName(i), st.State, st.Holder, want)
		}
	}
}

// TestBlobLockBadName: a name that cannot be encoded is refused with an
// error naming it, before any storage call.
func TestBlobLockBadName(t *testing.T) {
	l := newLeaser(t, containerName(t, "badname"))
	for _, bad := range []string{"", strings.Repeat("n", renewer.MaxNameLen+1), "\xff"} {
		if _, err := l.Blob(bad); !errors.Is(err, renewer.ErrInvalidOption) || !strings.Contains(err.Error(), "lock name") {
			t.Errorf("Blob(%q) = %v, want an invalid-option error naming the lock name", bad, err)
		}
	}
}
