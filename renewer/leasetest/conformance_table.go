package leasetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// action is one call of a row of the state table.
type action struct {
	name string
	do   func(ctx context.Context, l renewer.Leaser) result
}

// result is what a call answered.
type result struct {
	id   string        // the lease ID answered by acquire, renew, change
	left time.Duration // the time left to the break, answered by break
	err  error
}

// outcome is the answer a cell expects and what it leaves behind.
type outcome struct {
	err    error              // the sentinel (by errors.Is), or nil
	id     string             // the lease ID answered; "" when none or refused
	left   time.Duration      // the time left to the break; 0 when none
	state  renewer.LeaseState // the state after the call
	holder string             // the lease ID of the active lease after; "" = not checked
}

// columns are a row's outcomes, one per starting state.
type columns struct {
	Available, Leased, Expired, Breaking, Broken outcome
}

func (c columns) at(s renewer.LeaseState) outcome {
	return [...]outcome{c.Available, c.Leased, c.Expired, c.Breaking, c.Broken}[s]
}

// The states of the table, in its column order.
var tableStates = []renewer.LeaseState{
	renewer.StateAvailable, renewer.StateLeased, renewer.StateExpired,
	renewer.StateBreaking, renewer.StateBroken,
}

// Shorthands for the cells.
const (
	available = renewer.StateAvailable
	leased    = renewer.StateLeased
	expired   = renewer.StateExpired
	breaking  = renewer.StateBreaking
	broken    = renewer.StateBroken
)

// leasedTo is a successful acquire, renew or change answering id, leaving
// the container leased to id.
func leasedTo(id string) outcome { return outcome{id: id, state: leased, holder: id} }

// refused is a refusal with err that leaves the container in state s; a
// lease still active in s is still A's.
func refused(err error, s renewer.LeaseState) outcome {
	o := outcome{err: err, state: s}
	if s == leased || s == breaking {
		o.holder = idA
	}
	return o
}

// done is a success that answers no lease ID and leaves state s.
func done(s renewer.LeaseState) outcome { return refused(nil, s) }

// breakingFor is a break that leaves A's lease breaking for left.
func breakingFor(left time.Duration) outcome {
	return outcome{left: left, state: breaking, holder: idA}
}

// stateTable is the state table of docs/lease-semantics.md, one group per row
// (action), one case per column (starting state), with the cells where
// Azurite or the cloud answer otherwise when b says it is one of them.
func stateTable(b Backend) []group {
	var (
		// A refused acquire answers ErrLeaseHeld; a refused request
		// under a lease ID, ErrNoLease. The service's codes (the
		// LeaseIdMismatch, LeaseNotPresent, LeaseIsBroken and
		// LeaseIsBreaking families) are finer than what the renewer acts on.
		mismatch   = renewer.ErrNoLease
		notPresent = renewer.ErrNoLease
		present    = renewer.ErrLeaseHeld
	)
	tests := []struct {
		give action
		want columns
	}{
		{
			give: acquire(idA, 15*time.Second, "acquire_A"),
			want: columns{
				Available: leasedTo(idA), Leased: leasedTo(idA), Expired: leasedTo(idA),
				Breaking: refused(present, breaking), Broken: leasedTo(idA),
			},
		},
		{
			give: acquire(idB, 15*time.Second, "acquire_B"),
			want: columns{
				Available: leasedTo(idB), Leased: refused(present, leased), Expired: leasedTo(idB),
				Breaking: refused(present, breaking), Broken: leasedTo(idB),
			},
		},
		{
			give: renew(idA, "renew_A"),
			want: columns{
				Available: refused(mismatch, available), Leased: leasedTo(idA), Expired: leasedTo(idA),
				Breaking: refused(renewer.ErrBroken, breaking), Broken: refused(renewer.ErrBroken, broken),
			},
		},
		{
			give: renew(idB, "renew_B"),
			want: columns{
				Available: refused(mismatch, available), Leased: refused(mismatch, leased), Expired: refused(mismatch, expired),
				Breaking: refused(mismatch, breaking), Broken: refused(mismatch, broken),
			},
		},
		{
			give: change(idA, idC, "change_A_to_C"),
			want: columns{
				Available: refused(notPresent, available), Leased: leasedTo(idC), Expired: refused(notPresent, expired),
				Breaking: refused(renewer.ErrBroken, breaking), Broken: refused(notPresent, broken),
			},
		},
		{
			give: change(idB, idA, "change_B_to_A"),
			want: columns{
				Available: refused(notPresent, available), Leased: leasedTo(idA), Expired: refused(notPresent, expired),
				Breaking: refused(mismatch, breaking), Broken: refused(notPresent, broken),
			},
		},
		{
			give: change(idB, idC, "change_B_to_C"),
			want: columns{
				Available: refused(notPresent, available), Leased: refused(mismatch, leased), Expired: refused(notPresent, expired),
				Breaking: refused(mismatch, breaking), Broken: refused(notPresent, broken),
			},
		},
		{
			give: release(idA, "release_A"),
			want: columns{
				Available: refused(mismatch, available), Leased: done(available), Expired: done(available),
				Breaking: done(available), Broken: done(available),
			},
		},
		{
			give: release(idB, "release_B"),
			want: columns{
				Available: refused(mismatch, available), Leased: refused(mismatch, leased), Expired: refused(mismatch, expired),
				Breaking: refused(mismatch, breaking), Broken: refused(mismatch, broken),
			},
		},
		{
			give: breakLease(0, "break_0s"),
			want: columns{
				Available: refused(notPresent, available), Leased: done(broken), Expired: done(broken),
				Breaking: done(broken), Broken: done(broken),
			},
		},
		{
			give: breakLease(10*time.Second, "break_10s"),
			want: columns{
				Available: refused(notPresent, available), Leased: breakingFor(10 * time.Second), Expired: done(broken),
				Breaking: breakingFor(10 * time.Second), Broken: done(broken),
			},
		},
		{
			// Longer than the time left: min(period, time left).
			give: breakLease(45*time.Second, "break_45s"),
			want: columns{
				Available: refused(notPresent, available), Leased: breakingFor(15 * time.Second), Expired: done(broken),
				Breaking: breakingFor(30 * time.Second), Broken: done(broken),
			},
		},
		{
			give: breakLease(renewer.BreakAtExpiry, "break_at_expiry"),
			want: columns{
				Available: refused(notPresent, available), Leased: breakingFor(15 * time.Second), Expired: done(broken),
				Breaking: breakingFor(30 * time.Second), Broken: done(broken),
			},
		},
		{
			give: setMetadata(idA, "set_metadata_A"),
			want: columns{
				Available: refused(notPresent, available), Leased: done(leased), Expired: refused(notPresent, expired),
				Breaking: done(breaking), Broken: refused(notPresent, broken),
			},
		},
		{
			give: setMetadata(idB, "set_metadata_B"),
			want: columns{
				Available: refused(notPresent, available), Leased: refused(mismatch, leased), Expired: refused(notPresent, expired),
				Breaking: refused(mismatch, breaking), Broken: refused(notPresent, broken),
			},
		},
		{
			give: setMetadata("", "set_metadata_no_lease"),
			want: columns{
				Available: done(available), Leased: done(leased), Expired: done(expired),
				Breaking: done(breaking), Broken: done(broken),
			},
		},
	}

	var groups []group
	for _, tt := range tests {
		g := group{name: tt.give.name}
		for _, s := range tableStates {
			name, wants := s.String(), []outcome{tt.want.at(s)}
			for _, v := range variances(b) {
				if v.action == tt.give.name && v.start == s {
					name += "_" + v.name
					wants = v.wants
				}
			}
			g.cases = append(g.cases, testCase{name: name, run: func(t *testing.T, l renewer.Leaser) {
				drive(t, l, s)
				checkCell(t, l, tt.give, wants)
			}})
		}
		groups = append(groups, g)
	}
	return groups
}

// variance is a cell where a backend answers otherwise than the table.
type variance struct {
	action string             // the row
	start  renewer.LeaseState // the column
	name   string             // appended to the case's name
	wants  []outcome          // the outcomes accepted instead
}

// variances are b's known departures from the table.
func variances(b Backend) []variance {
	var vs []variance
	if b.Azurite {
		vs = append(vs, variance{
			// docs/lease-semantics.md, Azurite deviation 1: renew with any ID on
			// an Expired lease answers the old ID and re-leases to it.
			action: "renew_B", start: expired, name: "azurite_deviation_1_revives_A",
			wants: []outcome{leasedTo(idA)},
		})
	}
	if b.Blob {
		// docs/lease-semantics.md, blob leases: a leased blob's writes need
		// the lease ID; a write to a blob whose lease expired or was broken
		// ends that lease.
		for _, s := range []renewer.LeaseState{leased, breaking} {
			vs = append(vs, variance{
				action: "set_metadata_no_lease", start: s, name: "blob_needs_the_lease_id",
				wants: []outcome{refused(renewer.ErrNoLease, s)},
			})
		}
		for _, s := range []renewer.LeaseState{expired, broken} {
			vs = append(vs, variance{
				action: "set_metadata_no_lease", start: s, name: "blob_write_ends_the_lease",
				wants: []outcome{done(available)},
			})
		}
	}
	if b.Cloud {
		vs = append(vs, variance{
			action: "acquire_B", start: expired, name: "cloud_may_refuse_for_a_minute",
			wants: []outcome{leasedTo(idB), refused(renewer.ErrLeaseHeld, expired)},
		})
	}
	return vs
}

// checkCell makes the call of a, reads the state after, and checks both
// against the outcomes accepted; then it checks who holds the lease.
func checkCell(t *testing.T, l renewer.Leaser, a action, wants []outcome) {
	t.Helper()
	r := a.do(callCtx(t), l)
	s := props(t, l).State
	var misses []string
	for _, want := range wants {
		miss := want.miss(r, s)
		if miss == "" {
			if want.holder != "" {
				err := l.SetMetadata(callCtx(t), want.holder, nil)
				wantErr(t, "after "+a.name+", SetMetadata with the lease ID of the holder "+want.holder, err, nil)
			}
			return
		}
		misses = append(misses, miss)
	}
	t.Errorf("%s: got %s; want %s", a.name, describe(r, s), strings.Join(misses, ", or "))
}

// breakSlack is how much less time left to a break a real backend may
// answer than the fake: the case's own calls take time, and the service
// rounds to whole seconds.
const breakSlack = 2 * time.Second

// miss returns "" if r and s are the outcome, else the outcome described.
func (o outcome) miss(r result, s renewer.LeaseState) string {
	errOK := (o.err == nil && r.err == nil) || (o.err != nil && errors.Is(r.err, o.err))
	leftOK := r.left <= o.left && r.left >= o.left-breakSlack
	if errOK && r.id == o.id && leftOK && s == o.state {
		return ""
	}
	return describe(result{id: o.id, left: o.left, err: o.err}, o.state)
}

func describe(r result, s renewer.LeaseState) string {
	return fmt.Sprintf("(id %q, left %v, err %v, then %v)", r.id, r.left, r.err, s)
}

func acquire(id string, d time.Duration, name string) action {
	return action{name: name, do: func(ctx context.Context, l renewer.Leaser) result {
		got, err := l.Acquire(ctx, id, d)
		return result{id: got, err: err}
	}}
}

func renew(id, name string) action {
	return action{name: name, do: func(ctx context.Context, l renewer.Leaser) result {
		got, err := l.Renew(ctx, id)
		return result{id: got, err: err}
	}}
}

func change(id, proposed, name string) action {
	return action{name: name, do: func(ctx context.Context, l renewer.Leaser) result {
		got, err := l.Change(ctx, id, proposed)
		return result{id: got, err: err}
	}}
}

func release(id, name string) action {
	return action{name: name, do: func(ctx context.Context, l renewer.Leaser) result {
		return result{err: l.Release(ctx, id)}
	}}
}

func breakLease(period time.Duration, name string) action {
	return action{name: name, do: func(ctx context.Context, l renewer.Leaser) result {
		left, err := l.Break(ctx, period)
		return result{left: left, err: err}
	}}
}

func setMetadata(id, name string) action {
	return action{name: name, do: func(ctx context.Context, l renewer.Leaser) result {
		return result{err: l.SetMetadata(ctx, id, map[string]string{"conformance": "1"})}
	}}
}
