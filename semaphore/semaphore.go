package semaphore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/leasehold/leasehold/internal/wait"
	"github.com/leasehold/leasehold/renewer"
)

// MaxSlots bounds K: each slot is a lease and, while held, a goroutine.
const MaxSlots = 1000

// A Semaphore lets at most K holders at a time, across every Semaphore of
// the same name in every process, hold a named resource: it has K slots,
// each a lease of its own (see [SlotName]), and a holder holds one slot.
// Acquire and TryAcquire return a [Held], whose context is cancelled when
// its slot's lease is lost and whose Term is the slot's fencing number.
//
// Goroutines of one process that share a Semaphore wait in turn: only one
// of them polls storage at a time, first come first served.
//
// A Semaphore is safe for concurrent use. Give each process one Semaphore
// per name and share it.
type Semaphore struct {
	name   string
	slots  []*slot
	timing renewer.Timing
	log    *zap.Logger

	turn chan struct{} // holds a token while a local Acquire polls storage

	lister renewer.Lister // WithLister, or nil
	keys   []string       // with a Lister: each slot's key in its answers

	mu sync.Mutex // guards the notBefore field of every slot
}

// slot is one of the K leases.
type slot struct {
	i int
	r *renewer.Renewer
	// Guarded by Semaphore.mu. A holding or an attempt of this Semaphore
	// on r needs no mark of its own: r refuses a second one (ErrInUse).
	notBefore time.Time // after a Release: no attempt on this slot before this
}

// New returns a Semaphore of k slots for the resource name, with its
// slots' leases from leasers (called once per slot, with SlotName(name, i)
// for i from 0 to k-1) and its renewers built with the options of
// WithRenewerOptions. It makes no storage call.
//
// Bad input (an empty name, k below 1 or above MaxSlots, nil leasers, a
// renewer option that breaks a rule, an infinite lease) returns a
// *renewer.OptionError naming what was wrong; an error of leasers is
// returned wrapped, with the slot it was for.
//
// Every Semaphore of one name must use the same k and timing: a Semaphore
// with a smaller k would let fewer holders in, one with a larger k more.
func New(name string, k int, leasers Leasers, opts ...Option) (*Semaphore, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	switch {
	case k < 1 || k > MaxSlots:
		return nil, invalid("slots", k, fmt.Sprintf("want K from 1 to %d", MaxSlots))
	case leasers == nil:
		return nil, invalid("leasers", nil, "want a Leasers func, not nil")
	}
	s := &Semaphore{name: name, turn: make(chan struct{}, 1), log: cfg.log.With(zap.String("semaphore", name))}
	for i := range k {
		sn := SlotName(name, i)
		l, err := leasers(sn)
		if err != nil {
			return nil, fmt.Errorf("semaphore: leaser of slot %d (%q): %w", i, sn, err)
		}
		if l == nil {
			return nil, invalid("leasers", nil, fmt.Sprintf("returned a nil Leaser for slot %d (%q)", i, sn))
		}
		r, err := renewer.New(l, cfg.ropts...)
		if err != nil {
			return nil, err
		}
		if d := r.Timing().Duration; d == renewer.Infinite {
			return nil, invalid("lease duration", d, "a crashed holder would keep its slot forever; want whole seconds from 15s to 60s")
		}
		s.slots = append(s.slots, &slot{i: i, r: r})
	}
	s.timing = s.slots[0].r.Timing()
	if l := cfg.lister; l != nil {
		s.lister = l
		for i, sl := range s.slots {
			k, err := l.LeaseKey(sl.r.Leaser())
			if err != nil {
				return nil, invalid("lister", nil, fmt.Sprintf("does not cover the lease %q: %v", SlotName(name, i), err))
			}
			s.keys = append(s.keys, k)
		}
	}
	return s, nil
}

// Name returns the semaphore's name.
func (s *Semaphore) Name() string { return s.name }

// Slots returns K, the number of slots.
func (s *Semaphore) Slots() int { return len(s.slots) }

// Identity returns the identity this Semaphore writes as holder of a slot.
func (s *Semaphore) Identity() string { return s.slots[0].r.Identity() }

// Timing returns the slots' lease timing, defaults filled in.
func (s *Semaphore) Timing() renewer.Timing { return s.timing }

// Acquire blocks until it holds a slot or ctx ends. Each poll interval
// (jittered) it tries every slot it is not standing aside from, once,
// starting from a slot drawn at random, and takes the first that is free.
// One goroutine per Semaphore polls at a time; the others wait their turn,
// first come first served. ctx bounds the wait only: the slot is held until
// Release or loss. If ctx ends first, Acquire returns an error wrapping
// ctx's cause and nothing is held. It gives up at once on answers that no
// retry can change (see renewer.Permanent).
func (s *Semaphore) Acquire(ctx context.Context) (*Held, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("semaphore: acquire: %w", context.Cause(ctx))
	}
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("semaphore: acquire: %w", context.Cause(ctx))
	}
	defer func() { <-s.turn }()
	src := wait.From(ctx)
	for {
		h, err := s.pass(ctx)
		switch {
		case h != nil:
			return h, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("semaphore: acquire: %w (last attempt: %s)", context.Cause(ctx), lastAttempt(err))
		case renewer.Permanent(err):
			return nil, err
		}
		s.log.Debug("no slot free; polling", zap.Error(err))
		if !wait.Sleep(ctx, src.Jitter(s.timing.PollInterval)) {
			return nil, fmt.Errorf("semaphore: acquire: %w (last attempt: %s)", context.Cause(ctx), lastAttempt(err))
		}
	}
}

// TryAcquire tries every slot once, starting from one drawn at random, and
// returns the first it takes. It returns an error wrapping
// renewer.ErrLeaseHeld if every slot is held (or this Semaphore stands
// aside from it after releasing it, see Held.Release), or the first other
// error a slot answered. ctx bounds the attempt only. An attempt that fails
// leaves nothing held.
func (s *Semaphore) TryAcquire(ctx context.Context) (*Held, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("semaphore: tryacquire: %w", context.Cause(ctx))
	}
	return s.pass(ctx)
}

// pass tries each slot once, from a random one.
func (s *Semaphore) pass(ctx context.Context) (*Held, error) {
	k := len(s.slots)
	start := pick(wait.From(ctx), k)
	held := s.list(ctx)
	var firstErr error
	for j := range k {
		sl := s.slots[(start+j)%k]
		if held[sl.i] || s.standingAside(sl, time.Now()) {
			continue
		}
		ls, err := sl.r.TryAcquire(ctx)
		if err == nil {
			return s.hold(sl, ls), nil
		}
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("semaphore: %w", context.Cause(ctx))
		case errors.Is(err, renewer.ErrLeaseHeld), errors.Is(err, renewer.ErrInUse):
		case renewer.Permanent(err):
			return nil, fmt.Errorf("semaphore: slot %d: %w", sl.i, err)
		case firstErr == nil:
			firstErr = fmt.Errorf("semaphore: slot %d: %w", sl.i, err)
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("semaphore: all %d slots of %q are taken: %w", k, s.name, renewer.ErrLeaseHeld)
}

// list reports, with a Lister, which slots a List shows held; without
// one, or if the List fails, none.
func (s *Semaphore) list(ctx context.Context) []bool {
	held := make([]bool, len(s.slots))
	if s.lister == nil {
		return held
	}
	lctx, cancel := context.WithTimeout(ctx, renewer.DefaultListTimeout)
	sts, err := s.lister.List(lctx)
	cancel()
	if err != nil {
		s.log.Debug("list of the slots failed; trying every slot", zap.Error(err))
		return held
	}
	for i, k := range s.keys {
		held[i] = sts[k].Held()
	}
	return held
}

// standingAside reports whether this Semaphore leaves sl alone at now
// (see standAside).
func (s *Semaphore) standingAside(sl *slot, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Before(sl.notBefore)
}

// standAside makes this Semaphore leave sl alone for two poll intervals.
func (s *Semaphore) standAside(sl *slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl.notBefore = time.Now().Add(2 * s.timing.PollInterval)
}

// Status reads every slot's lease (K storage calls, one after another,
// each bounded by the call timeout) and returns what each says: who holds
// it, with which term. It holds nothing.
func (s *Semaphore) Status(ctx context.Context) ([]renewer.Status, error) {
	out := make([]renewer.Status, len(s.slots))
	for i, sl := range s.slots {
		st, err := sl.r.Inspect(ctx)
		if err != nil {
			return nil, fmt.Errorf("semaphore: status of slot %d: %w", i, err)
		}
		out[i] = st
	}
	return out, nil
}

// lastAttempt is err's message for the parenthesis of Acquire's error when
// its ctx ends, without a second "semaphore: ".
func lastAttempt(err error) string {
	if err == nil {
		return "none"
	}
	return strings.TrimPrefix(err.Error(), "semaphore: ")
}

// pick draws a slot index in [0, k) from src.
func pick(src wait.Source, k int) int {
	const d = 1 << 30
	u := src.Spread(d, 0.5, 0x51075) - d/2 // uniform in [0, d)
	return min(int(int64(u)*int64(k)/d), k-1)
}
