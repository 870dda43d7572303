package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// runFakeBlob serves just enough of the Blob service's container API, with
// no state, for the overhead benchmark: lease actions answer with the lease
// ID they were sent, reads answer an active lease with no metadata, metadata
// writes succeed. It prints its address and serves until its stdin closes.
// It runs as a process of its own so that its work and allocations are not
// counted as the client's.
func runFakeBlob() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("{\"event\":\"listening\",\"err\":%q}\n", ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	lastMod := time.Now().UTC().Format(http.TimeFormat)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hd := w.Header()
		hd.Set("x-ms-request-id", "00000000-0000-0000-0000-000000000000")
		hd.Set("x-ms-version", r.Header.Get("x-ms-version"))
		hd.Set("ETag", `"0x8DC0000000000000"`)
		hd.Set("Last-Modified", lastMod)
		q := r.URL.Query()
		switch {
		case q.Get("comp") == "lease":
			id := r.Header.Get("x-ms-proposed-lease-id")
			if id == "" {
				id = r.Header.Get("x-ms-lease-id")
			}
			hd.Set("x-ms-lease-id", id)
			switch r.Header.Get("x-ms-lease-action") {
			case "acquire":
				w.WriteHeader(http.StatusCreated)
			case "break":
				hd.Set("x-ms-lease-time", "0")
				w.WriteHeader(http.StatusAccepted)
			default:
				w.WriteHeader(http.StatusOK)
			}
		case q.Get("comp") == "metadata":
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			hd.Set("x-ms-lease-state", "leased")
			hd.Set("x-ms-lease-status", "locked")
			hd.Set("x-ms-lease-duration", "fixed")
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusCreated)
		}
	})
	return http.Serve(ln, h)
}
