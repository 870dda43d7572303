// Package azlease is the Azure Blob Storage adapter of package renewer: a
// [renewer.Leaser] over the lease of one container, or over the lease of
// one blob, a lock named by any text kept with others in one container.
//
// How to use it: [docs/usage.md]; which credential to use: [docs/credentials.md].
//
// Make a [Leaser] from a *container.Client ([New]), from an account URL and
// an azcore.TokenCredential such as azidentity's DefaultAzureCredential
// ([FromAccountURL]; preferred: a managed or workload identity with the
// Storage Blob Data Contributor role), from an account URL and an account
// SAS ([FromSAS]; ss=b, srt=c, sp=rw), or from a connection string
// ([FromConnectionString]), and pass it to renewer.New, election.New or
// mutex.New (docs/credentials.md says which permissions each call needs):
//
//	l, err := azlease.FromConnectionString(os.Getenv("AZURE_STORAGE_CONNECTION_STRING"),
//		"my-job-lock", &azlease.Options{CreateContainer: true})
//	if err != nil { ... }
//	r, err := renewer.New(l, renewer.WithIdentity("worker-1"))
//
// The clients made by FromConnectionString, FromAccountURL and FromSAS
// make no retries of their own: the Renewer retries with backoff and bounds every
// call by the lease's validity deadline. A client passed to New keeps the
// retry policy its caller gave it, and the Renewer bounds its calls all the
// same.
//
// Errors: the service's answers are mapped, by their error code (the
// constants of package bloberror) or else their HTTP status, to the
// renewer's sentinels (renewer.ErrNoLease, renewer.ErrForbidden,
// ...), and the SDK's *azcore.ResponseError stays reachable with
// [errors.As]. A credential that cannot get a token matches
// renewer.ErrForbidden too. A transport failure keeps its cause but loses
// the request's query string (on the clients made here, before the SDK's own
// log sees it). No error or log line made here carries a query string, a
// SAS token or any part of a connection string; String returns the
// container's URL without its query.
//
// # Named locks
//
// [NewBlob] (or [Leaser.Blob]) makes the Leaser of a lock named by any text
// (1 to 256 bytes of UTF-8; renewer.ValidateName): the lease of blob
// [BlobName](name), a reversible escape of the name under [BlobPrefix],
// created on first use with the name in its metadata. Any number of locks
// share a container. A process that waits on several of them passes one
// [NewObserver] (a renewer.Observer over the container's [Lister]) to
// their Renewers with renewer.WithObserver: one List Blobs call per poll
// interval then serves every waiter, instead of one read per waiter.
//
//	cc, _ := container.NewClientFromConnectionString(connStr, "tenant-locks", nil)
//	obs, _ := azlease.NewObserver(cc, nil)
//	l, err := azlease.NewBlob(cc, "contoso/eu", &azlease.Options{CreateContainer: true})
//	if err != nil { ... } // a name that cannot be encoded
//	r, err := renewer.New(l, renewer.WithIdentity("worker-1"), renewer.WithObserver(obs))
//
// What it does not do: it passes the service's answers on and adds
// no lease logic of its own; the conformance suite of renewer/leasetest runs
// against it on Azurite (integration/) to check that it behaves as the
// in-memory fake does.
//
// [docs/usage.md]: https://github.com/leasehold/leasehold/blob/main/docs/usage.md#a-leaser-where-the-lease-is
// [docs/credentials.md]: https://github.com/leasehold/leasehold/blob/main/docs/credentials.md
package azlease
