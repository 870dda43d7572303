// Package leasetest is an in-memory [renewer.Leaser] for tests: one
// [Container] models one Azure Blob Storage container and its lease, with the
// answers the cloud gives in every lease state (the state table of the
// project's LEASE-SEMANTICS.md), and [RunConformance] checks any Leaser
// against that same table.
//
// # What it models
//
//   - The five lease actions, Get Container Properties and Set Container
//     Metadata, with the cloud's answer in every state: Available, Leased,
//     Expired, Breaking, Broken. Refusals wrap the renewer sentinels
//     (renewer.ErrLeaseIDMismatch and the others) and name the service's
//     error code, so errors.Is works as it does on the Azure adapter.
//   - Time, through the time package only: a fixed lease expires at its
//     acquire or renew time plus its duration and a breaking lease becomes
//     broken when its break period ends, both computed from [time.Now] when
//     asked. Inside a testing/synctest bubble, time.Sleep moves the fake
//     clock and leases expire without waiting.
//   - The service's input checks: lease IDs must be GUIDs in the canonical
//     8-4-4-4-12 form and are compared case-insensitively; durations are 15
//     to 60 whole seconds or renewer.Infinite; break periods are 0 to 60
//     whole seconds or renewer.BreakAtExpiry; metadata names are C#
//     identifiers, unique regardless of case, names and values printable
//     ASCII, 8 KiB in all. Bad input wraps renewer.ErrBadRequest.
//   - Metadata: Set Container Metadata replaces all of it and sets the
//     last-modified time (one-second resolution); lease actions change
//     neither. Properties reports keys in lower case and the service's Date,
//     also at one-second resolution.
//   - Faults, through hooks: [Container.SetBefore] can refuse a call, delay
//     it or hang until the caller gives up; [Container.SetAfter] can lose the
//     answer of a call that was applied. [Container.Calls] counts calls.
//
// # What it does not model
//
//   - The network, the SDK and its retries, throttling, authentication, a
//     missing container, Delete Container, ETags and blobs. Use the hooks to
//     inject transient errors (for example renewer.ErrThrottled).
//   - The cloud's grace after expiry: the cloud may refuse another ID's
//     acquire for up to about a minute after a lease expired; the fake lets
//     it succeed at once, as Azurite does.
//   - Clock skew: the service's clock is the local clock.
//   - Azurite's deviations, except the one [EmulateAzurite] turns on.
//
// Break answers the time left until the break completes in whole seconds,
// as the service does on the wire, rounded to the nearest as Azurite does.
//
// A Container is safe for concurrent use: several renewers, each with its
// own lease ID, may share one, as processes share one Azure container.
//
// # Use with testing/synctest
//
// Make the Container inside the bubble, so that its clock is the bubble's:
//
//	func TestFailover(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			c := leasetest.New()
//			// ... start two contenders on c, stop the first ...
//			time.Sleep(20 * time.Second) // fake time: returns at once
//			// ... check that the second took over ...
//		})
//	}
package leasetest
