package leasetest

import (
	"maps"
	"testing"
	"time"

	"github.com/leasehold/leasehold/renewer"
)

// scenarios are the conformance cases beyond the state table: metadata,
// last-modified, input checks, infinite leases and timing.
func scenarios() []group {
	return []group{
		{name: "metadata", cases: metadataCases()},
		{name: "last_modified", cases: []testCase{
			{name: "lease_actions_keep_it_set_metadata_advances_it", run: lastModified},
		}},
		{name: "invalid_input", cases: invalidInputCases()},
		{name: "infinite", cases: infiniteCases()},
		{name: "timing", cases: timingCases()},
	}
}

func metadataCases() []testCase {
	return []testCase{
		{name: "round_trip_lower_cases_keys", run: func(t *testing.T, l renewer.Leaser) {
			mustSetMetadata(t, l, "", map[string]string{"Holder": "x", "term_2": "7"})
			wantMetadata(t, l, map[string]string{"holder": "x", "term_2": "7"})
		}},
		{name: "read_modify_write_under_lease_keeps_other_keys", run: func(t *testing.T, l renewer.Leaser) {
			mustSetMetadata(t, l, "", map[string]string{"other": "keep"})
			mustAcquire(t, l, idA, 15*time.Second)
			md := props(t, l).Metadata
			md["term"] = "1"
			mustSetMetadata(t, l, idA, md)
			wantMetadata(t, l, map[string]string{"other": "keep", "term": "1"})
		}},
		{name: "write_replaces_all_and_nil_clears", run: func(t *testing.T, l renewer.Leaser) {
			mustSetMetadata(t, l, "", map[string]string{"a": "1"})
			mustSetMetadata(t, l, "", map[string]string{"b": "2"})
			wantMetadata(t, l, map[string]string{"b": "2"})
			mustSetMetadata(t, l, "", nil)
			wantMetadata(t, l, map[string]string{})
		}},
		{name: "name_not_an_identifier_is_bad_request", run: func(t *testing.T, l renewer.Leaser) {
			mustSetMetadata(t, l, "", map[string]string{"a": "1"})
			err := l.SetMetadata(callCtx(t), "", map[string]string{"holder-id": "x"})
			wantErr(t, `SetMetadata("", {holder-id: x})`, err, renewer.ErrBadRequest)
			wantMetadata(t, l, map[string]string{"a": "1"})
		}},
	}
}

func wantMetadata(t *testing.T, l renewer.Leaser, want map[string]string) {
	t.Helper()
	if got := props(t, l).Metadata; !maps.Equal(got, want) {
		t.Errorf("metadata = %v, want %v", got, want)
	}
}

// lastModified checks that lease actions leave Last-Modified alone and a
// metadata write advances it. Last-Modified has one-second resolution, so
// the case waits just over a second before the actions.
func lastModified(t *testing.T, l renewer.Leaser) {
	p0 := props(t, l)
	time.Sleep(1100 * time.Millisecond)
	mustAcquire(t, l, idA, 15*time.Second)
	if _, err := l.Renew(callCtx(t), idA); err != nil {
		t.Fatalf("Renew(A): %v", err)
	}
	if _, err := l.Change(callCtx(t), idA, idC); err != nil {
		t.Fatalf("Change(A, C): %v", err)
	}
	mustBreak(t, l, 10*time.Second)
	if err := l.Release(callCtx(t), idC); err != nil {
		t.Fatalf("Release(C): %v", err)
	}
	p1 := props(t, l)
	if !p1.LastModified.Equal(p0.LastModified) {
		t.Errorf("after lease actions, LastModified = %v, want %v as before", p1.LastModified, p0.LastModified)
	}
	if !p1.Date.After(p0.Date) {
		t.Errorf("Date %v a second after Date %v, want later", p1.Date, p0.Date)
	}
	mustSetMetadata(t, l, "", map[string]string{"k": "v"})
	p2 := props(t, l)
	if !p2.LastModified.After(p0.LastModified) {
		t.Errorf("after SetMetadata, LastModified = %v, want after %v", p2.LastModified, p0.LastModified)
	}
	if p2.LastModified.After(p2.Date) {
		t.Errorf("LastModified %v is after Date %v", p2.LastModified, p2.Date)
	}
}

func invalidInputCases() []testCase {
	tests := []struct {
		name  string
		start renewer.LeaseState
		give  action
	}{
		{name: "acquire_0s", start: available, give: acquire(idA, 0, "acquire_A_0s")},
		{name: "acquire_14s", start: available, give: acquire(idA, 14*time.Second, "acquire_A_14s")},
		{name: "acquire_61s", start: available, give: acquire(idA, 61*time.Second, "acquire_A_61s")},
		{name: "acquire_14s_own_lease", start: leased, give: acquire(idA, 14*time.Second, "acquire_A_14s")},
		{name: "break_61s", start: leased, give: breakLease(61*time.Second, "break_61s")},
	}
	var cases []testCase
	for _, tt := range tests {
		cases = append(cases, testCase{name: tt.name, run: func(t *testing.T, l renewer.Leaser) {
			drive(t, l, tt.start)
			checkCell(t, l, tt.give, []outcome{refused(renewer.ErrBadRequest, tt.start)})
		}})
	}
	return cases
}

func infiniteCases() []testCase {
	return []testCase{
		{name: "does_not_expire", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, renewer.Infinite)
			time.Sleep(16 * time.Second)
			if p := props(t, l); p.State != leased || !p.Infinite {
				t.Errorf("16 s after acquire(A, Infinite): state %v, infinite %v; want leased, true", p.State, p.Infinite)
			}
			checkCell(t, l, renew(idA, "renew_A"), []outcome{leasedTo(idA)})
		}},
		{name: "break_10s_breaks_for_10s", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, renewer.Infinite)
			checkCell(t, l, breakLease(10*time.Second, "break_10s"), []outcome{breakingFor(10 * time.Second)})
			time.Sleep(11 * time.Second)
			wantState(t, l, broken)
		}},
		{name: "break_at_expiry_breaks_at_once", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, renewer.Infinite)
			checkCell(t, l, breakLease(renewer.BreakAtExpiry, "break_at_expiry"), []outcome{done(broken)})
		}},
	}
}

func timingCases() []testCase {
	return []testCase{
		{name: "fixed_lease_lasts_its_duration", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, 15*time.Second)
			time.Sleep(13 * time.Second)
			wantState(t, l, leased)
			time.Sleep(3 * time.Second)
			wantState(t, l, expired)
		}},
		{name: "acquire_restarts_the_duration", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, 15*time.Second)
			time.Sleep(8 * time.Second)
			mustAcquire(t, l, idA, 15*time.Second)
			time.Sleep(10 * time.Second)
			wantState(t, l, leased)
		}},
		{name: "renew_restarts_the_duration", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, 15*time.Second)
			time.Sleep(8 * time.Second)
			checkCell(t, l, renew(idA, "renew_A"), []outcome{leasedTo(idA)})
			time.Sleep(10 * time.Second)
			wantState(t, l, leased)
		}},
		{name: "break_completes_then_another_acquires", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, 60*time.Second)
			checkCell(t, l, breakLease(5*time.Second, "break_5s"), []outcome{breakingFor(5 * time.Second)})
			time.Sleep(6 * time.Second)
			wantState(t, l, broken)
			checkCell(t, l, acquire(idB, 15*time.Second, "acquire_B"), []outcome{leasedTo(idB)})
		}},
		{name: "change_hands_the_lease_to_the_new_id", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, 15*time.Second)
			checkCell(t, l, change(idA, idC, "change_A_to_C"), []outcome{leasedTo(idC)})
			checkCell(t, l, renew(idC, "renew_C"), []outcome{leasedTo(idC)})
			checkCell(t, l, renew(idA, "renew_A"), []outcome{{err: renewer.ErrNoLease, state: leased, holder: idC}})
		}},
		{name: "release_then_another_acquires_at_once", run: func(t *testing.T, l renewer.Leaser) {
			mustAcquire(t, l, idA, 15*time.Second)
			checkCell(t, l, release(idA, "release_A"), []outcome{done(available)})
			checkCell(t, l, acquire(idB, 15*time.Second, "acquire_B"), []outcome{leasedTo(idB)})
		}},
	}
}
