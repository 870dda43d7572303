package examples_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

type forwardView struct {
	Replica  string `json:"replica"`
	IsLeader bool   `json:"isLeader"`
	Leader   string `json:"leader"`
	Term     int64  `json:"term"`
	Address  string `json:"address"`
	Known    bool   `json:"known"`
}

// Two replicas on Azurite: a write sent to the follower is forwarded to
// the leader's published address and applied there with the leader's
// term; after the leader resigns, the other applies writes itself.
func TestForward(t *testing.T) {
	t.Parallel()
	connString(t)
	bin := build(t, "forward")
	name := uniqueName(t, "forward")
	deleteContainers(t, name)

	ids := []string{"replica-1", "replica-2"}
	procs := make([]*proc, len(ids))
	addrs := make([]string, len(ids))
	for i, id := range ids {
		procs[i] = start(t, id, bin, "--addr", "127.0.0.1:0", "--id", id, "--container", name, "--poll", "200ms")
	}
	for i, p := range procs {
		eventually(t, 100, 100*time.Millisecond, ids[i]+" to log its address", func() bool {
			served := p.logs("serving")
			if len(served) == 0 {
				return false
			}
			addrs[i], _ = served[0]["addr"].(string)
			return addrs[i] != ""
		})
	}
	client := &http.Client{Timeout: 5 * time.Second}
	do := func(method, addr, path, body string) (int, http.Header, string) {
		req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Logf("%s %s%s: %v", method, addr, path, err)
			return 0, nil, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	var views [2]forwardView
	eventually(t, 100, 200*time.Millisecond, "both replicas to know one leader and its address", func() bool {
		for i, addr := range addrs {
			code, _, body := do(http.MethodGet, addr, "/leader", "")
			if code != http.StatusOK || json.Unmarshal([]byte(body), &views[i]) != nil {
				return false
			}
		}
		a, b := views[0], views[1]
		return a.Known && b.Known && a.Leader != "" && a == forwardView{a.Replica, a.IsLeader, b.Leader, b.Term, b.Address, true} &&
			a.IsLeader != b.IsLeader
	})
	leader, follower := 0, 1
	if views[1].IsLeader {
		leader, follower = 1, 0
	}
	if want := "http://" + addrs[leader]; views[follower].Address != want {
		t.Fatalf("follower knows the leader's address as %q, want %q", views[follower].Address, want)
	}

	code, hdr, body := do(http.MethodPut, addrs[follower], "/kv/color", "blue")
	if code != http.StatusOK || hdr.Get("X-Leader") != ids[leader] || !strings.Contains(body, `"value":"blue","term":1`) {
		t.Fatalf("PUT via the follower: %d leader %q %q; want 200 from %s with term 1", code, hdr.Get("X-Leader"), body, ids[leader])
	}
	if code, _, body := do(http.MethodGet, addrs[leader], "/kv/color", ""); code != http.StatusOK || !strings.Contains(body, `"value":"blue"`) {
		t.Errorf("GET on the leader: %d %q; want the forwarded write", code, body)
	}

	// The leader resigns and exits; the follower takes over and applies
	// writes itself.
	if err := procs[leader].stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Fatalf("%s after SIGTERM: %v", ids[leader], err)
	}
	eventually(t, 100, 100*time.Millisecond, ids[follower]+" to lead", func() bool {
		code, hdr, body = do(http.MethodPut, addrs[follower], "/kv/color", "green")
		return code == http.StatusOK
	})
	if hdr.Get("X-Leader") != ids[follower] || !strings.Contains(body, `"term":2`) {
		t.Errorf("PUT on the new leader: leader %q %q; want itself, term 2", hdr.Get("X-Leader"), body)
	}
	if err := procs[follower].stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("%s after SIGTERM: %v", ids[follower], err)
	}
}

func TestForwardBadFlags(t *testing.T) {
	t.Parallel()
	bin := build(t, "forward")
	for _, give := range [][]string{{"--addr", "0.0.0.0:8080"}, {"--addr", "nope"}, {"extra"}} {
		p := start(t, "forward", bin, give...)
		if err := p.wait(10 * time.Second); err == nil {
			t.Errorf("forward %v: exit status 0, want an error", give)
		}
	}
}
