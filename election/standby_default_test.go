package election_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// Over a Leaser that can name a lease beside its own (renewer.Besider, as
// azlease's do), election.New with no option gives the standbys a
// next-in-line lease: a leader and 4 standbys cost about 6,200 calls an
// hour, not the 19,900 of 4 standbys polling on their own (the control,
// WithStandby(Standby{}), which must cost that much for the check to mean
// anything).
func TestNextInLineByDefault(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     []election.Option
		min, max int
	}{
		{"default", nil, 5000, 8000},
		{"without next in line", []election.Option{election.WithStandby(election.Standby{})}, 18000, 22000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := leasetest.NewNamed()
				main, err := n.Lease("svc")
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				elected := make(chan *election.Leadership, 5)
				var leader *election.Leadership
				for i := range 5 {
					r, err := renewer.New(main, renewer.WithIdentity(fmt.Sprintf("c%d", i)))
					if err != nil {
						t.Fatal(err)
					}
					e, err := election.New(r, tt.opts...)
					if err != nil {
						t.Fatal(err)
					}
					go func() {
						if ld, err := e.Campaign(ctx); err == nil {
							elected <- ld
						}
					}()
					if i == 0 {
						leader = <-elected // c0 leads; the others stand by
					}
				}
				time.Sleep(2 * time.Minute) // settle: one standby takes the seat
				next, err := n.Lease("svc/" + election.NextInLineSuffix)
				if err != nil {
					t.Fatal(err)
				}
				sum := func() (total int) {
					for _, c := range []*leasetest.Container{main, next} {
						for _, op := range []leasetest.Op{leasetest.OpAcquire, leasetest.OpRenew, leasetest.OpChange,
							leasetest.OpRelease, leasetest.OpBreak, leasetest.OpProperties, leasetest.OpSetMetadata} {
							total += c.Calls(op)
						}
					}
					return total
				}
				before := sum()
				time.Sleep(time.Hour)
				got := sum() - before
				t.Logf("leader + 4 standbys, %s: %d calls in an hour", tt.name, got)
				if got < tt.min || got > tt.max {
					t.Errorf("leader + 4 standbys: %d calls in an hour, want %d to %d", got, tt.min, tt.max)
				}
				select {
				case ld := <-elected:
					t.Errorf("a standby was elected while the leader led (term %d)", ld.Term())
				default:
				}
				cancel()
				if err := leader.Resign(context.Background()); err != nil {
					t.Errorf("Resign: %v", err)
				}
				time.Sleep(time.Minute) // the standbys' campaigns and next-in-line leases end
				select {
				case ld := <-elected: // won as the leader resigned, before the cancel reached it
					_ = ld.Resign(context.Background())
					time.Sleep(time.Minute)
				default:
				}
			})
		})
	}
}
