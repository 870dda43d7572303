// Package leasetest is an in-memory [renewer.Leaser] for tests: one
// [Container] models one Azure Blob Storage container and its lease, with the
// answers the cloud gives in every lease state (the state table of the
// project's docs/lease-semantics.md), and [RunConformance] checks any Leaser
// against that same table.
//
// How to test with it: [docs/testing.md]; the facts it models: [docs/lease-semantics.md].
//
// # What it models
//
//   - The five lease actions, Get Container Properties and Set Container
//     Metadata, with the cloud's answer in every state: Available, Leased,
//     Expired, Breaking, Broken. Refusals wrap the renewer sentinels
//     (renewer.ErrNoLease and the others) and name the service's
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
//   - The network, through a [Faulty] wrapped around a Container (or around
//     any Leaser): its [Network] decides per call a [Delivery] that makes
//     the request reach storage after its caller gave up, reach it twice
//     (as an SDK retry after a lost answer does), lose its answer (the
//     caller gets a transient error wrapping [ErrAnswerLost], never a
//     renewer sentinel), or take a chosen time each way. [Network.Settle]
//     waits for every request on its way to land. [Deliver] carries the
//     requests of another adapter (an HTTP transport, say) through a
//     Network the same way.
//
// Nothing here drops a request that was sent. A call whose context had
// ended before it was made is not sent (it never left the caller) and
// changes nothing. A call that was sent reaches storage and is applied there
// even if its caller stopped waiting: a Container whose before hook
// outlasts the caller's context applies the call and answers the context's
// error; a Faulty hands the request on to land later. This is what lets a
// test see the hazard a lease ID reused across holdings creates: a late
// release or metadata write of an ended holding lands on the next holding
// of the same ID, while a fresh ID per holding makes storage refuse it.
//
// # What it does not model
//
//   - The SDK and its retries, throttling, authentication, a missing
//     container, Delete Container, ETags and blobs other than lock blobs
//     ([Named] models a container of named blob leases, each a Container
//     with the blob lease's two differences, and its one-call List). Use the hooks to inject
//     transient errors (for example renewer.ErrThrottled), and
//     [Delivery.Duplicate] for a retry that reaches storage twice.
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
// own lease ID, may share one, as processes share one Azure container. So
// are Faulty and Network.
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
//
// A request that lands after its caller gave up, in a bubble:
//
//	synctest.Test(t, func(t *testing.T) {
//		f := leasetest.Wrap(leasetest.New())
//		f.Network().SetDelivery(func(c leasetest.Call) leasetest.Delivery {
//			if c.Op == leasetest.OpRelease {
//				return leasetest.Delivery{RequestDelay: 5 * time.Second}
//			}
//			return leasetest.Delivery{}
//		})
//		// ... a holder releases with a 1 s timeout and gives up; the
//		// next holding starts; the release lands 5 s in ...
//		if err := f.Network().Settle(t.Context()); err != nil {
//			t.Fatal(err)
//		}
//		// ... check what the late release did ...
//	})
//
// The conformance suite ([RunConformance]) runs its network cases through a
// Faulty's Network on any backend, or through the Network the backend gives
// (Backend.NewNetLeaser): the integration tests give one inside an HTTP
// transport, so that on Azurite the SDK's own request arrives late.
//
// [docs/testing.md]: https://github.com/leasehold/leasehold/blob/main/docs/testing.md
// [docs/lease-semantics.md]: https://github.com/leasehold/leasehold/blob/main/docs/lease-semantics.md
package leasetest
