package renewer_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// A *slog.Logger gets the renewer's entries (a *zap.Logger would, through
// WithLogger), each with the identity, the container and the term. With
// neither, the renewer logs to slog.Default() at Warn and above only.
func ExampleWithSlog() {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // no time, so that the output is the same every run
			}
			return a
		},
	}))
	r, _ := renewer.New(leasetest.New(), renewer.WithIdentity("worker-1"), renewer.WithSlog(log))
	ls, _ := r.Acquire(ctx)
	_ = ls.Release(ctx)
	// Output:
	// level=INFO msg="lease acquired" identity=worker-1 term=1 duration=15s
	// level=INFO msg="lease released" identity=worker-1 term=1
}

// A holder publishes a payload with its term, such as the address it
// serves on; anyone who reads the lease sees it.
func ExampleWithPayload() {
	ctx := context.Background()
	c := leasetest.New()
	r, _ := renewer.New(c, renewer.WithIdentity("replica-1"), renewer.WithPayload("http://127.0.0.1:8081"))
	ls, _ := r.Acquire(ctx)
	defer ls.Release(ctx)

	st, _ := renewer.Inspect(ctx, c)
	fmt.Println(st.Holder, st.Term, st.Payload)
	// Output: replica-1 1 http://127.0.0.1:8081
}
