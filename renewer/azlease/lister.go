package azlease

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/leasehold/leasehold/renewer"
)

// Lister is the [renewer.Lister] of the lock blobs of one container: one
// List Blobs call with their metadata (one per page of up to 5,000 blobs)
// reads the lease state, holder and term of every lock in it. Pass it to
// renewer.NewObserver (or use [NewObserver]) so that all the waiters of a
// process on locks of the container share one poll. It is safe for
// concurrent use.
//
// List Blobs is billed as a "List and Create Container" operation, roughly
// ten times an "Other" operation (a lease action or a Get Blob Properties):
// one shared poll costs less than per-lock reads once it serves about ten
// waiters.
type Lister struct {
	cc  *container.Client
	url string // the container's URL without query, to match Leasers by
}

var _ renewer.Lister = (*Lister)(nil)

// NewLister returns the Lister of the lock blobs in the container of cc.
// It makes no storage call.
func NewLister(cc *container.Client) (*Lister, error) {
	if cc == nil {
		return nil, invalid("container client", nil, "want a client, not nil")
	}
	return &Lister{cc: cc, url: withoutQuery(cc.URL())}, nil
}

// NewObserver returns a renewer.Observer over NewLister(cc): pass it, with
// renewer.WithObserver, to the Renewer of every lock of the container
// (made with [NewBlob] or [Leaser.Blob]) that the process waits on.
func NewObserver(cc *container.Client, opts *renewer.ObserverOptions) (*renewer.Observer, error) {
	ls, err := NewLister(cc)
	if err != nil {
		return nil, err
	}
	return renewer.NewObserver(ls, opts)
}

// LeaseKey implements [renewer.Lister]: the blob name of l, which must be
// a *BlobLeaser of this Lister's container.
func (s *Lister) LeaseKey(l renewer.Leaser) (string, error) {
	bl, ok := l.(*BlobLeaser)
	if !ok {
		return "", fmt.Errorf("azlease: want a *azlease.BlobLeaser (a named lock), not a %T", l)
	}
	if got := withoutQuery(bl.cc.URL()); got != s.url {
		return "", fmt.Errorf("azlease: lock %q is in container %s, not %s", bl.name, got, s.url)
	}
	return bl.blobName, nil
}

// List implements [renewer.Lister]: the lock blobs (those under
// BlobPrefix) with their lease state and metadata, every page, keyed by
// blob name. A lock whose blob does not exist yet is not reported: it was
// never taken.
func (s *Lister) List(ctx context.Context) (map[string]renewer.Status, error) {
	out := map[string]renewer.Status{}
	pager := s.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Include: container.ListBlobsInclude{Metadata: true},
		Prefix:  to.Ptr(BlobPrefix),
	})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, mapError("list blobs", err)
		}
		var date time.Time
		if page.Date != nil {
			date = *page.Date
		}
		if page.Segment == nil {
			continue
		}
		for _, item := range page.Segment.BlobItems {
			if item == nil || item.Name == nil {
				continue
			}
			p := renewer.Properties{Metadata: lowerKeys(item.Metadata), Date: date}
			if pr := item.Properties; pr != nil {
				if pr.LeaseState != nil {
					p.State = leaseState(*pr.LeaseState)
				}
				p.Infinite = pr.LeaseDuration != nil && *pr.LeaseDuration == lease.DurationTypeInfinite
				if pr.LastModified != nil {
					p.LastModified = *pr.LastModified
				}
			}
			out[*item.Name] = renewer.StatusOf(p)
		}
	}
	return out, nil
}

// Locks lists the named locks of the container: each lock's name and
// status, with one List Blobs call per page of 5,000.
func (s *Lister) Locks(ctx context.Context) (map[string]renewer.Status, error) {
	byBlob, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]renewer.Status, len(byBlob))
	for bn, st := range byBlob {
		if name, ok := LockName(bn); ok {
			out[name] = st
		}
	}
	return out, nil
}

func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
