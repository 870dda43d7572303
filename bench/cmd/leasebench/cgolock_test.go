//go:build peers

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// TestBlobLock checks, on the Azurite of `make test`, that the client-go
// lock the bench compares against keeps client-go's contract: NotFound
// before the record exists, AlreadyExists for a second Create, Conflict for
// an Update whose ETag is stale, and a record read back as written. It fails
// (never skips) without AZURE_STORAGE_CONNECTION_STRING.
func TestBlobLock(t *testing.T) {
	if err := requireConnString(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "lb-test-lock-" + hex.EncodeToString(b[:])
	a, err := newBlobLock(ctx, connString(), name, "a", newCounter(newHTTPClient(2)))
	if err != nil {
		t.Fatal(err)
	}
	c := newCounter(newHTTPClient(2))
	bl, err := newBlobLock(ctx, connString(), name, "b", c)
	if err != nil {
		t.Fatal(err)
	}

	if _, _, err := a.Get(ctx); !apierrors.IsNotFound(err) {
		t.Fatalf("Get before Create: got %v, want NotFound", err)
	}
	if err := a.Update(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "a"}); err == nil {
		t.Fatal("Update before any read succeeded")
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	rec := resourcelock.LeaderElectionRecord{HolderIdentity: "a", LeaseDurationSeconds: 15, AcquireTime: now, RenewTime: now}
	if err := a.Create(ctx, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := bl.Create(ctx, rec); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second Create: got %v, want AlreadyExists", err)
	}
	got, raw, err := bl.Get(ctx)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.HolderIdentity != "a" || got.LeaseDurationSeconds != 15 || !got.RenewTime.Equal(&now) || len(raw) == 0 {
		t.Fatalf("Get: %+v, want the record written", got)
	}
	// a writes again (its ETag is its own last write); b's ETag is now stale.
	rec.LeaderTransitions = 1
	if err := a.Update(ctx, rec); err != nil {
		t.Fatalf("Update with the current ETag: %v", err)
	}
	if err := bl.Update(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "b"}); !apierrors.IsConflict(err) {
		t.Fatalf("Update with a stale ETag: got %v, want Conflict", err)
	}
	if got, _, err := bl.Get(ctx); err != nil || got.HolderIdentity != "a" || got.LeaderTransitions != 1 {
		t.Fatalf("Get after the lost Update: %+v, %v; want a's record", got, err)
	}
	// b's calls were counted by operation: Create, Get, Update, Get.
	ops := map[string]int64{}
	for _, o := range c.snapshot().byOp() {
		ops[o.Op] = o.Calls
	}
	if ops[opGetBlob] != 2 || ops[opPutBlob] != 2 {
		t.Fatalf("b's counted calls: %v, want get-blob 2 and put-blob 2", ops)
	}
	a.dead.Store(true)
	if _, _, err := a.Get(ctx); err == nil {
		t.Fatal("a dead lock's Get succeeded")
	}
}
