package renewer_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/leasehold/leasehold/internal/optcheck"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A holder's payload is written with its term and read back by Inspect; a
// later holder without one removes it.
func TestPayload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := leasetest.New()
		a := newRenewer(t, c, "a", renewer.WithPayload("http://127.0.0.1:8081"))
		b := newRenewer(t, c, "b")
		if got := a.Payload(); got != "http://127.0.0.1:8081" {
			t.Errorf("Payload() = %q", got)
		}
		ls := mustAcquire(t, a)
		st, err := b.Inspect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Payload != "http://127.0.0.1:8081" || st.Holder != "a" || st.Term != 1 {
			t.Errorf("status = %+v, want a's payload with term 1", st)
		}
		if err := ls.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		lb := mustAcquire(t, b)
		defer lb.Release(context.Background())
		st, err = a.Inspect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if st.Payload != "" || st.Holder != "b" {
			t.Errorf("status = %+v, want b with no payload", st)
		}
		if _, ok := c.Metadata()[renewer.MetadataPayload]; ok {
			t.Errorf("metadata still has a's payload: %v", c.Metadata())
		}
	})
}

func TestPayloadRules(t *testing.T) {
	for _, tt := range []struct{ give, rule string }{
		{strings.Repeat("x", 1025), "at most 1024 bytes"},
		{"a\nb", "printable ASCII"},
		{" a", "no leading or trailing spaces"},
	} {
		_, err := renewer.New(leasetest.New(), renewer.WithPayload(tt.give))
		if m := optcheck.Mismatch(err, renewer.OptionError{Field: "payload", Value: tt.give, Rule: tt.rule}); m != "" {
			t.Errorf("New(WithPayload(%.20q)): %s", tt.give, m)
		}
	}
	if _, err := renewer.New(leasetest.New(), renewer.WithPayload(strings.Repeat("x", 1024))); err != nil {
		t.Errorf("1024 bytes refused: %v", err)
	}
}
