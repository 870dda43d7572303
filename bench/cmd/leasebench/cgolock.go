//go:build peers

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// blobLock is a client-go resourcelock.Interface on one block blob: the
// LeaderElectionRecord as JSON in the blob's body, every write conditional on
// the blob's ETag, the way client-go's LeaseLock conditions its writes on the
// Lease object's resourceVersion. Get reads the body and remembers its ETag;
// Create writes with If-None-Match: *; Update writes with If-Match: the ETag
// this lock last read or wrote (as LeaseLock updates the object it last saw).
// A lost condition is a Conflict (AlreadyExists for Create), a missing blob is
// NotFound, as client-go's leader election expects from the API server.
//
// dead simulates a crash of the process holding the lock: once set, every
// call fails at once without reaching storage.
type blobLock struct {
	blob     *blockblob.Client
	id       string
	describe string

	mu   sync.Mutex // guards etag
	etag azcore.ETag

	dead atomic.Bool
	// lastWrite is when the last successful Create or Update was sent, in
	// UnixNano (0: none yet): the crash runs place the record's expiry by it.
	lastWrite atomic.Int64
}

var _ resourcelock.Interface = (*blobLock)(nil)

var blobResource = schema.GroupResource{Group: "leasebench", Resource: "blobs"}

// newBlobLock returns the lock of identity id on blob "leader" in container
// name, sending through c. It creates the container if it is missing.
func newBlobLock(ctx context.Context, connStr, name, id string, c *counter) (*blobLock, error) {
	cc, err := container.NewClientFromConnectionString(connStr, name, &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry:     policy.RetryOptions{MaxRetries: -1}, // client-go retries by itself, every RetryPeriod
		Transport: c,
	}})
	if err != nil {
		return nil, fmt.Errorf("blob lock: %w", err)
	}
	if _, err := cc.Create(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return nil, fmt.Errorf("blob lock: create container %s: %w", name, err)
	}
	return &blobLock{blob: cc.NewBlockBlobClient("leader"), id: id, describe: name + "/leader"}, nil
}

var errCrashed = errors.New("blob lock: the process has crashed (simulated)")

// Get implements resourcelock.Interface: one Get Blob.
func (l *blobLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	if l.dead.Load() {
		return nil, nil, errCrashed
	}
	resp, err := l.blob.DownloadStream(ctx, nil)
	if err != nil {
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			return nil, nil, apierrors.NewNotFound(blobResource, l.describe)
		}
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	var rec resourcelock.LeaderElectionRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, nil, fmt.Errorf("blob lock: record: %w", err)
	}
	if resp.ETag != nil {
		l.mu.Lock()
		l.etag = *resp.ETag
		l.mu.Unlock()
	}
	return &rec, raw, nil
}

// Create implements resourcelock.Interface: one Put Blob, If-None-Match: *.
func (l *blobLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	anyETag := azcore.ETagAny
	return l.put(ctx, ler, &blob.ModifiedAccessConditions{IfNoneMatch: &anyETag})
}

// Update implements resourcelock.Interface: one Put Blob, If-Match: the
// ETag last seen.
func (l *blobLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	l.mu.Lock()
	etag := l.etag
	l.mu.Unlock()
	if etag == "" {
		return errors.New("blob lock: update before the record was read")
	}
	return l.put(ctx, ler, &blob.ModifiedAccessConditions{IfMatch: &etag})
}

func (l *blobLock) put(ctx context.Context, ler resourcelock.LeaderElectionRecord, cond *blob.ModifiedAccessConditions) error {
	if l.dead.Load() {
		return errCrashed
	}
	body, err := json.Marshal(ler)
	if err != nil {
		return err
	}
	sent := time.Now()
	resp, err := l.blob.Upload(ctx, streaming.NopCloser(bytes.NewReader(body)), &blockblob.UploadOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: cond},
	})
	switch {
	case bloberror.HasCode(err, bloberror.BlobAlreadyExists):
		return apierrors.NewAlreadyExists(blobResource, l.describe)
	case bloberror.HasCode(err, bloberror.ConditionNotMet):
		return apierrors.NewConflict(blobResource, l.describe, err)
	case err != nil:
		return err
	}
	if resp.ETag != nil {
		l.mu.Lock()
		l.etag = *resp.ETag
		l.mu.Unlock()
	}
	l.lastWrite.Store(sent.UnixNano())
	return nil
}

// RecordEvent implements resourcelock.Interface; no events are recorded.
func (l *blobLock) RecordEvent(string) {}

// Identity implements resourcelock.Interface.
func (l *blobLock) Identity() string { return l.id }

// Describe implements resourcelock.Interface.
func (l *blobLock) Describe() string { return l.describe }
