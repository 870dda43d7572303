package azlease_test

import (
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// A Leaser authenticated with Entra ID: managed identity, workload identity,
// environment or Azure CLI login, whichever DefaultAzureCredential finds. The
// identity needs the Storage Blob Data Contributor role on the account or the
// container (docs/credentials.md).
func ExampleFromAccountURL() {
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := azlease.FromAccountURL("https://myaccount.blob.core.windows.net", "my-job-lock", cred, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := renewer.New(l, renewer.WithIdentity("worker-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = r // r.Acquire(ctx), election.New(r), mutex.New(r)
}

// A Leaser authorized by an account SAS (ss=b, srt=c, sp=rw at least), read
// from the environment rather than the command line.
func ExampleFromSAS() {
	l, err := azlease.FromSAS("https://myaccount.blob.core.windows.net", "my-job-lock",
		os.Getenv("AZURE_STORAGE_SAS_TOKEN"), nil)
	if err != nil {
		fmt.Println(err) // never quotes the SAS
		return
	}
	fmt.Println(l) // the container's URL, without the SAS
}
