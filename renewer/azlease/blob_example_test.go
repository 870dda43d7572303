package azlease_test

import (
	"context"
	"log"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// A lock per tenant, all in one container, and one List Blobs call per
// poll interval for every lock the process waits on. (Not run: it needs a
// storage account.)
func ExampleNewBlob() {
	ctx := context.Background()
	cc, err := container.NewClientFromConnectionString(os.Getenv("AZURE_STORAGE_CONNECTION_STRING"), "tenant-locks", nil)
	if err != nil {
		log.Fatal(err)
	}
	obs, err := azlease.NewObserver(cc, nil) // one per container per process
	if err != nil {
		log.Fatal(err)
	}
	for _, tenant := range []string{"contoso/eu", "fabrikam/us"} {
		l, err := azlease.NewBlob(cc, tenant, &azlease.Options{CreateContainer: true})
		if err != nil {
			log.Fatal(err) // a name that cannot be encoded
		}
		r, err := renewer.New(l, renewer.WithIdentity("worker-1"), renewer.WithObserver(obs))
		if err != nil {
			log.Fatal(err)
		}
		m, err := mutex.New(r)
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			held, err := m.Lock(ctx)
			if err != nil {
				log.Print(err)
				return
			}
			defer held.Unlock(held.Context())
			// ... work for tenant under held.Context(), fenced by held.Term() ...
		}()
	}
}
