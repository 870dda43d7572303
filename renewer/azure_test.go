package renewer

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// responseError makes the SDK's error for a response with status and code,
// the way the SDK does.
func responseError(t *testing.T, status int, code string) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "https://acct.blob.core.windows.net/c?comp=lease&sig=SECRET", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if code != "" {
		h.Set("x-ms-error-code", code)
	}
	resp := &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Request: req, Body: http.NoBody}
	return runtime.NewResponseError(resp)
}

func TestMapError(t *testing.T) {
	tests := []struct {
		give       int
		giveCode   string
		want       error
		definitive bool
	}{
		{409, "LeaseAlreadyPresent", ErrLeaseAlreadyPresent, true},
		{409, "LeaseIdMismatchWithLeaseOperation", ErrLeaseIDMismatch, true},
		{412, "LeaseIdMismatchWithContainerOperation", ErrLeaseIDMismatch, true},
		{409, "LeaseNotPresentWithLeaseOperation", ErrLeaseNotPresent, true},
		{412, "LeaseNotPresentWithContainerOperation", ErrLeaseNotPresent, true},
		{409, "LeaseIsBreakingAndCannotBeAcquired", ErrLeaseBreaking, true},
		{409, "LeaseIsBrokenAndCannotBeRenewed", ErrLeaseBroken, true},
		{404, "ContainerNotFound", ErrContainerNotFound, true},
		{403, "AuthenticationFailed", ErrForbidden, false},
		{403, "", ErrForbidden, false},
		{503, "ServerBusy", ErrThrottled, false},
		{500, "OperationTimedOut", ErrThrottled, false},
		{429, "", ErrThrottled, false},
		{400, "InvalidHeaderValue", ErrBadRequest, true},
		{500, "InternalError", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.giveCode, func(t *testing.T) {
			err := mapError("renew", responseError(t, tt.give, tt.giveCode))
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("mapError = %v, want %v", err, tt.want)
			}
			if got := definitive(err); got != tt.definitive {
				t.Errorf("definitive(%v) = %v, want %v", err, got, tt.definitive)
			}
			var re *azcore.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.give {
				t.Errorf("*azcore.ResponseError not reachable from %v", err)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "\n") {
				t.Errorf("message %q: want one line without the query string", err)
			}
		})
	}
}

func TestMapErrorRedactsTransportURL(t *testing.T) {
	inner := errors.New("connection refused")
	err := mapError("renew", &url.Error{Op: "Put", URL: "https://acct.blob.core.windows.net/c?comp=lease&sig=SECRET", Err: inner})
	if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "comp=lease") {
		t.Errorf("message %q carries the query string", err)
	}
	if !errors.Is(err, inner) || !strings.Contains(err.Error(), "acct.blob.core.windows.net/c") {
		t.Errorf("mapError = %v, want the cause and the path kept", err)
	}
	if definitive(err) {
		t.Errorf("a transport error must be transient")
	}
}

func TestValidateContainerName(t *testing.T) {
	tests := []struct {
		give string
		want string // "" for valid
	}{
		{"abc", ""},
		{"lease-hold-1", ""},
		{strings.Repeat("a", 63), ""},
		{"ab", "3 to 63"},
		{strings.Repeat("a", 64), "3 to 63"},
		{"Abc", "lower-case"},
		{"a_b", "lower-case"},
		{"-ab", "first and last"},
		{"ab-", "first and last"},
		{"a--b", "consecutive"},
		{"$root", "lower-case"},
	}
	for _, tt := range tests {
		err := ValidateContainerName(tt.give)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidOption)) {
			t.Errorf("ValidateContainerName(%q) = %v, want %q", tt.give, err, tt.want)
		}
	}
}

func TestConstructorsRejectBadInput(t *testing.T) {
	tests := []struct {
		name string
		give func() error
		want string
	}{
		{"nil client", func() error { _, err := NewContainerLeaser(nil, nil); return err }, "container client is nil"},
		{"empty connection string", func() error {
			_, err := NewContainerLeaserFromConnectionString(" ", "abc", nil)
			return err
		}, "connection string is empty"},
		{"malformed connection string", func() error {
			_, err := NewContainerLeaserFromConnectionString("AccountKey=SECRETKEY;nonsense", "abc", nil)
			return err
		}, "connection string is malformed"},
		{"bad container name", func() error {
			_, err := NewContainerLeaserFromConnectionString("UseDevelopmentStorage=true", "A", nil)
			return err
		}, `container name "A"`},
		{"nil credential", func() error {
			_, err := NewContainerLeaserWithCredential("https://acct.blob.core.windows.net", "abc", nil, nil)
			return err
		}, "credential is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give()
			if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalidOption naming %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
}

func TestValidateAccountURL(t *testing.T) {
	tests := []struct {
		give string
		want string // the cleaned URL, or a part of the error
		ok   bool
	}{
		{"https://acct.blob.core.windows.net/", "https://acct.blob.core.windows.net", true},
		{"http://127.0.0.1:10000/devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1", true},
		{"acct.blob.core.windows.net", "want https://", false},
		{"https://acct.blob.core.windows.net/?sv=1&sig=SECRET", "want no query string", false},
	}
	for _, tt := range tests {
		got, err := validateAccountURL(tt.give)
		switch {
		case tt.ok && (err != nil || got != tt.want):
			t.Errorf("validateAccountURL(%q) = %q, %v; want %q", tt.give, got, err, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET")):
			t.Errorf("validateAccountURL(%q) error = %v; want one naming %q without the query", tt.give, err, tt.want)
		}
	}
}
