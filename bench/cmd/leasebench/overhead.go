package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// Azurite's well-known development account: public, and only ever local.
const devAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// tickTransport counts requests, after their response, and closes hit when
// the count reaches target. It adds one atomic add per request to every
// variant alike.
type tickTransport struct {
	next   *http.Client
	n      atomic.Int64
	target atomic.Int64
	hit    chan struct{}
}

func (t *tickTransport) Do(r *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(r)
	if t.n.Add(1) == t.target.Load() {
		close(t.hit)
	}
	return resp, err
}

// overheadRow is one variant's figures: medians over the repeats.
type overheadRow struct {
	Variant     string  `json:"variant"`
	What        string  `json:"what"`
	NsPerOp     float64 `json:"ns_per_op"`
	CPUNsPerOp  float64 `json:"cpu_ns_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	RatioNs     float64 `json:"ratio_ns_to_sdk"`
	RatioCPU    float64 `json:"ratio_cpu_to_sdk"`
	RatioAllocs float64 `json:"ratio_allocs_to_sdk"`
}

type overheadResult struct {
	Server  string        `json:"server"`
	Repeats int           `json:"repeats"`
	Rows    []overheadRow `json:"rows"`
	Err     string        `json:"error,omitempty"`
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runOverhead benchmarks one renew three ways against a fake Blob server in
// a process of its own: the bare SDK call (lease.ContainerClient.RenewLease
// on one client, the lease ID checked), the library's adapter
// (azlease.Leaser.Renew), and the library's whole renew cycle (a held
// Lease renewing back to back: renew interval 1 ns, so the loop's timer,
// deadline bookkeeping and watchdog reset are in every op).
func runOverhead(repeats int) overheadResult {
	res := overheadResult{Repeats: repeats}
	srv, err := startChild("fakeblob")
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer srv.stop(2 * time.Second)
	var ev candidateEvent
	if _, err := srv.nextEvent(&ev, 10*time.Second); err != nil || ev.Event != "listening" {
		res.Err = fmt.Sprintf("fake server: %v %+v", err, ev)
		return res
	}
	res.Server = "fake Blob service in a separate process on " + ev.Err
	connStr := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + devAccountKey +
		";BlobEndpoint=http://" + ev.Err + "/devstoreaccount1;"
	httpc := newHTTPClient(4)
	newCC := func(tr *tickTransport) (*container.Client, error) {
		return container.NewClientFromConnectionString(connStr, "overhead", &container.ClientOptions{
			ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}, Transport: tr}})
	}
	leaseID := "0f8fad5b-d9cb-469f-a165-70867728950e"

	sdk := func(b *testing.B) {
		tr := &tickTransport{next: httpc}
		cc, err := newCC(tr)
		if err != nil {
			b.Fatal(err)
		}
		lc, err := lease.NewContainerClient(cc, &lease.ContainerClientOptions{LeaseID: &leaseID})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		c0 := cpuNow()
		for range b.N {
			sent := time.Now()
			resp, err := lc.RenewLease(ctx, nil)
			if err != nil || resp.LeaseID == nil || *resp.LeaseID != leaseID {
				b.Fatalf("renew: %v", err)
			}
			pace(sent)
		}
		b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
	}
	adapter := func(b *testing.B) {
		tr := &tickTransport{next: httpc}
		cc, err := newCC(tr)
		if err != nil {
			b.Fatal(err)
		}
		l, err := azlease.New(cc, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		c0 := cpuNow()
		for range b.N {
			sent := time.Now()
			got, err := l.Renew(ctx, leaseID)
			if err != nil || got != leaseID {
				b.Fatalf("renew: %v", err)
			}
			pace(sent)
		}
		b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
	}
	loop := func(b *testing.B) {
		tr := &tickTransport{next: httpc, hit: make(chan struct{})}
		tr.target.Store(-1)
		cc, err := newCC(tr)
		if err != nil {
			b.Fatal(err)
		}
		l, err := azlease.New(cc, nil)
		if err != nil {
			b.Fatal(err)
		}
		r, err := renewer.New(l, renewer.WithRenewInterval(renewer.MinRenewInterval),
			renewer.WithCallTimeout(10*time.Second), renewer.WithIdentity("overhead"))
		if err != nil {
			b.Fatal(err)
		}
		ls, err := r.TryAcquire(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		tr.target.Store(tr.n.Load() + int64(b.N))
		b.ResetTimer()
		c0 := cpuNow()
		select {
		case <-tr.hit:
		case <-ls.Done():
			b.Fatalf("lease ended: %v", context.Cause(ls.Context()))
		}
		cpu := cpuNow() - c0
		b.StopTimer()
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		_ = ls.Release(context.Background())
	}

	variants := []struct {
		name, what string
		f          func(*testing.B)
	}{
		{"sdk", "bare SDK: lease.ContainerClient.RenewLease", sdk},
		{"adapter", "azlease.Leaser.Renew", adapter},
		{"renew-cycle", "a held renewer.Lease renewing at the shortest R, 1 ms (the library's renew loop)", loop},
	}
	type samples struct{ ns, cpu, allocs, bytes []float64 }
	got := make([]samples, len(variants))
	testing.Benchmark(sdk) // warm up: connections, the SDK's lazy set-up
	for range repeats {
		for i, v := range variants {
			br := testing.Benchmark(v.f)
			if br.N == 0 {
				res.Err = v.name + ": benchmark failed"
				return res
			}
			got[i].ns = append(got[i].ns, float64(br.NsPerOp()))
			got[i].cpu = append(got[i].cpu, br.Extra["cpu-ns/op"])
			got[i].allocs = append(got[i].allocs, float64(br.AllocsPerOp()))
			got[i].bytes = append(got[i].bytes, float64(br.AllocedBytesPerOp()))
		}
	}
	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	var base overheadRow
	for i, v := range variants {
		row := overheadRow{Variant: v.name, What: v.what, NsPerOp: round(median(got[i].ns), 0),
			CPUNsPerOp: round(median(got[i].cpu), 0), AllocsPerOp: int64(median(got[i].allocs)),
			BytesPerOp: int64(median(got[i].bytes))}
		if i == 0 {
			base = row
		}
		row.RatioNs = round(row.NsPerOp/base.NsPerOp, 3)
		row.RatioCPU = round(row.CPUNsPerOp/base.CPUNsPerOp, 3)
		row.RatioAllocs = round(float64(row.AllocsPerOp)/float64(base.AllocsPerOp), 3)
		res.Rows = append(res.Rows, row)
	}
	return res
}

// pace waits until one shortest renew interval after sent: the cadence of a
// held Lease renewing at renewer.MinRenewInterval (it renews at
// last send + R), so that the bare calls and the renew loop are measured
// alike, each call followed by the same wait.
func pace(sent time.Time) { time.Sleep(time.Until(sent.Add(renewer.MinRenewInterval))) }
