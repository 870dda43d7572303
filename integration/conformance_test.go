package integration_test

import (
	"testing"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestConformance runs the lease state table of LEASE-SEMANTICS.md against
// Azurite through the Azure adapter, each case on a fresh container that is
// deleted when the case ends. It takes about 20 s of real time.
func TestConformance(t *testing.T) {
	cs := connString(t)
	leasetest.RunConformance(t, leasetest.Backend{
		Name: "azurite",
		NewLeaser: func(t *testing.T) renewer.Leaser {
			name, _ := newContainer(t, "conformance")
			l, err := renewer.NewContainerLeaserFromConnectionString(cs, name,
				&renewer.ContainerLeaserOptions{CreateContainer: true})
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		Azurite: true,
	})
}
