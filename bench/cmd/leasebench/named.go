package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
)

// waitResult is one process waiting on N held named locks for a window:
// what its waiting costs, polling each lock on its own or through one
// shared Observer (renewer.WithObserver, one List Blobs per poll).
type waitResult struct {
	N        int     `json:"n"`
	Observer bool    `json:"observer"`
	PollS    float64 `json:"poll_s"`
	WindowS  float64 `json:"window_s"`
	Held     int     `json:"held"`    // locks the holder side held through the window
	Waiting  int     `json:"waiting"` // waiters still waiting at the end (none may win: every lock stays held)
	Won      int     `json:"won"`     // waiters that acquired: must be 0
	Calls    int64   `json:"waiter_calls_in_window"`
	Lists    int64   `json:"waiter_lists_in_window"`
	PerHour  float64 `json:"waiter_calls_per_hour"`
	// PerHourAtDefault is PerHour scaled to the default poll interval
	// (the figure a user with default settings would pay).
	PerHourAtDefault float64  `json:"waiter_calls_per_hour_at_default_poll"`
	Errors           []string `json:"errors,omitempty"`
}

// runWait is the child process of one waiting run: it holds n named locks
// in one container (through one client), then starts n waiters on the same
// locks (through another, counted client), with or without an Observer,
// counts the waiters' calls over the window, and prints a waitResult.
func runWait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	n := fs.Int("n", 100, "locks")
	window := fs.Duration("for", time.Minute, "how long to count the waiters' calls")
	poll := fs.Duration("poll", renewer.DefaultPollInterval, "the waiters' poll interval")
	observer := fs.Bool("observer", false, "wait through one shared Observer")
	runID := fs.String("run", "x", "run ID, part of the container name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := waitRun(*n, *window, *poll, *observer, *runID)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func waitRun(n int, window, poll time.Duration, observed bool, runID string) (waitResult, error) {
	res := waitResult{N: n, Observer: observed, PollS: poll.Seconds(), WindowS: window.Seconds()}
	// The holders: a 60 s lease (renewed every 20 s), so that holding n
	// locks stays light for the emulator and the figure is the waiters'.
	const holdLease = 60 * time.Second
	hc := newCounter(newHTTPClient(64))
	cname := "lb-" + runID + "-wait-" + strconv.Itoa(n) + "-" + strconv.FormatBool(observed)
	base, err := newLeaser(connString(), cname, hc)
	if err != nil {
		return res, err
	}
	var (
		mu     sync.Mutex
		leases []*renewer.Lease
		errs   []string
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 10 {
			errs = append(errs, err.Error())
		}
	}
	name := func(i int) string { return fmt.Sprintf("jobs/lock %05d", i) }
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range jobs {
				l, err := base.Blob(name(i))
				if err == nil {
					var r *renewer.Renewer
					if r, err = renewer.New(l, renewer.WithDuration(holdLease), renewer.WithIdentity("holder-"+strconv.Itoa(i))); err == nil {
						ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
						var ls *renewer.Lease
						ls, err = r.Acquire(ctx)
						cancel()
						if err == nil {
							mu.Lock()
							leases = append(leases, ls)
							mu.Unlock()
						}
					}
				}
				if err != nil {
					fail(fmt.Errorf("hold %s: %w", name(i), err))
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	defer func() {
		for _, ls := range leases {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = ls.Release(ctx)
			cancel()
		}
	}()

	// The waiters, through a client of their own.
	wc := newCounter(newHTTPClient(64))
	wbase, err := newLeaser(connString(), cname, wc)
	if err != nil {
		return res, err
	}
	var obsOpt []renewer.Option
	if observed {
		obs, err := azlease.NewObserver(wbase.Client(), nil)
		if err != nil {
			return res, err
		}
		obsOpt = append(obsOpt, renewer.WithObserver(obs))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var won, waiting sync.WaitGroup
	var wonN, waitingN int64
	var cmu sync.Mutex
	for i := range n {
		l, err := wbase.Blob(name(i))
		if err != nil {
			fail(err)
			continue
		}
		r, err := renewer.New(l, append([]renewer.Option{renewer.WithPollInterval(poll), renewer.WithIdentity("waiter-" + strconv.Itoa(i))}, obsOpt...)...)
		if err != nil {
			fail(err)
			continue
		}
		waiting.Add(1)
		won.Go(func() {
			defer waiting.Done()
			ls, err := r.Acquire(ctx)
			cmu.Lock()
			defer cmu.Unlock()
			switch {
			case err == nil:
				wonN++
				_ = ls.Release(context.Background())
			case !errors.Is(err, context.Canceled):
				fail(fmt.Errorf("waiter %d: %w", i, err))
			default:
				waitingN++
			}
		})
	}
	// Let every waiter make its first poll (its own), then count a window.
	time.Sleep(2 * poll)
	wc.record.Store(true)
	s0 := wc.snapshot()
	t0 := time.Now()
	time.Sleep(window)
	el := time.Since(t0)
	d := wc.snapshot().sub(s0)
	wc.record.Store(false)
	cancel()
	won.Wait()
	res.Held = len(leases)
	res.Won, res.Waiting = int(wonN), int(waitingN)
	res.Calls = d.total()
	for _, o := range d.byOp() {
		if o.Op == opList {
			res.Lists = o.Calls
		}
	}
	res.PerHour = round(float64(res.Calls)/el.Hours(), 0)
	res.PerHourAtDefault = round(res.PerHour*poll.Seconds()/renewer.DefaultPollInterval.Seconds(), 0)
	res.Errors = errs
	return res, nil
}

func waitChild(ctx context.Context, n int, window, poll time.Duration, observer bool, runID string) (waitResult, error) {
	c, err := startChild("wait", "-n", strconv.Itoa(n), "-for", window.String(), "-poll", poll.String(),
		"-observer="+strconv.FormatBool(observer), "-run", runID)
	if err != nil {
		return waitResult{}, err
	}
	defer c.stop(time.Second)
	var wr waitResult
	if _, err := c.nextEvent(&wr, window+5*time.Minute); err != nil {
		return waitResult{}, fmt.Errorf("wait %d: %w", n, err)
	}
	return wr, ctx.Err()
}

func printWait(rs []waitResult) {
	fmt.Println("### Waiting on many named locks: each waiter on its own, or one shared Observer")
	fmt.Println()
	fmt.Println("One process holds N named locks (blob leases in one container, L = 60 s); another client in the same process waits on all N (N Renewers, each in a blocking Acquire), each polling on its own (a read per lock per poll) or all through one `renewer.WithObserver` (one List Blobs per poll, every page). Calls are the waiters' only, counted at their HTTP transport over the window and scaled to an hour; the last column scales them to the default poll interval (750 ms). No waiter may win: every lock stays held.")
	fmt.Println()
	fmt.Println("| N | waiting through | poll | waiters' calls in window | of them List Blobs | calls an hour | at the 750 ms default | held | won (must be 0) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		how := "each on its own"
		if r.Observer {
			how = "one Observer"
		}
		fmt.Printf("| %d | %s | %s | %d | %d | %.0f | %.0f | %d | %d |\n", r.N, how, sec(r.PollS), r.Calls, r.Lists, r.PerHour, r.PerHourAtDefault, r.Held, r.Won)
	}
	fmt.Println()
	for _, r := range rs {
		for _, e := range r.Errors {
			fmt.Printf("  error (N=%d, observer %v): %s\n", r.N, r.Observer, e)
		}
	}
}
