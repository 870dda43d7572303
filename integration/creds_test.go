package integration_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/leasehold/leasehold/election"
	"github.com/leasehold/leasehold/mutex"
	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// TestCreds runs the library and the CLI the way production authenticates:
// over HTTPS (an Azurite of its own with a certificate from a CA the test
// makes, the clients trusting that CA only), with Entra ID bearer tokens
// and with SAS, and checks the least permissions each operation needs and
// what a holder does when its credential stops working. Everything the
// subtests log or return, and everything the SDK and the CLI print, is
// scanned for secrets at the end. About 30 s, most of it the parallel
// mid-hold expiry cases.
func TestCreds(t *testing.T) {
	t.Parallel()
	az := startCredsAzurite(t)
	cap := newCredsCapture()
	stopSDKLog := cap.captureSDKLog(strings.TrimPrefix(strings.Split(az.accountURL, "/devstoreaccount1")[0], "https://"))
	t.Cleanup(func() {
		stopSDKLog()
		if err := cap.collectMetrics(context.Background()); err != nil {
			t.Errorf("collect metrics: %v", err)
		}
		cap.scan(t)
	})
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *credsAzurite, *credsCapture)
	}{
		{"TokenRenewer", credsTokenRenewer},
		{"TokenElection", credsTokenElection},
		{"TokenMutex", credsTokenMutex},
		{"TokenRefusedAtStart", credsTokenRefusedAtStart},
		{"TokenRefusedMidHold", credsTokenRefusedMidHold},
		{"TokenUnavailableMidHold", credsTokenUnavailableMidHold},
		{"TokenRefusedMidTermRun", credsTokenRefusedMidTermRun},
		{"SASPermissionsChecked", credsSASPermissionsChecked},
		{"SASConnectionString", credsSASConnectionString},
		{"SASLeastPrivilege", credsSASLeastPrivilege},
		{"SASResourceTypes", credsSASResourceTypes},
		{"ContainerSASCannotLease", credsContainerSASCannotLease},
		{"BlobSASLeastPrivilege", credsBlobSASLeastPrivilege},
		{"BlobSASResourceTypes", credsBlobResourceTypes},
		{"SASExpiresMidHold", credsSASExpiresMidHold},
		{"CLI", credsCLI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, az, cap)
		})
	}
}

// credsRenewer is a Renewer over l that logs to the capture.
func credsRenewer(t *testing.T, cap *credsCapture, l renewer.Leaser, identity string) *renewer.Renewer {
	t.Helper()
	r, err := renewer.New(l, renewer.WithIdentity(identity), renewer.WithLogger(cap.logger(t)), renewer.WithMeterProvider(cap.meters))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func credsTokenRenewer(t *testing.T, az *credsAzurite, cap *credsCapture) {
	cred := &testCredential{cap: cap}
	name := containerName(t, "tok-renewer") // created by the token's Leaser
	r := credsRenewer(t, cap, az.tokenLeaser(t, name, cred), "token-holder")
	ls, err := r.Acquire(t.Context())
	if cap.err("renewer acquire", err) != nil {
		t.Fatalf("Acquire with a bearer token over HTTPS: %v", err)
	}
	if ls.Term() != 1 {
		t.Errorf("term %d, want 1", ls.Term())
	}
	st, err := r.Inspect(t.Context())
	if cap.err("inspect", err) != nil || st.Holder != "token-holder" || !st.Held() {
		t.Errorf("Inspect while held: %+v, %v; want held by token-holder", st, err)
	}
	if err := cap.err("release", ls.Release(t.Context())); err != nil {
		t.Errorf("Release: %v", err)
	}
	if _, err := r.Break(t.Context(), "test: break with a token"); !errors.Is(err, renewer.ErrNoLease) {
		t.Errorf("Break of a released lease: %v, want ErrNoLease", cap.err("break", err))
	}
	cred.mu.Lock()
	calls := cred.calls
	cred.mu.Unlock()
	if calls == 0 {
		t.Error("the token credential was never asked for a token")
	}
}

func credsTokenElection(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name := containerName(t, "tok-elect")
	var eds []*election.Election
	for _, id := range []string{"a", "b"} {
		r := credsRenewer(t, cap, az.tokenLeaser(t, name, &testCredential{cap: cap}), id)
		e, err := election.New(r, election.WithLogger(cap.logger(t)))
		if err != nil {
			t.Fatal(err)
		}
		eds = append(eds, e)
	}
	ld, err := eds[0].Campaign(t.Context())
	if cap.err("campaign", err) != nil {
		t.Fatalf("Campaign with a bearer token: %v", err)
	}
	l, err := eds[1].Leader(t.Context())
	if cap.err("leader", err) != nil || l.Identity != "a" || l.Term != ld.Term() {
		t.Errorf("the other candidate sees leader %+v, %v; want a, term %d", l, err, ld.Term())
	}
	if err := cap.err("resign", ld.Resign(t.Context())); err != nil {
		t.Errorf("Resign: %v", err)
	}
	ld2, err := eds[1].Campaign(t.Context())
	if cap.err("campaign", err) != nil {
		t.Fatalf("second Campaign: %v", err)
	}
	if ld2.Term() != ld.Term()+1 {
		t.Errorf("second term %d, want %d", ld2.Term(), ld.Term()+1)
	}
	_ = cap.err("resign", ld2.Resign(t.Context()))
}

func credsTokenMutex(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name := containerName(t, "tok-mutex")
	r := credsRenewer(t, cap, az.tokenLeaser(t, name, &testCredential{cap: cap}), "locker")
	m, err := mutex.New(r, mutex.WithLogger(cap.logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	held, err := m.Lock(t.Context())
	if cap.err("lock", err) != nil {
		t.Fatalf("Lock with a bearer token: %v", err)
	}
	other := credsRenewer(t, cap, az.tokenLeaser(t, name, &testCredential{cap: cap}), "other")
	m2, err := mutex.New(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.TryLock(t.Context()); !errors.Is(err, renewer.ErrLeaseHeld) {
		t.Errorf("TryLock of a held lock: %v, want ErrLeaseHeld", cap.err("trylock", err))
	}
	if err := cap.err("unlock", held.Unlock(t.Context())); err != nil {
		t.Errorf("Unlock: %v", err)
	}
}

// credsTokenRefusedAtStart: a token the service refuses (expired), and a
// credential that cannot get one, both end an acquisition at once with an
// error that says so and matches ErrForbidden.
func credsTokenRefusedAtStart(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "tok-refused")
	for _, tc := range []struct {
		what string
		cred *testCredential
		want string // in the error
	}{
		// An expired token that the SDK believes still valid (as after
		// clock skew, or a revoked token): the service answers 403.
		{"expired token", &testCredential{cap: cap, life: -time.Minute, claimedLife: time.Hour}, "storage refused the credentials (HTTP 403 AuthenticationFailed)"},
		{"no token", &testCredential{cap: cap, fail: errors.New("test: the identity endpoint refused")}, "no token from the credential: test: the identity endpoint refused"},
	} {
		r := credsRenewer(t, cap, az.tokenLeaser(t, name, tc.cred), "refused")
		e, err := election.New(r)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mutex.New(credsRenewer(t, cap, az.tokenLeaser(t, name, tc.cred), "refused"))
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []struct {
			name string
			do   func(context.Context) error
		}{
			{"Renewer.Acquire", func(ctx context.Context) error { _, err := r.Acquire(ctx); return err }},
			{"Election.Campaign", func(ctx context.Context) error { _, err := e.Campaign(ctx); return err }},
			{"Mutex.Lock", func(ctx context.Context) error { _, err := m.Lock(ctx); return err }},
		} {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			start := time.Now()
			err := call.do(ctx)
			cancel()
			t.Logf("%s, %s: %v after %v", tc.what, call.name, err, time.Since(start).Round(time.Millisecond))
			_ = cap.err(tc.what, err)
			if !errors.Is(err, renewer.ErrForbidden) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %s: %v; want ErrForbidden saying %q", tc.what, call.name, err, tc.want)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %s waited for its context instead of failing at once: %v", tc.what, call.name, err)
			}
		}
	}
}

// credsMidHold acquires with l, lets fail() make the credential stop working,
// and checks that the holder loses the lease, with a cause that names the
// credential problem and holds no secret, before a holder with a good
// credential can take it over.
func credsMidHold(t *testing.T, az *credsAzurite, cap *credsCapture, name string, l renewer.Leaser, fail func(), want string) {
	t.Helper()
	r := credsRenewer(t, cap, l, "failing")
	ls, err := r.Acquire(t.Context())
	if cap.err("acquire", err) != nil {
		t.Fatalf("Acquire: %v", err)
	}
	fail()
	successor := credsRenewer(t, cap, az.tokenLeaser(t, name, &testCredential{cap: cap}), "successor")
	got := make(chan *renewer.Lease, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 2*renewer.DefaultDuration+10*time.Second)
		defer cancel()
		ls2, err := successor.Acquire(ctx)
		if cap.err("successor", err) != nil {
			t.Errorf("successor Acquire: %v", err)
		}
		got <- ls2
	}()
	select {
	case <-ls.Done():
	case <-time.After(2*renewer.DefaultDuration + 5*time.Second):
		t.Fatalf("holder still holds %v after its credential stopped working", 2*renewer.DefaultDuration+5*time.Second)
	}
	lost := time.Now()
	cause := context.Cause(ls.Context())
	_ = cap.err("loss cause", cause)
	if !errors.Is(cause, renewer.ErrLeaseLost) || !errors.Is(cause, renewer.ErrForbidden) || !strings.Contains(cause.Error(), want) {
		t.Errorf("loss cause %q: want ErrLeaseLost and ErrForbidden, saying %q", cause, want)
	}
	if found := findSecrets(cause.Error(), nil); len(found) != 0 {
		t.Errorf("loss cause holds %v", found)
	}
	ls2 := <-got
	if ls2 == nil {
		t.FailNow()
	}
	acquired := time.Now()
	defer ls2.Release(context.Background())
	if !lost.Before(acquired) {
		t.Errorf("holder lost the lease at %v, after the successor acquired it at %v", lost, acquired)
	}
	if ls2.Term() != ls.Term()+1 {
		t.Errorf("successor's term %d, want %d", ls2.Term(), ls.Term()+1)
	}
	_ = cap.err("release", ls.Release(context.Background()))
}

// credsTokenRefusedMidHold: the holder's token expires for the service while
// the SDK still believes it valid (it was told an hour), so renewals are
// refused with 403 AuthenticationFailed.
func credsTokenRefusedMidHold(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "tok-midhold")
	cred := &testCredential{cap: cap, life: 4 * time.Second, claimedLife: time.Hour}
	credsMidHold(t, az, cap, name, az.tokenLeaser(t, name, cred), func() {}, "storage refused the credentials (HTTP 403 AuthenticationFailed)")
}

// credsTokenUnavailableMidHold: the credential stops getting tokens (the
// identity endpoint refuses) while the holder holds one that soon expires:
// the SDK cannot refresh it, and renewals fail without reaching storage.
func credsTokenUnavailableMidHold(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "tok-gone")
	cred := &testCredential{cap: cap, life: 6 * time.Second}
	credsMidHold(t, az, cap, name, az.tokenLeaser(t, name, cred), func() {
		cred.failFrom(errors.New("test: the identity endpoint refused"))
	}, "no token from the credential")
}

// credsTokenRefusedMidTermRun: election.Run whose leader's token the service
// stops accepting mid-term: OnElected's context ends with a cause naming the
// credential, and Run, refused its next campaign, returns the refusal.
func credsTokenRefusedMidTermRun(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "tok-run")
	cred := &testCredential{cap: cap, life: 4 * time.Second, claimedLife: time.Hour}
	e, err := election.New(credsRenewer(t, cap, az.tokenLeaser(t, name, cred), "runner"), election.WithLogger(cap.logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	causes := make(chan error, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 2*renewer.DefaultDuration+10*time.Second)
	defer cancel()
	err = e.Run(ctx, election.Callbacks{OnElected: func(ctx context.Context, term int64) {
		<-ctx.Done()
		causes <- context.Cause(ctx)
	}})
	_ = cap.err("run", err)
	if ctx.Err() != nil {
		t.Fatalf("Run still running after %v: %v", 2*renewer.DefaultDuration+10*time.Second, err)
	}
	if !errors.Is(err, renewer.ErrForbidden) || !strings.Contains(err.Error(), "storage refused the credentials (HTTP 403 AuthenticationFailed)") {
		t.Errorf("Run: %v; want the refusal (ErrForbidden)", err)
	}
	select {
	case cause := <-causes:
		_ = cap.err("OnElected cause", cause)
		if !errors.Is(cause, renewer.ErrLeaseLost) || !errors.Is(cause, renewer.ErrForbidden) {
			t.Errorf("OnElected's context ended with %v; want ErrLeaseLost and ErrForbidden", cause)
		}
	default:
		t.Error("OnElected never ran, or its context never ended")
	}
}

// credsSASExpiresMidHold: an account SAS that expires while the lease is
// held.
func credsSASExpiresMidHold(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "sas-midhold")
	tok := az.accountSAS(t, cap, "c", "rw", 5*time.Second)
	credsMidHold(t, az, cap, name, az.sasLeaser(t, name, tok), func() {}, "storage refused the credentials (HTTP 403")
}

// forbidden reports whether err is storage refusing the credential: a
// Leaser's error matching ErrForbidden, or an SDK error (from the one call the
// library makes on the SDK client directly, Create) with HTTP 403.
func forbidden(err error) bool {
	var re *azcore.ResponseError
	return errors.Is(err, renewer.ErrForbidden) || errors.As(err, &re) && re.StatusCode == 403
}

// credsSASPermissionsChecked confirms that the emulator checks a SAS's
// permissions per operation: a read-only account SAS reads the container's
// properties but is refused a lease, which a read-write one gets.
func credsSASPermissionsChecked(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "sas-checked")
	ro := az.sasLeaser(t, name, az.accountSAS(t, cap, "c", "r", time.Hour))
	if _, err := ro.Properties(t.Context()); cap.err("ro properties", err) != nil {
		t.Fatalf("read-only SAS: Properties: %v", err)
	}
	_, err := ro.Acquire(t.Context(), credsID(t), 15*time.Second)
	var re *azcore.ResponseError
	if !errors.Is(cap.err("ro acquire", err), renewer.ErrForbidden) || !errors.As(err, &re) || re.ErrorCode != "AuthorizationPermissionMismatch" {
		t.Fatalf("read-only SAS: Acquire: %v; want ErrForbidden, AuthorizationPermissionMismatch", err)
	}
	rw := az.sasLeaser(t, name, az.accountSAS(t, cap, "c", "rw", time.Hour))
	id := credsID(t)
	if _, err := rw.Acquire(t.Context(), id, 15*time.Second); cap.err("rw acquire", err) != nil {
		t.Fatalf("read-write SAS: Acquire: %v", err)
	}
	_ = cap.err("rw release", rw.Release(t.Context(), id))
}

// credsSASConnectionString: a connection string with a SAS instead of a key
// (as the Azure portal gives it) over HTTPS.
func credsSASConnectionString(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name := containerName(t, "sas-cs")
	cs := "BlobEndpoint=" + az.accountURL + ";SharedAccessSignature=" + az.accountSAS(t, cap, "c", "rw", time.Hour)
	cap.secret(cs)
	l, err := azlease.FromConnectionString(cs, name, &azlease.Options{CreateContainer: true, ClientOptions: az.clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mutex.New(credsRenewer(t, cap, l, "sas-cs"), mutex.WithLogger(cap.logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	held, err := m.Lock(t.Context())
	if cap.err("lock", err) != nil {
		t.Fatalf("Lock with a SAS connection string: %v", err)
	}
	if err := cap.err("unlock", held.Unlock(t.Context())); err != nil {
		t.Errorf("Unlock: %v", err)
	}
	cap.add("leaser String", l.String())
}

// allAccountPermissions is every permission an account SAS can carry.
const allAccountPermissions = "rwdxylacupfti"

// credsOp is one operation the library makes, tried on a container prepared
// for it with the shared key.
type credsOp struct {
	name string
	// prepare sets the container up (with the shared key); it returns the
	// container to try the operation on and a lease ID it holds, if any.
	prepare func(t *testing.T, az *credsAzurite) (name, leaseID string)
	do      func(ctx context.Context, l *azlease.Leaser, leaseID string) error
}

// credsOps are the storage operations of azlease.Leaser: every call the
// library (renewer, election, mutex, the CLI) makes.
var credsOps = map[string]credsOp{
	"create container": {
		prepare: func(t *testing.T, az *credsAzurite) (string, string) { return containerName(t, "lp-create"), "" },
		do: func(ctx context.Context, l *azlease.Leaser, _ string) error {
			_, err := l.Client().Create(ctx, nil) // what Acquire does with CreateContainer on a missing container
			return err
		},
	},
	"get properties": {
		prepare: credsPrepare(false),
		do: func(ctx context.Context, l *azlease.Leaser, _ string) error {
			_, err := l.Properties(ctx)
			return err
		},
	},
	"acquire": {
		prepare: credsPrepare(false),
		do: func(ctx context.Context, l *azlease.Leaser, _ string) error {
			_, err := l.Acquire(ctx, "00000000-0000-4000-8000-000000000001", 15*time.Second)
			return err
		},
	},
	"renew": {
		prepare: credsPrepare(true),
		do: func(ctx context.Context, l *azlease.Leaser, id string) error {
			_, err := l.Renew(ctx, id)
			return err
		},
	},
	"change": {
		prepare: credsPrepare(true),
		do: func(ctx context.Context, l *azlease.Leaser, id string) error {
			_, err := l.Change(ctx, id, "00000000-0000-4000-8000-000000000002")
			return err
		},
	},
	"release": {
		prepare: credsPrepare(true),
		do: func(ctx context.Context, l *azlease.Leaser, id string) error {
			return l.Release(ctx, id)
		},
	},
	"break": {
		prepare: credsPrepare(true),
		do: func(ctx context.Context, l *azlease.Leaser, _ string) error {
			_, err := l.Break(ctx, 0)
			return err
		},
	},
	"set metadata": {
		prepare: credsPrepare(true),
		do: func(ctx context.Context, l *azlease.Leaser, id string) error {
			return l.SetMetadata(ctx, id, map[string]string{"holder": "least-privilege"})
		},
	},
}

// credsPrepare makes a fresh container, leased (with a fresh ID) if leased.
func credsPrepare(leased bool) func(t *testing.T, az *credsAzurite) (string, string) {
	return func(t *testing.T, az *credsAzurite) (string, string) {
		name, cc := az.newContainer(t, "lp")
		if !leased {
			return name, ""
		}
		id := credsID(t)
		lc, err := lease.NewContainerClient(cc, &lease.ContainerClientOptions{LeaseID: to.Ptr(id)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lc.AcquireLease(t.Context(), 60, nil); err != nil {
			t.Fatalf("prepare: acquire: %v", err)
		}
		return name, id
	}
}

// credsLeastPrivilege is the least-privilege table of docs/credentials.md
// for an account SAS (ss=b, srt=c): for each operation, the permissions it
// needs (each one necessary), and the other permissions that would do
// instead of need (each alone sufficient). The test checks each row: need
// works, each of alt alone works, and need with one permission fewer, or
// every permission outside need and alt, is refused.
var credsLeastPrivilege = []struct {
	op   string
	need string
	alt  string
}{
	{op: "create container", need: "w", alt: "c"},
	{op: "get properties", need: "r"},
	{op: "acquire", need: "w"},
	{op: "renew", need: "w"},
	{op: "change", need: "w"},
	{op: "release", need: "w"},
	{op: "break", need: "w", alt: "d"},
	{op: "set metadata", need: "w"},
}

func credsSASLeastPrivilege(t *testing.T, az *credsAzurite, cap *credsCapture) {
	try := func(t *testing.T, op credsOp, perms string) error {
		t.Helper()
		name, id := op.prepare(t, az)
		l := az.sasLeaser(t, name, az.accountSAS(t, cap, "c", perms, time.Hour))
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		return cap.err(op.name+" with sp="+perms, op.do(ctx, l, id))
	}
	for _, row := range credsLeastPrivilege {
		op, ok := credsOps[row.op]
		if !ok {
			t.Fatalf("no operation %q", row.op)
		}
		op.name = row.op
		t.Run(strings.ReplaceAll(row.op, " ", "-"), func(t *testing.T) {
			t.Parallel()
			if err := try(t, op, row.need); err != nil {
				t.Errorf("%s with sp=%s: %v, want success", row.op, row.need, err)
			}
			for _, p := range row.alt {
				if err := try(t, op, string(p)); err != nil {
					t.Errorf("%s with sp=%c: %v, want success (an alternative to %s)", row.op, p, err, row.need)
				}
			}
			var fewer []string
			for _, p := range row.need {
				if less := strings.ReplaceAll(row.need, string(p), ""); less != "" {
					fewer = append(fewer, less)
				}
			}
			var others strings.Builder
			for _, p := range allAccountPermissions {
				if !strings.ContainsRune(row.need+row.alt, p) {
					others.WriteRune(p)
				}
			}
			fewer = append(fewer, others.String())
			for _, perms := range fewer {
				if err := try(t, op, perms); !permissionRefused(err) {
					t.Errorf("%s with sp=%s: %v, want AuthorizationPermissionMismatch (it needs %s)", row.op, perms, err, row.need)
				}
			}
		})
	}
	// The whole of a lock's life with the union of the rows, rw: create the
	// container, acquire (term read and written), renew, release; and
	// refused with r or w alone.
	t.Run("lock", func(t *testing.T) {
		t.Parallel()
		for _, perms := range []string{"rw", "r", "w"} {
			name := containerName(t, "lp-lock")
			r := credsRenewer(t, cap, az.sasLeaser(t, name, az.accountSAS(t, cap, "c", perms, time.Hour)), "sas-"+perms)
			m, err := mutex.New(r)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			start := time.Now()
			held, err := m.Lock(ctx)
			cancel()
			t.Logf("Lock with sp=%s: %v after %v", perms, err, time.Since(start).Round(time.Millisecond))
			_ = cap.err("lock sp="+perms, err)
			if perms != "rw" {
				if !errors.Is(err, renewer.ErrForbidden) {
					t.Errorf("Lock with sp=%s: %v, want ErrForbidden", perms, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Lock with sp=rw: %v", err)
			}
			if err := cap.err("unlock", held.Unlock(t.Context())); err != nil {
				t.Errorf("Unlock with sp=rw: %v", err)
			}
		}
	})
}

// credsSASResourceTypes: the account SAS must include the container resource
// type (srt=c); service and object with every permission are refused.
func credsSASResourceTypes(t *testing.T, az *credsAzurite, cap *credsCapture) {
	name, _ := az.newContainer(t, "sas-srt")
	for _, srt := range []string{"so", "c"} {
		l := az.sasLeaser(t, name, az.accountSAS(t, cap, srt, allAccountPermissions, time.Hour))
		id := credsID(t)
		_, err := l.Acquire(t.Context(), id, 15*time.Second)
		_ = cap.err("srt="+srt, err)
		switch {
		case srt == "c" && err != nil:
			t.Errorf("srt=c: Acquire: %v, want success", err)
		case srt == "c":
			_ = l.Release(t.Context(), id)
		case !errors.Is(err, renewer.ErrForbidden):
			t.Errorf("srt=%s: Acquire: %v, want ErrForbidden", srt, err)
		}
	}
}

// credsContainerSASCannotLease: a service SAS scoped to the container, even
// with every permission, is refused every container operation the library
// makes, as the service documents (a container SAS cannot lease a
// container, nor read or write its properties or metadata).
func credsContainerSASCannotLease(t *testing.T, az *credsAzurite, cap *credsCapture) {
	for opName, op := range credsOps {
		name, id := op.prepare(t, az)
		l := az.sasLeaser(t, name, az.containerSAS(t, cap, name, "racwdxltfi", time.Hour))
		err := cap.err("container SAS "+opName, op.do(t.Context(), l, id))
		if !forbidden(err) {
			t.Errorf("container SAS, %s: %v, want ErrForbidden", opName, err)
		}
	}
}
