package putback_test

import (
	"context"
	"testing"

	"github.com/leasehold/leasehold/internal/putback"
)

func TestWithAndHas(t *testing.T) {
	const other putback.Bug = 2
	bg := context.Background()
	if putback.Has(bg, putback.NoReask) {
		t.Error("a plain context carries NoReask")
	}
	ctx := putback.With(bg, putback.NoReask)
	if !putback.Has(ctx, putback.NoReask) {
		t.Error("With(NoReask) does not carry NoReask")
	}
	if putback.Has(ctx, other) {
		t.Error("With(NoReask) carries another bug")
	}
	both := putback.With(ctx, other)
	if !putback.Has(both, putback.NoReask) || !putback.Has(both, other) {
		t.Error("a second With lost the first bug or did not add its own")
	}
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	if !putback.Has(child, putback.NoReask) {
		t.Error("a derived context lost NoReask")
	}
	//lint:ignore SA1012 a nil context is bad input that must not panic
	if putback.Has(nil, putback.NoReask) {
		t.Error("a nil context carries NoReask")
	}
	//lint:ignore SA1012 a nil context is bad input that must not panic
	if !putback.Has(putback.With(nil, putback.NoReask), putback.NoReask) {
		t.Error("With(nil, NoReask) does not carry NoReask")
	}
	for _, b := range []putback.Bug{0, 65, 1000} {
		if putback.Has(putback.With(bg, b), b) {
			t.Errorf("a Bug out of range (%d) is carried", b)
		}
	}
}
