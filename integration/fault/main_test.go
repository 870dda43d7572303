package fault_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/integration/fault"
)

var (
	soak      = flag.Bool("soak", os.Getenv("LEASEHOLD_SOAK") == "1", "run the long form and print the table")
	tableFile = flag.String("table", "", "also write the soak table to this file")

	candidateBin string
	proxies      *fault.Toxiproxy
	buildErr     error
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "leasehold-fault-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	candidateBin, buildErr = fault.BuildCandidate(dir)
	proxies = fault.NewToxiproxy()
	code := m.Run()
	_ = os.RemoveAll(dir)
	if len(results.rows) > 0 {
		printTable(os.Stdout)
		if *tableFile != "" {
			if f, err := os.Create(*tableFile); err == nil {
				printTable(f)
				_ = f.Close()
			}
		}
	}
	os.Exit(code)
}

// runs returns how many times to run a scenario: short in `make test`, long
// in `make soak`.
func runs(short, long int) int {
	if *soak {
		return long
	}
	return short
}

// env returns the storage connection string and the candidate binary,
// failing the test when either is missing: these tests never skip.
func env(t *testing.T) (string, string) {
	t.Helper()
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		t.Fatal("AZURE_STORAGE_CONNECTION_STRING is not set: run the fault tests with `make test` " +
			"(or `make soak`), which start Azurite and set it")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return cs, candidateBin
}

// results collects, per scenario, the runs, violations and failover times
// for the table.
var results = struct {
	sync.Mutex
	rows map[string]*row
}{rows: map[string]*row{}}

type row struct {
	runs, violations int
	kinds            map[string]int // violations by kind
	failovers        []time.Duration
}

func record(name string, rep fault.Report, failover time.Duration) {
	results.Lock()
	defer results.Unlock()
	r := results.rows[name]
	if r == nil {
		r = &row{kinds: map[string]int{}}
		results.rows[name] = r
	}
	r.runs++
	r.violations += len(rep.Violations)
	for _, v := range rep.Violations {
		r.kinds[v.Kind]++
	}
	if failover > 0 {
		r.failovers = append(r.failovers, failover)
	}
}

func printTable(w io.Writer) {
	results.Lock()
	defer results.Unlock()
	names := make([]string, 0, len(results.rows))
	for n := range results.rows {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return scenarioLess(names[i], names[j]) })
	fmt.Fprintf(w, "\n%-34s %5s %10s %14s %14s\n", "scenario", "runs", "violations", "failover p50", "failover max")
	fmt.Fprintln(w, strings.Repeat("-", 81))
	runs, viol := 0, 0
	kinds := map[string]int{}
	for _, n := range names {
		r := results.rows[n]
		runs += r.runs
		viol += r.violations
		for k, c := range r.kinds {
			kinds[k] += c
		}
		p50, max := "-", "-"
		if len(r.failovers) > 0 {
			fs := append([]time.Duration(nil), r.failovers...)
			sort.Slice(fs, func(i, j int) bool { return fs[i] < fs[j] })
			p50 = fs[(len(fs)-1)/2].Round(10 * time.Millisecond).String()
			max = fs[len(fs)-1].Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "%-34s %5d %10d %14s %14s\n", n, r.runs, r.violations, p50, max)
	}
	if viol > 0 {
		ks := make([]string, 0, len(kinds))
		for k := range kinds {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		fmt.Fprint(w, "violations by kind:")
		for _, k := range ks {
			fmt.Fprintf(w, " %s %d", k, kinds[k])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "safety: %d scenarios, %d runs, %d violations\n", len(names), runs, viol)
}

// scenarioLess orders scenario names by their leading number, then by name:
// "9a ..." before "10a ...".
func scenarioLess(a, b string) bool {
	na, nb := leadingNumber(a), leadingNumber(b)
	if na != nb {
		return na < nb
	}
	return a < b
}

func leadingNumber(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
