package leasetest_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

const (
	idA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	idB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	idC = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
)

// leasedA returns a Container leased to A for 15 s, with metadata k=v.
func leasedA(t *testing.T, opts ...leasetest.Option) *leasetest.Container {
	t.Helper()
	c := leasetest.New(opts...)
	if err := c.SetMetadata(t.Context(), "", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Acquire(t.Context(), idA, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	tests := []struct {
		name string
		give func(ctx context.Context, c *leasetest.Container) error
	}{
		{name: "acquire 0s", give: acquireFor(idA, 0)},
		{name: "acquire 14s", give: acquireFor(idA, 14*time.Second)},
		{name: "acquire 61s", give: acquireFor(idA, 61*time.Second)},
		{name: "acquire 15.5s", give: acquireFor(idA, 15500*time.Millisecond)},
		{name: "acquire -2s", give: acquireFor(idA, -2*time.Second)},
		{name: "acquire empty ID", give: acquireFor("", 15*time.Second)},
		{name: "acquire non-GUID ID", give: acquireFor("not-a-guid", 15*time.Second)},
		{name: "acquire GUID in braces", give: acquireFor("{"+idA+"}", 15*time.Second)},
		{name: "acquire GUID without hyphens", give: acquireFor(strings.ReplaceAll(idA, "-", ""), 15*time.Second)},
		{name: "acquire GUID with a hyphen misplaced", give: acquireFor("aaaaaaaaa-aaa-4aaa-8aaa-aaaaaaaaaaaa", 15*time.Second)},
		{name: "acquire GUID with a non-hex digit", give: acquireFor("g"+idA[1:], 15*time.Second)},
		{name: "renew empty ID", give: func(ctx context.Context, c *leasetest.Container) error {
			_, err := c.Renew(ctx, "")
			return err
		}},
		{name: "change to empty ID", give: func(ctx context.Context, c *leasetest.Container) error {
			_, err := c.Change(ctx, idA, "")
			return err
		}},
		{name: "change from non-GUID ID", give: func(ctx context.Context, c *leasetest.Container) error {
			_, err := c.Change(ctx, "A", idC)
			return err
		}},
		{name: "release empty ID", give: func(ctx context.Context, c *leasetest.Container) error {
			return c.Release(ctx, "")
		}},
		{name: "break 61s", give: breakFor(61 * time.Second)},
		{name: "break -2s", give: breakFor(-2 * time.Second)},
		{name: "break 1.5s", give: breakFor(1500 * time.Millisecond)},
		{name: "set metadata with non-GUID lease ID", give: setMetadata("A", map[string]string{"k": "w"})},
		{name: "metadata name with a hyphen", give: setMetadata(idA, map[string]string{"holder-id": "x"})},
		{name: "metadata name starting with a digit", give: setMetadata(idA, map[string]string{"1st": "x"})},
		{name: "metadata empty name", give: setMetadata(idA, map[string]string{"": "x"})},
		{name: "metadata name twice in different cases", give: setMetadata(idA, map[string]string{"Term": "1", "term": "2"})},
		{name: "metadata value with a newline", give: setMetadata(idA, map[string]string{"k": "a\nb"})},
		{name: "metadata value not ASCII", give: setMetadata(idA, map[string]string{"k": "é"})},
		{name: "metadata over 8 KiB", give: setMetadata(idA, map[string]string{"k": strings.Repeat("x", 8<<10)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasedA(t)
				err := tt.give(t.Context(), c)
				if !errors.Is(err, renewer.ErrBadRequest) {
					t.Errorf("error = %v, want ErrBadRequest", err)
				}
				time.Sleep(15*time.Second - time.Nanosecond)
				if got := c.State(); got != renewer.StateLeased {
					t.Errorf("state 15 s after acquire = %v, want leased as before", got)
				}
				if got, want := c.Metadata(), map[string]string{"k": "v"}; !maps.Equal(got, want) {
					t.Errorf("metadata = %v, want %v as before", got, want)
				}
			})
		})
	}
}

func acquireFor(id string, d time.Duration) func(context.Context, *leasetest.Container) error {
	return func(ctx context.Context, c *leasetest.Container) error {
		_, err := c.Acquire(ctx, id, d)
		return err
	}
}

func breakFor(period time.Duration) func(context.Context, *leasetest.Container) error {
	return func(ctx context.Context, c *leasetest.Container) error {
		_, err := c.Break(ctx, period)
		return err
	}
}

func setMetadata(id string, md map[string]string) func(context.Context, *leasetest.Container) error {
	return func(ctx context.Context, c *leasetest.Container) error {
		return c.SetMetadata(ctx, id, md)
	}
}

func TestLeaseIDsIgnoreCase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasedA(t)
		upper := strings.ToUpper(idA)
		if got, err := c.Renew(t.Context(), upper); err != nil || got != idA {
			t.Errorf("Renew(upper-case A) = %q, %v; want %q, nil", got, err, idA)
		}
		if err := c.SetMetadata(t.Context(), upper, nil); err != nil {
			t.Errorf("SetMetadata(upper-case A): %v", err)
		}
		if err := c.Release(t.Context(), upper); err != nil {
			t.Errorf("Release(upper-case A): %v", err)
		}
	})
}

func TestFixedLeaseExpiresAtItsEnd(t *testing.T) {
	tests := []struct {
		name string
		give func(ctx context.Context, c *leasetest.Container) error // at 10 s
		want time.Duration                                           // the lease's end, from its acquire
	}{
		{name: "untouched", give: func(context.Context, *leasetest.Container) error { return nil }, want: 15 * time.Second},
		{name: "renewed", give: func(ctx context.Context, c *leasetest.Container) error {
			_, err := c.Renew(ctx, idA)
			return err
		}, want: 25 * time.Second},
		{name: "acquired again for 60s", give: acquireFor(idA, 60*time.Second), want: 70 * time.Second},
		{name: "changed, which keeps the end", give: func(ctx context.Context, c *leasetest.Container) error {
			_, err := c.Change(ctx, idA, idC)
			return err
		}, want: 15 * time.Second},
		{name: "metadata written", give: setMetadata(idA, nil), want: 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				c := leasedA(t)
				time.Sleep(10 * time.Second)
				if err := tt.give(t.Context(), c); err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.want - time.Since(start) - time.Nanosecond)
				if got := c.State(); got != renewer.StateLeased {
					t.Errorf("state just before the end = %v, want leased", got)
				}
				time.Sleep(time.Nanosecond)
				if got := c.State(); got != renewer.StateExpired {
					t.Errorf("state at the end = %v, want expired", got)
				}
			})
		})
	}
}

func TestBreakAnswersTimeLeftAndBreaksThen(t *testing.T) {
	tests := []struct {
		name      string
		give      func(t *testing.T) *leasetest.Container // the container, 5 s after its lease began
		period    time.Duration
		wantLeft  time.Duration
		wantState renewer.LeaseState
	}{
		{name: "fixed, period shorter", give: fixed15, period: 4 * time.Second, wantLeft: 4 * time.Second, wantState: renewer.StateBreaking},
		{name: "fixed, period longer", give: fixed15, period: 45 * time.Second, wantLeft: 10 * time.Second, wantState: renewer.StateBreaking},
		{name: "fixed, at expiry", give: fixed15, period: renewer.BreakAtExpiry, wantLeft: 10 * time.Second, wantState: renewer.StateBreaking},
		{name: "fixed, 0", give: fixed15, period: 0, wantLeft: 0, wantState: renewer.StateBroken},
		{name: "infinite, 45s", give: infinite, period: 45 * time.Second, wantLeft: 45 * time.Second, wantState: renewer.StateBreaking},
		{name: "infinite, at expiry", give: infinite, period: renewer.BreakAtExpiry, wantLeft: 0, wantState: renewer.StateBroken},
		{name: "breaking, period longer", give: breaking30, period: 45 * time.Second, wantLeft: 25 * time.Second, wantState: renewer.StateBreaking},
		{name: "breaking, period shorter", give: breaking30, period: 5 * time.Second, wantLeft: 5 * time.Second, wantState: renewer.StateBreaking},
		{name: "breaking, at expiry", give: breaking30, period: renewer.BreakAtExpiry, wantLeft: 25 * time.Second, wantState: renewer.StateBreaking},
		{name: "breaking, 0", give: breaking30, period: 0, wantLeft: 0, wantState: renewer.StateBroken},
		{name: "expired", give: expired, period: 30 * time.Second, wantLeft: 0, wantState: renewer.StateBroken},
		{name: "broken", give: broken, period: 30 * time.Second, wantLeft: 0, wantState: renewer.StateBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := tt.give(t)
				left, err := c.Break(t.Context(), tt.period)
				if err != nil || left != tt.wantLeft {
					t.Fatalf("Break(%v) = %v, %v; want %v, nil", tt.period, left, err, tt.wantLeft)
				}
				if got := c.State(); got != tt.wantState {
					t.Errorf("state = %v, want %v", got, tt.wantState)
				}
				time.Sleep(tt.wantLeft)
				if got := c.State(); got != renewer.StateBroken {
					t.Errorf("state after %v = %v, want broken", tt.wantLeft, got)
				}
			})
		})
	}
}

func fixed15(t *testing.T) *leasetest.Container {
	c := leasedA(t)
	time.Sleep(5 * time.Second)
	return c
}

func infinite(t *testing.T) *leasetest.Container {
	c := leasetest.New()
	if _, err := c.Acquire(t.Context(), idA, renewer.Infinite); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	return c
}

func breaking30(t *testing.T) *leasetest.Container {
	c := leasetest.New()
	if _, err := c.Acquire(t.Context(), idA, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Break(t.Context(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	return c
}

func expired(t *testing.T) *leasetest.Container {
	c := leasedA(t)
	time.Sleep(20 * time.Second)
	return c
}

func broken(t *testing.T) *leasetest.Container {
	c := leasedA(t)
	if _, err := c.Break(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	return c
}

func TestBreakRoundsTimeLeftToWholeSeconds(t *testing.T) {
	tests := []struct {
		name string
		give time.Duration // how long after acquire(A, 15s) the break comes
		want time.Duration
	}{
		{name: "9.6s left", give: 5400 * time.Millisecond, want: 10 * time.Second},
		{name: "9.4s left", give: 5600 * time.Millisecond, want: 9 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasedA(t)
				time.Sleep(tt.give)
				if got, err := c.Break(t.Context(), renewer.BreakAtExpiry); err != nil || got != tt.want {
					t.Errorf("Break(BreakAtExpiry) = %v, %v; want %v, nil", got, err, tt.want)
				}
			})
		})
	}
}

func TestEmulateAzurite(t *testing.T) {
	tests := []struct {
		name      string
		give      []leasetest.Option
		wantID    string
		wantErr   error
		wantState renewer.LeaseState
	}{
		{name: "cloud", give: nil, wantID: "", wantErr: renewer.ErrNoLease, wantState: renewer.StateExpired},
		{name: "azurite", give: []leasetest.Option{leasetest.EmulateAzurite()}, wantID: idA, wantErr: nil, wantState: renewer.StateLeased},
		{name: "nil option", give: []leasetest.Option{nil}, wantID: "", wantErr: renewer.ErrNoLease, wantState: renewer.StateExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := leasedA(t, tt.give...)
				time.Sleep(16 * time.Second)
				got, err := c.Renew(t.Context(), idB)
				if got != tt.wantID || !errors.Is(err, tt.wantErr) {
					t.Errorf("Renew(B) on expired A = %q, %v; want %q, %v", got, err, tt.wantID, tt.wantErr)
				}
				if s := c.State(); s != tt.wantState {
					t.Errorf("state = %v, want %v", s, tt.wantState)
				}
			})
		})
	}
}
