package leasetest_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// landings records what a Network reports, with the time of each landing.
type landings struct {
	mu  sync.Mutex // guards all and at
	all []leasetest.Landing
	at  []time.Time
}

func recordLandings(n *leasetest.Network) *landings {
	r := &landings{}
	n.SetLanded(func(l leasetest.Landing) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.all = append(r.all, l)
		r.at = append(r.at, time.Now())
	})
	return r
}

func (r *landings) of(op leasetest.Op) ([]leasetest.Landing, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ls []leasetest.Landing
	var at []time.Time
	for i, l := range r.all {
		if l.Call.Op == op {
			ls = append(ls, l)
			at = append(at, r.at[i])
		}
	}
	return ls, at
}

// only gives d to calls of op and carries every other call at once.
func only(op leasetest.Op, d leasetest.Delivery) func(leasetest.Call) leasetest.Delivery {
	return func(c leasetest.Call) leasetest.Delivery {
		if c.Op == op {
			return d
		}
		return leasetest.Delivery{}
	}
}

func settle(t *testing.T, n *leasetest.Network) {
	t.Helper()
	if err := n.Settle(t.Context()); err != nil {
		t.Fatalf("Settle: %v", err)
	}
}

// A request whose caller gave up still reaches storage, later, and is
// applied there.
func TestLateRequestIsAppliedAfterTheCallerGaveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		f := leasetest.Wrap(c)
		rec := recordLandings(f.Network())
		f.Network().SetDelivery(only(leasetest.OpAcquire, leasetest.Delivery{RequestDelay: 3 * time.Second}))
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		got, err := f.Acquire(ctx, idA, 15*time.Second)
		if got != "" || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Acquire = %q, %v; want \"\", DeadlineExceeded", got, err)
		}
		if took := time.Since(start); took != time.Second {
			t.Errorf("Acquire returned after %v, want the caller's 1s", took)
		}
		time.Sleep(time.Second)
		if s := c.State(); s != renewer.StateAvailable {
			t.Errorf("2s in, before the request landed: state %v, want available", s)
		}
		if n := f.Network().InFlight(); n != 1 {
			t.Errorf("InFlight = %d, want 1", n)
		}
		settle(t, f.Network())
		if took := time.Since(start); took != 3*time.Second {
			t.Errorf("settled after %v, want 3s, when the request landed", took)
		}
		if s := c.State(); s != renewer.StateLeased {
			t.Errorf("after landing: state %v, want leased", s)
		}
		ls, _ := rec.of(leasetest.OpAcquire)
		want := []leasetest.Landing{{Call: leasetest.Call{Op: leasetest.OpAcquire, LeaseID: idA, Duration: 15 * time.Second}, Copy: 1, Late: true}}
		if len(ls) != 1 || ls[0] != want[0] {
			t.Errorf("landings %+v, want %+v", ls, want)
		}
		if n := f.Network().InFlight(); n != 0 {
			t.Errorf("InFlight after Settle = %d, want 0", n)
		}
	})
}

// A request applied with its answer lost gives its caller a transient
// error, no renewer sentinel; the change is made all the same.
func TestLostAnswerIsTransientAndTheCallApplied(t *testing.T) {
	tests := []struct {
		name  string
		op    leasetest.Op
		give  func(ctx context.Context, l renewer.Leaser) error
		check func(t *testing.T, c *leasetest.Container)
	}{
		{
			name: "acquire", op: leasetest.OpAcquire,
			give: func(ctx context.Context, l renewer.Leaser) error {
				_, err := l.Acquire(ctx, idB, 15*time.Second)
				return err
			},
			check: func(t *testing.T, c *leasetest.Container) {
				if _, err := c.Renew(t.Context(), idB); err != nil {
					t.Errorf("Renew(B) after the lost acquire: %v, want B to hold", err)
				}
			},
		},
		{
			name: "release", op: leasetest.OpRelease,
			give: func(ctx context.Context, l renewer.Leaser) error { return l.Release(ctx, idA) },
			check: func(t *testing.T, c *leasetest.Container) {
				if s := c.State(); s != renewer.StateAvailable {
					t.Errorf("state %v, want available", s)
				}
			},
		},
		{
			name: "set metadata", op: leasetest.OpSetMetadata,
			give: func(ctx context.Context, l renewer.Leaser) error {
				return l.SetMetadata(ctx, idA, map[string]string{"term": "7"})
			},
			check: func(t *testing.T, c *leasetest.Container) {
				if got := c.Metadata()["term"]; got != "7" {
					t.Errorf("metadata term = %q, want 7", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasedA(t)
				if tt.op == leasetest.OpAcquire {
					_ = c.Release(t.Context(), idA)
				}
				f := leasetest.Wrap(c)
				f.Network().SetDelivery(only(tt.op, leasetest.Delivery{LoseAnswer: true}))
				err := tt.give(t.Context(), f)
				if !errors.Is(err, leasetest.ErrAnswerLost) {
					t.Errorf("error = %v, want ErrAnswerLost", err)
				}
				for _, d := range definitiveSentinels {
					if errors.Is(err, d) {
						t.Errorf("error %v wraps %v: a lost answer must say nothing about storage", err, d)
					}
				}
				settle(t, f.Network())
				tt.check(t, c)
			})
		})
	}
}

var definitiveSentinels = []error{
	renewer.ErrLeaseHeld, renewer.ErrNoLease, renewer.ErrContainerNotFound,
	renewer.ErrBadRequest, renewer.ErrForbidden, renewer.ErrThrottled,
}

// A duplicated request reaches storage twice; the caller gets the second
// copy's answer.
func TestDuplicateIsAppliedTwiceAndAnswersTheSecond(t *testing.T) {
	tests := []struct {
		name      string
		op        leasetest.Op
		give      func(ctx context.Context, l renewer.Leaser) (string, error)
		wantID    string
		wantErr   error
		wantCopy2 error // the second copy's answer, as landed
		wantState renewer.LeaseState
	}{
		{
			name: "release", op: leasetest.OpRelease,
			give:    func(ctx context.Context, l renewer.Leaser) (string, error) { return "", l.Release(ctx, idA) },
			wantErr: renewer.ErrNoLease, wantCopy2: renewer.ErrNoLease, wantState: renewer.StateAvailable,
		},
		{
			name: "acquire", op: leasetest.OpAcquire,
			give: func(ctx context.Context, l renewer.Leaser) (string, error) {
				return l.Acquire(ctx, idA, 15*time.Second)
			},
			wantID: idA, wantState: renewer.StateLeased,
		},
		{
			name: "change", op: leasetest.OpChange,
			give:   func(ctx context.Context, l renewer.Leaser) (string, error) { return l.Change(ctx, idA, idC) },
			wantID: idC, wantState: renewer.StateLeased,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasedA(t)
				f := leasetest.Wrap(c)
				rec := recordLandings(f.Network())
				n0 := c.Calls(tt.op)
				f.Network().SetDelivery(only(tt.op, leasetest.Delivery{Duplicate: true, DuplicateDelay: 2 * time.Second}))
				start := time.Now()
				got, err := tt.give(t.Context(), f)
				if got != tt.wantID || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Errorf("got %q, %v; want %q, %v", got, err, tt.wantID, tt.wantErr)
				}
				if took := time.Since(start); took != 2*time.Second {
					t.Errorf("answered after %v, want 2s, the second copy's", took)
				}
				ls, at := rec.of(tt.op)
				if len(ls) != 2 || ls[0].Copy != 1 || ls[1].Copy != 2 || ls[0].Err != nil ||
					!errors.Is(ls[1].Err, tt.wantCopy2) || (tt.wantCopy2 == nil && ls[1].Err != nil) {
					t.Fatalf("landings %+v, want copy 1 accepted, copy 2 answering %v", ls, tt.wantCopy2)
				}
				if gap := at[1].Sub(at[0]); gap != 2*time.Second {
					t.Errorf("the copies landed %v apart, want DuplicateDelay 2s", gap)
				}
				if s := c.State(); s != tt.wantState {
					t.Errorf("state %v, want %v", s, tt.wantState)
				}
				if n := c.Calls(tt.op) - n0; n != 2 {
					t.Errorf("the container saw %d %s calls, want 2", n, tt.op)
				}
			})
		})
	}
}

// A caller that gives up between the copies of a duplicate leaves the
// second to land late.
func TestDuplicateOutlivesItsCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasedA(t)
		f := leasetest.Wrap(c)
		rec := recordLandings(f.Network())
		f.Network().SetDelivery(only(leasetest.OpRenew, leasetest.Delivery{Duplicate: true, DuplicateDelay: 5 * time.Second}))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := f.Renew(ctx, idA); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Renew = %v, want DeadlineExceeded", err)
		}
		settle(t, f.Network())
		ls, _ := rec.of(leasetest.OpRenew)
		if len(ls) != 2 || ls[0].Late || !ls[1].Late || ls[0].Err != nil || ls[1].Err != nil {
			t.Errorf("landings %+v, want copy 1 in time, copy 2 late, both accepted", ls)
		}
		// The late renew restarted A's lease 5 s in: it lasts to 20 s.
		time.Sleep(time.Until(epoch.Add(20*time.Second - time.Nanosecond)))
		if s := c.State(); s != renewer.StateLeased {
			t.Errorf("state just before 20s = %v, want leased by the late renew", s)
		}
	})
}

// Request and response delays add up; a caller that gives up after the
// request was applied but before the answer came gets its context's error,
// the change made.
func TestRequestAndResponseDelays(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		wantID  string
		wantErr error
		wantAt  time.Duration // when the call returns
	}{
		{name: "caller waits", timeout: 10 * time.Second, wantID: idA, wantAt: 3 * time.Second},
		{name: "caller gives up after the landing", timeout: 2 * time.Second, wantErr: context.DeadlineExceeded, wantAt: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				f := leasetest.Wrap(c)
				rec := recordLandings(f.Network())
				f.Network().SetDelivery(only(leasetest.OpAcquire,
					leasetest.Delivery{RequestDelay: time.Second, ResponseDelay: 2 * time.Second}))
				start := time.Now()
				ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
				defer cancel()
				got, err := f.Acquire(ctx, idA, 15*time.Second)
				if got != tt.wantID || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Errorf("Acquire = %q, %v; want %q, %v", got, err, tt.wantID, tt.wantErr)
				}
				if took := time.Since(start); took != tt.wantAt {
					t.Errorf("returned after %v, want %v", took, tt.wantAt)
				}
				settle(t, f.Network())
				ls, at := rec.of(leasetest.OpAcquire)
				if len(ls) != 1 || ls[0].Late || at[0].Sub(start) != time.Second {
					t.Errorf("landings %+v at %v, want one, in time, 1s in", ls, at)
				}
				if s := c.State(); s != renewer.StateLeased {
					t.Errorf("state %v, want leased", s)
				}
			})
		})
	}
}

// The bug of one lease ID per Renewer, as storage shows it: one lease ID for every holding
// lets a late request of an ended holding act on a later one; a fresh ID
// per holding makes storage refuse it.
func TestLateRequestOfAnEndedHolding(t *testing.T) {
	tests := []struct {
		name string
		next string // the lease ID of the second holding
		op   leasetest.Op
		// the late call of the first holding (ID A), and what it did
		late    func(ctx context.Context, l renewer.Leaser) error
		wantErr error // the late request's answer, as landed
		check   func(t *testing.T, c *leasetest.Container, next string)
	}{
		{
			name: "release, same ID: frees the later holding", next: idA, op: leasetest.OpRelease,
			late:  func(ctx context.Context, l renewer.Leaser) error { return l.Release(ctx, idA) },
			check: wantFree,
		},
		{
			name: "release, fresh ID: refused", next: idB, op: leasetest.OpRelease,
			late:    func(ctx context.Context, l renewer.Leaser) error { return l.Release(ctx, idA) },
			wantErr: renewer.ErrNoLease, check: wantHeld,
		},
		{
			name: "term write, same ID: term goes back", next: idA, op: leasetest.OpSetMetadata,
			late: func(ctx context.Context, l renewer.Leaser) error {
				return l.SetMetadata(ctx, idA, map[string]string{"term": "1"})
			},
			check: func(t *testing.T, c *leasetest.Container, next string) {
				wantHeld(t, c, next)
				if got := c.Metadata()["term"]; got != "1" {
					t.Errorf("term = %q, want 1: the late write of holding 1 overwrote holding 2's", got)
				}
			},
		},
		{
			name: "term write, fresh ID: refused", next: idB, op: leasetest.OpSetMetadata,
			late: func(ctx context.Context, l renewer.Leaser) error {
				return l.SetMetadata(ctx, idA, map[string]string{"term": "1"})
			},
			wantErr: renewer.ErrNoLease,
			check: func(t *testing.T, c *leasetest.Container, next string) {
				wantHeld(t, c, next)
				if got := c.Metadata()["term"]; got != "2" {
					t.Errorf("term = %q, want 2, holding 2's", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				f := leasetest.Wrap(c)
				rec := recordLandings(f.Network())
				// Holding 1: A acquires, writes term 1, and loses the
				// lease (broken); its late request is then sent.
				if _, err := f.Acquire(t.Context(), idA, 15*time.Second); err != nil {
					t.Fatal(err)
				}
				if err := f.SetMetadata(t.Context(), idA, map[string]string{"term": "1"}); err != nil {
					t.Fatal(err)
				}
				if _, err := f.Break(t.Context(), 0); err != nil {
					t.Fatal(err)
				}
				f.Network().SetDelivery(only(tt.op, leasetest.Delivery{RequestDelay: 5 * time.Second}))
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				if err := tt.late(ctx, f); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("late call = %v, want DeadlineExceeded: the caller gave up", err)
				}
				f.Network().SetDelivery(nil)
				// Holding 2, before the late request lands.
				if _, err := f.Acquire(t.Context(), tt.next, 15*time.Second); err != nil {
					t.Fatalf("holding 2: Acquire: %v", err)
				}
				if err := f.SetMetadata(t.Context(), tt.next, map[string]string{"term": "2"}); err != nil {
					t.Fatalf("holding 2: SetMetadata: %v", err)
				}
				settle(t, f.Network())
				ls, _ := rec.of(tt.op)
				var late []leasetest.Landing
				for _, l := range ls {
					if l.Late {
						late = append(late, l)
					}
				}
				if len(late) != 1 || !errors.Is(late[0].Err, tt.wantErr) || (tt.wantErr == nil && late[0].Err != nil) {
					t.Errorf("late landings %+v, want one answering %v", late, tt.wantErr)
				}
				tt.check(t, c, tt.next)
			})
		})
	}
}

func wantFree(t *testing.T, c *leasetest.Container, next string) {
	t.Helper()
	if s := c.State(); s != renewer.StateAvailable {
		t.Errorf("state %v, want available: the late release freed holding 2", s)
	}
	if err := c.SetMetadata(t.Context(), next, nil); !errors.Is(err, renewer.ErrNoLease) {
		t.Errorf("holding 2's SetMetadata = %v, want ErrNoLease: it no longer holds", err)
	}
}

func wantHeld(t *testing.T, c *leasetest.Container, next string) {
	t.Helper()
	if _, err := c.Renew(t.Context(), next); err != nil {
		t.Errorf("holding 2's Renew = %v, want it to hold", err)
	}
}

// A request whose caller's context ended before it was made is not sent:
// nothing lands and nothing changes.
func TestNothingIsSentOnADoneContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasedA(t)
		f := leasetest.Wrap(c)
		rec := recordLandings(f.Network())
		f.Network().SetDelivery(func(leasetest.Call) leasetest.Delivery {
			return leasetest.Delivery{RequestDelay: time.Second, Duplicate: true}
		})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := f.Release(ctx, idA); !errors.Is(err, context.Canceled) {
			t.Errorf("Release = %v, want Canceled", err)
		}
		settle(t, f.Network())
		if ls, _ := rec.of(leasetest.OpRelease); len(ls) != 0 {
			t.Errorf("landings %+v, want none", ls)
		}
		unchanged(t, c)
	})
}

// A Faulty's before hook that outlasts its caller was a slow link: the
// request was sent and still lands.
func TestFaultySlowBeforeHookStillDelivers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		f := leasetest.Wrap(c)
		f.SetBefore(func(context.Context, leasetest.Call) error { time.Sleep(2 * time.Second); return nil })
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := f.Acquire(ctx, idA, 15*time.Second); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Acquire = %v, want DeadlineExceeded", err)
		}
		settle(t, f.Network())
		if s := c.State(); s != renewer.StateLeased {
			t.Errorf("state %v, want leased: the request was sent", s)
		}
	})
}

// CutOff still refuses every call with a network set, and requests
// already on their way still land.
func TestCutOffWithANetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasedA(t)
		f := leasetest.Wrap(c)
		rec := recordLandings(f.Network())
		f.Network().SetDelivery(only(leasetest.OpSetMetadata, leasetest.Delivery{RequestDelay: 3 * time.Second}))
		go func() { _ = f.SetMetadata(t.Context(), idA, map[string]string{"k": "late"}) }()
		time.Sleep(time.Second)
		f.CutOff(errInjected)
		if _, err := f.Renew(t.Context(), idA); !errors.Is(err, errInjected) {
			t.Errorf("Renew after CutOff = %v, want the cut-off error", err)
		}
		settle(t, f.Network())
		if ls, _ := rec.of(leasetest.OpRenew); len(ls) != 0 {
			t.Errorf("renew landings %+v, want none: cut off", ls)
		}
		if got := c.Metadata()["k"]; got != "late" {
			t.Errorf("metadata k = %q, want late: the write was on its way before the cut", got)
		}
		if f.Calls() != 2 {
			t.Errorf("Calls = %d, want 2", f.Calls())
		}
	})
}

func TestBadDeliveryIsAClearErrorAndSendsNothing(t *testing.T) {
	tests := []struct {
		give leasetest.Delivery
		want string
	}{
		{give: leasetest.Delivery{RequestDelay: -time.Second}, want: "RequestDelay is -1s"},
		{give: leasetest.Delivery{ResponseDelay: -1}, want: "ResponseDelay is -1ns"},
		{give: leasetest.Delivery{Duplicate: true, DuplicateDelay: -time.Minute}, want: "DuplicateDelay is -1m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				f := leasetest.Wrap(c)
				f.Network().SetDelivery(func(leasetest.Call) leasetest.Delivery { return tt.give })
				_, err := f.Acquire(t.Context(), idA, 15*time.Second)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Acquire = %v, want an error saying %q", err, tt.want)
				}
				if n := c.Calls(leasetest.OpAcquire); n != 0 {
					t.Errorf("the container saw %d acquires, want none", n)
				}
			})
		})
	}
}

func TestSettle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n leasetest.Network // the zero value carries calls at once
		if err := n.Settle(t.Context()); err != nil {
			t.Errorf("Settle with nothing in flight = %v, want nil", err)
		}
		n.SetDelivery(func(leasetest.Call) leasetest.Delivery { return leasetest.Delivery{RequestDelay: time.Minute} })
		sent := make(chan struct{})
		go func() {
			_, _ = leasetest.Deliver(t.Context(), &n, leasetest.Call{Op: leasetest.OpRenew}, func(context.Context) (int, error) {
				close(sent)
				return 1, nil
			})
		}()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := n.Settle(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Settle with a short deadline = %v, want DeadlineExceeded", err)
		}
		// Several waiters all return once the request lands.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { settle(t, &n) })
		}
		wg.Wait()
		select {
		case <-sent:
		default:
			t.Error("Settle returned before the request was sent")
		}
	})
}

// Deliver on a Network with no function and no hook sends on the caller's
// goroutine with the caller's own context, and not at all on a done one.
func TestDeliverPlain(t *testing.T) {
	var n leasetest.Network
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "v")
	got, err := leasetest.Deliver(ctx, &n, leasetest.Call{Op: leasetest.OpProperties}, func(sctx context.Context) (bool, error) {
		return sctx == ctx, nil
	})
	if !got || err != nil {
		t.Errorf("Deliver = %v, %v; want send to get the caller's context", got, err)
	}
	done, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	_, err = leasetest.Deliver(done, &n, leasetest.Call{Op: leasetest.OpProperties}, func(context.Context) (bool, error) {
		called = true
		return true, nil
	})
	if called || !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver on a done context: send called %v, error %v; want not called, Canceled", called, err)
	}
}

// The Network works in real time too: a request whose caller gave up
// after sending it lands later, and Settle waits for it.
func TestNetworkInRealTime(t *testing.T) {
	c := leasetest.New()
	f := leasetest.Wrap(c)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The caller gives up once the request is on its way (the delivery is
	// planned only for a request that is sent), not on a timer, which a
	// loaded machine could let fire before anything was sent.
	f.Network().SetDelivery(func(call leasetest.Call) leasetest.Delivery {
		if call.Op != leasetest.OpAcquire {
			return leasetest.Delivery{}
		}
		cancel()
		return leasetest.Delivery{RequestDelay: 50 * time.Millisecond}
	})
	if _, err := f.Acquire(ctx, idA, 15*time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire = %v, want Canceled", err)
	}
	sctx, scancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer scancel()
	if err := f.Network().Settle(sctx); err != nil {
		t.Fatal(err)
	}
	if s := c.State(); s != renewer.StateLeased {
		t.Errorf("state %v, want leased", s)
	}
}

// Many holders, random deliveries: every copy sent lands and is reported
// once, and Settle leaves nothing in flight. Run with -race.
func TestConcurrentDeliveries(t *testing.T) {
	ids := []string{idA, idB, idC, "dddddddd-dddd-4ddd-8ddd-dddddddddddd"}
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		f := leasetest.Wrap(c)
		var (
			mu  sync.Mutex // guards rnd and copies
			rnd = rand.New(rand.NewPCG(1, 2))
			// copies is how many copies the network was told to send.
			copies int
		)
		f.Network().SetDelivery(func(leasetest.Call) leasetest.Delivery {
			mu.Lock()
			defer mu.Unlock()
			d := leasetest.Delivery{
				RequestDelay:   time.Duration(rnd.IntN(3000)) * time.Millisecond,
				ResponseDelay:  time.Duration(rnd.IntN(3000)) * time.Millisecond,
				LoseAnswer:     rnd.IntN(5) == 0,
				Duplicate:      rnd.IntN(5) == 0,
				DuplicateDelay: time.Duration(rnd.IntN(3000)) * time.Millisecond,
			}
			copies++
			if d.Duplicate {
				copies++
			}
			return d
		})
		var (
			lmu     sync.Mutex // guards nLanded
			nLanded int
		)
		f.Network().SetLanded(func(leasetest.Landing) {
			lmu.Lock()
			defer lmu.Unlock()
			nLanded++
		})
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				for range 30 {
					ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
					if _, err := f.Acquire(ctx, id, 15*time.Second); err == nil {
						_ = f.SetMetadata(ctx, id, map[string]string{"holder": id[:1]})
						_ = f.Release(ctx, id)
					}
					cancel()
					time.Sleep(500 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		settle(t, f.Network())
		mu.Lock()
		want := copies
		mu.Unlock()
		lmu.Lock()
		got := nLanded
		lmu.Unlock()
		if got != want || got == 0 {
			t.Errorf("%d landings, want %d (every copy sent)", got, want)
		}

		if n := f.Network().InFlight(); n != 0 {
			t.Errorf("InFlight = %d after Settle, want 0", n)
		}
	})
}
