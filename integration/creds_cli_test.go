package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer/azlease"
)

// Exit codes of leasehold (leasehold help).
const (
	cliExitLost    = 4
	cliExitStorage = 5
)

// buildCLI builds cmd/leasehold (from the library's module) into a
// temporary directory of t.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "leasehold")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/leasehold")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/leasehold: %v\n%s", err, out)
	}
	return bin
}

// identityEndpoint is an App Service managed identity endpoint
// (IDENTITY_ENDPOINT, IDENTITY_HEADER) on loopback, as azidentity's
// DefaultAzureCredential finds it in production: it hands out the tokens
// the HTTPS Azurite accepts, expired ones, or errors, per its mode.
type identityEndpoint struct {
	srv    *httptest.Server
	header string
	mode   atomic.Value // "valid", "expired" or "refuse"
	served atomic.Int32
}

func newIdentityEndpoint(t *testing.T, cap *credsCapture, mode string) *identityEndpoint {
	t.Helper()
	ie := &identityEndpoint{header: credsID(t)}
	cap.secret(ie.header)
	ie.mode.Store(mode)
	ie.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-IDENTITY-HEADER") != ie.header || !strings.HasPrefix(r.URL.Query().Get("resource"), "https://storage.azure.com") {
			http.Error(w, `{"error":"invalid_request","error_description":"bad header or resource"}`, http.StatusBadRequest)
			return
		}
		exp := time.Now().Add(time.Hour)
		switch ie.mode.Load().(string) {
		case "refuse":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request","error_description":"test: no identity assigned"}`)
			return
		case "expired":
			exp = time.Now().Add(-time.Minute)
		}
		tok := mintToken(exp)
		cap.secret(tok)
		ie.served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"access_token": tok,
			// What the SDK is told: an hour, even for the expired
			// token, as a clock skew or a revocation would have it.
			"expires_on": fmt.Sprint(time.Now().Add(time.Hour).Unix()),
			"resource":   "https://storage.azure.com",
			"token_type": "Bearer",
		})
	}))
	t.Cleanup(ie.srv.Close)
	return ie
}

// cliRun is one finished leasehold run.
type cliRun struct {
	code           int
	stdout, stderr string
}

// runCLI runs the leasehold binary with env only (no inherited variables
// but PATH), bounded by two minutes, and records its output in cap.
func runCLI(t *testing.T, cap *credsCapture, bin string, env []string, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("leasehold %v: %v", args, err)
	}
	res := cliRun{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	cap.add(t.Name()+" stdout", res.stdout)
	cap.add(t.Name()+" stderr", res.stderr)
	t.Logf("leasehold %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	return res
}

// credsCLI runs the leasehold binary against the HTTPS Azurite: with a
// managed identity (DefaultAzureCredential finding an App Service identity
// endpoint), with an account SAS, and with credentials refused at start or
// expiring while the lock is held. The binary trusts the test's CA through
// SSL_CERT_FILE, and nothing else. Each run logs with --verbose, so that the
// secret scan sees the library's log lines too.
func credsCLI(t *testing.T, az *credsAzurite, cap *credsCapture) {
	bin := buildCLI(t)
	tls := []string{"SSL_CERT_FILE=" + az.caFile}
	mi := func(ie *identityEndpoint) []string {
		return append([]string{
			"IDENTITY_ENDPOINT=" + ie.srv.URL + "/msi/token",
			"IDENTITY_HEADER=" + ie.header,
			"AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential",
		}, tls...)
	}
	sasEnv := func(perms string, life time.Duration) []string {
		return append([]string{"AZURE_STORAGE_SAS_TOKEN=" + az.accountSAS(t, cap, "c", perms, life)}, tls...)
	}
	printTerm := []string{"--", "sh", "-c", `echo "term=$LEASEHOLD_TERM"`}

	t.Run("ManagedIdentity", func(t *testing.T) {
		t.Parallel()
		ie := newIdentityEndpoint(t, cap, "valid")
		name := containerName(t, "cli-mi")
		res := runCLI(t, cap, bin, mi(ie), append([]string{"lock", name, "--account-url", az.accountURL, "--id", "mi-worker", "--verbose"}, printTerm...)...)
		if res.code != 0 || !strings.Contains(res.stdout, "term=1") {
			t.Fatalf("lock with a managed identity: exit %d, stdout %q; want 0 and term=1", res.code, res.stdout)
		}
		res = runCLI(t, cap, bin, mi(ie), "status", name, "--account-url", az.accountURL, "--json")
		if res.code != 0 || !strings.Contains(res.stdout, `"holder":"mi-worker"`) || !strings.Contains(res.stdout, `"term":1`) {
			t.Errorf("status with a managed identity: exit %d, stdout %q", res.code, res.stdout)
		}
		if ie.served.Load() == 0 {
			t.Error("the identity endpoint served no token")
		}
	})
	t.Run("SAS", func(t *testing.T) {
		t.Parallel()
		name := containerName(t, "cli-sas")
		env := sasEnv("rw", time.Hour)
		res := runCLI(t, cap, bin, env, append([]string{"lock", name, "--account-url", az.accountURL, "--sas", "--verbose"}, printTerm...)...)
		if res.code != 0 || !strings.Contains(res.stdout, "term=1") {
			t.Fatalf("lock with an account SAS: exit %d, stdout %q; want 0 and term=1", res.code, res.stdout)
		}
		res = runCLI(t, cap, bin, env, "status", name, "--account-url", az.accountURL, "--sas")
		if res.code != 0 || !strings.Contains(res.stdout, "term 1") {
			t.Errorf("status with an account SAS: exit %d, stdout %q", res.code, res.stdout)
		}
	})
	t.Run("SASConnectionString", func(t *testing.T) {
		t.Parallel()
		name := containerName(t, "cli-sas-cs")
		cs := "BlobEndpoint=" + az.accountURL + ";SharedAccessSignature=" + az.accountSAS(t, cap, "c", "rw", time.Hour)
		cap.secret(cs)
		env := append([]string{"AZURE_STORAGE_CONNECTION_STRING=" + cs}, tls...)
		res := runCLI(t, cap, bin, env, append([]string{"lock", name, "--verbose"}, printTerm...)...)
		if res.code != 0 || !strings.Contains(res.stdout, "term=1") {
			t.Fatalf("lock with a SAS connection string: exit %d, stdout %q; want 0 and term=1", res.code, res.stdout)
		}
		ro := "BlobEndpoint=" + az.accountURL + ";SharedAccessSignature=" + az.accountSAS(t, cap, "c", "r", time.Hour)
		cap.secret(ro)
		res = runCLI(t, cap, bin, append([]string{"AZURE_STORAGE_CONNECTION_STRING=" + ro}, tls...), append([]string{"lock", name}, printTerm...)...)
		if res.code != cliExitStorage || !strings.Contains(res.stderr, "AuthorizationPermissionMismatch") {
			t.Errorf("lock with a read-only SAS connection string: exit %d, stderr %q; want %d", res.code, res.stderr, cliExitStorage)
		}
	})
	// Named locks (--container) run on a SAS for the container or for the
	// lock's blob alone, which cannot read the container itself.
	for _, tc := range []struct {
		name  string
		token func(container, blobName string) string
		code  int
		want  string // in stderr
	}{
		{"NamedLockContainerSAS", func(c, _ string) string { return az.containerSAS(t, cap, c, "rw", time.Hour) }, 0, "acquired (term 1"},
		{"NamedLockBlobSAS", func(c, b string) string { return az.blobSAS(t, cap, c, b, "rw", time.Hour) }, 0, "acquired (term 1"},
		{"NamedLockSASWithoutWrite", func(c, _ string) string { return az.containerSAS(t, cap, c, "rl", time.Hour) }, cliExitStorage,
			"storage refused the credentials (HTTP 403 AuthorizationPermissionMismatch)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			container, _ := az.newContainer(t, "cli-named")
			const lock = "nightly report"
			bn, err := azlease.BlobName(lock)
			if err != nil {
				t.Fatal(err)
			}
			env := append([]string{"AZURE_STORAGE_SAS_TOKEN=" + tc.token(container, bn)}, tls...)
			res := runCLI(t, cap, bin, env, append([]string{"lock", lock, "--container", container, "--account-url", az.accountURL, "--sas", "--verbose"}, printTerm...)...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
				t.Fatalf("lock --container with a %s: exit %d, stderr %q; want %d saying %q", tc.name, res.code, res.stderr, tc.code, tc.want)
			}
			if tc.code != 0 {
				return
			}
			res = runCLI(t, cap, bin, env, "status", lock, "--container", container, "--account-url", az.accountURL, "--sas", "--json")
			if res.code != 0 || !strings.Contains(res.stdout, `"term":1`) {
				t.Errorf("status --container with a %s: exit %d, stdout %q", tc.name, res.code, res.stdout)
			}
		})
	}
	for _, tc := range []struct {
		name string
		env  func() []string
		args []string
		want string
	}{
		{"SASWithoutWrite", func() []string { return sasEnv("r", time.Hour) }, []string{"--sas"},
			"storage refused the credentials (HTTP 403 AuthorizationPermissionMismatch)"},
		{"SASWithoutRead", func() []string { return sasEnv("w", time.Hour) }, []string{"--sas"},
			"storage refused the credentials (HTTP 403 AuthorizationPermissionMismatch)"},
		{"TokenRefused", func() []string { return mi(newIdentityEndpoint(t, cap, "expired")) }, nil,
			"storage refused the credentials (HTTP 403 AuthenticationFailed)"},
		{"NoToken", func() []string { return mi(newIdentityEndpoint(t, cap, "refuse")) }, nil,
			"could not get an Azure AD token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := containerName(t, "cli-refused")
			args := append([]string{"lock", name, "--account-url", az.accountURL, "--verbose"}, tc.args...)
			res := runCLI(t, cap, bin, tc.env(), append(args, printTerm...)...)
			if res.code != cliExitStorage || !strings.Contains(res.stderr, tc.want) || strings.Contains(res.stdout, "term=") {
				t.Errorf("lock: exit %d, stderr %q; want exit %d, saying %q, and the command not run", res.code, res.stderr, cliExitStorage, tc.want)
			}
		})
	}
	t.Run("SASExpiresMidHold", func(t *testing.T) {
		t.Parallel()
		name := containerName(t, "cli-expiry")
		res := runCLI(t, cap, bin, sasEnv("rw", 10*time.Second),
			"lock", name, "--account-url", az.accountURL, "--sas", "--verbose", "--", "sleep", "60")
		if res.code != cliExitLost || !strings.Contains(res.stderr, "storage refused the credentials (HTTP 403") {
			t.Errorf("lock whose SAS expires: exit %d, stderr %q; want exit %d naming the refused credentials", res.code, res.stderr, cliExitLost)
		}
	})
	// elect campaigns again after a loss; with the SAS expired, the
	// campaign is refused at once: exit 5, after the loss is reported.
	t.Run("ElectSASExpiresMidHold", func(t *testing.T) {
		t.Parallel()
		name := containerName(t, "cli-elect-expiry")
		res := runCLI(t, cap, bin, sasEnv("rw", 10*time.Second),
			"elect", name, "--id", "leader-1", "--account-url", az.accountURL, "--sas", "--verbose", "--", "sleep", "60")
		lost := strings.Index(res.stderr, "lost leadership (term 1): lease lost: validity deadline passed without a successful renew")
		refused := strings.LastIndex(res.stderr, "storage refused the credentials (HTTP 403")
		if res.code != cliExitStorage || lost < 0 || refused < lost {
			t.Errorf("elect whose SAS expires: exit %d, stderr %q; want the loss, then exit %d naming the refused credentials", res.code, res.stderr, cliExitStorage)
		}
	})
}
