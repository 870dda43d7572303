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

type leaderView struct {
	Replica  string `json:"replica"`
	Leader   string `json:"leader"`
	Term     int64  `json:"term"`
	IsLeader bool   `json:"isLeader"`
	Known    bool   `json:"known"`
}

func TestLeaderService(t *testing.T) {
	t.Parallel()
	connString(t)
	bin := build(t, "leader-service")
	name := uniqueName(t, "leader-service")
	deleteContainers(t, name)

	ids := []string{"replica-1", "replica-2"}
	procs := make([]*proc, len(ids))
	addrs := make([]string, len(ids))
	for i, id := range ids {
		procs[i] = start(t, id, bin, "--addr", "127.0.0.1:0", "--id", id, "--container", name, "--poll", "500ms")
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

	client := &http.Client{Timeout: 2 * time.Second}
	get := func(addr, path string) (int, []byte) {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Logf("GET %s%s: %v", addr, path, err)
			return 0, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	var views [2]leaderView
	eventually(t, 100, 200*time.Millisecond, "both replicas to agree on one leader", func() bool {
		for i, addr := range addrs {
			code, body := get(addr, "/leader")
			if code != http.StatusOK || json.Unmarshal(body, &views[i]) != nil {
				return false
			}
		}
		a, b := views[0], views[1]
		return a.Known && b.Known && a.Leader != "" && a.Leader == b.Leader && a.Term == b.Term &&
			a.IsLeader != b.IsLeader && (a.IsLeader == (a.Leader == a.Replica))
	})
	t.Logf("leader: %s, term %d", views[0].Leader, views[0].Term)
	for i, addr := range addrs {
		if code, body := get(addr, "/healthz"); code != http.StatusOK {
			t.Errorf("%s: GET /healthz = %d %q, want 200", ids[i], code, body)
		}
	}
	for i, p := range procs {
		if err := p.stop(syscall.SIGTERM, 20*time.Second); err != nil {
			t.Errorf("%s after SIGTERM: %v, want exit status 0", ids[i], err)
		}
	}
}

func TestLeaderServiceBadFlags(t *testing.T) {
	t.Parallel()
	bin := build(t, "leader-service")
	tests := []struct {
		give []string
		want string
	}{
		{give: []string{"--addr", "0.0.0.0:8080"}, want: "want a loopback host"},
		{give: []string{"--addr", "nope"}, want: "want host:port"},
		{give: []string{"--work", "0s"}, want: "--work 0s"},
		{give: []string{"--lease", "5s"}, want: "lease duration 5s"},
	}
	for _, tt := range tests {
		p := start(t, "leader-service", bin, tt.give...)
		err := p.wait(10 * time.Second)
		if err == nil {
			t.Errorf("leader-service %v: exit status 0, want an error", tt.give)
			continue
		}
		if out := p.output(); len(out) != 1 || !strings.Contains(out[0], tt.want) {
			t.Errorf("leader-service %v: output %q, want one line containing %q", tt.give, out, tt.want)
		}
	}
}
