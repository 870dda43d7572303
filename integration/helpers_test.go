package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// connString returns the storage connection string, failing the test when
// it is unset: integration tests never skip.
func connString(t testing.TB) string {
	t.Helper()
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		t.Fatal("AZURE_STORAGE_CONNECTION_STRING is not set: run the integration tests with `make test`, " +
			"which starts Azurite and sets it, or set it to a storage account's connection string")
	}
	return cs
}

// containerName returns a unique, valid container name with prefix.
func containerName(t testing.TB, prefix string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(prefix) + "-" + hex.EncodeToString(b[:])
	if err := azlease.ValidateContainerName(name); err != nil {
		t.Fatal(err)
	}
	return name
}

// newContainer creates a fresh container and returns its name and an SDK
// client for it. The container is deleted (its lease broken first) when the
// test ends.
func newContainer(t testing.TB, prefix string) (string, *container.Client) {
	t.Helper()
	name := containerName(t, prefix)
	cc, err := container.NewClientFromConnectionString(connString(t), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cc.Create(ctx, nil); err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	t.Cleanup(func() { deleteContainer(t, cc) })
	return name, cc
}

func deleteContainer(t testing.TB, cc *container.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if lc, err := lease.NewContainerClient(cc, nil); err == nil {
		_, _ = lc.BreakLease(ctx, &lease.ContainerBreakOptions{BreakPeriod: to.Ptr[int32](0)})
	}
	if _, err := cc.Delete(ctx, nil); err != nil {
		t.Logf("delete container: %v", err)
	}
}

// newLeaser returns an azlease.Leaser with its own SDK client (as a separate
// process would have) for the named container.
func newLeaser(t testing.TB, name string) *azlease.Leaser {
	t.Helper()
	l, err := azlease.FromConnectionString(connString(t), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
