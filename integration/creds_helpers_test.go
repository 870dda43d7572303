package integration_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/leasehold/leasehold/renewer/azlease"
)

// credsAccount and credsKey are Azurite's well-known development account;
// the key is public, and only ever used on loopback. The secret scan treats
// it as a secret all the same.
const (
	credsAccount = "devstoreaccount1"
	credsKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// credsAzurite is an Azurite of the test's own that serves HTTPS only, with a
// certificate from a CA made by the test run, and accepts Entra ID bearer
// tokens (--oauth basic) besides shared keys and SAS.
type credsAzurite struct {
	accountURL string // https://127.0.0.1:PORT/devstoreaccount1
	caFile     string // the CA's certificate, PEM: the only root a client here trusts
	http       *http.Client
	key        *azblobKey
}

// azblobKey is the account's shared key credential, for the test's own
// administration (creating containers, signing SAS) only.
type azblobKey = sas.SharedKeyCredential

// startCredsAzurite makes a throwaway CA and a server certificate for
// 127.0.0.1 under t.TempDir(), starts the emulator named by AZURITE_BLOB
// (exported by tools/azurite/with-azurite.sh) with --cert, --key and --oauth
// basic on a free loopback port, and stops it when t ends. It fails t, never
// skips it, when AZURITE_BLOB is unset.
func startCredsAzurite(t *testing.T) *credsAzurite {
	t.Helper()
	bin := os.Getenv("AZURITE_BLOB")
	if bin == "" {
		t.Fatal("AZURITE_BLOB is not set: run the integration tests with `make test` (tools/azurite/with-azurite.sh), " +
			"which exports the emulator's launcher for the tests that start their own")
	}
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := makeCerts(t)
	caFile := filepath.Join(dir, "ca.pem")
	certFile := filepath.Join(dir, "cert.pem")
	keyFile := filepath.Join(dir, "key.pem")
	for f, b := range map[string][]byte{caFile: caPEM, certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()

	logf, err := os.Create(filepath.Join(dir, "azurite.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent",
		"--cert", certFile, "--key", keyFile, "--oauth", "basic")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA certificate not parsed")
	}
	a := &credsAzurite{
		accountURL: "https://127.0.0.1:" + strconv.Itoa(port) + "/" + credsAccount,
		caFile:     caFile,
		http: &http.Client{Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 16,
		}},
	}
	if a.key, err = container.NewSharedKeyCredential(credsAccount, credsKey); err != nil {
		t.Fatal(err)
	}
	// Ready when a TLS handshake with our CA succeeds (bounded: 30 s).
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 200 * time.Millisecond}, "tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err == nil {
			_ = c.Close()
			break
		}
		if i >= 150 {
			log, _ := os.ReadFile(filepath.Join(dir, "azurite.log"))
			t.Fatalf("HTTPS Azurite not ready on %s within 30 s: %v\n%s", addr, err, log)
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "azurite.log"))
			t.Fatalf("HTTPS Azurite exited at start:\n%s", log)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return a
}

// makeCerts returns a fresh CA certificate and a server certificate for
// 127.0.0.1 and localhost signed by it, with the server's private key, all
// PEM. Nothing is kept: each run makes its own.
func makeCerts(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "leasehold test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// clientOptions are the SDK options of every client of a: the transport
// trusting the test's CA only, and no SDK retries (the adapter's default).
func (a *credsAzurite) clientOptions() *container.ClientOptions {
	return &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: a.http,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
}

// newContainer creates a fresh container with the shared key and returns its
// name and that administrator's client.
func (a *credsAzurite) newContainer(t *testing.T, prefix string) (string, *container.Client) {
	t.Helper()
	name := containerName(t, prefix)
	cc := a.adminClient(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cc.Create(ctx, nil); err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	return name, cc
}

// adminClient is a shared-key client of the named container, for setting
// up what a test's credential is then tried on.
func (a *credsAzurite) adminClient(t *testing.T, name string) *container.Client {
	t.Helper()
	cc, err := container.NewClientWithSharedKeyCredential(a.accountURL+"/"+name, a.key, a.clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// tokenLeaser is a Leaser of the named container authenticated by cred.
func (a *credsAzurite) tokenLeaser(t *testing.T, name string, cred azcore.TokenCredential) *azlease.Leaser {
	t.Helper()
	l, err := azlease.FromAccountURL(a.accountURL, name, cred, &azlease.Options{CreateContainer: true, ClientOptions: a.clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// sasLeaser is a Leaser of the named container authorized by the SAS token.
func (a *credsAzurite) sasLeaser(t *testing.T, name, token string) *azlease.Leaser {
	t.Helper()
	l, err := azlease.FromSAS(a.accountURL, name, token, &azlease.Options{CreateContainer: true, ClientOptions: a.clientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// accountSAS signs an account SAS for the blob service with the resource
// types srt and the permissions perms, valid for life (from a minute ago, to
// allow for clock differences). Its signature is registered with cap as a
// secret.
func (a *credsAzurite) accountSAS(t *testing.T, cap *credsCapture, srt, perms string, life time.Duration) string {
	t.Helper()
	now := time.Now().UTC()
	q, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     now.Add(-time.Minute),
		ExpiryTime:    now.Add(life),
		Permissions:   perms,
		ResourceTypes: srt,
	}.SignWithSharedKey(a.key)
	if err != nil {
		t.Fatalf("account SAS %s/%s: %v", srt, perms, err)
	}
	cap.secret(q.Signature())
	return q.Encode()
}

// containerSAS signs a service SAS scoped to the named container with perms.
func (a *credsAzurite) containerSAS(t *testing.T, cap *credsCapture, name, perms string, life time.Duration) string {
	t.Helper()
	now := time.Now().UTC()
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     now.Add(-time.Minute),
		ExpiryTime:    now.Add(life),
		Permissions:   perms,
		ContainerName: name,
	}.SignWithSharedKey(a.key)
	if err != nil {
		t.Fatalf("container SAS %s: %v", perms, err)
	}
	cap.secret(q.Signature())
	return q.Encode()
}

// mintToken returns an Entra ID access token as Azurite's --oauth basic mode
// accepts it: a JWT whose issuer starts with https://sts.windows.net/, whose
// audience is https://storage.azure.com and whose nbf, iat and exp bracket
// the request's time; the signature is not checked, so it is random bytes
// here. exp is the token's own expiry, which the service checks.
func mintToken(exp time.Time) string {
	b64 := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"aud": "https://storage.azure.com",
		"iss": "https://sts.windows.net/00000000-0000-0000-0000-00000000feed/",
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": exp.Unix(),
		"oid": "11111111-1111-1111-1111-111111111111",
		"tid": "00000000-0000-0000-0000-00000000feed",
	})
	sig := make([]byte, 64)
	_, _ = rand.Read(sig)
	return b64(header) + "." + b64(claims) + "." + b64(sig)
}

// testCredential is an azcore.TokenCredential that mints the tokens Azurite
// accepts, records each one with the capture as a secret, and can be made
// to fail mid-test.
type testCredential struct {
	cap *credsCapture

	mu sync.Mutex
	// life is how long a token minted now stays valid for the service
	// (its exp claim); 0 means an hour.
	life time.Duration
	// claimedLife is the expiry the credential reports to the SDK (which
	// caches the token until shortly before it); 0 means the same as life.
	claimedLife time.Duration
	fail        error // when set, GetToken fails with it
	calls       int
}

func (c *testCredential) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		return azcore.AccessToken{}, c.fail
	}
	life, claimed := c.life, c.claimedLife
	if life == 0 {
		life = time.Hour
	}
	if claimed == 0 {
		claimed = life
	}
	now := time.Now()
	tok := mintToken(now.Add(life))
	c.cap.secret(tok)
	return azcore.AccessToken{Token: tok, ExpiresOn: now.Add(claimed)}, nil
}

// failFrom makes every later GetToken fail with err.
func (c *testCredential) failFrom(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = err
}

// credsID is a fresh lease ID for the tests' direct Leaser calls.
func credsID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
