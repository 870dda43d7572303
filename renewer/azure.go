package renewer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// ContainerLeaser is the [Leaser] over one Azure Blob Storage container.
// It is safe for concurrent use.
type ContainerLeaser struct {
	cc     *container.Client
	create bool
	last   atomic.Pointer[idClient] // the lease client of the last ID used, reused while the ID repeats (one holding's renewals)
}

// idClient is a lease client bound to one lease ID. Change is never called on
// a cached one (it would rebind it to another ID).
type idClient struct {
	id string
	c  *lease.ContainerClient
}

var _ Leaser = (*ContainerLeaser)(nil)

// ContainerLeaserOptions are the options of the ContainerLeaser constructors.
// The zero value is valid.
type ContainerLeaserOptions struct {
	// CreateContainer creates the container when Acquire finds it missing.
	CreateContainer bool
	// ClientOptions configures the SDK client made by the FromConnectionString
	// and WithCredential constructors. Unless set here, those clients make no
	// retries of their own (Retry.MaxRetries = -1): the Renewer retries with
	// backoff and bounds every call by the lease's validity deadline, and an
	// SDK retry would only spend that budget blindly. Ignored by
	// NewContainerLeaser, whose caller configured its own client.
	ClientOptions *container.ClientOptions
}

// NewContainerLeaser returns a ContainerLeaser over cc. Whatever retry policy
// cc has, the Renewer bounds each call by the lease's validity deadline.
func NewContainerLeaser(cc *container.Client, opts *ContainerLeaserOptions) (*ContainerLeaser, error) {
	if cc == nil {
		return nil, fmt.Errorf("%w: container client is nil", ErrInvalidOption)
	}
	l := &ContainerLeaser{cc: cc}
	if opts != nil {
		l.create = opts.CreateContainer
	}
	return l, nil
}

// NewContainerLeaserFromConnectionString returns a ContainerLeaser for the
// named container of the account in connStr (for example the value of
// AZURE_STORAGE_CONNECTION_STRING). Neither the connection string nor any
// part of it appears in errors or logs.
func NewContainerLeaserFromConnectionString(connStr, containerName string, opts *ContainerLeaserOptions) (*ContainerLeaser, error) {
	if err := ValidateContainerName(containerName); err != nil {
		return nil, err
	}
	if strings.TrimSpace(connStr) == "" {
		return nil, fmt.Errorf("%w: connection string is empty", ErrInvalidOption)
	}
	cc, err := container.NewClientFromConnectionString(connStr, containerName, clientOptions(opts))
	if err != nil {
		// The SDK's parse errors do not quote the string today; ours
		// promises never to, whatever the SDK does later.
		return nil, fmt.Errorf("%w: connection string is malformed (want the form the Azure portal shows, with AccountName and AccountKey or SharedAccessSignature)", ErrInvalidOption)
	}
	return NewContainerLeaser(cc, opts)
}

// NewContainerLeaserWithCredential returns a ContainerLeaser for the named
// container of the account at accountURL (https://ACCOUNT.blob.core.windows.net),
// authenticated by cred, for example azidentity.NewDefaultAzureCredential.
func NewContainerLeaserWithCredential(accountURL, containerName string, cred azcore.TokenCredential, opts *ContainerLeaserOptions) (*ContainerLeaser, error) {
	if err := ValidateContainerName(containerName); err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, fmt.Errorf("%w: credential is nil", ErrInvalidOption)
	}
	u, err := validateAccountURL(accountURL)
	if err != nil {
		return nil, err
	}
	cc, err := container.NewClient(u+"/"+containerName, cred, clientOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("%w: account URL %q: %v", ErrInvalidOption, accountURL, err)
	}
	return NewContainerLeaser(cc, opts)
}

func clientOptions(opts *ContainerLeaserOptions) *container.ClientOptions {
	if opts != nil && opts.ClientOptions != nil {
		return opts.ClientOptions
	}
	return &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: -1},
	}}
}

// Client returns the SDK client the leaser uses.
func (l *ContainerLeaser) Client() *container.Client { return l.cc }

// leaseClient returns a lease client for id: the cached one while a holding
// keeps using its ID, so a renew allocates no new client.
func (l *ContainerLeaser) leaseClient(id string) (*lease.ContainerClient, error) {
	if last := l.last.Load(); last != nil && last.id == id {
		return last.c, nil
	}
	c, err := l.newLeaseClient(id)
	if err != nil {
		return nil, err
	}
	l.last.Store(&idClient{id: id, c: c})
	return c, nil
}

func (l *ContainerLeaser) newLeaseClient(id string) (*lease.ContainerClient, error) {
	c, err := lease.NewContainerClient(l.cc, &lease.ContainerClientOptions{LeaseID: &id})
	if err != nil {
		return nil, fmt.Errorf("lease client: %w", err)
	}
	return c, nil
}

// Acquire implements [Leaser]. With CreateContainer set, a missing container
// is created and the acquire tried once more.
func (l *ContainerLeaser) Acquire(ctx context.Context, leaseID string, d time.Duration) (string, error) {
	secs, err := leaseSeconds(d)
	if err != nil {
		return "", err
	}
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return "", err
	}
	resp, err := lc.AcquireLease(ctx, secs, nil)
	if err != nil && l.create && errors.Is(mapError("acquire", err), ErrContainerNotFound) {
		if _, cerr := l.cc.Create(ctx, nil); cerr != nil && !isCode(cerr, "ContainerAlreadyExists") {
			return "", mapError("create container", cerr)
		}
		resp, err = lc.AcquireLease(ctx, secs, nil)
	}
	if err != nil {
		return "", mapError("acquire", err)
	}
	return deref(resp.LeaseID), nil
}

// Renew implements [Leaser].
func (l *ContainerLeaser) Renew(ctx context.Context, leaseID string) (string, error) {
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

// Change implements [Leaser].
func (l *ContainerLeaser) Change(ctx context.Context, leaseID, proposedID string) (string, error) {
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

// Release implements [Leaser].
func (l *ContainerLeaser) Release(ctx context.Context, leaseID string) error {
	lc, err := l.leaseClient(leaseID)
	if err != nil {
		return err
	}
	if _, err := lc.ReleaseLease(ctx, nil); err != nil {
		return mapError("release", err)
	}
	return nil
}

// Break implements [Leaser].
func (l *ContainerLeaser) Break(ctx context.Context, period time.Duration) (time.Duration, error) {
	opts := &lease.ContainerBreakOptions{}
	if period != BreakAtExpiry {
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

// Properties implements [Leaser].
func (l *ContainerLeaser) Properties(ctx context.Context) (Properties, error) {
	resp, err := l.cc.GetProperties(ctx, nil)
	if err != nil {
		return Properties{}, mapError("get properties", err)
	}
	p := Properties{
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

func leaseState(s lease.StateType) LeaseState {
	switch s {
	case lease.StateTypeLeased:
		return StateLeased
	case lease.StateTypeExpired:
		return StateExpired
	case lease.StateTypeBreaking:
		return StateBreaking
	case lease.StateTypeBroken:
		return StateBroken
	}
	return StateAvailable
}

// SetMetadata implements [Leaser].
func (l *ContainerLeaser) SetMetadata(ctx context.Context, leaseID string, metadata map[string]string) error {
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

func leaseSeconds(d time.Duration) (int32, error) {
	if d == Infinite {
		return -1, nil
	}
	if d < MinDuration || d > MaxDuration || d%time.Second != 0 {
		return 0, fmt.Errorf("%w: lease duration %v: want whole seconds from %v to %v, or Infinite", ErrBadRequest, d, MinDuration, MaxDuration)
	}
	return int32(d / time.Second), nil
}

func breakSeconds(d time.Duration) (int32, error) {
	if d < 0 || d > MaxBreakPeriod || d%time.Second != 0 {
		return 0, fmt.Errorf("%w: break period %v: want whole seconds from 0s to %v, or BreakAtExpiry", ErrBadRequest, d, MaxBreakPeriod)
	}
	return int32(d / time.Second), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// String returns the container's URL without its query string (where a SAS
// token would be), for logs.
func (l *ContainerLeaser) String() string {
	u, err := url.Parse(l.cc.URL())
	if err != nil {
		return "container"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
