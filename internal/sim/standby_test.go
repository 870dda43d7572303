package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/sim"
)

// TestSimCoversStandbys runs the first seeds of each standby mode with a
// trace and wants to see what the modes are for: the next-in-line lease
// changing hands (taken by more than one process in a seed), and, only in
// heartbeat seeds, heartbeat-guided bursts (a process reading the lock
// four times in a row about 250 ms apart, which no other poller of the
// simulation does: the other seeds show none, so the detector does not
// count any poll as a burst).
func TestSimCoversStandbys(t *testing.T) {
	var changes, bursts, plainBursts, seen [3]int
	for seed := uint64(1); seed <= 40; seed++ {
		mode := sim.NewPlan(seed).Standby
		if seen[mode] >= 4 {
			continue
		}
		seen[mode]++
		var lines []string
		runSeed(t, seed, sim.Options{Trace: func(l string) { lines = append(lines, l) }})
		takers := map[string]bool{}
		reads := map[string][]time.Duration{} // process -> send times of its reads of the lock
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 7 {
				continue
			}
			proc := strings.Split(f[1], "/")[0]
			if strings.Contains(l, " next-in-line acquire sent at ") && strings.Contains(l, "applied: <nil>") {
				takers[proc] = true
			}
			if f[2] == "properties" && f[3] == "sent" {
				if d, err := time.ParseDuration(f[5]); err == nil {
					reads[proc] = append(reads[proc], d)
				}
			}
		}
		if len(takers) > 1 {
			changes[mode] += len(takers) - 1
		}
		for _, ts := range reads {
			run := 0 // reads in a row about 250 ms apart
			for i := 1; i < len(ts); i++ {
				if gap := ts[i] - ts[i-1]; gap < 200*time.Millisecond || gap > 310*time.Millisecond {
					run = 0
					continue
				}
				if run++; run == 3 { // four reads: a burst
					if mode == sim.StandbyHeartbeats {
						bursts[mode]++
					} else {
						plainBursts[mode]++
					}
				}
			}
		}
	}
	t.Logf("seeds per mode %v; next-in-line changes %v; burst reads %v; burst-like reads elsewhere %v", seen, changes, bursts, plainBursts)
	for _, m := range []sim.StandbyMode{sim.StandbyNext, sim.StandbyHeartbeats} {
		if seen[m] == 0 || changes[m] == 0 {
			t.Errorf("%v: %d seeds, %d next-in-line changes; want some of each", m, seen[m], changes[m])
		}
	}
	if bursts[sim.StandbyHeartbeats] == 0 {
		t.Errorf("no heartbeat-guided burst in %d heartbeat seeds", seen[sim.StandbyHeartbeats])
	}
	if plainBursts != [3]int{} {
		t.Errorf("reads about 250 ms apart outside heartbeat seeds: %v; the burst detector counts other polls", plainBursts)
	}
}
