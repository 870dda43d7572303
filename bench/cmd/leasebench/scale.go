package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// scaleResult is one process holding N leases for a window.
type scaleResult struct {
	N int `json:"n"`
	// Named: the N leases are named locks, blob leases in one container
	// (azlease.NewBlob), instead of one container each.
	Named      bool    `json:"named,omitempty"`
	Setting    setting `json:"setting"`
	WindowS    float64 `json:"window_s"`
	AcquireS   float64 `json:"acquire_all_s"`
	Held       int     `json:"held"`
	Lost       int     `json:"lost"`
	Calls      int64   `json:"calls_in_window"`
	CallsPerS  float64 `json:"calls_per_s"`
	RenewsPerS float64 `json:"renews_per_s"`
	// CPUSecPerLeaseHour is this process's user+system CPU over the
	// window, per lease and per hour of holding.
	CPUSecPerLeaseHour float64 `json:"cpu_s_per_lease_hour"`
	CPUPercent         float64 `json:"cpu_percent_of_one_core"`
	RSSMiB             float64 `json:"rss_mib"`
	PeakRSSMiB         float64 `json:"peak_rss_mib"`
	Goroutines         int     `json:"goroutines"`
	// Call latency over the window, every request.
	LatencyP50Ms float64 `json:"call_latency_p50_ms"`
	LatencyP99Ms float64 `json:"call_latency_p99_ms"`
	LatencyMaxMs float64 `json:"call_latency_max_ms"`
	// AzuriteCPUPercent is the emulator's CPU over the window, from /proc,
	// when its process could be found (-1 otherwise).
	AzuriteCPUPercent float64  `json:"azurite_cpu_percent_of_one_core"`
	Errors            []string `json:"errors,omitempty"`
}

// runScale is the child process of one scale run: it acquires n leases,
// one container each, through one shared HTTP client, holds them for the
// window, releases them, and prints a scaleResult on stdout.
func runScale(args []string) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	n := fs.Int("n", 10, "leases")
	window := fs.Duration("for", 2*time.Minute, "how long to hold them")
	runID := fs.String("run", "x", "run ID, part of the container names")
	workers := fs.Int("workers", 32, "concurrent acquisitions")
	named := fs.Bool("named", false, "named locks: blob leases in one container")
	lease := fs.Duration("lease", settingDefaults.Lease, "lease duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res := scaleRun(*n, *window, *runID, *workers, *named, *lease)
	return json.NewEncoder(os.Stdout).Encode(res)
}

func scaleRun(n int, window time.Duration, runID string, workers int, named bool, lease time.Duration) scaleResult {
	s := settingDefaults
	if lease != s.Lease { // the renewer's defaults for this L
		s = newSetting("defaults at L "+lease.String(), lease, lease/3, renewer.DefaultPollInterval, "the library's defaults for L = "+lease.String())
	}
	res := scaleResult{N: n, Named: named, Setting: s, WindowS: window.Seconds(), AzuriteCPUPercent: -1}
	c := newCounter(newHTTPClient(256))
	// newL returns lease i's Leaser: a container of its own, or a named
	// lock in one shared container.
	newL := func(i int) (renewer.Leaser, string, error) {
		name := fmt.Sprintf("lb-%s-scale-%d-%04d", runID, n, i)
		if !named {
			l, err := newLeaser(connString(), name, c)
			return l, name, err
		}
		base, err := newLeaser(connString(), fmt.Sprintf("lb-%s-named-%d", runID, n), c)
		if err != nil {
			return nil, "", err
		}
		name = fmt.Sprintf("jobs/lock %05d", i)
		l, err := base.Blob(name)
		return l, name, err
	}
	var (
		mu     sync.Mutex // guards leases and errs
		leases []*renewer.Lease
		errs   []string
		lost   atomic.Int64
		inWin  atomic.Bool
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 10 {
			errs = append(errs, err.Error())
		}
	}
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				l, name, err := newL(i)
				if err != nil {
					fail(err)
					continue
				}
				r, err := renewer.New(l, renewer.WithDuration(s.Lease), renewer.WithIdentity("scale-"+strconv.Itoa(i)))
				if err != nil {
					fail(err)
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				ls, err := r.Acquire(ctx)
				cancel()
				if err != nil {
					fail(fmt.Errorf("acquire %s: %w", name, err))
					continue
				}
				context.AfterFunc(ls.Context(), func() {
					if errors.Is(context.Cause(ls.Context()), renewer.ErrLeaseLost) {
						lost.Add(1)
						if inWin.Load() {
							fail(fmt.Errorf("%s lost: %v", name, context.Cause(ls.Context())))
						}
					}
				})
				mu.Lock()
				leases = append(leases, ls)
				mu.Unlock()
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.AcquireS = secs(time.Since(start))
	res.Held = len(leases)

	// The window.
	runtime.GC()
	az := findAzurite()
	az0 := procCPU(az)
	inWin.Store(true)
	c.record.Store(true)
	s0 := c.snapshot()
	cpu0 := cpuNow()
	t0 := time.Now()
	peak := 0.0
	for deadline := t0.Add(window); time.Now().Before(deadline); {
		time.Sleep(min(time.Second, time.Until(deadline)))
		peak = max(peak, rssMiB())
	}
	el := time.Since(t0)
	cpu := cpuNow() - cpu0
	d := c.snapshot().sub(s0)
	c.record.Store(false)
	inWin.Store(false)
	if az1 := procCPU(az); az > 0 && az1 >= az0 {
		res.AzuriteCPUPercent = round(100*(az1-az0).Seconds()/el.Seconds(), 1)
	}
	res.Lost = int(lost.Load())
	res.Calls = d.total()
	res.CallsPerS = round(float64(d.total())/el.Seconds(), 1)
	res.RenewsPerS = round(float64(d[1])/el.Seconds(), 1)
	if res.Held > 0 {
		res.CPUSecPerLeaseHour = round(cpu.Seconds()/float64(res.Held)/el.Hours(), 3)
	}
	res.CPUPercent = round(100*cpu.Seconds()/el.Seconds(), 1)
	res.RSSMiB, res.PeakRSSMiB = round(rssMiB(), 1), round(max(peak, rssMiB()), 1)
	res.Goroutines = runtime.NumGoroutine()
	if lat := c.takeLatencies(); len(lat) > 0 {
		ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }
		res.LatencyP50Ms, res.LatencyP99Ms, res.LatencyMaxMs = ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1])
	}

	// Release everything, bounded.
	rel := make(chan *renewer.Lease)
	var rwg sync.WaitGroup
	for range workers {
		rwg.Go(func() {
			for ls := range rel {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = ls.Release(ctx)
				cancel()
			}
		})
	}
	for _, ls := range leases {
		rel <- ls
	}
	close(rel)
	rwg.Wait()
	res.Errors = errs
	return res
}

// rssMiB is this process's resident memory, from /proc/self/status.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// findAzurite returns the PID of the Azurite serving our connection
// string's port, found by its command line in /proc, or 0.
func findAzurite() int {
	cs := connString()
	i := strings.Index(cs, "BlobEndpoint=http://127.0.0.1:")
	if i < 0 {
		return 0
	}
	port := cs[i+len("BlobEndpoint=http://127.0.0.1:"):]
	if j := strings.IndexByte(port, '/'); j >= 0 {
		port = port[:j]
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		isAz, hasPort := false, false
		for k, a := range args {
			if strings.Contains(a, "azurite") {
				isAz = true
			}
			if a == "--blobPort" && k+1 < len(args) && args[k+1] == port {
				hasPort = true
			}
		}
		if isAz && hasPort {
			return pid
		}
	}
	return 0
}

// procCPU is a process's user+system CPU time from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}
