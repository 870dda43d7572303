package integration_test

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// TestConformance runs the lease state table of docs/lease-semantics.md against
// Azurite through the Azure adapter, each case on a fresh container that is
// deleted when the case ends. The network cases (late, lost, duplicated
// requests) send the SDK's own HTTP requests through a netTransport. It
// takes about 20 s of real time.
func TestConformance(t *testing.T) {
	cs := connString(t)
	newLeaser := func(t *testing.T, opts *azlease.Options) renewer.Leaser {
		name, _ := newContainer(t, "conformance")
		l, err := azlease.FromConnectionString(cs, name, opts)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	leasetest.RunConformance(t, leasetest.Backend{
		Name: "azurite",
		NewLeaser: func(t *testing.T) renewer.Leaser {
			return newLeaser(t, &azlease.Options{CreateContainer: true})
		},
		NewNetLeaser: func(t *testing.T) (renewer.Leaser, *leasetest.Network) {
			tr := newNetTransport()
			l := newLeaser(t, &azlease.Options{
				CreateContainer: true,
				// No SDK retries, as the adapter's default: a case makes
				// its duplicates itself.
				ClientOptions: &container.ClientOptions{ClientOptions: policy.ClientOptions{
					Transport: tr,
					Retry:     policy.RetryOptions{MaxRetries: -1},
				}},
			})
			return l, &tr.net
		},
		Azurite: true,
	})
}
