package main

import (
	"net/url"
	"os"
	"strings"

	"github.com/leasehold/leasehold/renewer/azlease"
)

// sasTokenEnv is the variable --sas reads the SAS token from: never a flag,
// whose value other users of the machine could see.
const sasTokenEnv = "AZURE_STORAGE_SAS_TOKEN"

// connectSAS makes the leaser of container name at --account-url,
// authorized by the SAS token in $AZURE_STORAGE_SAS_TOKEN (an account SAS;
// with --container, also a service SAS for the container or the lock's blob). It makes no
// storage call; its errors are usage errors and never quote the token.
func (f connFlags) connectSAS(cmd, name string, opts *azlease.Options) (*account, error) {
	if f.accountURL == "" {
		return nil, fail(exitUsage, "%s: --sas needs --account-url (https://ACCOUNT.blob.core.windows.net)", cmd)
	}
	tok := os.Getenv(sasTokenEnv)
	if strings.TrimSpace(tok) == "" {
		return nil, fail(exitUsage, "%s: --sas: set %s to a SAS token (sv=...&sp=rw...&sig=...)", cmd, sasTokenEnv)
	}
	secrets := sasSecrets(tok)
	l, err := azlease.FromSAS(f.accountURL, name, tok, opts)
	if err != nil {
		return nil, badOption(cmd, err, map[string]string{"account URL": "--account-url", "SAS": "$" + sasTokenEnv}, secrets...)
	}
	return &account{leaser: l, container: name, host: hostOf(l.Client().URL()), secrets: secrets}, nil
}

// sasSecrets returns the parts of a SAS token that must never be printed:
// the token and its signature, as given and unescaped.
func sasSecrets(tok string) []string {
	tok = strings.TrimSpace(tok)
	out := []string{tok, strings.TrimPrefix(tok, "?")}
	if q, err := url.ParseQuery(strings.TrimPrefix(tok, "?")); err == nil {
		if sig := q.Get("sig"); sig != "" {
			out = append(out, sig, url.QueryEscape(sig))
		}
	}
	return out
}

// credentialHint says what to check for the error code of a refused
// credential, as ": ..." to append to the message, or "" for a code it does
// not know.
func credentialHint(code string) string {
	switch code {
	case "AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch":
		return ": the credential lacks a permission: an Entra ID identity needs the Storage Blob Data Contributor role " +
			"on the account or container; an account SAS needs ss=b, srt=c and sp=rw, a SAS for a --container or a lock's blob sp=rw " +
			"(docs/credentials.md)"
	case "AuthorizationFailure":
		return ": the SAS or identity is not allowed here: check its expiry (se=), its allowed IPs and protocol, and the account's network rules"
	case "AuthenticationFailed", "InvalidAuthenticationInfo":
		return ": the key, token or SAS was not accepted: check that it is for this account and has not expired " +
			"(a SAS's se=, the clock of this machine)"
	}
	return ""
}
