package azlease_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// sasToken is a SAS token's query string whose signature must never appear
// in an error or a log line.
const sasToken = "sv=2024-05-04&ss=b&srt=c&sp=rw&se=2030-01-01T00%3A00%3A00Z&sig=SECRETSIG"

func clientOpts(tr *transport) *azlease.Options {
	return &azlease.Options{ClientOptions: &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: tr,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}}
}

func TestFromSASRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, url, container, sas string
		field                     string
		want                      string // in the rule
	}{
		{name: "empty SAS", url: "https://acct.blob.core.windows.net", container: "abc", sas: " ", field: "SAS", want: "not an empty string"},
		{name: "no signature", url: "https://acct.blob.core.windows.net", container: "abc", sas: "sv=2024&sp=SECRETSIG", field: "SAS", want: "no sig="},
		{name: "no version", url: "https://acct.blob.core.windows.net", container: "abc", sas: "sig=SECRETSIG", field: "SAS", want: "no sv="},
		{name: "malformed SAS", url: "https://acct.blob.core.windows.net", container: "abc", sas: "sv=1&sig=SECRETSIG%zz", field: "SAS", want: "malformed"},
		{name: "query in the URL", url: "https://acct.blob.core.windows.net/?" + sasToken, container: "abc", sas: sasToken, field: "account URL", want: "want no query string"},
		{name: "bad container name", url: "https://acct.blob.core.windows.net", container: "A", sas: sasToken, field: "container name", want: "3 to 63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := azlease.FromSAS(tt.url, tt.container, tt.sas, nil)
			var oe *renewer.OptionError
			if !errors.As(err, &oe) || oe.Pkg != "azlease" || oe.Field != tt.field || !strings.Contains(oe.Rule, tt.want) {
				t.Fatalf("FromSAS: %v, want an *OptionError of azlease on %s saying %q", err, tt.field, tt.want)
			}
			if strings.Contains(err.Error(), "SECRETSIG") {
				t.Errorf("error %q leaks the signature", err)
			}
		})
	}
}

func TestFromSASSendsTheSAS(t *testing.T) {
	tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
		return answer(req, http.StatusForbidden, "AuthorizationPermissionMismatch"), nil
	}}
	l, err := azlease.FromSAS("https://acct.blob.core.windows.net/", "abc", "?"+sasToken, clientOpts(tr))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.String(), "https://acct.blob.core.windows.net/abc"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	_, err = l.Acquire(context.Background(), "00000000-0000-0000-0000-000000000001", 15*time.Second)
	if !errors.Is(err, renewer.ErrForbidden) {
		t.Errorf("Acquire answered 403: %v, want ErrForbidden", err)
	}
	if strings.Contains(err.Error(), "SECRETSIG") {
		t.Errorf("error %q leaks the signature", err)
	}
	reqs := tr.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if q := reqs[0].URL.Query(); q.Get("sig") != "SECRETSIG" || q.Get("sp") != "rw" || reqs[0].URL.Path != "/abc" {
		t.Errorf("request URL %s: want path /abc with the SAS in the query", reqs[0].URL.Redacted())
	}
	if h := header(reqs[0], "Authorization"); h != "" {
		t.Errorf("Authorization header %q with a SAS, want none", h)
	}
}

// failingCredential cannot get a token.
type failingCredential struct{ err error }

func (c failingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, c.err
}

func TestTokenFailureIsForbidden(t *testing.T) {
	errNoToken := errors.New("test: the identity endpoint refused")
	tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
		return answer(req, http.StatusOK, ""), nil
	}}
	l, err := azlease.FromAccountURL("https://acct.blob.core.windows.net", "abc", failingCredential{errNoToken}, clientOpts(tr))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Renew(context.Background(), "00000000-0000-0000-0000-000000000001")
	if !errors.Is(err, renewer.ErrForbidden) || !errors.Is(err, errNoToken) {
		t.Errorf("Renew without a token: %v, want ErrForbidden and the credential's error", err)
	}
	if err == nil || !strings.Contains(err.Error(), "no token from the credential") {
		t.Errorf("Renew without a token: %v, want it to say so", err)
	}
	if n := len(tr.requests()); n != 0 {
		t.Errorf("%d requests sent without a token, want 0", n)
	}

	// A credential that fails because the call's context ended is not a
	// credential problem.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.Renew(ctx, "00000000-0000-0000-0000-000000000001")
	if errors.Is(err, renewer.ErrForbidden) {
		t.Errorf("Renew with a cancelled context: %v, want no ErrForbidden", err)
	}
}

// TestSDKLogHidesSAS: a transport error carries the request's URL, SAS
// included, and the SDK's retry policy logs it as it is. The Leaser's own
// clients strip the query first; a client made without them (New) shows
// what the check would catch.
func TestSDKLogHidesSAS(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	azlog.SetListener(func(_ azlog.Event, msg string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, msg)
	})
	defer azlog.SetListener(nil)
	leaks := func() bool {
		mu.Lock()
		defer mu.Unlock()
		found := false
		for _, m := range logged {
			found = found || strings.Contains(m, "SECRETSIG")
		}
		logged = nil
		return found
	}
	tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Put", URL: req.URL.String(), Err: errors.New("connection reset by peer")}
	}}
	raw, err := container.NewClientWithNoCredential("https://acct.blob.core.windows.net/abc?"+sasToken, clientOpts(tr).ClientOptions)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := azlease.New(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.Renew(context.Background(), "00000000-0000-0000-0000-000000000001"); err == nil {
		t.Fatal("Renew over a failing transport: no error")
	}
	if !leaks() {
		t.Error("the SDK's log of a client without redaction shows no signature: the check cannot fail")
	}

	l, err := azlease.FromSAS("https://acct.blob.core.windows.net", "abc", sasToken, clientOpts(tr))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Renew(context.Background(), "00000000-0000-0000-0000-000000000001")
	var ue *url.Error
	if err == nil || strings.Contains(err.Error(), "SECRETSIG") || !strings.Contains(err.Error(), "connection reset by peer") {
		t.Errorf("Renew over a failing transport: %v; want the cause without the SAS", err)
	}
	if errors.As(err, &ue) && strings.Contains(ue.URL, "sig=") {
		t.Errorf("the *url.Error in the chain keeps the SAS: %s", ue.URL)
	}
	if leaks() {
		t.Error("the SDK's log shows the SAS signature")
	}
}
