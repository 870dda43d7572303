package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/leasehold/leasehold/renewer"
	"github.com/leasehold/leasehold/renewer/azlease"
	"github.com/leasehold/leasehold/renewer/leasetest"
)

// get returns the status and body of GET url, or 0 and the error.
func get(url string) (int, string) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape runs serve over l, waits until it leads, and checks what an
// operator sees: the scrape's metric names with their attributes, the
// readiness and health answers.
func scrape(t *testing.T, l renewer.Leaser, lock string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, l, options{id: "candidate-1", poll: 100 * time.Millisecond, tolerance: 5 * time.Second}, ln)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve = %v", err)
		}
	}()

	var code int
	var body string
	for range 100 { // bounded: 100 tries, 10 s
		if code, body = get(base + "/leader-ready"); code == http.StatusOK {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != http.StatusOK || !strings.Contains(body, `ok: leading, term 1`) {
		t.Fatalf("/leader-ready = %d %q, want 200 leading term 1", code, body)
	}
	if code, body := get(base + "/readyz"); code != http.StatusOK || !strings.Contains(body, "ok: leading") {
		t.Errorf("/readyz = %d %q, want 200 ok: leading", code, body)
	}
	if code, body := get(base + "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d %q, want 200", code, body)
	}
	code, body = get(base + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d %q", code, body)
	}
	attrs := `leasehold_identity="candidate-1",leasehold_lock="` + lock + `"`
	role := `,leasehold_role="leader"`
	wants := []string{
		`leasehold_lease_held{` + attrs + role,
		`leasehold_lease_term{` + attrs + role,
		`leasehold_storage_calls_total{` + attrs + `,leasehold_operation="acquire",leasehold_result="ok"` + role,
		`leasehold_acquire_waiting{` + attrs + role,
		`leasehold_election_leader{` + attrs + role,
	}
	if lock != "" { // a container's lease: its first next-in-line seat, released when this candidate won
		wants = append(wants, `leasehold_lease_held{leasehold_election="`+lock+`",leasehold_identity="candidate-1",leasehold_lock="`+
			lock+`/.next-in-line",leasehold_role="next_in_line"}`)
	}
	for _, want := range wants {
		line := ""
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, want) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no line starting %s in the scrape:\n%s", want, body)
		}
		leads := strings.HasPrefix(want, "leasehold_lease_held{"+attrs) || strings.HasPrefix(want, "leasehold_election_leader")
		if leads && !strings.HasSuffix(line, " 1") {
			t.Errorf("%q, want 1: it leads", line)
		}
		if strings.Contains(want, "next_in_line") && !strings.HasSuffix(line, " 0") {
			t.Errorf("%q, want 0: the leader holds no seat", line)
		}
	}
	if strings.Contains(body, "AccountKey") || strings.Contains(body, "sig=") {
		t.Errorf("the scrape shows a secret:\n%s", body)
	}
}

// In memory: the wiring, with no emulator.
func TestScrapeInMemory(t *testing.T) {
	scrape(t, leasetest.New(), "")
}

// On Azurite (make test starts it and sets AZURE_STORAGE_CONNECTION_STRING):
// the same, over the real adapter, with the container's name as the lock.
func TestScrapeAzurite(t *testing.T) {
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		t.Fatal("AZURE_STORAGE_CONNECTION_STRING is not set: run under tools/azurite/with-azurite.sh (make test does)")
	}
	var b [5]byte
	_, _ = rand.Read(b[:])
	name := "metrics-example-" + hex.EncodeToString(b[:])
	l, err := azlease.FromConnectionString(cs, name, &azlease.Options{CreateContainer: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cc, err := container.NewClientFromConnectionString(cs, name, nil)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = cc.Delete(ctx, nil)
		}
	})
	scrape(t, l, name)
}

func TestFlagsRefuseNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:9464", "example.com:80", "nope"} {
		if _, err := parseFlags([]string{"--addr", addr}); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("--addr %s: %v, want a loopback error", addr, err)
		}
	}
	if _, err := parseFlags([]string{"--addr", "127.0.0.1:0"}); err != nil {
		t.Errorf("--addr 127.0.0.1:0: %v", err)
	}
}
