package renewer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestUnknownProtocolRefused: metadata written under a protocol version
// this library does not know (leasehold_protocol other than 1) stops the
// acquisition with an error wrapping ErrInvalidTerm, and leaves nothing
// held; version 1 (or none) is taken as usual.
func TestUnknownProtocolRefused(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"", true}, {"1", true}, {"2", false}} {
		c := leasetest.New()
		if tc.version != "" {
			if err := c.SetMetadata(context.Background(), "", map[string]string{renewer.MetadataProtocol: tc.version, renewer.MetadataTerm: "7"}); err != nil {
				t.Fatal(err)
			}
		}
		r, err := renewer.New(c, renewer.WithIdentity("a"))
		if err != nil {
			t.Fatal(err)
		}
		ls, err := r.TryAcquire(context.Background())
		switch {
		case tc.ok && err != nil:
			t.Errorf("protocol %q: TryAcquire = %v, want held", tc.version, err)
		case !tc.ok && (!errors.Is(err, renewer.ErrInvalidTerm) || !strings.Contains(err.Error(), "leasehold_protocol")):
			t.Errorf("protocol %q: TryAcquire = %v, want ErrInvalidTerm naming leasehold_protocol", tc.version, err)
		}
		if ls != nil {
			_ = ls.Release(context.Background())
		}
		st, err := r.Inspect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !tc.ok && st.Held() {
			t.Errorf("protocol %q: the lease is still held after the refused acquisition", tc.version)
		}
	}
}
