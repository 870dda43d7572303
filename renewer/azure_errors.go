package renewer

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
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

// serviceCodes maps the service's x-ms-error-code values to our sentinels.
var serviceCodes = map[string]error{
	"LeaseAlreadyPresent":                   ErrLeaseAlreadyPresent,
	"LeaseIdMismatchWithLeaseOperation":     ErrLeaseIDMismatch,
	"LeaseIdMismatchWithContainerOperation": ErrLeaseIDMismatch,
	"LeaseNotPresentWithLeaseOperation":     ErrLeaseNotPresent,
	"LeaseNotPresentWithContainerOperation": ErrLeaseNotPresent,
	"LeaseIdMissing":                        ErrLeaseNotPresent,
	"LeaseIsBreakingAndCannotBeAcquired":    ErrLeaseBreaking,
	"LeaseIsBreakingAndCannotBeChanged":     ErrLeaseBreaking,
	"LeaseIsBrokenAndCannotBeRenewed":       ErrLeaseBroken,
	"LeaseLost":                             ErrLeaseNotPresent,
	"ContainerNotFound":                     ErrContainerNotFound,
	"ContainerBeingDeleted":                 ErrContainerNotFound,
	"AuthenticationFailed":                  ErrForbidden,
	"AuthorizationFailure":                  ErrForbidden,
	"AuthorizationPermissionMismatch":       ErrForbidden,
	"ServerBusy":                            ErrThrottled,
	"OperationTimedOut":                     ErrThrottled,
	"InvalidHeaderValue":                    ErrBadRequest,
	"InvalidQueryParameterValue":            ErrBadRequest,
	"OutOfRangeInput":                       ErrBadRequest,
	"InvalidResourceName":                   ErrBadRequest,
	"UnsupportedHeader":                     ErrBadRequest,
	"InvalidAuthenticationInfo":             ErrForbidden,
	"InsufficientAccountPermissions":        ErrForbidden,
	"AccountIsDisabled":                     ErrForbidden,
}

// mapError turns an SDK error into ours: a service answer becomes a
// *serviceError carrying the matching sentinel; a transport error keeps its
// chain but loses the request's query string, where a SAS token would be.
func mapError(op string, err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		s, known := serviceCodes[re.ErrorCode]
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
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrContainerNotFound
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return ErrThrottled
	case status == http.StatusBadRequest:
		return ErrBadRequest
	}
	return nil
}

func isCode(err error, code string) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
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
