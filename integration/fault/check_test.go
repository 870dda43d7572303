package fault_test

import (
	"testing"
	"time"

	"github.com/leasehold/leasehold/integration/fault"
)

const s = int64(time.Second)

func kinds(vs []fault.Violation) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		m[v.Kind]++
	}
	return m
}

func TestCheckFindsViolations(t *testing.T) {
	tests := []struct {
		name string
		give []fault.Event
		opts fault.CheckOptions
		want map[string]int
	}{
		{
			name: "clean handover",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "fence", Kind: fault.KindFenced, Term: 1, T: 2 * s, Seq: 1, Accepted: true},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 5 * s, Deadline: 6 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 2, T: 7 * s},
				{Proc: "fence", Kind: fault.KindFenced, Term: 2, T: 8 * s, Seq: 2, Accepted: true},
				{Proc: "fence", Kind: fault.KindFenced, Term: 1, T: 9 * s, Seq: 3, Accepted: false},
			},
			want: map[string]int{},
		},
		{
			name: "overlap and out-of-order accepted write",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 2, T: 3 * s},
				{Proc: "fence", Kind: fault.KindFenced, Term: 2, T: 4 * s, Seq: 1, Accepted: true},
				{Proc: "fence", Kind: fault.KindFenced, Term: 1, T: 4 * s, Seq: 2, Accepted: true},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 5 * s},
				{Proc: "b", Kind: fault.KindLost, Term: 2, T: 9 * s},
			},
			want: map[string]int{"overlap": 1, "fence-order": 1},
		},
		{
			name: "loss seen after the deadline, and a duplicate term",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 8 * s, Deadline: 6 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 1, T: 9 * s},
			},
			want: map[string]int{"late-loss": 1, "duplicate-term": 1},
		},
		{
			name: "paused holder cancelled promptly on resume is the known limit",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindPaused, T: 2 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 2, T: 18 * s},
				{Proc: "a", Kind: fault.KindResumed, T: 22 * s},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 22*s + s/10, Deadline: 13 * s},
			},
			want: map[string]int{},
		},
		{
			name: "paused holder slow to notice after resume",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindPaused, T: 2 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 2, T: 18 * s},
				{Proc: "a", Kind: fault.KindResumed, T: 22 * s},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 25 * s, Deadline: 13 * s},
			},
			want: map[string]int{"overlap": 1, "late-loss": 1},
		},
		{
			name: "storage forgot the lease: overlap until the next renew is excused",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "harness", Kind: fault.KindStorageRestart, T: 5 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 2, T: 6 * s},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 7 * s},
			},
			want: map[string]int{},
		},
		{
			name: "storage forgot the lease, and the old holder never noticed",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "harness", Kind: fault.KindStorageRestart, T: 5 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 2, T: 6 * s},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 30 * s},
			},
			want: map[string]int{"overlap": 1},
		},
		{
			name: "terms went backwards: a late term write rewrote the term in storage",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindLost, Term: 1, T: 2 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 3, T: 3 * s},
				{Proc: "b", Kind: fault.KindLost, Term: 3, T: 4 * s},
				{Proc: "a", Kind: fault.KindElected, Term: 2, T: 5 * s},
				{Proc: "a", Kind: fault.KindLost, Term: 2, T: 6 * s},
			},
			want: map[string]int{"term-order": 1},
		},
		{
			name: "a follower saw the term go down",
			give: []fault.Event{
				{Proc: "c", Kind: fault.KindObserved, Leader: "a", Term: 1, T: 1 * s},
				{Proc: "c", Kind: fault.KindObserved, Leader: "b", Term: 3, T: 2 * s},
				{Proc: "c", Kind: fault.KindObserved, T: 3 * s},
				{Proc: "c", Kind: fault.KindObserved, Leader: "a", Term: 2, T: 4 * s},
			},
			want: map[string]int{"observed-term-order": 1},
		},
		{
			name: "followers see terms rise, with no leader in between",
			give: []fault.Event{
				{Proc: "c", Kind: fault.KindObserved, Leader: "a", Term: 1, T: 1 * s},
				{Proc: "d", Kind: fault.KindObserved, Leader: "b", Term: 2, T: 2 * s},
				{Proc: "c", Kind: fault.KindObserved, T: 3 * s},
				{Proc: "c", Kind: fault.KindObserved, Leader: "b", Term: 2, T: 4 * s},
				{Proc: "d", Kind: fault.KindObserved, Leader: "b", Term: 2, T: 5 * s},
			},
			want: map[string]int{},
		},
		{
			name: "killed holder's term ends at the kill",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindKilled, T: 2 * s},
				{Proc: "b", Kind: fault.KindElected, Term: 2, T: 18 * s},
			},
			want: map[string]int{},
		},
		// Semaphore slots and shard partitions: keyed resources.
		{
			name: "two slots held at once, each handed over, terms per slot",
			opts: fault.CheckOptions{Capacity: 2},
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Key: "slot-0", Term: 1, T: 1 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "slot-1", Term: 1, T: 2 * s},
				{Proc: "fence", Kind: fault.KindFenced, Key: "slot-0", Term: 1, T: 3 * s, Seq: 1, Accepted: true},
				{Proc: "fence", Kind: fault.KindFenced, Key: "slot-1", Term: 1, T: 3 * s, Seq: 2, Accepted: true},
				{Proc: "a", Kind: fault.KindLost, Key: "slot-0", Term: 1, T: 4 * s, Deadline: 5 * s},
				{Proc: "c", Kind: fault.KindElected, Key: "slot-0", Term: 2, T: 4 * s},
				{Proc: "fence", Kind: fault.KindFenced, Key: "slot-0", Term: 2, T: 5 * s, Seq: 3, Accepted: true},
				{Proc: "b", Kind: fault.KindKilled, T: 6 * s},
				{Proc: "a", Kind: fault.KindElected, Key: "slot-1", Term: 2, T: 22 * s},
			},
			want: map[string]int{},
		},
		{
			name: "a third holder of a two-slot semaphore",
			opts: fault.CheckOptions{Capacity: 2},
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Key: "slot-0", Term: 1, T: 1 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "slot-1", Term: 1, T: 2 * s},
				{Proc: "c", Kind: fault.KindElected, Key: "slot-2", Term: 1, T: 3 * s},
				{Proc: "a", Kind: fault.KindLost, Key: "slot-0", Term: 1, T: 4 * s},
				{Proc: "b", Kind: fault.KindLost, Key: "slot-1", Term: 1, T: 5 * s},
				{Proc: "a", Kind: fault.KindElected, Key: "slot-0", Term: 2, T: 6 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "slot-1", Term: 2, T: 7 * s},
				{Proc: "c", Kind: fault.KindLost, Key: "slot-2", Term: 1, T: 8 * s},
				{Proc: "a", Kind: fault.KindLost, Key: "slot-0", Term: 2, T: 9 * s},
				{Proc: "b", Kind: fault.KindLost, Key: "slot-1", Term: 2, T: 9 * s},
			},
			want: map[string]int{"over-capacity": 2},
		},
		{
			name: "a paused slot holder counts until its pause",
			opts: fault.CheckOptions{Capacity: 1},
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Key: "slot-0", Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindPaused, T: 2 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "slot-0", Term: 2, T: 18 * s},
				{Proc: "a", Kind: fault.KindResumed, T: 22 * s},
				{Proc: "a", Kind: fault.KindLost, Key: "slot-0", Term: 1, T: 22*s + s/10, Deadline: 13 * s},
			},
			want: map[string]int{},
		},
		{
			name: "two owners of a partition, its term going back, its fence out of order",
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Key: "p0", Term: 3, T: 1 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "p1", Term: 3, T: 1 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "p0", Term: 2, T: 2 * s},
				{Proc: "fence", Kind: fault.KindFenced, Key: "p0", Term: 3, T: 3 * s, Seq: 1, Accepted: true},
				{Proc: "fence", Kind: fault.KindFenced, Key: "p1", Term: 3, T: 3 * s, Seq: 2, Accepted: true},
				{Proc: "fence", Kind: fault.KindFenced, Key: "p0", Term: 2, T: 3 * s, Seq: 3, Accepted: true},
				{Proc: "b", Kind: fault.KindElected, Key: "p2", Term: 1, T: 3 * s},
				{Proc: "c", Kind: fault.KindElected, Key: "p2", Term: 1, T: 4 * s},
				{Proc: "a", Kind: fault.KindLost, Key: "p0", Term: 3, T: 5 * s, Deadline: 4 * s},
				{Proc: "b", Kind: fault.KindLost, Key: "p2", Term: 1, T: 6 * s},
			},
			want: map[string]int{"overlap": 2, "term-order": 1, "fence-order": 1, "duplicate-term": 1, "late-loss": 1},
		},
		{
			name: "a killed member's partitions owned again in time",
			opts: fault.CheckOptions{Reown: 19 * time.Second},
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Key: "p0", Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindElected, Key: "p1", Term: 1, T: 1 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "p2", Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindKilled, T: 2 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "p0", Term: 2, T: 17 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "p1", Term: 2, T: 18 * s},
			},
			want: map[string]int{},
		},
		{
			name: "a killed member's partitions owned again late, or never",
			opts: fault.CheckOptions{Reown: 19 * time.Second},
			give: []fault.Event{
				{Proc: "a", Kind: fault.KindElected, Key: "p0", Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindElected, Key: "p1", Term: 1, T: 1 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "p2", Term: 1, T: 1 * s},
				{Proc: "a", Kind: fault.KindKilled, T: 2 * s},
				{Proc: "b", Kind: fault.KindElected, Key: "p0", Term: 2, T: 30 * s},
				{Proc: "b", Kind: fault.KindLost, Key: "p2", Term: 1, T: 31 * s},
			},
			want: map[string]int{"unowned": 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := fault.Check(tt.give, tt.opts)
			got := kinds(rep.Violations)
			if len(got) != len(tt.want) {
				t.Fatalf("violations %v, want kinds %v", rep.Violations, tt.want)
			}
			for k, n := range tt.want {
				if got[k] != n {
					t.Errorf("%s: %d, want %d (all: %v)", k, got[k], n, rep.Violations)
				}
			}
		})
	}
}

func TestCheckCountsLateWrites(t *testing.T) {
	rep := fault.Check([]fault.Event{
		{Proc: "a", Kind: fault.KindElected, Term: 1, T: 1 * s},
		{Proc: "a", Kind: fault.KindPaused, T: 2 * s},
		{Proc: "a", Kind: fault.KindResumed, T: 20 * s},
		{Proc: "a", Kind: fault.KindWrite, Term: 1, T: 20*s + 1, End: 20*s + 2},
		{Proc: "a", Kind: fault.KindLost, Term: 1, T: 20*s + 3},
	}, fault.CheckOptions{})
	if rep.LateWrites != 1 || rep.LateAccepted != 0 {
		t.Errorf("late writes %d accepted %d, want 1 and 0", rep.LateWrites, rep.LateAccepted)
	}
}
