package azlease_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// secretURL is a container URL with a SAS-like query string that must never
// appear in an error or a log line.
const secretURL = "https://acct.blob.core.windows.net/c?sv=2024&sig=SECRET"

// sentinels are the renewer's storage sentinels the adapter maps to.
var sentinels = []error{
	renewer.ErrLeaseHeld, renewer.ErrNoLease, renewer.ErrContainerNotFound,
	renewer.ErrForbidden, renewer.ErrThrottled, renewer.ErrBadRequest,
}

// transport answers every request with answer and records what was sent.
type transport struct {
	answer func(req *http.Request) (*http.Response, error)
	mu     sync.Mutex
	sent   []*http.Request // guarded by mu
}

func (tr *transport) Do(req *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	tr.sent = append(tr.sent, req)
	tr.mu.Unlock()
	return tr.answer(req)
}

func (tr *transport) requests() []*http.Request {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]*http.Request(nil), tr.sent...)
}

// header is the value of the request header key, which the SDK sets in lower
// case, bypassing http.Header's canonical form.
func header(req *http.Request, key string) string {
	if v := req.Header[key]; len(v) > 0 {
		return v[0]
	}
	return req.Header.Get(key)
}

// answer is a response to req with status, an error code if any, and headers.
func answer(req *http.Request, status int, code string, headers ...string) *http.Response {
	h := http.Header{}
	if code != "" {
		h.Set("x-ms-error-code", code)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Request: req, Body: http.NoBody}
}

// newLeaser returns a Leaser over secretURL whose requests go to tr.
func newLeaser(t *testing.T, tr *transport, opts *azlease.Options) *azlease.Leaser {
	t.Helper()
	cc, err := container.NewClientWithNoCredential(secretURL, &container.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: tr,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := azlease.New(cc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		give     int
		giveCode string
		want     error // nil: no sentinel, a transient failure
	}{
		{give: 409, giveCode: "LeaseAlreadyPresent", want: renewer.ErrLeaseHeld},
		{give: 409, giveCode: "LeaseIdMismatchWithLeaseOperation", want: renewer.ErrNoLease},
		{give: 412, giveCode: "LeaseIdMismatchWithContainerOperation", want: renewer.ErrNoLease},
		{give: 409, giveCode: "LeaseNotPresentWithLeaseOperation", want: renewer.ErrNoLease},
		{give: 412, giveCode: "LeaseNotPresentWithContainerOperation", want: renewer.ErrNoLease},
		{give: 412, giveCode: "LeaseIdMissing", want: renewer.ErrNoLease},
		{give: 412, giveCode: "LeaseLost", want: renewer.ErrNoLease},
		{give: 409, giveCode: "LeaseIsBreakingAndCannotBeAcquired", want: renewer.ErrLeaseHeld},
		{give: 409, giveCode: "LeaseIsBreakingAndCannotBeChanged", want: renewer.ErrNoLease},
		{give: 409, giveCode: "LeaseIsBrokenAndCannotBeRenewed", want: renewer.ErrNoLease},
		{give: 404, giveCode: "ContainerNotFound", want: renewer.ErrContainerNotFound},
		{give: 409, giveCode: "ContainerBeingDeleted", want: renewer.ErrContainerNotFound},
		{give: 403, giveCode: "AuthenticationFailed", want: renewer.ErrForbidden},
		{give: 403, giveCode: "AuthorizationPermissionMismatch", want: renewer.ErrForbidden},
		{give: 403, giveCode: "AccountIsDisabled", want: renewer.ErrForbidden},
		{give: 403, giveCode: "", want: renewer.ErrForbidden},
		{give: 401, giveCode: "", want: renewer.ErrForbidden},
		{give: 503, giveCode: "ServerBusy", want: renewer.ErrThrottled},
		{give: 500, giveCode: "OperationTimedOut", want: renewer.ErrThrottled},
		{give: 429, giveCode: "", want: renewer.ErrThrottled},
		{give: 400, giveCode: "InvalidHeaderValue", want: renewer.ErrBadRequest},
		{give: 400, giveCode: "InvalidMetadata", want: renewer.ErrBadRequest},
		{give: 404, giveCode: "", want: renewer.ErrContainerNotFound},
		{give: 500, giveCode: "InternalError", want: nil},
		{give: 502, giveCode: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.give)+"/"+tt.giveCode, func(t *testing.T) {
			tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
				return answer(req, tt.give, tt.giveCode), nil
			}}
			_, err := newLeaser(t, tr, nil).Renew(t.Context(), "11111111-1111-1111-1111-111111111111")
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, !got)
				}
			}
			var re *azcore.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.give {
				t.Errorf("*azcore.ResponseError with status %d not reachable from %v", tt.give, err)
			}
			if msg := err.Error(); strings.Contains(msg, "SECRET") || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "renew: ") {
				t.Errorf("message %q: want one line starting with the operation, without the query string", msg)
			}
		})
	}
}

func TestTransportErrorLosesQuery(t *testing.T) {
	inner := errors.New("connection refused")
	tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Put", URL: req.URL.String(), Err: inner}
	}}
	_, err := newLeaser(t, tr, nil).Renew(t.Context(), "11111111-1111-1111-1111-111111111111")
	if err == nil {
		t.Fatal("Renew succeeded over a failing transport")
	}
	if msg := err.Error(); strings.Contains(msg, "SECRET") || strings.Contains(msg, "comp=lease") || !strings.Contains(msg, "acct.blob.core.windows.net/c") {
		t.Errorf("message %q: want the host and path, not the query string", msg)
	}
	if !errors.Is(err, inner) {
		t.Errorf("Renew = %v, want its cause %v kept", err, inner)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("a transport error matches %v; want no sentinel (transient)", s)
		}
	}
}

// TestLeaseIDOfEachCall checks that every call carries the lease ID it was
// given, whatever the cached lease client is bound to, and that Change does
// not rebind the cached one.
func TestLeaseIDOfEachCall(t *testing.T) {
	const a, b, c = "aaaaaaaa-0000-0000-0000-000000000000", "bbbbbbbb-0000-0000-0000-000000000000", "cccccccc-0000-0000-0000-000000000000"
	tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
		id := header(req, "x-ms-lease-id")
		if p := header(req, "x-ms-proposed-lease-id"); p != "" {
			id = p
		}
		status := http.StatusOK
		if header(req, "x-ms-lease-action") == "acquire" {
			status = http.StatusCreated
		}
		return answer(req, status, "", "x-ms-lease-id", id), nil
	}}
	l := newLeaser(t, tr, nil)
	ctx := t.Context()
	steps := []struct {
		call       func() (string, error)
		wantHeader string
		want       string // the lease ID sent in wantHeader
	}{
		{call: func() (string, error) { return l.Renew(ctx, a) }, wantHeader: "x-ms-lease-id", want: a},
		{call: func() (string, error) { return l.Renew(ctx, a) }, wantHeader: "x-ms-lease-id", want: a},
		{call: func() (string, error) { return l.Change(ctx, a, c) }, wantHeader: "x-ms-lease-id", want: a},
		{call: func() (string, error) { return l.Renew(ctx, a) }, wantHeader: "x-ms-lease-id", want: a},
		{call: func() (string, error) { return l.Renew(ctx, b) }, wantHeader: "x-ms-lease-id", want: b},
		{call: func() (string, error) { return "", l.Release(ctx, a) }, wantHeader: "x-ms-lease-id", want: a},
		{call: func() (string, error) { return l.Acquire(ctx, c, 15*time.Second) }, wantHeader: "x-ms-proposed-lease-id", want: c},
		{call: func() (string, error) { return l.Renew(ctx, c) }, wantHeader: "x-ms-lease-id", want: c},
	}
	for i, s := range steps {
		if _, err := s.call(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		sent := tr.requests()
		if got := header(sent[len(sent)-1], s.wantHeader); got != s.want {
			t.Errorf("step %d sent %s %q, want %q", i, s.wantHeader, got, s.want)
		}
	}
}

func TestCreateContainer(t *testing.T) {
	const id = "11111111-1111-1111-1111-111111111111"
	tests := []struct {
		name       string
		giveCreate bool
		giveAnswer int    // to the container create
		giveCode   string // of that answer
		wantErr    error
		wantSent   int
	}{
		{name: "off", giveCreate: false, wantErr: renewer.ErrContainerNotFound, wantSent: 1},
		{name: "created", giveCreate: true, giveAnswer: 201, wantSent: 3},
		{name: "created meanwhile", giveCreate: true, giveAnswer: 409, giveCode: "ContainerAlreadyExists", wantSent: 3},
		{name: "create refused", giveCreate: true, giveAnswer: 403, giveCode: "AuthorizationFailure", wantErr: renewer.ErrForbidden, wantSent: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var created atomic.Bool
			tr := &transport{answer: func(req *http.Request) (*http.Response, error) {
				q := req.URL.Query()
				switch {
				case q.Get("comp") == "lease" && !created.Load():
					return answer(req, 404, "ContainerNotFound"), nil
				case q.Get("comp") == "lease":
					return answer(req, 201, "", "x-ms-lease-id", id), nil
				case q.Get("restype") == "container" && req.Method == http.MethodPut:
					created.Store(true)
					return answer(req, tt.giveAnswer, tt.giveCode), nil
				}
				return answer(req, 400, "UnsupportedHeader"), nil
			}}
			got, err := newLeaser(t, tr, &azlease.Options{CreateContainer: tt.giveCreate}).Acquire(t.Context(), id, 15*time.Second)
			switch {
			case tt.wantErr == nil && (err != nil || got != id):
				t.Errorf("Acquire = %q, %v; want %q", got, err, id)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Acquire error = %v, want %v", err, tt.wantErr)
			}
			if n := len(tr.requests()); n != tt.wantSent {
				t.Errorf("sent %d requests, want %d", n, tt.wantSent)
			}
		})
	}
}

// TestNoSDKRetries checks that a Leaser from a connection string sends one
// request for one call: the Renewer, not the SDK, decides on retries.
func TestNoSDKRetries(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("x-ms-error-code", "ServerBusy")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	// The well-known development key of the storage emulator.
	cs := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
		"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
		"BlobEndpoint=" + srv.URL + "/devstoreaccount1;"
	l, err := azlease.FromConnectionString(cs, "abc", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := l.Renew(ctx, "11111111-1111-1111-1111-111111111111"); !errors.Is(err, renewer.ErrThrottled) {
		t.Errorf("Renew = %v, want %v", err, renewer.ErrThrottled)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("the server saw %d requests for one Renew, want 1", got)
	}
}

func TestValidateContainerName(t *testing.T) {
	tests := []struct {
		give string
		want string // part of the error; "" for valid
	}{
		{give: "abc", want: ""},
		{give: "lease-hold-1", want: ""},
		{give: strings.Repeat("a", 63), want: ""},
		{give: "ab", want: "3 to 63"},
		{give: strings.Repeat("a", 64), want: "3 to 63"},
		{give: "Abc", want: "lower-case"},
		{give: "a_b", want: "lower-case"},
		{give: "-ab", want: "first and last"},
		{give: "ab-", want: "first and last"},
		{give: "a--b", want: "consecutive"},
		{give: "$root", want: "lower-case"},
	}
	for _, tt := range tests {
		err := azlease.ValidateContainerName(tt.give)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, renewer.ErrInvalidOption)) {
			t.Errorf("ValidateContainerName(%q) = %v, want %q", tt.give, err, tt.want)
		}
	}
}

// credential is an azcore.TokenCredential that is never asked for a token.
type credential struct{}

func (credential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("credential: not in this test")
}

func TestConstructorsRejectBadInput(t *testing.T) {
	tests := []struct {
		name  string
		give  func() error
		field string
		value any    // nil: not shown
		want  string // in the rule
	}{
		{name: "nil client", give: func() error { _, err := azlease.New(nil, nil); return err }, field: "container client", want: "not nil"},
		{name: "empty connection string", give: func() error {
			_, err := azlease.FromConnectionString(" ", "abc", nil)
			return err
		}, field: "connection string", want: "not an empty string"},
		{name: "malformed connection string", give: func() error {
			_, err := azlease.FromConnectionString("AccountKey=SECRETKEY;nonsense", "abc", nil)
			return err
		}, field: "connection string", want: "malformed"},
		{name: "bad container name", give: func() error {
			_, err := azlease.FromConnectionString("UseDevelopmentStorage=true", "A", nil)
			return err
		}, field: "container name", value: "A", want: "3 to 63"},
		{name: "nil credential", give: func() error {
			_, err := azlease.FromAccountURL("https://acct.blob.core.windows.net", "abc", nil, nil)
			return err
		}, field: "credential", want: "not nil"},
		{name: "account URL without scheme", give: func() error {
			_, err := azlease.FromAccountURL("acct.blob.core.windows.net", "abc", credential{}, nil)
			return err
		}, field: "account URL", want: "want https://"},
		{name: "account URL with a query", give: func() error {
			_, err := azlease.FromAccountURL("https://acct.blob.core.windows.net/?sv=1&sig=SECRET", "abc", credential{}, nil)
			return err
		}, field: "account URL", value: "https://acct.blob.core.windows.net/", want: "want no query string"},
		{name: "bad container name with credential", give: func() error {
			_, err := azlease.FromAccountURL("https://acct.blob.core.windows.net", "a", credential{}, nil)
			return err
		}, field: "container name", value: "a", want: "3 to 63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give()
			var oe *renewer.OptionError
			if !errors.As(err, &oe) || !errors.Is(err, renewer.ErrInvalidOption) || oe.Pkg != "azlease" || oe.Field != tt.field ||
				oe.Value != tt.value || !strings.Contains(oe.Rule, tt.want) || !strings.HasPrefix(err.Error(), "azlease: invalid option: "+tt.field) {
				t.Errorf("got %#v, want an *OptionError of azlease, %s %v, rule saying %q", err, tt.field, tt.value, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
}

func TestFromAccountURL(t *testing.T) {
	tests := []struct {
		give string
		want string // the Leaser's String
	}{
		{give: "https://acct.blob.core.windows.net/", want: "https://acct.blob.core.windows.net/abc"},
		{give: "https://acct.blob.core.windows.net", want: "https://acct.blob.core.windows.net/abc"},
		{give: "http://127.0.0.1:10000/devstoreaccount1", want: "http://127.0.0.1:10000/devstoreaccount1/abc"},
	}
	for _, tt := range tests {
		l, err := azlease.FromAccountURL(tt.give, "abc", credential{}, nil)
		if err != nil || l.String() != tt.want {
			t.Errorf("FromAccountURL(%q) = %v, %v; want %q", tt.give, l, err, tt.want)
		}
	}
}

func TestStringHidesQuery(t *testing.T) {
	l := newLeaser(t, &transport{}, nil)
	if got, want := l.String(), "https://acct.blob.core.windows.net/c"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := l.Client().URL(); !strings.Contains(got, "sig=SECRET") {
		t.Errorf("Client().URL() = %q, want the client the Leaser was made with", got)
	}
}
