package putback

import (
	"context"
	"testing"
)

func TestWithHas(t *testing.T) {
	ctx := context.Background()
	if Has(ctx, NoReask) {
		t.Fatal("a plain context puts NoReask back")
	}
	if !Has(With(ctx, NoReask), NoReask) {
		t.Fatal("With(ctx, NoReask) does not put NoReask back")
	}
	if !Has(With(With(ctx, NoReask), 0), NoReask) {
		t.Fatal("a second With drops the bugs the first put back")
	}
}
