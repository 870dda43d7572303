package leasetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

func TestConformance(t *testing.T) {
	newLeaser := func(opts ...leasetest.Option) func(*testing.T) renewer.Leaser {
		return func(*testing.T) renewer.Leaser { return leasetest.New(opts...) }
	}
	tests := []leasetest.Backend{
		{Name: "cloud_rules", NewLeaser: newLeaser(), Run: synctest.Test},
		// The fake answers acquire(B) on an expired lease at once, which
		// the suite accepts for the cloud too.
		{Name: "cloud_rules_as_cloud", NewLeaser: newLeaser(), Run: synctest.Test, Cloud: true},
		// With EmulateAzurite, the fake meets the suite's Azurite expectations.
		{Name: "emulate_azurite", NewLeaser: newLeaser(leasetest.EmulateAzurite()), Run: synctest.Test, Azurite: true},
		// A Named's leases are blob leases.
		{Name: "named_blobs", NewLeaser: func(t *testing.T) renewer.Leaser {
			c, err := leasetest.NewNamed().Lease("conformance/" + t.Name())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}, Run: synctest.Test, Blob: true},
	}
	for _, tt := range tests {
		leasetest.RunConformance(t, tt)
	}
}

// The network cases can fail: run against backends that get them wrong
// (in a child process, so that their failures do not fail this test),
// each named case fails.
func TestNetworkCasesCanFail(t *testing.T) {
	tests := []struct {
		backend string
		want    []string // cases that must fail
	}{
		{
			// The Network is not between the caller and storage: every
			// request lands at once, nothing lands late or twice.
			backend: "network_not_in_the_path",
			want: []string{
				"late_release_of_ended_holding_refused_after_fresh_id",
				"late_release_of_reused_id_frees_the_later_holding",
				"late_acquire_refused_while_another_id_holds",
				"duplicated_release_second_answers_mismatch",
				"acquire_answer_lost_retry_same_id_holds_once",
			},
		},
		{
			// Storage that lets any lease ID release and write.
			backend: "storage_ignores_lease_ids",
			want: []string{
				"late_release_of_ended_holding_refused_after_fresh_id",
				"late_set_metadata_of_ended_holding_refused_after_fresh_id",
				"duplicated_release_second_answers_mismatch",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.backend, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBadBackend$/^"+tt.backend+"$/^network$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), badBackendEnv+"="+tt.backend)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("child: %v, want it to fail\n%s", err, out)
			}
			for _, c := range tt.want {
				if !strings.Contains(string(out), "--- FAIL: TestBadBackend/"+tt.backend+"/network/"+c+" ") {
					t.Errorf("case %s passed against %s, want it to fail; child output:\n%s", c, tt.backend, out)
				}
			}
		})
	}
}

const badBackendEnv = "LEASETEST_BAD_BACKEND"

// TestBadBackend runs the conformance suite against a wrong backend, for
// TestNetworkCasesCanFail; on its own it does nothing.
func TestBadBackend(t *testing.T) {
	name := os.Getenv(badBackendEnv)
	if name == "" {
		t.Skip("run by TestNetworkCasesCanFail")
	}
	b := leasetest.Backend{Name: name, Run: synctest.Test,
		NewLeaser: func(*testing.T) renewer.Leaser { return leasetest.New() }}
	switch name {
	case "network_not_in_the_path":
		b.NewNetLeaser = func(*testing.T) (renewer.Leaser, *leasetest.Network) {
			return leasetest.New(), &leasetest.Network{}
		}
	case "storage_ignores_lease_ids":
		b.NewNetLeaser = func(*testing.T) (renewer.Leaser, *leasetest.Network) {
			f := leasetest.Wrap(sloppy{c: leasetest.New()})
			return f, f.Network()
		}
	default:
		t.Fatalf("unknown bad backend %q", name)
	}
	leasetest.RunConformance(t, b)
}

// sloppy is storage that lets any lease ID release the lease and write
// metadata.
type sloppy struct{ c *leasetest.Container }

func (s sloppy) Acquire(ctx context.Context, id string, d time.Duration) (string, error) {
	return s.c.Acquire(ctx, id, d)
}
func (s sloppy) Renew(ctx context.Context, id string) (string, error) { return s.c.Renew(ctx, id) }
func (s sloppy) Change(ctx context.Context, id, proposed string) (string, error) {
	return s.c.Change(ctx, id, proposed)
}
func (s sloppy) Break(ctx context.Context, p time.Duration) (time.Duration, error) {
	return s.c.Break(ctx, p)
}
func (s sloppy) Properties(ctx context.Context) (renewer.Properties, error) {
	return s.c.Properties(ctx)
}

// Release frees the container whoever holds it.
func (s sloppy) Release(ctx context.Context, id string) error {
	_, _ = s.c.Break(ctx, 0)
	_, _ = s.c.Acquire(ctx, id, 15*time.Second)
	return s.c.Release(ctx, id)
}

// SetMetadata writes whatever lease is held.
func (s sloppy) SetMetadata(ctx context.Context, _ string, md map[string]string) error {
	return s.c.SetMetadata(ctx, "", md)
}
