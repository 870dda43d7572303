package leasetest_test

import (
	"maps"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// synctest bubbles start at 2000-01-01 00:00:00 UTC.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func TestPropertiesReportsServiceTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		time.Sleep(1500 * time.Millisecond)
		if err := c.SetMetadata(t.Context(), "", map[string]string{"k": "v"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1200 * time.Millisecond)
		if _, err := c.Acquire(t.Context(), idA, 15*time.Second); err != nil {
			t.Fatal(err)
		}
		p, err := c.Properties(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := renewer.Properties{
			State:        renewer.StateLeased,
			Metadata:     map[string]string{"k": "v"},
			LastModified: epoch.Add(1 * time.Second),
			Date:         epoch.Add(2 * time.Second),
		}
		if p.State != want.State || p.Infinite || !maps.Equal(p.Metadata, want.Metadata) ||
			p.LastModified != want.LastModified || p.Date != want.Date {
			t.Errorf("Properties = %+v, want %+v", p, want)
		}
	})
}

func TestNewContainerWasModifiedWhenMade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(2500 * time.Millisecond)
		c := leasetest.New()
		p, err := c.Properties(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := epoch.Add(2 * time.Second); p.LastModified != want || p.State != renewer.StateAvailable || len(p.Metadata) != 0 {
			t.Errorf("Properties = %+v, want available, no metadata, LastModified %v", p, want)
		}
	})
}

func TestPropertiesReportsInfiniteWhileLeased(t *testing.T) {
	tests := []struct {
		name string
		give func(t *testing.T) *leasetest.Container
		want bool
	}{
		{name: "infinite, leased", give: infinite, want: true},
		{name: "fixed, leased", give: fixed15, want: false},
		{name: "infinite, breaking", give: func(t *testing.T) *leasetest.Container {
			c := infinite(t)
			if _, err := c.Break(t.Context(), 10*time.Second); err != nil {
				t.Fatal(err)
			}
			return c
		}, want: false},
		{name: "infinite, released", give: func(t *testing.T) *leasetest.Container {
			c := infinite(t)
			if err := c.Release(t.Context(), idA); err != nil {
				t.Fatal(err)
			}
			return c
		}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, err := tt.give(t).Properties(t.Context())
				if err != nil || p.Infinite != tt.want {
					t.Errorf("Properties().Infinite = %v, %v; want %v, nil", p.Infinite, err, tt.want)
				}
			})
		})
	}
}

func TestMetadataMapsAreCopies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		give := map[string]string{"Key": "v"}
		if err := c.SetMetadata(t.Context(), "", give); err != nil {
			t.Fatal(err)
		}
		give["key"] = "changed by the caller"
		p, err := c.Properties(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		p.Metadata["key"] = "changed by a reader"
		c.Metadata()["key"] = "changed by an inspector"
		if got, want := c.Metadata(), map[string]string{"key": "v"}; !maps.Equal(got, want) {
			t.Errorf("metadata = %v, want %v", got, want)
		}
	})
}
