package mutex_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		give []mutex.Option
		want string // in the error; "" for none
	}{
		{name: "defaults", give: nil, want: ""},
		{name: "infinite with break-on-timeout", give: []mutex.Option{mutex.WithDuration(renewer.Infinite), mutex.WithBreakOnTimeout(15 * time.Second)}, want: ""},
		{name: "max hold", give: []mutex.Option{mutex.WithMaxHold(time.Minute)}, want: ""},
		{name: "nil option", give: []mutex.Option{nil}, want: "nil Option"},
		{name: "infinite alone", give: []mutex.Option{mutex.WithDuration(renewer.Infinite)}, want: "lease duration Infinite: want WithBreakOnTimeout"},
		{name: "break-on-timeout under 3 renew intervals", give: []mutex.Option{mutex.WithDuration(renewer.Infinite), mutex.WithBreakOnTimeout(14 * time.Second)}, want: "break-on-timeout 14s: want at least 3 renew intervals (15s)"},
		{name: "break-on-timeout with a short renew interval", give: []mutex.Option{mutex.WithDuration(renewer.Infinite), mutex.WithBreakOnTimeout(6 * time.Second), mutex.WithRenewInterval(2 * time.Second)}, want: ""},
		{name: "negative break-on-timeout", give: []mutex.Option{mutex.WithBreakOnTimeout(-time.Second)}, want: "break-on-timeout -1s"},
		{name: "break period under the duration", give: []mutex.Option{mutex.WithDuration(30 * time.Second), mutex.WithBreakPeriod(10 * time.Second)}, want: "break period 10s: want at least the lease duration 30s"},
		{name: "max hold under the window", give: []mutex.Option{mutex.WithMaxHold(10 * time.Second)}, want: "max hold 10s: want at least the validity window 15s"},
		{name: "negative max hold", give: []mutex.Option{mutex.WithMaxHold(-time.Second)}, want: "max hold -1s"},
		{name: "duration out of range (renewer's check)", give: []mutex.Option{mutex.WithDuration(10 * time.Second), mutex.WithBreakPeriod(10 * time.Second)}, want: "lease duration 10s"},
		{name: "empty identity (renewer's check)", give: []mutex.Option{mutex.WithIdentity("")}, want: "identity is empty"},
		{name: "poll interval too short (renewer's check)", give: []mutex.Option{mutex.WithPollInterval(0)}, want: "poll interval 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mutex.New(leasetest.New(), tt.give...)
			if tt.want == "" {
				if err != nil || m == nil {
					t.Fatalf("New = %v, %v; want a Mutex", m, err)
				}
				return
			}
			if !errors.Is(err, mutex.ErrInvalidOption) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want ErrInvalidOption containing %q", err, tt.want)
			}
			if m != nil {
				t.Errorf("New returned a Mutex with error %v", err)
			}
		})
	}
}

func TestNewNilArguments(t *testing.T) {
	if _, err := mutex.New(nil); !errors.Is(err, mutex.ErrInvalidOption) {
		t.Errorf("New(nil) = %v, want ErrInvalidOption", err)
	}
	if _, err := mutex.NewFromContainer(nil); !errors.Is(err, mutex.ErrInvalidOption) {
		t.Errorf("NewFromContainer(nil) = %v, want ErrInvalidOption", err)
	}
}
