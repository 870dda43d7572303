package main_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

// TestStatusAfterReleaseToAnotherClient: a leasehold holder released and a
// client that is not leasehold (the SDK's lease client, as another
// language's SDK would) took the lease, leaving the metadata as it was.
// status, status --json, lock --try and observe must not name the holder
// that released as the holder, and the text says whether the other
// client's lease is fixed or infinite.
func TestStatusAfterReleaseToAnotherClient(t *testing.T) {
	t.Parallel()
	cs := connectionString(t)
	name := uniqueName(t, "released")
	if r := run(t, "lock", name, "--id", "lh-c1p", "--", "true"); r.code != 0 {
		t.Fatalf("lock: exit %d: %s", r.code, r.stderr)
	}
	r := run(t, "status", name)
	if want := name + ": available; last held by lh-c1p (term 1), released"; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("status after the release: %q; want it to start %q", r.stdout, want)
	}

	cc, err := container.NewClientFromConnectionString(cs, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := lease.NewContainerClient(cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := lc.AcquireLease(ctx, 60, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = lc.BreakLease(ctx, &lease.ContainerBreakOptions{BreakPeriod: to.Ptr(int32(0))})
	})

	const foreign = "leased by a client that is not leasehold (lh-c1p released term 1 before it"
	r = run(t, "status", name)
	if !strings.Contains(r.stdout, foreign) || !strings.Contains(r.stdout, "fixed lease") || strings.Contains(r.stdout, "leased by lh-c1p") {
		t.Errorf("status of another client's fixed lease after a release: %q; want %q and fixed", r.stdout, foreign)
	}
	r = run(t, "status", name, "--json")
	var js struct {
		Held     bool   `json:"held"`
		Released bool   `json:"released"`
		Owner    string `json:"owner"`
		Holder   string `json:"holder"`
		Duration string `json:"duration"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
		t.Fatalf("status --json printed %q: %v", r.stdout, err)
	}
	if !js.Held || !js.Released || js.Owner != "foreign" || js.Holder != "lh-c1p" || js.Duration != "fixed" {
		t.Errorf("status --json = %+v; want held, released, owner foreign, holder lh-c1p (who released), fixed", js)
	}
	r = run(t, "lock", name, "--try", "--", "true")
	if last := lastLine(r.stderr); r.code != exitHeld || !strings.Contains(last, foreign) || strings.Contains(last, "held by lh-c1p") {
		t.Errorf("lock --try: exit %d, last line %q; want %d saying %q", r.code, last, exitHeld, foreign)
	}
	r = run(t, "status", name, "--watch", "--count", "1", "--interval", "100ms")
	if r.code != 0 || !regexp.MustCompile(`(?m)\sleased\s+\?\s+-\s+\S+\s+not leasehold: lh-c1p released term 1$`).MatchString(r.stdout) {
		t.Errorf("status --watch: exit %d, table:\n%s\nwant the lease's row with no holder, saying lh-c1p released term 1", r.code, r.stdout)
	}
	r = run(t, "observe", name, "--count", "1")
	if r.code != 0 || !strings.Contains(r.stdout, foreign) {
		t.Errorf("observe: exit %d, stdout %q; want %q", r.code, r.stdout, foreign)
	}

	// The same client's infinite lease: the text says it never expires.
	if _, err := lc.ReleaseLease(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AcquireLease(ctx, -1, nil); err != nil {
		t.Fatal(err)
	}
	r = run(t, "status", name)
	if !strings.Contains(r.stdout, foreign) || !strings.Contains(r.stdout, "infinite lease: it never expires") {
		t.Errorf("status of another client's infinite lease: %q; want %q and that it never expires", r.stdout, foreign)
	}
}
