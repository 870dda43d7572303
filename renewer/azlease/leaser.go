package azlease

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/leasehold/leasehold/renewer"
)

// Leaser is the [renewer.Leaser] over the lease of one Azure Blob Storage
// container. Make one with [New], [FromConnectionString] or
// [FromAccountURL]. It is safe for concurrent use.
type Leaser struct {
	cc     *container.Client
	create bool
	last   lastClient[*lease.ContainerClient]
}

// lastClient caches the lease client of the last lease ID used, reused
// while the ID repeats (one holding's renewals), so a renew allocates no
// new client. Change is never called on a cached one (it would rebind it
// to another ID). C is the SDK's container or blob lease client.
type lastClient[C any] struct {
	p atomic.Pointer[idClient[C]]
}

type idClient[C any] struct {
	id string
	c  C
}

// get returns the cached client for id, or makes one with mk and caches it.
func (lc *lastClient[C]) get(id string, mk func(string) (C, error)) (C, error) {
	if last := lc.p.Load(); last != nil && last.id == id {
		return last.c, nil
	}
	c, err := mk(id)
	if err != nil {
		return c, err
	}
	lc.p.Store(&idClient[C]{id: id, c: c})
	return c, nil
}

var _ renewer.Leaser = (*Leaser)(nil)

// Client returns the SDK client the Leaser uses.
func (l *Leaser) Client() *container.Client { return l.cc }

// String returns the container's URL without its query string (where a SAS
// token would be), for logs.
func (l *Leaser) String() string {
	u, err := url.Parse(l.cc.URL())
	if err != nil {
		return "container"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// leaseClient returns a lease client for id: the cached one while a holding
// keeps using its ID.
func (l *Leaser) leaseClient(id string) (*lease.ContainerClient, error) {
	return l.last.get(id, l.newLeaseClient)
}

func (l *Leaser) newLeaseClient(id string) (*lease.ContainerClient, error) {
	c, err := lease.NewContainerClient(l.cc, &lease.ContainerClientOptions{LeaseID: &id})
	if err != nil {
		return nil, fmt.Errorf("lease client: %w", err)
	}
	return c, nil
}

// Acquire implements [renewer.Leaser]. With Options.CreateContainer set, a
// missing container is created and the acquire tried once more.
func (l *Leaser) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	secs, err := leaseSeconds(d)
	if err != nil {
		return "", err
	}
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return "", err
	}
	resp, err := lc.AcquireLease(ctx, secs, nil)
	if err != nil && l.create && errors.Is(mapError("acquire", err), renewer.ErrContainerNotFound) {
		if _, cerr := l.cc.Create(ctx, nil); cerr != nil && !bloberror.HasCode(cerr, bloberror.ContainerAlreadyExists) {
			return "", mapError("create container", cerr)
		}
		resp, err = lc.AcquireLease(ctx, secs, nil)
	}
	if err != nil {
		return "", mapError("acquire", err)
	}
	return deref(resp.LeaseID), nil
}

// Renew implements [renewer.Leaser].
func (l *Leaser) Renew(ctx context.Context, leaseID string) (string, error) {
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return "", err
	}
	resp, err := lc.RenewLease(ctx, nil)
	if err != nil {
		return "", mapError("renew", err)
	}
	return deref(resp.LeaseID), nil
}

// Change implements [renewer.Leaser].
func (l *Leaser) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
	lc, err := l.newLeaseClient(leaseID) // never the cached one: ChangeLease rebinds its client
	if err != nil {
		return "", err
	}
	resp, err := lc.ChangeLease(ctx, proposedID, nil)
	if err != nil {
		return "", mapError("change", err)
	}
	return deref(resp.LeaseID), nil
}

// Release implements [renewer.Leaser].
func (l *Leaser) Release(ctx context.Context, leaseID string) error {
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return err
	}
	if _, err := lc.ReleaseLease(ctx, nil); err != nil {
		return mapError("release", err)
	}
	return nil
}

// Break implements [renewer.Leaser].
func (l *Leaser) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	opts := &lease.ContainerBreakOptions{}
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
		return 0, mapError("break", err)
	}
	var left time.Duration
	if resp.LeaseTime != nil {
		left = time.Duration(*resp.LeaseTime) * time.Second
	}
	return left, nil
}

// Properties implements [renewer.Leaser].
func (l *Leaser) Properties(ctx context.Context) (renewer.Properties, error) {
	resp, err := l.cc.GetProperties(ctx, nil)
	if err != nil {
		return renewer.Properties{}, mapError("get properties", err)
	}
	p := renewer.Properties{
		Metadata: make(map[string]string, len(resp.Metadata)),
		Infinite: resp.LeaseDuration != nil && *resp.LeaseDuration == lease.DurationTypeInfinite,
	}
	if resp.LeaseState != nil {
		p.State = leaseState(*resp.LeaseState)
	}
	for k, v := range resp.Metadata {
		p.Metadata[strings.ToLower(k)] = deref(v)
	}
	if resp.LastModified != nil {
		p.LastModified = *resp.LastModified
	}
	if resp.Date != nil {
		p.Date = *resp.Date
	}
	return p, nil
}

func leaseState(s lease.StateType) renewer.LeaseState {
	switch s {
	case lease.StateTypeLeased:
		return renewer.StateLeased
	case lease.StateTypeExpired:
		return renewer.StateExpired
	case lease.StateTypeBreaking:
		return renewer.StateBreaking
	case lease.StateTypeBroken:
		return renewer.StateBroken
	}
	return renewer.StateAvailable
}

// SetMetadata implements [renewer.Leaser].
func (l *Leaser) SetMetadata(ctx context.Context, leaseID string, metadata map[string]string) error {
	md := make(map[string]*string, len(metadata))
	for k, v := range metadata {
		md[k] = to.Ptr(v)
	}
	opts := &container.SetMetadataOptions{Metadata: md}
	if leaseID != "" {
		opts.LeaseAccessConditions = &container.LeaseAccessConditions{LeaseID: to.Ptr(leaseID)}
	}
	if _, err := l.cc.SetMetadata(ctx, opts); err != nil {
		return mapError("set metadata", err)
	}
	return nil
}

// leaseSeconds is d as the service's lease duration: whole seconds, or -1
// for an infinite lease.
func leaseSeconds(d time.Duration) (int32, error) {
	if d == renewer.Infinite {
		return -1, nil
	}
	if d < renewer.MinDuration || d > renewer.MaxDuration || d%time.Second != 0 {
		return 0, fmt.Errorf("%w: lease duration %v: want whole seconds from %v to %v, or Infinite", renewer.ErrBadRequest, d, renewer.MinDuration, renewer.MaxDuration)
	}
	return int32(d / time.Second), nil
}

func breakSeconds(d time.Duration) (int32, error) {
	if d < 0 || d > renewer.MaxBreakPeriod || d%time.Second != 0 {
		return 0, fmt.Errorf("%w: break period %v: want whole seconds from 0s to %v, or BreakAtExpiry", renewer.ErrBadRequest, d, renewer.MaxBreakPeriod)
	}
	return int32(d / time.Second), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
