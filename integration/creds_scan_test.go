package integration_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
)

// credsCapture collects everything the credential tests see come out of the
// library, the SDK and the CLI (log lines, error texts, the CLI's stdout and
// stderr) and the secrets that were in play (the account key, each minted
// token, each SAS signature), so that scan can check that no secret got out.
type credsCapture struct {
	mu      sync.Mutex
	outputs []capturedOutput
	secrets map[string]bool

	// meters is the MeterProvider of every Renewer of the credential tests;
	// metrics renders what it recorded, for the scan.
	meters  *sdkmetric.MeterProvider
	metrics *sdkmetric.ManualReader
}

type capturedOutput struct{ source, text string }

func newCredsCapture() *credsCapture {
	c := &credsCapture{secrets: map[string]bool{}, metrics: sdkmetric.NewManualReader()}
	c.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(c.metrics))
	c.secret(credsKey)
	return c
}

// collectMetrics records everything the Renewers' metrics hold (names,
// attributes, values) as one output, JSON.
func (c *credsCapture) collectMetrics(ctx context.Context) error {
	var rm metricdata.ResourceMetrics
	if err := c.metrics.Collect(ctx, &rm); err != nil {
		return err
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // & as itself, as an exporter would write it
	if err := enc.Encode(rm.ScopeMetrics); err != nil {
		return err
	}
	c.add("metrics", b.String())
	return nil
}

// secret registers s as a value that no output may contain.
func (c *credsCapture) secret(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets[s] = true
}

// add records text, which came from source.
func (c *credsCapture) add(source, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outputs = append(c.outputs, capturedOutput{source: source, text: text})
}

// err records err's text (if any) and returns err.
func (c *credsCapture) err(source string, err error) error {
	if err != nil {
		c.add(source, err.Error())
	}
	return err
}

// logger returns a zap logger that writes JSON lines, every field rendered,
// to the capture and to t's log.
func (c *credsCapture) logger(t *testing.T) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	core := zapcore.NewCore(enc, zapcore.AddSync(&captureWriter{c: c, source: t.Name() + " log"}), zapcore.DebugLevel)
	return zap.New(zapcore.NewTee(core, zaptest.NewLogger(t).Core()))
}

type captureWriter struct {
	c      *credsCapture
	source string
}

func (w *captureWriter) Write(p []byte) (int, error) {
	w.c.add(w.source, string(p))
	return len(p), nil
}

// sdkSink receives the Azure SDK's own log while a capture wants it. The SDK's
// listener is a process-wide variable that it reads without synchronization,
// so it is set once, here, before any test runs, and never changed.
var sdkSink atomic.Pointer[func(azlog.Event, string)]

func init() {
	azlog.SetListener(func(ev azlog.Event, msg string) {
		if f := sdkSink.Load(); f != nil {
			(*f)(ev, msg)
		}
	})
}

// captureSDKLog sends the Azure SDK's own log (requests, responses, retries)
// to c until the returned function is called. The log is the process's: it
// also holds the other tests' requests, so c keeps only what concerns host
// (the credential tests' Azurite) or could hold a secret, to bound its size.
func (c *credsCapture) captureSDKLog(host string) (stop func()) {
	f := c.sdkListener(host)
	sdkSink.Store(&f)
	return func() { sdkSink.Store(nil) }
}

func (c *credsCapture) sdkListener(host string) func(azlog.Event, string) {
	markers := []string{host, "sig", "SIG", "Sig", "earer", "EARER", "eyJ", "AccountKey", "SharedAccessSignature", credsKey}
	return func(ev azlog.Event, msg string) {
		for _, m := range markers {
			if strings.Contains(msg, m) {
				c.add("sdk "+string(ev), msg)
				return
			}
		}
	}
}

// leaks returns a description of every secret found in the captured
// outputs, and how many bytes were scanned.
func (c *credsCapture) leaks() (found []string, outputs, bytes int) {
	c.mu.Lock()
	secrets := make([]string, 0, len(c.secrets))
	for s := range c.secrets {
		secrets = append(secrets, s)
	}
	outs := append([]capturedOutput(nil), c.outputs...)
	c.mu.Unlock()
	for _, o := range outs {
		bytes += len(o.text)
		for _, f := range findSecrets(o.text, secrets) {
			found = append(found, o.source+": "+f)
		}
	}
	return found, len(outs), bytes
}

// scan fails t for every secret found in the captured outputs.
func (c *credsCapture) scan(t *testing.T) {
	t.Helper()
	found, n, size := c.leaks()
	for _, f := range found {
		t.Errorf("secret in %s", f)
	}
	c.mu.Lock()
	k := len(c.secrets)
	c.mu.Unlock()
	t.Logf("secret scan: %d outputs, %d bytes, %d secrets checked, %d found", n, size, k, len(found))
}

// Patterns of secrets whatever their value: a SAS signature that is not
// redacted, a bearer token or any JWT, an account key or SAS in connection
// string form.
var (
	sigParam    = regexp.MustCompile(`(?i)(?:^|[^a-z0-9_-]|%26|%3F|\\u0026)sig(=|%3D)([^&\s"',;%\\]+)`)
	jwtPattern  = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.`)
	bearer      = regexp.MustCompile(`(?i)bearer\s+([A-Za-z0-9._~+/=-]{8,})`)
	connStrings = regexp.MustCompile(`(?i)(AccountKey|SharedAccessSignature)\s*=\s*([^;\s"']+)`)
)

// findSecrets returns a description of every secret in text: each of
// secrets (also URL-escaped), and anything that looks like one (sig=,
// bearer tokens, JWTs, AccountKey=). The SDK's own redaction ("REDACTED")
// is not a secret.
func findSecrets(text string, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if strings.Contains(text, form) {
				found = append(found, fmt.Sprintf("a registered secret (%.6s...)", s))
				break
			}
		}
	}
	redacted := func(v string) bool { return strings.EqualFold(strings.Trim(v, "[]*"), "REDACTED") }
	for _, m := range sigParam.FindAllStringSubmatch(text, -1) {
		if !redacted(m[2]) {
			found = append(found, "a SAS signature (sig=...)")
		}
	}
	for _, m := range bearer.FindAllStringSubmatch(text, -1) {
		if !redacted(m[1]) {
			found = append(found, "a bearer token")
		}
	}
	if jwtPattern.MatchString(text) {
		found = append(found, "a JWT")
	}
	for _, m := range connStrings.FindAllStringSubmatch(text, -1) {
		if !redacted(m[2]) {
			found = append(found, "a connection string's "+m[1])
		}
	}
	return found
}

// TestCredsScannerFindsPlantedSecrets proves the scan can fail: each planted
// secret is found, and the SDK's redacted forms and ordinary output are not.
func TestCredsScannerFindsPlantedSecrets(t *testing.T) {
	t.Parallel()
	tok := mintToken(time.Now().Add(time.Hour))
	sig := "kUaQ3cOAmBMuAL2V1TqN0D0S3S+xeMHxDmKXh/8wDfs="
	secrets := []string{credsKey, tok, sig}
	planted := map[string]string{
		"account key":              "leasehold: lock x: key " + credsKey,
		"escaped account key":      "GET /x?k=" + url.QueryEscape(credsKey),
		"registered token":         "token " + tok,
		"unregistered JWT":         "Authorization: " + mintToken(time.Now()),
		"bearer token":             `{"authorization":"Bearer abc.def-ghi_jkl"}`,
		"SAS signature":            "PUT https://127.0.0.1/devstoreaccount1/c?comp=lease&sv=2024&sig=" + url.QueryEscape(sig),
		"unregistered signature":   "url=https://a/c?sv=1&sig=AbCdEf123%2B",
		"escaped sig":              "https://a/c%3Fsv%3D1%26sig%3DAbCdEf123",
		"JSON-escaped sig":         `{"url":"https://a/c?sv=1\u0026sig=AbCdEf123"}`,
		"connection string key":    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0c2VjcmV0;",
		"connection string SAS":    "BlobEndpoint=https://a;SharedAccessSignature=sv=1&sig=x",
		"signature in a zap field": `{"level":"warn","msg":"lease lost","error":"renew: ?sig=` + sig + `"}`,
	}
	for name, text := range planted {
		if got := findSecrets(text, secrets); len(got) == 0 {
			t.Errorf("%s: not found in %q", name, text)
		}
	}
	clean := []string{
		"leasehold: lock jobs: acquired (term 3, identity worker-1)",
		"Request ==> PUT https://127.0.0.1:1/devstoreaccount1/c?comp=lease&restype=container&sig=REDACTED&sv=2025",
		"Authorization: REDACTED",
		"renew: renewer: storage refused the credentials (HTTP 403 AuthenticationFailed)",
		"signature did not match; design=rw",
	}
	for _, text := range clean {
		if got := findSecrets(text, secrets); len(got) != 0 {
			t.Errorf("false positive in %q: %v", text, got)
		}
	}
	// The capture's scan finds a planted secret: in an error, in a zap
	// JSON log line, in a CLI's output; and nothing in clean outputs.
	c := newCredsCapture()
	c.secret(tok)
	for _, text := range clean {
		c.add("clean", text)
	}
	if found, _, _ := c.leaks(); len(found) != 0 {
		t.Errorf("clean capture: %v", found)
	}
	c.err("planted error", errors.New("renew: token "+tok))
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(&captureWriter{c: c, source: "planted log"}), zapcore.DebugLevel))
	log.Warn("lease lost", zap.String("url", "https://a/c?sv=1&sig="+url.QueryEscape(sig)))
	c.add("planted CLI stderr", "leasehold: key="+credsKey)
	sdk := c.sdkListener("127.0.0.1:1")
	sdk(azlog.EventRetryPolicy, `error Put "https://127.0.0.1:2/devstoreaccount1/c?comp=lease&sig=`+url.QueryEscape(sig)+`": EOF`)
	sdk(azlog.EventRequest, "==> OUTGOING REQUEST\nPUT https://127.0.0.1:3/devstoreaccount1/c\nAuthorization: Bearer "+tok)
	ctr, err := c.meters.Meter("planted").Int64Counter("planted.calls")
	if err != nil {
		t.Fatal(err)
	}
	ctr.Add(context.Background(), 1, metric.WithAttributes(attribute.String("url", "https://a/c?sv=1&sig="+url.QueryEscape(sig))))
	if err := c.collectMetrics(context.Background()); err != nil {
		t.Fatal(err)
	}
	found, _, _ := c.leaks()
	for _, source := range []string{"planted error", "planted log", "planted CLI stderr", "sdk " + string(azlog.EventRetryPolicy), "sdk " + string(azlog.EventRequest), "metrics"} {
		hit := false
		for _, f := range found {
			hit = hit || strings.HasPrefix(f, source+":")
		}
		if !hit {
			t.Errorf("secret planted in %s not found (found: %v)", source, found)
		}
	}
}
