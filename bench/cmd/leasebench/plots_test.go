package main

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countElements parses svg as XML and counts its elements by name; a
// malformed document is an error.
func countElements(svg string) (map[string]int, error) {
	d := xml.NewDecoder(strings.NewReader(svg))
	n := map[string]int{}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
		}
	}
}

func TestCountElementsRejectsBadXML(t *testing.T) {
	if _, err := countElements(`<svg><text>a < b</text></svg>`); err == nil {
		t.Fatal("an unescaped < parsed as XML")
	}
}

func TestWritePlots(t *testing.T) {
	systems := []system{{Name: "leasehold <defaults>", Billed: true}, {Name: "etcd"}}
	res := results{
		Crash: []crashResult{
			{System: systems[0].Name, Samples: []float64{12, 13, 15.5}, Failover: dist{N: 3, P50: 13, P95: 15.5}},
			{System: systems[1].Name, Samples: []float64{11, 14}, Failover: dist{N: 2, P50: 11, P95: 14}},
		},
		Handoff: []handoffResult{
			{System: systems[0].Name, Kind: "election", Samples: []float64{0.3, 0.5}, Latency: dist{N: 2, P50: 0.3, P95: 0.5}},
			{System: systems[1].Name, Kind: "election", Samples: []float64{0.002}, Latency: dist{N: 1, P50: 0.002, P95: 0.002}},
		},
		Cost: []costResult{
			{System: systems[0].Name, Standbys: 0, TotalPerHour: 720, TotalDollarsPerMo: 0.23, Billed: true},
			{System: systems[0].Name, Standbys: 4, TotalPerHour: 19000, TotalDollarsPerMo: 6.2, Billed: true},
			{System: systems[1].Name, Standbys: 0, TotalPerHour: 720},
			{System: systems[1].Name, Standbys: 4, TotalPerHour: 3600},
		},
		Rolling: []rollResult{
			{System: systems[0].Name, Samples: []rollSample{{LeaderlessS: 0.4}, {LeaderlessS: 2.5}, {LeaderlessS: 31}}, Leaderless: dist{N: 3, P50: 2.5, P95: 31}},
			{System: systems[1].Name, Samples: []rollSample{{LeaderlessS: 0.01}}, Leaderless: dist{N: 1, P50: 0.01, P95: 0.01}},
		},
	}
	dir := t.TempDir()
	files, err := writePlots(dir, res, systems)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ circles, polylines int }{
		"failover.svg": {5, 0},
		"handover.svg": {3, 0},
		"calls.svg":    {4, 2}, // both systems
		"cost.svg":     {2, 1}, // etcd has no price
		"rolling.svg":  {4, 0},
	}
	if len(files) != len(want) {
		t.Fatalf("wrote %v, want %d files", files, len(want))
	}
	for name, w := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		n, err := countElements(string(b))
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", name, err)
		}
		if n["circle"] != w.circles || n["polyline"] != w.polylines {
			t.Errorf("%s: %d circles, %d polylines; want %d, %d", name, n["circle"], n["polyline"], w.circles, w.polylines)
		}
	}
}

func TestOpNameAndPrice(t *testing.T) {
	req := func(method, url string, action string) *http.Request {
		r, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if action != "" {
			r.Header["x-ms-lease-action"] = []string{action}
		}
		return r
	}
	for _, c := range []struct {
		r     *http.Request
		op    string
		price float64
	}{
		{req(http.MethodPut, "http://127.0.0.1/acct/c?comp=lease&restype=container", "renew"), opRenew, priceOtherPer10k},
		{req(http.MethodGet, "http://127.0.0.1/acct/c?restype=container", ""), opProperties, priceOtherPer10k},
		{req(http.MethodGet, "http://127.0.0.1/acct/c/leader", ""), opGetBlob, priceReadPer10k},
		{req(http.MethodPut, "http://127.0.0.1/acct/c/leader", ""), opPutBlob, priceWritePer10k},
		{req(http.MethodDelete, "http://127.0.0.1/acct/c/leader", ""), opOther, priceOtherPer10k},
	} {
		if got := opName(c.r); got != c.op {
			t.Errorf("%s %s: op %q, want %q", c.r.Method, c.r.URL, got, c.op)
		}
		if got := pricePer10k(opName(c.r)); got != c.price {
			t.Errorf("%s %s: price %v, want %v", c.r.Method, c.r.URL, got, c.price)
		}
	}
}
