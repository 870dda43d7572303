package azlease

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/leasehold/leasehold/renewer"
)

// serviceError is a definitive or throttling answer from the service: a
// short message, our sentinel, and the SDK's *azcore.ResponseError, both
// reachable with errors.Is and errors.As.
type serviceError struct {
	op       string
	sentinel error
	resp     *azcore.ResponseError
}

func (e *serviceError) Error() string {
	code := e.resp.ErrorCode
	if code == "" {
		code = http.StatusText(e.resp.StatusCode)
	}
	if e.sentinel == nil {
		return fmt.Sprintf("%s: HTTP %d %s", e.op, e.resp.StatusCode, code)
	}
	return fmt.Sprintf("%s: %v (HTTP %d %s)", e.op, e.sentinel, e.resp.StatusCode, code)
}

func (e *serviceError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.resp}
	}
	return []error{e.sentinel, e.resp}
}

// serviceCodes maps the service's error codes (x-ms-error-code) to the
// renewer's sentinels, for container and blob leases alike: the one place
// the adapter classifies an answer. A code
// not listed here is classified by its HTTP status (statusSentinel).
var serviceCodes = map[bloberror.Code]error{
	bloberror.LeaseAlreadyPresent:                   renewer.ErrLeaseHeld,
	bloberror.LeaseIDMismatchWithLeaseOperation:     renewer.ErrNoLease,
	bloberror.LeaseIDMismatchWithContainerOperation: renewer.ErrNoLease,
	bloberror.LeaseNotPresentWithLeaseOperation:     renewer.ErrNoLease,
	bloberror.LeaseNotPresentWithContainerOperation: renewer.ErrNoLease,
	bloberror.LeaseIDMismatchWithBlobOperation:      renewer.ErrNoLease,
	bloberror.LeaseNotPresentWithBlobOperation:      renewer.ErrNoLease,
	bloberror.LeaseIDMissing:                        renewer.ErrNoLease,
	bloberror.LeaseIsBreakingAndCannotBeAcquired:    renewer.ErrLeaseHeld,
	bloberror.LeaseIsBreakingAndCannotBeChanged:     renewer.ErrBroken,
	bloberror.LeaseIsBrokenAndCannotBeRenewed:       renewer.ErrBroken,
	bloberror.LeaseLost:                             renewer.ErrNoLease,
	bloberror.ContainerNotFound:                     renewer.ErrContainerNotFound,
	bloberror.ContainerBeingDeleted:                 renewer.ErrContainerNotFound,
	bloberror.AuthenticationFailed:                  renewer.ErrForbidden,
	bloberror.AuthorizationFailure:                  renewer.ErrForbidden,
	bloberror.AuthorizationPermissionMismatch:       renewer.ErrForbidden,
	bloberror.InvalidAuthenticationInfo:             renewer.ErrForbidden,
	bloberror.InsufficientAccountPermissions:        renewer.ErrForbidden,
	bloberror.AccountIsDisabled:                     renewer.ErrForbidden,
	bloberror.ServerBusy:                            renewer.ErrThrottled,
	bloberror.OperationTimedOut:                     renewer.ErrThrottled,
	bloberror.InvalidHeaderValue:                    renewer.ErrBadRequest,
	bloberror.InvalidQueryParameterValue:            renewer.ErrBadRequest,
	bloberror.OutOfRangeInput:                       renewer.ErrBadRequest,
	bloberror.InvalidResourceName:                   renewer.ErrBadRequest,
	bloberror.UnsupportedHeader:                     renewer.ErrBadRequest,
}

// mapError turns an SDK error into ours: a service answer becomes a
// *serviceError carrying the matching sentinel; a transport error keeps its
// chain but loses the request's query string, where a SAS token would be.
func mapError(op string, err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		s, known := serviceCodes[bloberror.Code(re.ErrorCode)]
		if !known {
			s = statusSentinel(re.StatusCode)
		}
		return &serviceError{op: op, sentinel: s, resp: re}
	}
	return fmt.Errorf("%s: %w", op, redact(err))
}

func statusSentinel(status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return renewer.ErrForbidden
	case status == http.StatusNotFound:
		return renewer.ErrContainerNotFound
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return renewer.ErrThrottled
	case status == http.StatusBadRequest:
		return renewer.ErrBadRequest
	}
	return nil
}

// redactedError is err with the URL of a *url.Error reduced to scheme, host
// and path.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &redactedError{msg: ue.Op + " (URL withheld): " + ue.Err.Error(), err: ue.Err}
	}
	safe := &url.Error{Op: ue.Op, URL: u.Scheme + "://" + u.Host + u.EscapedPath(), Err: ue.Err}
	return &redactedError{msg: safe.Error(), err: ue.Err}
}
