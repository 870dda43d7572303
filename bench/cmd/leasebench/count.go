package main

import (
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer/azlease"
)

// The storage operations a counter tells apart, by method, comp and lease
// action. priceClass says how each is billed.
const (
	opAcquire    = "acquire"
	opRenew      = "renew"
	opRelease    = "release"
	opBreak      = "break"
	opChange     = "change"
	opProperties = "get-properties"
	opMetadata   = "set-metadata"
	opCreate     = "create-container"
	opGetBlob    = "get-blob"
	opPutBlob    = "put-blob"
	opList       = "list-blobs"
	opOther      = "other"
)

// nOps is the number of operations a counter tells apart.
const nOps = 12

var allOps = [nOps]string{opAcquire, opRenew, opRelease, opBreak, opChange, opProperties, opMetadata, opCreate, opGetBlob, opPutBlob, opList, opOther}

// opSlot is an operation's index in allOps.
func opSlot(op string) int {
	for i, o := range allOps {
		if o == op {
			return i
		}
	}
	return len(allOps) - 1
}

// counter is an azcore Transporter that counts every HTTP request it sends,
// by operation, and optionally records each request's latency. One counter
// per role (leader, standby, ...) gives calls per role, counted on the wire.
// It is safe for concurrent use.
type counter struct {
	next   policy.Transporter
	counts [nOps]atomic.Int64 // indexed like allOps

	// onRenew, if set, is called after each renew response with the
	// running number of renews sent; set before first use.
	onRenew func(n int64)

	record    atomic.Bool
	mu        sync.Mutex      // guards latencies
	latencies []time.Duration // of every request while record is on
}

func newCounter(next policy.Transporter) *counter { return &counter{next: next} }

func opIndex(r *http.Request) int { return opSlot(opName(r)) }

func opName(r *http.Request) string {
	q := r.URL.Query()
	switch q.Get("comp") {
	case "lease":
		// The SDK sets its x-ms-* headers without canonicalising the key.
		action := r.Header.Get("x-ms-lease-action")
		//lint:ignore SA1008 the SDK sets this key as is, not canonicalised
		if v := r.Header["x-ms-lease-action"]; len(v) > 0 {
			action = v[0]
		}
		switch action {
		case "acquire":
			return opAcquire
		case "renew":
			return opRenew
		case "release":
			return opRelease
		case "break":
			return opBreak
		case "change":
			return opChange
		}
		return opOther
	case "metadata":
		if r.Method == http.MethodPut {
			return opMetadata
		}
	case "list":
		return opList
	case "":
		if q.Get("restype") == "container" {
			switch r.Method {
			case http.MethodGet, http.MethodHead:
				return opProperties
			case http.MethodPut:
				return opCreate
			}
			return opOther
		}
		// A blob (client-go's lock record, or a named lock's blob).
		switch r.Method {
		case http.MethodGet:
			return opGetBlob
		case http.MethodHead:
			return opProperties
		case http.MethodPut:
			return opPutBlob
		}
	}
	return opOther
}

// Do implements policy.Transporter.
func (c *counter) Do(r *http.Request) (*http.Response, error) {
	i := opIndex(r)
	n := c.counts[i].Add(1)
	rec := c.record.Load()
	var start time.Time
	if rec {
		start = time.Now()
	}
	resp, err := c.next.Do(r)
	if rec {
		d := time.Since(start)
		c.mu.Lock()
		c.latencies = append(c.latencies, d)
		c.mu.Unlock()
	}
	if allOps[i] == opRenew && c.onRenew != nil {
		c.onRenew(n)
	}
	return resp, err
}

// snapshot is the counts at one moment, by operation.
type snapshot [nOps]int64

func (c *counter) snapshot() snapshot {
	var s snapshot
	for i := range s {
		s[i] = c.counts[i].Load()
	}
	return s
}

func (s snapshot) sub(o snapshot) snapshot {
	for i := range s {
		s[i] -= o[i]
	}
	return s
}

func (s snapshot) total() int64 {
	var t int64
	for _, v := range s {
		t += v
	}
	return t
}

// byOp returns the non-zero counts as (operation, count) pairs in allOps order.
func (s snapshot) byOp() []opCount {
	var out []opCount
	for i, v := range s {
		if v != 0 {
			out = append(out, opCount{Op: allOps[i], Calls: v})
		}
	}
	return out
}

type opCount struct {
	Op    string `json:"op"`
	Calls int64  `json:"calls"`
}

// takeLatencies returns the latencies recorded so far, sorted, and forgets them.
func (c *counter) takeLatencies() []time.Duration {
	c.mu.Lock()
	l := c.latencies
	c.latencies = nil
	c.mu.Unlock()
	slices.Sort(l)
	return l
}

// newHTTPClient returns an HTTP client for loopback storage with enough idle
// connections per host that a process holding many leases reuses them.
func newHTTPClient(idle int) *http.Client {
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		// At most idle connections at once: thousands of renewers queue for
		// a connection instead of dialling thousands (which overflows the
		// emulator's accept backlog: "dial tcp: i/o timeout").
		MaxConnsPerHost: idle,
		IdleConnTimeout: 90 * time.Second,
	}
	return &http.Client{Transport: t}
}

// newLeaser returns an azlease.Leaser for container name whose requests go
// through c. Like the library's own constructors, the SDK makes no retries:
// the renewer retries within the validity deadline.
func newLeaser(connStr, name string, c *counter) (*azlease.Leaser, error) {
	opts := &azlease.Options{
		CreateContainer: true,
		ClientOptions: &container.ClientOptions{ClientOptions: policy.ClientOptions{
			Retry:     policy.RetryOptions{MaxRetries: -1},
			Transport: c,
		}},
	}
	return azlease.FromConnectionString(connStr, name, opts)
}
