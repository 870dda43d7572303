package election

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// lockNamed is a lease whose metrics name its lock name.
type lockNamed struct {
	*leasetest.Container
	name string
}

func (l lockNamed) Name() string { return l.name }

// TestSeatMetricAttributes: a seat's metrics carry its election and role,
// and a lock name under the election's: the container lease "jobs" has
// its seat ".next-in-line" (a blob in the container, the same name in
// every container) labelled "jobs/.next-in-line"; a named lock's seat,
// already under the lock's name, keeps it.
func TestSeatMetricAttributes(t *testing.T) {
	for _, tt := range []struct{ election, seat, want string }{
		{"jobs", ".next-in-line", "jobs/.next-in-line"},
		{"eu", "eu/next-in-line", "eu/next-in-line"},
		{"eu", "eu/next-in-line/second", "eu/next-in-line/second"},
	} {
		main, err := renewer.New(lockNamed{leasetest.New(), tt.election}, renewer.WithIdentity("c"))
		if err != nil {
			t.Fatal(err)
		}
		seat, err := renewer.New(lockNamed{leasetest.New(), tt.seat}, renewer.WithIdentity("c"), seatMetricAttributes(main, lockNamed{nil, tt.seat}))
		if err != nil {
			t.Fatal(err)
		}
		set := seat.MetricAttributes()
		for key, want := range map[attribute.Key]string{
			renewer.AttrLock: tt.want, renewer.AttrElection: tt.election,
			renewer.AttrRole: renewer.RoleNextInLine, renewer.AttrIdentity: "c",
		} {
			if v, ok := set.Value(key); !ok || v.String() != want {
				t.Errorf("seat %q of election %q: %s = %q (set %v), want %q", tt.seat, tt.election, key, v.String(), ok, want)
			}
		}
	}
}
