package renewer_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/internal/leakcheck"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// Defaults at L = 15 s: R = 5 s, M = 3 s, so the validity deadline is 12 s
// after the last successful renew was sent.
const (
	renewEvery = 5 * time.Second
	validFor   = 12 * time.Second
)

func newRenewer(t *testing.T, l renewer.Leaser, identity string, opts ...renewer.Option) *renewer.Renewer {
	t.Helper()
	opts = append([]renewer.Option{renewer.WithIdentity(identity), renewer.WithLogger(zaptest.NewLogger(t))}, opts...)
	r, err := renewer.New(l, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustAcquire(t *testing.T, r *renewer.Renewer) *renewer.Lease {
	t.Helper()
	ls, err := r.TryAcquire(t.Context())
	if err != nil {
		t.Fatalf("TryAcquire: %v", err)
	}
	return ls
}

// failing makes every call of op fail with err while on reports true.
func failing(c *leasetest.Container, op leasetest.Op, err error, on func() bool) {
	c.SetBefore(func(_ context.Context, call leasetest.Call) error {
		if call.Op == op && on() {
			return err
		}
		return nil
	})
}

func TestRenewCadence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, c, "a"))
		defer ls.Release(context.Background())
		start := ls.LastRenewed()
		time.Sleep(4*renewEvery + time.Second)
		synctest.Wait()
		if got := c.Calls(leasetest.OpRenew); got != 4 {
			t.Errorf("renews in %v = %d, want 4 (every %v)", 4*renewEvery+time.Second, got, renewEvery)
		}
		if got, want := ls.LastRenewed().Sub(start), 4*renewEvery; got != want {
			t.Errorf("last renew %v after acquire, want %v", got, want)
		}
		if got, want := ls.Deadline().Sub(ls.LastRenewed()), validFor; got != want {
			t.Errorf("deadline %v after last renew, want %v", got, want)
		}
		if ls.Context().Err() != nil {
			t.Errorf("lease ended: %v", context.Cause(ls.Context()))
		}
	})
}

// TestTransientErrorsUntilDeadline: renewals that keep failing transiently
// are retried, and the context is cancelled exactly at the validity
// deadline, before the service's lease could expire.
func TestTransientErrorsUntilDeadline(t *testing.T) {
	tests := []struct {
		name string
		give func(ctx context.Context, call leasetest.Call) error
		want error
	}{
		{
			name: "throttled",
			give: func(context.Context, leasetest.Call) error { return renewer.ErrThrottled },
			want: renewer.ErrThrottled,
		},
		{
			name: "hung server",
			give: func(ctx context.Context, _ leasetest.Call) error { <-ctx.Done(); return ctx.Err() },
			want: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				ls := mustAcquire(t, newRenewer(t, c, "a"))
				acquired := ls.LastRenewed()
				c.SetBefore(func(ctx context.Context, call leasetest.Call) error {
					if call.Op == leasetest.OpRenew {
						return tt.give(ctx, call)
					}
					return nil
				})
				<-ls.Done()
				lost := time.Now()
				if got := lost.Sub(acquired); got != validFor {
					t.Errorf("lost %v after the last successful renew, want %v (L - M)", got, validFor)
				}
				if n := c.Calls(leasetest.OpRenew); n < 3 {
					t.Errorf("renew tried %d times, want retries", n)
				}
				cause := context.Cause(ls.Context())
				if !errors.Is(cause, renewer.ErrLeaseLost) || !errors.Is(cause, tt.want) {
					t.Errorf("cause = %v, want ErrLeaseLost wrapping %v", cause, tt.want)
				}
				c.SetBefore(nil)
				if err := ls.Release(t.Context()); !errors.Is(err, renewer.ErrLeaseLost) {
					t.Errorf("Release after loss = %v, want ErrLeaseLost", err)
				}
				if got := c.State(); got != renewer.StateAvailable {
					t.Errorf("state after loss = %v, want available (released to speed failover)", got)
				}
			})
		})
	}
}

func TestTransientErrorsRecover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, c, "a"))
		defer ls.Release(context.Background())
		until := time.Now().Add(renewEvery + 4*time.Second)
		failing(c, leasetest.OpRenew, renewer.ErrThrottled, func() bool { return time.Now().Before(until) })
		time.Sleep(3 * renewEvery)
		if ls.Context().Err() != nil {
			t.Fatalf("lease lost after a 4 s outage: %v", context.Cause(ls.Context()))
		}
		if n := c.Calls(leasetest.OpRenew); n < 4 {
			t.Errorf("renew calls = %d, want retries during the outage", n)
		}
	})
}

// TestDefinitiveLossAtOnce: an answer that proves the lease gone cancels the
// context at the next renew, without waiting for the deadline.
func TestDefinitiveLossAtOnce(t *testing.T) {
	tests := []struct {
		name string
		give func(t *testing.T, c *leasetest.Container)
		want error
	}{
		{
			name: "broken",
			give: func(t *testing.T, c *leasetest.Container) {
				if _, err := c.Break(t.Context(), 0); err != nil {
					t.Fatal(err)
				}
			},
			want: renewer.ErrNoLease,
		},
		{
			name: "breaking",
			give: func(t *testing.T, c *leasetest.Container) {
				if _, err := c.Break(t.Context(), 10*time.Second); err != nil {
					t.Fatal(err)
				}
			},
			want: renewer.ErrNoLease,
		},
		{
			name: "released by someone with our ID",
			give: func(t *testing.T, c *leasetest.Container) {
				failing(c, leasetest.OpRenew, renewer.ErrNoLease, func() bool { return true })
			},
			want: renewer.ErrNoLease,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				ls := mustAcquire(t, newRenewer(t, c, "a"))
				tt.give(t, c)
				<-ls.Done()
				if got := time.Since(ls.LastRenewed()); got != renewEvery {
					t.Errorf("lost %v after acquire, want at the first renew (%v)", got, renewEvery)
				}
				cause := context.Cause(ls.Context())
				if !errors.Is(cause, renewer.ErrLeaseLost) || !errors.Is(cause, tt.want) {
					t.Errorf("cause = %v, want ErrLeaseLost wrapping %v", cause, tt.want)
				}
				c.SetBefore(nil)
				_ = ls.Release(t.Context())
			})
		})
	}
}

// foreignID answers renewals with another lease ID, as Azurite does when it
// revives another holder's expired lease.
type foreignID struct{ renewer.Leaser }

func (f foreignID) Renew(ctx context.Context, id string) (string, error) {
	if _, err := f.Leaser.Renew(ctx, id); err != nil {
		return "", err
	}
	return "0b9f5e4e-0000-4000-8000-000000000000", nil
}

func TestForeignLeaseIDLosesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, foreignID{c}, "a"))
		<-ls.Done()
		cause := context.Cause(ls.Context())
		if !errors.Is(cause, renewer.ErrLeaseLost) || !errors.Is(cause, renewer.ErrNoLease) {
			t.Errorf("cause = %v, want ErrLeaseLost wrapping ErrNoLease", cause)
		}
		if got := time.Since(ls.LastRenewed()); got != renewEvery {
			t.Errorf("lost %v after acquire, want at the first renew", got)
		}
		_ = ls.Release(t.Context())
	})
}

func TestForeignLeaseIDOnAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := foreignAcquire{leasetest.New()}
		_, err := newRenewer(t, l, "a").TryAcquire(t.Context())
		if !errors.Is(err, renewer.ErrLeaseHeld) || renewer.Permanent(err) {
			t.Errorf("TryAcquire = %v, want ErrLeaseHeld, not permanent", err)
		}
	})
}

type foreignAcquire struct{ *leasetest.Container }

func (f foreignAcquire) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	if _, err := f.Container.Acquire(ctx, id, d); err != nil {
		return "", err
	}
	return "0b9f5e4e-0000-4000-8000-000000000000", nil
}

func TestReleaseStopsFirstThenReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, c, "a"))
		var ctxErrAtRelease error
		c.SetBefore(func(_ context.Context, call leasetest.Call) error {
			if call.Op == leasetest.OpRelease {
				ctxErrAtRelease = ls.Context().Err()
			}
			return nil
		})
		if err := ls.Release(t.Context()); err != nil {
			t.Fatalf("Release = %v", err)
		}
		if ctxErrAtRelease == nil {
			t.Error("the lease's context was still live when the release call was made: stop acting first")
		}
		if got := context.Cause(ls.Context()); !errors.Is(got, renewer.ErrReleased) {
			t.Errorf("cause = %v, want ErrReleased", got)
		}
		if got := c.State(); got != renewer.StateAvailable {
			t.Errorf("state = %v, want available", got)
		}
		if err := ls.Release(t.Context()); err != nil {
			t.Errorf("second Release = %v, want nil", err)
		}
		if n := c.Calls(leasetest.OpRelease); n != 1 {
			t.Errorf("release calls = %d, want 1", n)
		}
		ls2 := mustAcquire(t, newRenewer(t, c, "b"))
		if ls2.Term() != 2 {
			t.Errorf("next term = %d, want 2", ls2.Term())
		}
		_ = ls2.Release(t.Context())
	})
}

func TestAcquireWaitsForRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, c, "a"))
		const poll = time.Second
		b := newRenewer(t, c, "b", renewer.WithPollInterval(poll))
		got := make(chan *renewer.Lease)
		go func() {
			ls2, err := b.Acquire(t.Context())
			if err != nil {
				t.Error(err)
			}
			got <- ls2
		}()
		time.Sleep(7 * time.Second)
		released := time.Now()
		_ = ls.Release(t.Context())
		ls2 := <-got
		if ls2 == nil {
			t.FailNow()
		}
		defer ls2.Release(context.Background())
		if wait := time.Since(released); wait > poll*6/5 {
			t.Errorf("acquired %v after the release, want within the poll interval %v (+20%% jitter)", wait, poll)
		}
		if ls2.Term() != 2 || ls2.Identity() != "b" {
			t.Errorf("term %d identity %q, want 2 and b", ls2.Term(), ls2.Identity())
		}
		st, err := renewer.Inspect(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Held() || st.Holder != "b" || st.Term != 2 {
			t.Errorf("Inspect = %+v, want held by b in term 2", st)
		}
	})
}

// TestCrashedHolderExpires: a holder cut off from storage (no renew, no
// release) has its context cancelled at its validity deadline, and a
// waiting renewer acquires once the service lets the lease expire, never
// before the first holder stopped.
func TestCrashedHolderExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		cut := leasetest.Wrap(c)
		ls := mustAcquire(t, newRenewer(t, cut, "a"))
		acquired := ls.LastRenewed()
		cut.CutOff(errors.New("test: cut off"))
		const poll = 500 * time.Millisecond
		b := newRenewer(t, c, "b", renewer.WithPollInterval(poll))
		ls2, err := b.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(acquired)
		if ls.Context().Err() == nil {
			t.Fatal("a still counts itself holder while b holds")
		}
		if took < renewer.DefaultDuration || took > renewer.DefaultDuration+poll*6/5 {
			t.Errorf("b acquired %v after a's last renew, want within [L, L + poll]", took)
		}
		_ = ls.Release(t.Context())
		_ = ls2.Release(t.Context())
	})
}

func TestCancelledAcquireHoldsNothing(t *testing.T) {
	tests := []struct {
		name    string
		blockOn leasetest.Op
	}{
		{name: "while polling a held lease"},
		{name: "during the term write", blockOn: leasetest.OpSetMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasetest.New()
				var holder *renewer.Lease
				if tt.blockOn == "" {
					holder = mustAcquire(t, newRenewer(t, c, "a"))
				} else {
					c.SetBefore(func(ctx context.Context, call leasetest.Call) error {
						if call.Op == tt.blockOn {
							<-ctx.Done()
							return ctx.Err()
						}
						return nil
					})
				}
				ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
				defer cancel()
				b := newRenewer(t, c, "b")
				_, err := b.Acquire(ctx)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Acquire = %v, want DeadlineExceeded", err)
				}
				synctest.Wait()
				c.SetBefore(nil)
				if holder != nil {
					if got := c.State(); got != renewer.StateLeased {
						t.Errorf("state = %v, want still leased by a", got)
					}
					_ = holder.Release(t.Context())
				}
				if got := c.State(); got != renewer.StateAvailable {
					t.Errorf("state = %v, want available: b holds nothing", got)
				}
				// b can acquire later: nothing of the cancelled attempt lingers.
				ls := mustAcquire(t, b)
				_ = ls.Release(t.Context())
			})
		})
	}
}

func TestTryAcquireHeldAndInUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newRenewer(t, c, "a")
		ls := mustAcquire(t, a)
		if _, err := newRenewer(t, c, "b").TryAcquire(t.Context()); !errors.Is(err, renewer.ErrLeaseHeld) {
			t.Errorf("TryAcquire of a held lease = %v, want ErrLeaseHeld", err)
		}
		if _, err := a.TryAcquire(t.Context()); !errors.Is(err, renewer.ErrInUse) {
			t.Errorf("second TryAcquire on one Renewer = %v, want ErrInUse", err)
		}
		_ = ls.Release(t.Context())
		ls = mustAcquire(t, a)
		_ = ls.Release(t.Context())
	})
}

func TestTermsIncreaseAndMetadataKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		if err := c.SetMetadata(t.Context(), "", map[string]string{"owner": "team-x"}); err != nil {
			t.Fatal(err)
		}
		rs := []*renewer.Renewer{newRenewer(t, c, "a"), newRenewer(t, c, "b"), newRenewer(t, c, "c")}
		for i := range 9 {
			ls := mustAcquire(t, rs[i%3])
			if got, want := ls.Term(), int64(i+1); got != want {
				t.Errorf("acquisition %d: term %d, want %d", i, got, want)
			}
			_ = ls.Release(t.Context())
		}
		md := c.Metadata()
		if md["owner"] != "team-x" || md[renewer.MetadataTerm] != "9" || md[renewer.MetadataHolder] != "c" {
			t.Errorf("metadata = %v, want owner kept, term 9, holder c", md)
		}
	})
}

// TestInfiniteLease: an infinite lease advances its heartbeat every renew,
// and a break with the configured period is noticed before it completes.
func TestInfiniteLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, c, "a", renewer.WithDuration(renewer.Infinite)))
		time.Sleep(3*renewEvery + time.Second)
		st, err := renewer.Inspect(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Infinite || st.Heartbeat != 3 {
			t.Errorf("Inspect = %+v, want infinite with heartbeat 3", st)
		}
		left, err := newRenewer(t, c, "op", renewer.WithDuration(renewer.Infinite)).Break(t.Context(), "test")
		if err != nil {
			t.Fatal(err)
		}
		breakEnds := time.Now().Add(left)
		<-ls.Done()
		if !time.Now().Before(breakEnds) {
			t.Errorf("holder noticed the break %v after it completed", time.Since(breakEnds))
		}
		if cause := context.Cause(ls.Context()); !errors.Is(cause, renewer.ErrNoLease) {
			t.Errorf("cause = %v, want ErrNoLease", cause)
		}
		_ = ls.Release(t.Context())
	})
}

// TestAbandonKeepsTheLease: Abandon stops the holder and the renewals but
// sends no release, so the lease stays until it expires.
func TestAbandonKeepsTheLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		ls := mustAcquire(t, newRenewer(t, c, "a"))
		abandoned := time.Now()
		if err := ls.Abandon(t.Context()); err != nil {
			t.Fatalf("Abandon = %v", err)
		}
		if cause := context.Cause(ls.Context()); !errors.Is(cause, renewer.ErrAbandoned) {
			t.Errorf("cause = %v, want ErrAbandoned", cause)
		}
		if n := c.Calls(leasetest.OpRelease); n != 0 {
			t.Errorf("release calls = %d, want 0", n)
		}
		renews := c.Calls(leasetest.OpRenew)
		time.Sleep(renewer.DefaultDuration - time.Second)
		if got := c.State(); got != renewer.StateLeased {
			t.Errorf("state %v after abandon = %v, want still leased", time.Since(abandoned), got)
		}
		if n := c.Calls(leasetest.OpRenew); n != renews {
			t.Errorf("renewed %d times after Abandon", n-renews)
		}
		time.Sleep(2 * time.Second)
		if got := c.State(); got != renewer.StateExpired {
			t.Errorf("state after L = %v, want expired", got)
		}
		if err := ls.Release(t.Context()); err != nil {
			t.Errorf("Release after Abandon = %v, want nil", err)
		}
	})
}

// TestUncertainAcquireReleases: an acquire the service applied but whose
// answer was lost leaves nothing held once the attempt returns.
func TestUncertainAcquireReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		c.SetAfter(func(_ context.Context, call leasetest.Call, err error) error {
			if call.Op == leasetest.OpAcquire && err == nil {
				return errors.New("test: answer lost")
			}
			return err
		})
		r := newRenewer(t, c, "a")
		if _, err := r.TryAcquire(t.Context()); err == nil {
			t.Fatal("TryAcquire succeeded with its answer lost")
		}
		if got := c.State(); got != renewer.StateAvailable {
			t.Errorf("state after an acquire with a lost answer = %v, want available", got)
		}
		c.SetAfter(nil)
		ls := mustAcquire(t, r)
		_ = ls.Release(t.Context())
	})
}
