package fault

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// devKey is Azurite's well-known development account key; it is public and
// only ever used on loopback.
const devKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// An Azurite is an emulator of the test's own, on a free loopback port, that
// keeps its data on disk so that it can be stopped and started again.
type Azurite struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartAzurite starts the emulator named by AZURITE_BLOB (exported by
// tools/azurite/with-azurite.sh) with disk persistence under a temporary
// directory. Cleanup stops it.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	bin := os.Getenv("AZURITE_BLOB")
	if bin == "" {
		t.Fatal("AZURITE_BLOB is not set: run the fault tests with `make test`, which sets it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	a := &Azurite{t: t, bin: bin, dir: t.TempDir(), port: port}
	a.Start()
	t.Cleanup(func() { a.Stop(false) })
	return a
}

// ConnString is the connection string of the emulator's dev account.
func (a *Azurite) ConnString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=%s;"+
		"BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1;", devKey, a.port)
}

// Start starts the emulator on its port and waits (at most 30 s) until it
// accepts connections.
func (a *Azurite) Start() {
	a.t.Helper()
	logf, err := os.OpenFile(filepath.Join(a.dir, "azurite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		a.t.Fatal(err)
	}
	cmd := exec.Command(a.bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(a.port),
		"--skipApiVersionCheck", "--disableTelemetry", "--location", filepath.Join(a.dir, "data"), "--silent")
	cmd.Dir = a.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		a.t.Fatal(err)
	}
	a.cmd, a.done = cmd, make(chan struct{})
	done := a.done
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(done) }()
	addr := "127.0.0.1:" + strconv.Itoa(a.port)
	for i := 0; i < 300; i++ {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-done:
			a.t.Fatalf("azurite exited at start; log in %s", a.dir)
		case <-time.After(100 * time.Millisecond):
		}
	}
	a.t.Fatalf("azurite did not listen on %s within 30 s", addr)
}

// Stop stops the emulator: SIGKILL if kill, else SIGTERM (a clean shutdown,
// SIGKILL after 10 s). It waits for the process to exit.
func (a *Azurite) Stop(kill bool) {
	if a.cmd == nil {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-a.cmd.Process.Pid, sig)
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.done
	}
	a.cmd = nil
}
