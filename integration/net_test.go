package integration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// netTransport is an azcore Transporter (set as ClientOptions.Transport)
// that carries the SDK's container lease, metadata and properties requests
// through a leasetest.Network: a test can make the SDK's own HTTP request
// reach Azurite after the caller gave up, reach it twice, or lose its
// answer. Other requests (create and delete container) go straight through.
// It sends only to loopback addresses. It is safe for concurrent use.
type netTransport struct {
	base http.RoundTripper
	net  leasetest.Network
	// callOf names the lease call a request is (ok false: not one, sent
	// straight through), and statusErr reads an answer's refusal: the
	// container lease's by default, the blob lease's for named locks.
	callOf    func(*http.Request) (leasetest.Call, bool)
	statusErr func(*http.Response) error
}

func newNetTransport() *netTransport {
	return &netTransport{base: http.DefaultTransport.(*http.Transport).Clone(), callOf: callOf, statusErr: statusError}
}

// Do implements policy.Transporter.
func (tr *netTransport) Do(req *http.Request) (*http.Response, error) {
	if err := loopbackOnly(req); err != nil {
		return nil, err
	}
	call, ok := tr.callOf(req)
	if !ok {
		return tr.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("net transport: read request body: %w", err)
		}
		body = b
	}
	send := func(ctx context.Context) (*http.Response, error) {
		r := req.Clone(ctx)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		resp, err := tr.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.Request = req
		return resp, tr.statusErr(resp)
	}
	resp, err := leasetest.Deliver(req.Context(), &tr.net, call, send)
	if resp != nil {
		// Azurite's answer, refusals included: the SDK reads it as usual.
		return resp, nil
	}
	return nil, err
}

// loopbackOnly refuses a request to anything but a loopback address.
func loopbackOnly(req *http.Request) error {
	host := req.URL.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("net transport: refusing to send to %q: loopback addresses only", host)
}

// callOf names the leasetest.Call of a container request, or says it is
// none (create, delete).
func callOf(req *http.Request) (leasetest.Call, bool) {
	q := req.URL.Query()
	if q.Get("restype") != "container" {
		return leasetest.Call{}, false
	}
	switch comp := q.Get("comp"); {
	case comp == "lease" && req.Method == http.MethodPut:
		return leaseCall(req)
	case comp == "metadata" && req.Method == http.MethodPut:
		return leasetest.Call{Op: leasetest.OpSetMetadata, LeaseID: header(req, "x-ms-lease-id")}, true
	case comp == "" && (req.Method == http.MethodGet || req.Method == http.MethodHead):
		return leasetest.Call{Op: leasetest.OpProperties}, true
	}
	return leasetest.Call{}, false
}

func leaseCall(req *http.Request) (leasetest.Call, bool) {
	switch header(req, "x-ms-lease-action") {
	case "acquire":
		d := renewer.Infinite
		if secs, err := strconv.Atoi(header(req, "x-ms-lease-duration")); err == nil && secs != -1 {
			d = time.Duration(secs) * time.Second
		}
		return leasetest.Call{Op: leasetest.OpAcquire, LeaseID: header(req, "x-ms-proposed-lease-id"), Duration: d}, true
	case "renew":
		return leasetest.Call{Op: leasetest.OpRenew, LeaseID: header(req, "x-ms-lease-id")}, true
	case "change":
		return leasetest.Call{Op: leasetest.OpChange, LeaseID: header(req, "x-ms-lease-id"),
			ProposedID: header(req, "x-ms-proposed-lease-id")}, true
	case "release":
		return leasetest.Call{Op: leasetest.OpRelease, LeaseID: header(req, "x-ms-lease-id")}, true
	case "break":
		d := renewer.BreakAtExpiry
		if secs, err := strconv.Atoi(header(req, "x-ms-lease-break-period")); err == nil {
			d = time.Duration(secs) * time.Second
		}
		return leasetest.Call{Op: leasetest.OpBreak, Duration: d}, true
	}
	return leasetest.Call{}, false
}

// header returns the request header name, whatever its case: the SDK sets
// its x-ms-* headers with lower-case keys, past http.Header's
// canonicalisation.
func header(req *http.Request, name string) string {
	for k, v := range req.Header {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// leaseCodes maps the service's lease error codes to renewer's sentinels,
// as the Azure adapter does, for the landings a test checks. (The adapter's
// own mapping is not exported.)
var leaseCodes = map[string]error{
	"LeaseAlreadyPresent":                   renewer.ErrLeaseHeld,
	"LeaseIdMismatchWithLeaseOperation":     renewer.ErrNoLease,
	"LeaseIdMismatchWithContainerOperation": renewer.ErrNoLease,
	"LeaseNotPresentWithLeaseOperation":     renewer.ErrNoLease,
	"LeaseNotPresentWithContainerOperation": renewer.ErrNoLease,
	"LeaseIsBreakingAndCannotBeAcquired":    renewer.ErrLeaseHeld,
	"LeaseIsBreakingAndCannotBeChanged":     renewer.ErrNoLease,
	"LeaseIsBrokenAndCannotBeRenewed":       renewer.ErrNoLease,
}

// statusError is nil for a 2xx answer, else an error naming the status and
// the service's error code, wrapping the sentinel of a known lease code.
func statusError(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	code := resp.Header.Get("x-ms-error-code")
	if s, ok := leaseCodes[code]; ok {
		return fmt.Errorf("HTTP %d %s: %w", resp.StatusCode, code, s)
	}
	return fmt.Errorf("HTTP %d %s: %w", resp.StatusCode, code, errUnmapped)
}

var errUnmapped = errors.New("service answer with no renewer sentinel")
