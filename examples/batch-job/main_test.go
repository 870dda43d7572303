package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestFencedStoreRejectsStaleToken(t *testing.T) {
	s, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(2<<20, 2, "new holder"); err != nil {
		t.Fatalf("write with token 2<<20: %v", err)
	}
	if err := s.Write(2<<20, 2, "same holder again"); err != nil {
		t.Fatalf("second write with the same token: %v", err)
	}
	if err := s.Write(1<<20, 1, "stale holder"); !errors.Is(err, errStale) {
		t.Fatalf("write with a lower token: %v, want errStale", err)
	}
	f, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 2 || f.Highest != 2<<20 {
		t.Fatalf("store = %+v, want the two writes of token %d only", f, 2<<20)
	}
}

// TestSmoke builds the example and runs it once against Azurite.
func TestSmoke(t *testing.T) {
	if os.Getenv("AZURE_STORAGE_CONNECTION_STRING") == "" {
		t.Fatal("AZURE_STORAGE_CONNECTION_STRING is not set: run `make test`, which starts Azurite")
	}
	bin := filepath.Join(t.TempDir(), "batch-job")
	if out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	container := "batch-job-smoke-" + hex.EncodeToString(b)
	storeDir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for i := range 2 {
		out, err := exec.CommandContext(ctx, bin, "--container", container, "--store", storeDir,
			"--steps", "3", "--step-time", "50ms", "--id", "smoke", "--wait", "30s").CombinedOutput()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, out)
		}
	}
	s, err := openStore(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 6 || f.Records[0].Term != 1 || f.Records[5].Term != 2 || f.Records[3].Token <= f.Records[2].Token {
		t.Fatalf("store after two runs = %+v, want 3 writes of term 1 then 3 of term 2, tokens increasing", f)
	}
}
