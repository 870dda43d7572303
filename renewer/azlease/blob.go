package azlease

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/leasehold/leasehold/renewer"
)

// BlobPrefix starts the name of every lock blob: BlobName(name) is
// BlobPrefix followed by the lock name escaped. The locks of a container
// are its blobs under this prefix (a "leasehold" folder in the portal), so
// the container can hold other blobs too.
const BlobPrefix = "leasehold/"

// BlobName returns the name of the blob that holds the lease of the lock
// name: [BlobPrefix] followed by name with every byte other than an ASCII
// letter, a digit, '-' and '_' written as '.' and two upper-case hex digits
// ("orders/eu west" is "leasehold/orders.2Feu.20west"). The encoding is
// reversible ([LockName]), so two names never share a blob, and stays
// readable for the usual names. A name that renewer.ValidateName refuses
// (empty, over renewer.MaxNameLen bytes, not UTF-8) is refused with its
// *renewer.OptionError.
func BlobName(name string) (string, error) {
	if err := renewer.ValidateName(name); err != nil {
		return "", err
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(BlobPrefix) + 3*len(name))
	b.WriteString(BlobPrefix)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('.')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String(), nil
}

// LockName returns the lock name whose blob is blobName, and false if
// blobName is not the name of a lock blob (BlobName of a valid name).
func LockName(blobName string) (string, bool) {
	s, ok := strings.CutPrefix(blobName, BlobPrefix)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	name := b.String()
	if again, err := BlobName(name); err != nil || again != blobName {
		return "", false
	}
	return name, true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// BlobLeaser is the [renewer.Leaser] over the lease of one blob: the lock
// of a name, kept with any number of others in one container (see
// [NewBlob]). Blob leases follow the container leases' state table, with
// one difference: while the blob is leased or breaking, a metadata write
// without the lease ID is refused (renewer.ErrNoLease,
// LeaseIdMissing), where a container's is allowed. The library's own
// writes always carry the lease ID. It is safe for concurrent use.
type BlobLeaser struct {
	cc       *container.Client
	bc       *blob.Client
	name     string // the lock name
	blobName string
	create   bool // Options.CreateContainer
	last     lastClient[*lease.BlobClient]
}

var _ renewer.Leaser = (*BlobLeaser)(nil)

// NewBlob returns the Leaser of the lock name in the container of cc: the
// lease of blob BlobName(name), a zero-length block blob created by the
// first Acquire (or metadata write) that finds it missing, with name in its
// metadata (renewer.MetadataName, escaped as a URL query value). The
// holder's identity and term are written to the blob's metadata. With
// Options.CreateContainer a missing container is created too. Any number of
// locks can share one container; see [Lister] for waiting on many of them
// with one call per poll.
//
// Bad input (a nil client, a name that renewer.ValidateName refuses) is
// refused with a *renewer.OptionError. NewBlob makes no storage call.
func NewBlob(cc *container.Client, name string, opts *Options) (*BlobLeaser, error) {
	if cc == nil {
		return nil, invalid("container client", nil, "want a client, not nil")
	}
	bn, err := BlobName(name)
	if err != nil {
		var oe *renewer.OptionError
		if errors.As(err, &oe) {
			e := *oe
			e.Pkg = "azlease"
			return nil, &e
		}
		return nil, err
	}
	l := &BlobLeaser{cc: cc, bc: cc.NewBlobClient(bn), name: name, blobName: bn}
	if opts != nil {
		l.create = opts.CreateContainer
	}
	return l, nil
}

// Blob returns the Leaser of the lock name in l's container, through l's
// client and with l's options: NewBlob(l.Client(), name, ...).
func (l *Leaser) Blob(name string) (*BlobLeaser, error) {
	return NewBlob(l.cc, name, &Options{CreateContainer: l.create})
}

// Beside implements [renewer.Besider]: the named lock name + "/" + suffix
// in the same container.
func (l *BlobLeaser) Beside(suffix string) (renewer.Leaser, error) {
	b, err := NewBlob(l.cc, l.name+"/"+suffix, &Options{CreateContainer: l.create})
	if err != nil {
		return nil, err // an untyped nil: a nil *BlobLeaser would not compare equal to nil
	}
	return b, nil
}

// Beside implements [renewer.Besider]: for the container's lease, the
// named lock "." + suffix in the container (a blob lease, which the
// container's lease does not hinder).
func (l *Leaser) Beside(suffix string) (renewer.Leaser, error) {
	b, err := l.Blob("." + suffix)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Name returns the lock name.
func (l *BlobLeaser) Name() string { return l.name }

// BlobName returns the name of the lock's blob.
func (l *BlobLeaser) BlobName() string { return l.blobName }

// Client returns the SDK client of the lock's container.
func (l *BlobLeaser) Client() *container.Client { return l.cc }

// String returns the blob's URL without its query string, for logs.
func (l *BlobLeaser) String() string {
	u, err := url.Parse(l.bc.URL())
	if err != nil {
		return "blob " + l.blobName
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

func (l *BlobLeaser) leaseClient(id string) (*lease.BlobClient, error) {
	return l.last.get(id, l.newLeaseClient)
}

func (l *BlobLeaser) newLeaseClient(id string) (*lease.BlobClient, error) {
	c, err := lease.NewBlobClient(l.bc, &lease.BlobClientOptions{LeaseID: &id})
	if err != nil {
		return nil, fmt.Errorf("lease client: %w", err)
	}
	return c, nil
}

// ensure creates the blob, and with CreateContainer its container, if
// missing: a Put Blob with If-None-Match: *, so that a blob created
// meanwhile by someone else (BlobAlreadyExists), leased or not, is left as
// it is.
func (l *BlobLeaser) ensure(ctx context.Context) error {
	put := func() error {
		_, err := l.cc.NewBlockBlobClient(l.blobName).Upload(ctx, streaming.NopCloser(bytes.NewReader(nil)), &blockblob.UploadOptions{
			Metadata: map[string]*string{renewer.MetadataName: to.Ptr(url.QueryEscape(l.name))},
			AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{
				IfNoneMatch: to.Ptr(azcore.ETagAny),
			}},
		})
		if err == nil || bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet, bloberror.LeaseIDMissing) {
			return nil
		}
		return err
	}
	err := put()
	if err != nil && l.create && bloberror.HasCode(err, bloberror.ContainerNotFound) {
		if _, cerr := l.cc.Create(ctx, nil); cerr != nil && !bloberror.HasCode(cerr, bloberror.ContainerAlreadyExists) {
			return mapError("create container", cerr)
		}
		err = put()
	}
	if err != nil {
		return mapBlobError("create blob", err, renewer.ErrContainerNotFound)
	}
	return nil
}

// Acquire implements [renewer.Leaser]. A missing blob is created (and with
// Options.CreateContainer a missing container) and the acquire tried once
// more.
func (l *BlobLeaser) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	secs, err := leaseSeconds(d)
	if err != nil {
		return "", err
	}
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return "", err
	}
	resp, err := lc.AcquireLease(ctx, secs, nil)
	if err != nil && bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		if cerr := l.ensure(ctx); cerr != nil {
			return "", cerr
		}
		resp, err = lc.AcquireLease(ctx, secs, nil)
	}
	if err != nil {
		return "", mapBlobError("acquire", err, renewer.ErrContainerNotFound)
	}
	return deref(resp.LeaseID), nil
}

// Renew implements [renewer.Leaser].
func (l *BlobLeaser) Renew(ctx context.Context, leaseID string) (string, error) {
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return "", err
	}
	resp, err := lc.RenewLease(ctx, nil)
	if err != nil {
		return "", mapBlobError("renew", err, renewer.ErrNoLease)
	}
	return deref(resp.LeaseID), nil
}

// Change implements [renewer.Leaser].
func (l *BlobLeaser) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
	lc, err := l.newLeaseClient(leaseID) // never the cached one: ChangeLease rebinds its client
	if err != nil {
		return "", err
	}
	resp, err := lc.ChangeLease(ctx, proposedID, nil)
	if err != nil {
		return "", mapBlobError("change", err, renewer.ErrNoLease)
	}
	return deref(resp.LeaseID), nil
}

// Release implements [renewer.Leaser].
func (l *BlobLeaser) Release(ctx context.Context, leaseID string) error {
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return err
	}
	if _, err := lc.ReleaseLease(ctx, nil); err != nil {
		return mapBlobError("release", err, renewer.ErrNoLease)
	}
	return nil
}

// Break implements [renewer.Leaser]. A missing blob has no lease to break.
func (l *BlobLeaser) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	opts := &lease.BlobBreakOptions{}
	if period != renewer.BreakAtExpiry {
		secs, err := breakSeconds(period)
		if err != nil {
			return 0, err
		}
		opts.BreakPeriod = to.Ptr(secs)
	}
	// The lease ID is not sent on a break; the client wants one anyway.
	lc, err := l.newLeaseClient("00000000-0000-0000-0000-000000000000")
	if err != nil {
		return 0, err
	}
	resp, err := lc.BreakLease(ctx, opts)
	if err != nil {
		return 0, mapBlobError("break", err, renewer.ErrNoLease)
	}
	var left time.Duration
	if resp.LeaseTime != nil {
		left = time.Duration(*resp.LeaseTime) * time.Second
	}
	return left, nil
}

// Properties implements [renewer.Leaser]: the blob's lease and metadata.
// A missing blob is a lock never taken: Available, no metadata.
func (l *BlobLeaser) Properties(ctx context.Context) (renewer.Properties, error) {
	resp, err := l.bc.GetProperties(ctx, nil)
	if err != nil && bloberror.HasCode(err, bloberror.BlobNotFound) {
		return renewer.Properties{State: renewer.StateAvailable, Metadata: map[string]string{}, Date: dateOf(err)}, nil
	}
	if err != nil {
		return renewer.Properties{}, mapBlobError("get properties", err, renewer.ErrContainerNotFound)
	}
	p := renewer.Properties{
		Metadata: lowerKeys(resp.Metadata),
		Infinite: resp.LeaseDuration != nil && *resp.LeaseDuration == lease.DurationTypeInfinite,
	}
	if resp.LeaseState != nil {
		p.State = leaseState(*resp.LeaseState)
	}
	if resp.LastModified != nil {
		p.LastModified = *resp.LastModified
	}
	if resp.Date != nil {
		p.Date = *resp.Date
	}
	return p, nil
}

// SetMetadata implements [renewer.Leaser]. Without a lease ID, a missing
// blob is created first; with one, a missing blob has no lease
// (renewer.ErrNoLease).
func (l *BlobLeaser) SetMetadata(ctx context.Context, leaseID string, metadata map[string]string) error {
	md := make(map[string]*string, len(metadata))
	for k, v := range metadata {
		md[k] = to.Ptr(v)
	}
	opts := &blob.SetMetadataOptions{}
	if leaseID != "" {
		opts.AccessConditions = &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: to.Ptr(leaseID)}}
	}
	_, err := l.bc.SetMetadata(ctx, md, opts)
	if err != nil && leaseID == "" && bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		if cerr := l.ensure(ctx); cerr != nil {
			return cerr
		}
		_, err = l.bc.SetMetadata(ctx, md, opts)
	}
	if err != nil {
		return mapBlobError("set metadata", err, renewer.ErrNoLease)
	}
	return nil
}

// mapBlobError is mapError for a blob's answers, with BlobNotFound as
// missing (what a missing blob means for op: no lease, for a lease action;
// the container's absence is ContainerNotFound).
func mapBlobError(op string, err error, missing error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return mapError(op, err)
	}
	if bloberror.Code(re.ErrorCode) == bloberror.BlobNotFound {
		return &serviceError{op: op, sentinel: missing, resp: re}
	}
	return mapError(op, err)
}

// dateOf returns the service's Date of a refusal, or the zero time.
func dateOf(err error) time.Time {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.RawResponse != nil {
		if t, perr := time.Parse(time.RFC1123, re.RawResponse.Header.Get("Date")); perr == nil {
			return t
		}
	}
	return time.Time{}
}

func lowerKeys(md map[string]*string) map[string]string {
	out := make(map[string]string, len(md))
	for k, v := range md {
		out[strings.ToLower(k)] = deref(v)
	}
	return out
}
