package azlease_test

import (
	"fmt"

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

// A Leaser authorized by an account SAS: blob service, container resource
// type, read and write (ss=b, srt=c, sp=rw). In production read the token
// from the environment (AZURE_STORAGE_SAS_TOKEN, say), not from code. Neither
// the Leaser's String nor an error shows it.
func ExampleFromSAS() {
	const token = "sv=2025-01-05&ss=b&srt=c&sp=rw&se=2030-01-01T00%3A00%3A00Z&spr=https&sig=c2lnbmF0dXJl"
	l, err := azlease.FromSAS("https://myaccount.blob.core.windows.net", "my-job-lock", token, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l)

	_, err = azlease.FromSAS("https://myaccount.blob.core.windows.net", "my-job-lock", "sv=2025-01-05&sp=rw", nil)
	fmt.Println(err)
	// Output:
	// https://myaccount.blob.core.windows.net/my-job-lock
	// azlease: invalid option: SAS: malformed: no sig= parameter; want the query string of a SAS URL (sv=...&sig=...)
}
