package election

import (
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"go.uber.org/zap"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// An Election is one candidate's place in the election for the lease of one
// container: it campaigns (Campaign, Run), resigns, and observes who leads
// (Leader, Observe). Every candidate of one election uses the same
// container and its own identity.
//
// An Election is safe for concurrent use. It campaigns at most once at a
// time: a second Campaign or Run while one is under way, or while this
// candidate leads, returns ErrInUse. Leader, Observe, Check and Resign may
// be called at any time.
type Election struct {
	r        *renewer.Renewer
	identity string
	cfg      config
	log      *zap.Logger

	timing renewer.Timing // the renewer's effective timing

	mu    sync.Mutex  // guards the fields below
	busy  bool        // a Campaign (or Run) is under way
	cur   *Leadership // the latest leadership won; live until its context ends
	track tracker     // what Leader has seen
}

// New returns the candidate identity for the election on the container
// behind l (an azlease.Leaser over Azure, or leasetest.Container in
// tests). The identity is written to the container's metadata while this
// candidate leads, for everyone to read: printable ASCII, at most 256
// bytes, unique among the candidates. New validates identity and options
// and returns a *renewer.OptionError naming the field, value and rule at
// fault. It makes no storage call.
func New(l renewer.Leaser, identity string, opts ...Option) (*Election, error) {
	cfg, r, err := newRenewer(l, identity, opts)
	if err != nil {
		return nil, err
	}
	e := &Election{
		r:        r,
		timing:   r.Timing(),
		identity: identity,
		cfg:      cfg,
		log:      cfg.log.With(zap.String("identity", identity)),
	}
	return e, nil
}

// NewFromContainer is New over the Azure container behind cc:
// New(azlease.New(cc, nil), identity, opts...). The container must exist.
// For a connection string or a credential, see azlease.FromConnectionString
// and azlease.FromAccountURL (package renewer/azlease) and New.
func NewFromContainer(cc *container.Client, identity string, opts ...Option) (*Election, error) {
	l, err := azlease.New(cc, nil)
	if err != nil {
		return nil, err
	}
	return New(l, identity, opts...)
}

// Identity returns this candidate's identity.
func (e *Election) Identity() string { return e.identity }

// Timing returns the effective lease timing, defaults filled in.
func (e *Election) Timing() renewer.Timing { return e.timing }

// Leadership returns this candidate's current leadership, or nil if it
// does not lead. Under Run it is the Leadership whose context OnElected
// was given, for its Deadline and LastRenewed; a leader that must know how
// long it may still act reads Deadline. Once the term has ended it returns
// nil.
func (e *Election) Leadership() *Leadership { return e.current() }

// current returns the leadership this candidate holds, or nil.
func (e *Election) current() *Leadership {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil || e.cur.ctx.Err() != nil {
		return nil
	}
	return e.cur
}
