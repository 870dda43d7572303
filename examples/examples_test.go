package examples_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// connString returns the storage connection string, failing the test when
// it is unset: these tests never skip.
func connString(t *testing.T) string {
	t.Helper()
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		t.Fatal("AZURE_STORAGE_CONNECTION_STRING is not set: run `make test`, which starts Azurite and sets it")
	}
	return cs
}

// uniqueName returns prefix and a random suffix: a valid container name
// (or prefix of one) that no other test uses.
func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

// deleteContainers deletes the named containers when the test ends.
func deleteContainers(t *testing.T, names ...string) {
	t.Helper()
	cs := connString(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, name := range names {
			cc, err := container.NewClientFromConnectionString(cs, name, nil)
			if err != nil {
				t.Errorf("container client: %v", err)
				return
			}
			if _, err := cc.Delete(ctx, nil); err != nil {
				t.Logf("delete container %s: %v", name, err)
			}
		}
	})
}

// build builds the example in ./dir into a temporary directory and
// returns the binary's path.
func build(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the examples: %v", err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(dir))
	out, err := exec.Command(goBin, "build", "-o", bin, "./"+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./%s: %v\n%s", dir, err, out)
	}
	return bin
}

// proc is a running example whose output (stdout and stderr together) is
// collected line by line.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed by the waiting goroutine once the process has exited
	err  error         // Wait's result; read only after done is closed

	mu    sync.Mutex // guards lines
	lines []string
}

// start starts bin with args; the process is killed when the test ends if
// it is still running.
func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	go func() {
		defer close(p.done)
		p.err = p.cmd.Wait()
		_ = w.Close()
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, strings.Join(p.output(), "\n"))
		}
	})
	return p
}

func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// logs returns the JSON log lines with message msg, oldest first.
func (p *proc) logs(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range p.output() {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// stop sends sig and waits (bounded) for the process to exit; it returns
// Wait's result.
func (p *proc) stop(sig os.Signal, timeout time.Duration) error {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	return p.wait(timeout)
}

func (p *proc) wait(timeout time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return errors.New(p.name + " did not exit within " + timeout.String())
	}
}

// eventually calls cond every interval, at most n times, until it returns
// true, and fails the test with what if it never does.
func eventually(t *testing.T, n int, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	for range n {
		if cond() {
			return
		}
		time.Sleep(interval)
	}
	t.Fatalf("gave up after %v waiting for %s", time.Duration(n)*interval, what)
}
