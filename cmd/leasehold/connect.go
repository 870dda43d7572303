package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// emulatorKey is the key of Azurite's development account: public, and
// only ever used against a local emulator.
const emulatorKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

const emulatorConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + emulatorKey +
	";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"

// firstCallTimeout bounds the first storage call of every command, so that
// an unreachable endpoint is reported instead of retried forever.
const firstCallTimeout = 30 * time.Second

// connFlags are the storage account flags every command shares.
type connFlags struct {
	connectionString string
	accountURL       string
	sas              bool // authorize accountURL with the SAS in $AZURE_STORAGE_SAS_TOKEN
	emulator         bool
	container        string // --container: NAME is a lock in it, a blob lease
}

// account is a connected storage account: the leaser of one container, the
// leaser of the lock (the container's lease, or with --container a blob's),
// the endpoint's host for messages, and the secrets no output may contain.
type account struct {
	leaser    *azlease.Leaser
	target    renewer.Leaser // the lock's lease: leaser, or a *azlease.BlobLeaser
	container string         // the container's name
	lock      string         // the lock's name with --container, else ""
	host      string
	secrets   []string
}

// connect makes the leaser of lock name from the flags, or from
// AZURE_STORAGE_CONNECTION_STRING: the lease of container name, or with
// --container the lease of lock name's blob in that container (name ""
// for the container alone). It makes no storage call. Its errors are
// usage errors and never quote a connection string.
func (f connFlags) connect(cmd, name string) (*account, error) {
	acct, err := f.connectContainer(cmd, name)
	if err != nil {
		return nil, err
	}
	acct.target = acct.leaser
	if f.container != "" && name != "" {
		bl, err := acct.leaser.Blob(name)
		if err != nil {
			return nil, badOption(cmd, err, nil)
		}
		acct.target, acct.lock = bl, name
	}
	return acct, nil
}

// connectContainer makes the account's container leaser: of --container,
// or else of container name.
func (f connFlags) connectContainer(cmd, name string) (*account, error) {
	if f.container != "" {
		name = f.container
	}
	n := 0
	for _, set := range []bool{f.connectionString != "", f.accountURL != "", f.emulator} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, fail(exitUsage, "%s: give only one of --connection-string, --account-url and --emulator", cmd)
	}
	opts := &azlease.Options{CreateContainer: true}
	accountURL := f.accountURL
	envAccount := strings.TrimSpace(os.Getenv(accountEnv))
	envKey := os.Getenv(keyEnv)
	cs := f.connectionString
	switch {
	case n > 0:
	case strings.TrimSpace(os.Getenv("AZURE_STORAGE_CONNECTION_STRING")) != "":
		cs = os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	case envAccount != "":
		if !validAccountName(envAccount) {
			return nil, fail(exitUsage, "%s: $%s %q: want an account name (3-24 lower-case letters and digits)", cmd, accountEnv, envAccount)
		}
		accountURL = "https://" + envAccount + ".blob.core.windows.net"
	}
	if accountURL != "" {
		if err := checkAccountURL(accountURL); err != nil {
			return nil, fail(exitUsage, "%s: --account-url %s", cmd, err)
		}
	}
	if f.sas {
		f.accountURL = accountURL
		return f.connectSAS(cmd, name, opts)
	}
	if accountURL != "" && envKey != "" {
		if envAccount == "" {
			return nil, fail(exitUsage, "%s: $%s is set: set %s to the account's name too (or unset the key to use DefaultAzureCredential)", cmd, keyEnv, accountEnv)
		}
		// The key and the URL make a connection string: the same client,
		// without retries, as FromConnectionString makes.
		u := strings.TrimSuffix(accountURL, "/")
		if pu, err := url.Parse(u); err == nil && isLoopback(pu.Hostname()) && strings.Trim(pu.Path, "/") == "" {
			// An emulator's URL names the account in its path.
			u += "/" + envAccount
		}
		cs = "DefaultEndpointsProtocol=" + strings.SplitN(u, ":", 2)[0] + ";AccountName=" + envAccount +
			";AccountKey=" + envKey + ";BlobEndpoint=" + u + ";"
		secrets := append(connectionSecrets(cs), envKey)
		l, err := azlease.FromConnectionString(cs, name, opts)
		if err != nil {
			return nil, badOption(cmd, err, map[string]string{"account URL": "--account-url"}, secrets...)
		}
		return &account{leaser: l, container: name, host: hostOf(l.Client().URL()), secrets: secrets}, nil
	}
	if accountURL != "" {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fail(exitStorage, "%s: no Azure credential: %s", cmd, oneLine(err.Error()))
		}
		l, err := azlease.FromAccountURL(accountURL, name, cred, opts)
		if err != nil {
			return nil, badOption(cmd, err, map[string]string{"account URL": "--account-url"})
		}
		return &account{leaser: l, container: name, host: hostOf(l.Client().URL())}, nil
	}
	if f.emulator {
		cs = emulatorConnectionString
	}
	if strings.TrimSpace(cs) == "" {
		return nil, fail(exitUsage, "%s: no storage account: set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT, or pass --connection-string, --account-url or --emulator", cmd)
	}
	secrets := connectionSecrets(cs)
	l, err := azlease.FromConnectionString(cs, name, opts)
	if err != nil {
		return nil, badOption(cmd, err, nil, secrets...)
	}
	return &account{leaser: l, container: name, host: hostOf(l.Client().URL()), secrets: secrets}, nil
}

// The environment variables of an account given by name (the Azure CLI's).
const (
	accountEnv = "AZURE_STORAGE_ACCOUNT"
	keyEnv     = "AZURE_STORAGE_KEY"
)

// checkAccountURL refuses an account URL that would send credentials in
// clear text: http:// is only for a loopback host (an emulator).
func checkAccountURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q: want https://ACCOUNT.blob.core.windows.net", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: http:// would send the credential in clear text: want https://, or http:// to a loopback address (an emulator)", u.Scheme+"://"+u.Host)
	}
	return fmt.Errorf("%q: want https://ACCOUNT.blob.core.windows.net", u.Scheme+"://"+u.Host)
}

// validAccountName reports whether s is a storage account's name: 3 to 24
// lower-case letters and digits.
func validAccountName(s string) bool {
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// connectionSecrets returns the values of a connection string that must
// never be printed: the key, the SAS, and the whole string.
func connectionSecrets(cs string) []string {
	out := []string{cs}
	for _, part := range strings.Split(cs, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "accountkey", "sharedaccesssignature":
			out = append(out, strings.TrimSpace(v))
			if u, err := url.QueryUnescape(v); err == nil {
				out = append(out, u)
			}
		}
	}
	return out
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the storage endpoint"
	}
	return u.Host
}

// ensureContainer checks that the container exists, creating it if not; for
// a named lock, by reading the lock's blob. It is the first storage call of
// lock and elect, bounded by ctx.
func (a *account) ensureContainer(ctx context.Context) error {
	cc := a.leaser.Client()
	if a.lock != "" {
		// A named lock reads its blob instead (a missing blob is fine:
		// the first acquire creates it), so that a SAS scoped to the
		// container or to the blob, which may not read the container
		// itself, is enough.
		_, err := a.target.Properties(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, renewer.ErrContainerNotFound) {
			return a.describe(ctx, err)
		}
	} else {
		_, err := cc.GetProperties(ctx, nil)
		if err == nil {
			return nil
		}
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 404 {
			return a.describe(ctx, err)
		}
	}
	if _, err := cc.Create(ctx, nil); err != nil && !isCode(err, "ContainerAlreadyExists") {
		return a.describe(ctx, err)
	}
	return nil
}

func isCode(err error, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
}

// describe turns a storage error into a one-line message without secrets
// (an *azcore.ResponseError's own message holds the URL, where a SAS would
// be, and the response body) and the exit code for it.
func (a *account) describe(ctx context.Context, err error) error {
	var (
		re   *azcore.ResponseError
		aerr *azidentity.AuthenticationFailedError
		oerr *net.OpError
		derr *net.DNSError
	)
	code := exitStorage
	var msg string
	switch {
	case errors.As(err, &re):
		what := re.ErrorCode
		if what == "" {
			what = strings.TrimPrefix(strings.TrimSpace(re.RawResponse.Status), fmt.Sprint(re.StatusCode)+" ")
		}
		switch {
		case errors.Is(err, renewer.ErrForbidden) || re.StatusCode == 401 || re.StatusCode == 403:
			msg = fmt.Sprintf("storage refused the credentials (HTTP %d %s)%s", re.StatusCode, what, credentialHint(re.ErrorCode))
		case re.StatusCode == 404 && strings.HasPrefix(re.ErrorCode, "Container"):
			msg = fmt.Sprintf("container not found (HTTP 404 %s)", what)
		default:
			msg = fmt.Sprintf("storage answered HTTP %d %s", re.StatusCode, what)
		}
	case errors.As(err, &aerr):
		msg = "could not get an Azure AD token: " + tokenError(err)
	case errors.As(err, &derr):
		msg = fmt.Sprintf("cannot resolve %s: %v", derr.Name, derr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = fmt.Sprintf("cannot reach storage at %s: connection refused", a.host)
	case errors.As(err, &oerr):
		msg = fmt.Sprintf("cannot reach storage at %s: %v", a.host, oerr.Err)
	case errors.Is(err, context.DeadlineExceeded) && ctx != nil && ctx.Err() != nil:
		msg = fmt.Sprintf("storage at %s did not answer in time", a.host)
	default:
		msg = oneLine(err.Error())
	}
	return &failure{code: code, msg: scrub(msg, a.secrets...)}
}

// tokenError shortens azidentity's multi-line report (each credential
// tried, with HTTP dumps) to its first part, on one line.
func tokenError(err error) string {
	s := oneLine(err.Error())
	if i := strings.Index(s, "DefaultAzureCredential:"); i >= 0 {
		s = s[i:]
	}
	if i := strings.Index(s, " ----"); i >= 0 {
		s = s[:i]
	}
	const limit = 300
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s + " (see the azidentity documentation for DefaultAzureCredential)"
}
