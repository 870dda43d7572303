package azlease

import (
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer"
)

// Options are the options of the [Leaser] constructors. The zero value, and
// a nil *Options, are valid.
type Options struct {
	// CreateContainer creates the container when Acquire finds it missing.
	CreateContainer bool
	// ClientOptions configures the SDK client made by FromConnectionString
	// and FromAccountURL. Unless set here, those clients make no retries of
	// their own (Retry.MaxRetries = -1): the Renewer retries with backoff
	// and bounds every call by the lease's validity deadline, and an SDK
	// retry would only spend that budget blindly. Those clients also strip
	// the query string (where a SAS is) from transport errors before the
	// SDK's own log sees them. Ignored by New, whose caller configured its
	// own client.
	ClientOptions *container.ClientOptions
}

// New returns a Leaser over the container of cc. Whatever retry policy cc
// has, the Renewer bounds each call by the lease's validity deadline.
func New(cc *container.Client, opts *Options) (*Leaser, error) {
	if cc == nil {
		return nil, invalid("container client", nil, "want a client, not nil")
	}
	l := &Leaser{cc: cc}
	if opts != nil {
		l.create = opts.CreateContainer
	}
	return l, nil
}

// FromConnectionString returns a Leaser for the named container of the
// account in connStr (for example the value of
// AZURE_STORAGE_CONNECTION_STRING). Neither the connection string nor any
// part of it appears in errors or logs.
func FromConnectionString(connStr, containerName string, opts *Options) (*Leaser, error) {
	if err := ValidateContainerName(containerName); err != nil {
		return nil, err
	}
	if strings.TrimSpace(connStr) == "" {
		return nil, invalid("connection string", nil, "want one, not an empty string")
	}
	cc, err := container.NewClientFromConnectionString(connStr, containerName, clientOptions(opts))
	if err != nil {
		// The SDK's parse errors do not quote the string today; ours
		// promises never to, whatever the SDK does later.
		return nil, invalid("connection string", nil, "malformed: want the form the Azure portal shows, with AccountName and AccountKey or SharedAccessSignature")
	}
	return New(cc, opts)
}

// FromAccountURL returns a Leaser for the named container of the account at
// accountURL (https://ACCOUNT.blob.core.windows.net), authenticated by cred,
// for example azidentity's DefaultAzureCredential. The URL must carry no
// query string: credentials are passed as cred, never in the URL (for a
// SAS, see [FromSAS]). When cred fails to get a token, the call's error
// matches renewer.ErrForbidden and unwraps to cred's error.
func FromAccountURL(accountURL, containerName string, cred azcore.TokenCredential, opts *Options) (*Leaser, error) {
	if err := ValidateContainerName(containerName); err != nil {
		return nil, err
	}
	if cred == nil {
		return nil, invalid("credential", nil, "want a credential, not nil")
	}
	u, err := validateAccountURL(accountURL)
	if err != nil {
		return nil, err
	}
	cc, err := container.NewClient(u+"/"+containerName, tokenCredential{cred}, clientOptions(opts))
	if err != nil {
		return nil, invalid("account URL", u, err.Error())
	}
	return New(cc, opts)
}

func clientOptions(opts *Options) *container.ClientOptions {
	o := container.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: -1},
	}}
	if opts != nil && opts.ClientOptions != nil {
		o = *opts.ClientOptions
	}
	return withRedaction(&o)
}

// ValidateContainerName reports whether name is a valid container name: 3 to
// 63 characters of lower-case letters, digits and single hyphens, starting
// and ending with a letter or digit. The error is a *renewer.OptionError
// naming the value.
func ValidateContainerName(name string) error {
	bad := func(rule string) error { return invalid("container name", name, rule) }
	if len(name) < 3 || len(name) > 63 {
		return bad("want 3 to 63 characters")
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9':
		case ch == '-':
			if i == 0 || i == len(name)-1 {
				return bad("want a letter or digit first and last")
			}
			if name[i-1] == '-' {
				return bad("want no consecutive hyphens")
			}
		default:
			return bad("want only lower-case letters, digits and hyphens")
		}
	}
	return nil
}

// validateAccountURL checks an account URL and returns it without a
// trailing slash. It never echoes a query string, where a SAS token would be.
func validateAccountURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", invalid("account URL", nil, "want https://ACCOUNT.blob.core.windows.net")
	}
	if u.RawQuery != "" {
		return "", invalid("account URL", u.Scheme+"://"+u.Host+u.EscapedPath(), "want no query string; pass credentials separately")
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// invalid returns the *renewer.OptionError of a bad argument. value is nil
// when it must not be shown.
func invalid(field string, value any, rule string) error {
	return &renewer.OptionError{Pkg: "azlease", Field: field, Value: value, Rule: rule}
}
