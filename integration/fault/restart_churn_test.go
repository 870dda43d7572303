package fault_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/integration/fault"
)

// Scenario 6b: Azurite, with disk persistence, stopped and started again
// under the candidates (a clean stop, or a crash with SIGKILL).
func TestAzuriteRestart(t *testing.T) {
	t.Parallel()
	_, bin := env(t)
	n := runs(1, 4)
	for i := 1; i <= n; i++ {
		kill := i%2 == 0
		t.Run(fmt.Sprintf("run-%d-kill=%v", i, kill), func(t *testing.T) {
			a := fault.StartAzurite(t)
			s := fault.NewScenario(t, bin, proxies, a.ConnString(), "restart", timing)
			startElection(t, s, 3)
			time.Sleep(2 * time.Second)
			a.Stop(kill)
			time.Sleep(3 * time.Second)
			restarted := fault.Now()
			s.Record(fault.Event{Proc: "azurite", Kind: fault.KindStorageRestart, T: restarted})
			a.Start()
			limit := timing.Duration + timing.Poll + 2*slack
			if _, ok := s.WaitFor(restarted, limit, func(e fault.Event) bool {
				return e.Kind == fault.KindFenced && e.Accepted
			}); !ok {
				t.Errorf("no leader writing within %v of the restart", limit)
			}
			time.Sleep(2 * time.Second)
			rep := s.Finish()
			record("6b azurite restart", rep, 0)
			t.Logf("terms %d, violations %d, overlaps because Azurite forgot the lease %d",
				len(rep.Intervals), len(rep.Violations), rep.StorageLossOverlaps)
		})
	}
}

// Scenario 7: churn. Election candidates and mutex holders on their own
// containers, resigning, crashing (kill -9) and restarting at random.
func TestChurn(t *testing.T) {
	t.Parallel()
	cs, bin := env(t)
	contenders, length := 10, 45*time.Second
	if *soak {
		contenders, length = 16, 4*time.Minute
	}
	for _, mode := range []string{"election", "mutex"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := fault.NewScenario(t, bin, proxies, cs, "churn-"+mode[:3], timing)
			gen := map[string]int{}
			live := make([]string, 0, contenders)
			for i := 1; i <= contenders; i++ {
				id := fmt.Sprintf("p%d", i)
				s.Start(id+".1", mode)
				gen[id] = 1
				live = append(live, id)
			}
			end := time.Now().Add(length)
			crashes, resigns, restarts := 0, 0, 0
			for step := 0; step < 10000 && time.Now().Before(end); step++ {
				time.Sleep(time.Duration(500+rand.IntN(2000)) * time.Millisecond)
				id := live[rand.IntN(len(live))]
				p := s.Proc(fmt.Sprintf("%s.%d", id, gen[id]))
				if h := s.Holder(); h != "" && rand.IntN(2) == 0 {
					p = s.Proc(h) // half the time, hit the holder
					id, _, _ = strings.Cut(h, ".")
				}
				switch r := rand.IntN(10); {
				case r < 4:
					p.Resign()
					resigns++
				case r < 7:
					p.Kill()
					crashes++
					gen[id]++
					s.Start(fmt.Sprintf("%s.%d", id, gen[id]), mode)
				default:
					p.Stop()
					restarts++
					gen[id]++
					s.Start(fmt.Sprintf("%s.%d", id, gen[id]), mode)
				}
			}
			rep := s.Finish()
			record("7 churn "+mode, rep, 0)
			t.Logf("%d contenders for %v: %d crashes, %d resigns, %d restarts, %d terms, %d violations",
				contenders, length, crashes, resigns, restarts, len(rep.Intervals), len(rep.Violations))
			if len(rep.Intervals) < 3 {
				t.Errorf("only %d terms in %v of churn: liveness", len(rep.Intervals), length)
			}
		})
	}
}
