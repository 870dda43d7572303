package azlease

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer"
)

// FromSAS returns a Leaser for the named container of the account at
// accountURL (https://ACCOUNT.blob.core.windows.net), authorized by the
// shared access signature sas: the SAS token's query string
// ("sv=...&sig=...", a leading "?" allowed), as the Azure portal or
// `az storage account generate-sas` gives it. The URL must carry no query
// string of its own.
//
// Leasing a container needs an account SAS: for the blob service (ss=b),
// the container resource type (srt=c) and, at least, the read and write
// permissions (sp=rw); docs/credentials.md has the table of which
// operation needs which. A service SAS scoped to the container (sr=c)
// cannot lease a container, whatever its permissions: the service refuses
// it (HTTP 403). It is enough for the named locks of [Leaser.Blob], which
// lease blobs (sp=rw; l to list them), and so is a SAS for the lock's one
// blob. Neither the SAS nor any part of it appears in errors, logs or
// String.
func FromSAS(accountURL, containerName, sas string, opts *Options) (*Leaser, error) {
	if err := ValidateContainerName(containerName); err != nil {
		return nil, err
	}
	u, err := validateAccountURL(accountURL)
	if err != nil {
		return nil, err
	}
	q, err := validateSAS(sas)
	if err != nil {
		return nil, err
	}
	cc, err := container.NewClientWithNoCredential(u+"/"+containerName+"?"+q, clientOptions(opts))
	if err != nil {
		return nil, invalid("account URL", u, "not a URL the storage client accepts")
	}
	return New(cc, opts)
}

// validateSAS checks a SAS token and returns it without a leading "?". Its
// errors never quote the token.
func validateSAS(sas string) (string, error) {
	sas = strings.TrimPrefix(strings.TrimSpace(sas), "?")
	if sas == "" {
		return "", invalid("SAS", nil, "want a SAS token (sv=...&sig=...), not an empty string")
	}
	q, err := url.ParseQuery(sas)
	if err != nil {
		return "", invalid("SAS", nil, "malformed: want the query string of a SAS URL (sv=...&sig=...)")
	}
	for _, k := range []string{"sv", "sig"} {
		if q.Get(k) == "" {
			return "", invalid("SAS", nil, "malformed: no "+k+"= parameter; want the query string of a SAS URL (sv=...&sig=...)")
		}
	}
	return sas, nil
}

// tokenCredential is the credential of a Leaser made by FromAccountURL: the
// caller's, whose failures to get a token match renewer.ErrForbidden.
type tokenCredential struct{ cred azcore.TokenCredential }

func (c tokenCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.cred.GetToken(ctx, opts)
	if err != nil && ctx.Err() == nil {
		return tok, &credentialError{err: err}
	}
	return tok, err
}

// credentialError is a credential's failure to get a token: it matches
// renewer.ErrForbidden and unwraps to the credential's own error (for
// example azidentity's *AuthenticationFailedError).
type credentialError struct{ err error }

func (e *credentialError) Error() string {
	return "no token from the credential: " + e.err.Error()
}

func (e *credentialError) Unwrap() []error { return []error{renewer.ErrForbidden, e.err} }

// withRedaction returns o with one more per-retry policy, redactPolicy, after
// the caller's; o's slices are not modified.
func withRedaction(o *container.ClientOptions) *container.ClientOptions {
	o.PerRetryPolicies = append(append([]policy.Policy(nil), o.PerRetryPolicies...), redactPolicy{})
	return o
}

// redactPolicy strips the query string from the URL of a transport error (a
// *url.Error): the SDK's retry policy writes such errors to its log
// (azcore/log, EventRetryPolicy) as they are, SAS signature included, and
// the policy runs before it sees them.
type redactPolicy struct{}

func (redactPolicy) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if err != nil {
		err = redactURL(err)
	}
	return resp, err
}

// redactURL returns err with the URL of its *url.Error, if it has one,
// reduced to scheme, host and path. A *url.Error on top stays one, so that
// its Timeout and Temporary methods still answer.
func redactURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		safe := "(URL withheld)"
		if u, perr := url.Parse(ue.URL); perr == nil {
			safe = u.Scheme + "://" + u.Host + u.EscapedPath()
		}
		return &url.Error{Op: ue.Op, URL: safe, Err: ue.Err}
	}
	return redact(err)
}
