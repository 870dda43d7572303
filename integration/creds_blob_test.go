package integration_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// The named locks (a lock as the lease of a blob in a shared container,
// azlease.NewBlob and --container) can run on a SAS of narrower scope than a
// container lease can: a service SAS for the container (sr=c), or for the
// lock's one blob (sr=b). These are their least-privilege rows, tested as
// the container lease's are (credsSASLeastPrivilege).

// Every permission a container SAS and a blob SAS can carry.
const (
	allContainerPermissions = "racwdxltf"
	allBlobPermissions      = "racwdxytmei"
)

// credsBlobScope is one kind of SAS for a named lock.
type credsBlobScope struct {
	name string
	all  string // every permission of this kind of SAS
	sign func(t *testing.T, az *credsAzurite, cap *credsCapture, container, blobName, perms string) string
}

var credsBlobScopes = map[string]credsBlobScope{
	"account": {name: "account SAS (ss=b, srt=co)", all: allAccountPermissions,
		sign: func(t *testing.T, az *credsAzurite, cap *credsCapture, _, _, perms string) string {
			return az.accountSAS(t, cap, "co", perms, time.Hour)
		}},
	"container": {name: "container SAS (sr=c)", all: allContainerPermissions,
		sign: func(t *testing.T, az *credsAzurite, cap *credsCapture, container, _, perms string) string {
			return az.containerSAS(t, cap, container, perms, time.Hour)
		}},
	"blob": {name: "blob SAS (sr=b)", all: allBlobPermissions,
		sign: func(t *testing.T, az *credsAzurite, cap *credsCapture, container, blobName, perms string) string {
			return az.blobSAS(t, cap, container, blobName, perms, time.Hour)
		}},
}

// blobSAS signs a service SAS scoped to one blob of the named container.
func (a *credsAzurite) blobSAS(t *testing.T, cap *credsCapture, container, blobName, perms string, life time.Duration) string {
	t.Helper()
	now := time.Now().UTC()
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     now.Add(-time.Minute),
		ExpiryTime:    now.Add(life),
		Permissions:   perms,
		ContainerName: container,
		BlobName:      blobName,
	}.SignWithSharedKey(a.key)
	if err != nil {
		t.Fatalf("blob SAS %s: %v", perms, err)
	}
	cap.secret(q.Signature())
	return q.Encode()
}

// credsBlobOp is one storage operation of a named lock, tried on a lock
// prepared for it with the shared key in a fresh container.
type credsBlobOp struct {
	// blob: the lock's blob exists; leased: and is leased (by the admin,
	// with the ID passed to do).
	blob, leased bool
	do           func(ctx context.Context, bl *azlease.BlobLeaser, leaseID string) error
}

var credsBlobOps = map[string]credsBlobOp{
	"create blob, acquire": {do: func(ctx context.Context, bl *azlease.BlobLeaser, _ string) error {
		_, err := bl.Acquire(ctx, "00000000-0000-4000-8000-000000000001", 15*time.Second)
		return err
	}},
	"acquire": {blob: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, _ string) error {
		_, err := bl.Acquire(ctx, "00000000-0000-4000-8000-000000000001", 15*time.Second)
		return err
	}},
	"renew": {blob: true, leased: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, id string) error {
		_, err := bl.Renew(ctx, id)
		return err
	}},
	"change": {blob: true, leased: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, id string) error {
		_, err := bl.Change(ctx, id, "00000000-0000-4000-8000-000000000002")
		return err
	}},
	"release": {blob: true, leased: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, id string) error {
		return bl.Release(ctx, id)
	}},
	"break": {blob: true, leased: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, _ string) error {
		_, err := bl.Break(ctx, 0)
		return err
	}},
	"get properties": {blob: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, _ string) error {
		_, err := bl.Properties(ctx)
		return err
	}},
	"set metadata": {blob: true, leased: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, id string) error {
		return bl.SetMetadata(ctx, id, map[string]string{"holder": "least-privilege"})
	}},
	"list locks": {blob: true, do: func(ctx context.Context, bl *azlease.BlobLeaser, _ string) error {
		ls, err := azlease.NewLister(bl.Client())
		if err != nil {
			return err
		}
		_, err = ls.Locks(ctx)
		return err
	}},
}

// credsBlobLeastPrivilege is the least-privilege table of named locks in
// docs/credentials.md: per kind of SAS and operation, the permissions
// needed (each necessary) and the ones that would do instead (each alone
// sufficient); refused marks an operation that kind of SAS cannot make
// with any permission.
var credsBlobLeastPrivilege = []struct {
	scope, op string
	need, alt string
	refused   bool
}{
	{scope: "account", op: "create blob, acquire", need: "w"},
	{scope: "account", op: "acquire", need: "w"},
	{scope: "account", op: "renew", need: "w"},
	{scope: "account", op: "change", need: "w"},
	{scope: "account", op: "release", need: "w"},
	{scope: "account", op: "break", need: "w", alt: "d"},
	{scope: "account", op: "get properties", need: "r"},
	{scope: "account", op: "set metadata", need: "w"},
	{scope: "account", op: "list locks", need: "l"},

	{scope: "container", op: "create blob, acquire", need: "w"},
	{scope: "container", op: "acquire", need: "w"},
	{scope: "container", op: "renew", need: "w"},
	{scope: "container", op: "change", need: "w"},
	{scope: "container", op: "release", need: "w"},
	{scope: "container", op: "break", need: "w", alt: "d"},
	{scope: "container", op: "get properties", need: "r"},
	{scope: "container", op: "set metadata", need: "w"},
	{scope: "container", op: "list locks", need: "l"},

	{scope: "blob", op: "create blob, acquire", need: "w"},
	{scope: "blob", op: "acquire", need: "w"},
	{scope: "blob", op: "renew", need: "w"},
	{scope: "blob", op: "change", need: "w"},
	{scope: "blob", op: "release", need: "w"},
	{scope: "blob", op: "break", need: "w", alt: "d"},
	{scope: "blob", op: "get properties", need: "r"},
	{scope: "blob", op: "set metadata", need: "w"},
	{scope: "blob", op: "list locks", refused: true},
}

// permissionRefused reports whether err is the service refusing a SAS for
// a permission it lacks (HTTP 403 AuthorizationPermissionMismatch; from a
// Leaser, matching renewer.ErrForbidden), as opposed to any other failure.
func permissionRefused(err error) bool {
	var re *azcore.ResponseError
	return forbidden(err) && errors.As(err, &re) && re.ErrorCode == "AuthorizationPermissionMismatch"
}

func credsBlobSASLeastPrivilege(t *testing.T, az *credsAzurite, cap *credsCapture) {
	try := func(t *testing.T, scope credsBlobScope, opName string, op credsBlobOp, perms string) error {
		t.Helper()
		name, cc := az.newContainer(t, "lp-blob")
		const lock = "jobs/nightly report"
		bn, err := azlease.BlobName(lock)
		if err != nil {
			t.Fatal(err)
		}
		id := ""
		if op.blob {
			if _, err := cc.NewBlockBlobClient(bn).Upload(t.Context(), streaming.NopCloser(bytes.NewReader(nil)), nil); err != nil {
				t.Fatalf("prepare: upload: %v", err)
			}
		}
		if op.leased {
			id = credsID(t)
			lc, err := lease.NewBlobClient(cc.NewBlobClient(bn), &lease.BlobClientOptions{LeaseID: to.Ptr(id)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lc.AcquireLease(t.Context(), 60, nil); err != nil {
				t.Fatalf("prepare: acquire: %v", err)
			}
		}
		bl, err := az.sasLeaser(t, name, scope.sign(t, az, cap, name, bn, perms)).Blob(lock)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		return cap.err(scope.name+" "+opName+" sp="+perms, op.do(ctx, bl, id))
	}
	for _, row := range credsBlobLeastPrivilege {
		scope, op := credsBlobScopes[row.scope], credsBlobOps[row.op]
		if op.do == nil || scope.sign == nil {
			t.Fatalf("no scope %q or operation %q", row.scope, row.op)
		}
		t.Run(row.scope+"-"+strings.NewReplacer(" ", "-", ",", "").Replace(row.op), func(t *testing.T) {
			t.Parallel()
			if row.refused {
				if err := try(t, scope, row.op, op, scope.all); !forbidden(err) {
					t.Errorf("%s, %s with sp=%s: %v; want it refused (HTTP 403)", scope.name, row.op, scope.all, err)
				}
				return
			}
			if err := try(t, scope, row.op, op, row.need); err != nil {
				t.Errorf("%s, %s with sp=%s: %v; want success", scope.name, row.op, row.need, err)
			}
			for _, p := range row.alt {
				if err := try(t, scope, row.op, op, string(p)); err != nil {
					t.Errorf("%s, %s with sp=%c: %v; want success (instead of %s)", scope.name, row.op, p, err, row.need)
				}
			}
			var fewer []string
			for _, p := range row.need {
				if less := strings.ReplaceAll(row.need, string(p), ""); less != "" {
					fewer = append(fewer, less)
				}
			}
			var others strings.Builder
			for _, p := range scope.all {
				if !strings.ContainsRune(row.need+row.alt, p) {
					others.WriteRune(p)
				}
			}
			fewer = append(fewer, others.String())
			for _, perms := range fewer {
				if err := try(t, scope, row.op, op, perms); !permissionRefused(err) {
					t.Errorf("%s, %s with sp=%s: %v; want AuthorizationPermissionMismatch (it needs %s)", scope.name, row.op, perms, err, row.need)
				}
			}
		})
	}
	// A whole named lock, held and released through a mutex, with the
	// union of its rows: rw, on a SAS for its blob alone.
	t.Run("blob-lock", func(t *testing.T) {
		t.Parallel()
		name, _ := az.newContainer(t, "lp-blob-lock")
		const lock = "deploy"
		bn, err := azlease.BlobName(lock)
		if err != nil {
			t.Fatal(err)
		}
		bl, err := az.sasLeaser(t, name, az.blobSAS(t, cap, name, bn, "rw", time.Hour)).Blob(lock)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mutex.New(credsRenewer(t, cap, bl, "blob-sas"))
		if err != nil {
			t.Fatal(err)
		}
		held, err := m.Lock(t.Context())
		if cap.err("blob SAS lock", err) != nil {
			t.Fatalf("Lock of a named lock with a blob SAS sp=rw: %v", err)
		}
		if err := cap.err("blob SAS unlock", held.Unlock(t.Context())); err != nil {
			t.Errorf("Unlock: %v", err)
		}
	})
}

// credsBlobResourceTypes: an account SAS for named locks needs the object
// resource type (srt=o) for the blob's lease, and the container type
// (srt=c) only to list the locks.
func credsBlobResourceTypes(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "blob-srt")
	for _, tc := range []struct {
		srt     string
		op      string
		refused bool
	}{
		{srt: "o", op: "create blob, acquire"},
		{srt: "sc", op: "create blob, acquire", refused: true},
		{srt: "c", op: "list locks"},
		{srt: "so", op: "list locks", refused: true},
	} {
		bl, err := az.sasLeaser(t, name, az.accountSAS(t, cap, tc.srt, allAccountPermissions, time.Hour)).Blob("srt-" + tc.srt)
		if err != nil {
			t.Fatal(err)
		}
		err = cap.err("srt="+tc.srt+" "+tc.op, credsBlobOps[tc.op].do(t.Context(), bl, ""))
		switch {
		case tc.refused && !forbidden(err):
			t.Errorf("srt=%s, %s: %v; want refused", tc.srt, tc.op, err)
		case !tc.refused && err != nil:
			t.Errorf("srt=%s, %s: %v; want success", tc.srt, tc.op, err)
		}
	}
}
