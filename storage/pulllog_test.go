package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"mottagning/app"
)

// appendLinkJSON writes what encoding/json writes, or declines.
func TestAppendLinkJSON_AsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("CET", 3600))
	prev := bytes.Repeat([]byte{0xfb, 0x01}, 16)
	base := app.ChainLink{Seq: 18446744073709551615, Prev: prev, Entry: app.AccessEntry{ID: "01JABCDEFGHJKMNPQRSTVWXYZ0", At: at,
		StaffID: "s1", ClinicID: "k1", ResidentID: "r1", CaseID: "c1", Action: app.AccessSyncPull, Device: "d1"}}
	for i, mod := range []func(l *app.ChainLink){
		func(*app.ChainLink) {},
		func(l *app.ChainLink) { l.Entry.Device = "" },
		func(l *app.ChainLink) { l.Entry.StaffID, l.Entry.ClinicID, l.Entry.CaseID = "", "", "" },
		func(l *app.ChainLink) { l.Seq, l.Entry.At = 1, time.Time{} },
		func(l *app.ChainLink) { l.Entry.At = at.UTC().Truncate(time.Second) },
		func(l *app.ChainLink) { l.Entry.ResidentID = "r<1>&\"\\\x01ö" },
		func(l *app.ChainLink) { l.Entry.Device = "d\u2028" },
		func(l *app.ChainLink) { l.Prev = nil },
		func(l *app.ChainLink) { l.Entry.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		l := base
		mod(&l)
		want, wantErr := json.Marshal(&l)
		got, ok := appendLinkJSON(nil, &l)
		if !ok {
			continue // encoding/json writes it (or refuses it)
		}
		if wantErr != nil || !bytes.Equal(got, want) {
			t.Errorf("link %d:\n got %s\nwant %s (%v)", i, got, want, wantErr)
		}
	}
	if _, ok := appendLinkJSON(nil, &base); !ok {
		t.Fatal("a plain link goes the slow way")
	}
}

// RecordPulled records a case once per device and version, in one
// transaction per call, and the chain verifies after it.
func TestRecordPulled_OncePerDeviceCaseVersion(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{CheckpointEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	st := &app.Staff{ID: "s1", Roles: map[app.ID][]app.Role{"k1": {app.RoleCaseReceiver}}}
	page := func(versions ...uint64) []app.PulledThread {
		var out []app.PulledThread
		for i, v := range versions {
			var pt app.PulledThread
			pt.Case = app.Case{ID: app.ID(rune('a' + i)), ClinicID: "k1", ResidentID: "r1", Version: v}
			out = append(out, pt)
		}
		return out
	}
	record := func(device app.ID, threads []app.PulledThread) int {
		t.Helper()
		scope := app.NewPullScope(st, device)
		n, err := s.RecordPulled(ctx, scope.Holder(), scope.PullAccesses(now, threads))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name   string
		device app.ID
		page   []app.PulledThread
		want   int
	}{
		{"first page", "d1", page(1, 1, 1, 0), 4},
		{"the same page again", "d1", page(1, 1, 1, 0), 0},
		{"case a changed", "d1", page(2, 1, 1, 0), 1},
		{"an older page of a", "d1", page(1), 0},
		{"another device", "d2", page(2, 1, 1, 0), 4},
		{"no device: by staff", "", page(2), 1},
		{"no device again", "", page(2), 0},
		{"nothing", "d1", nil, 0},
	} {
		if n := record(tc.device, tc.page); n != tc.want {
			t.Errorf("%s: recorded %d, want %d", tc.name, n, tc.want)
		}
	}
	all, err := s.Entries(ctx, "k1", time.Time{}, now.Add(time.Hour))
	if err != nil || len(all) != 10 {
		t.Fatalf("%d entries, %v; want 10", len(all), err)
	}
	for _, e := range all {
		if e.Action != app.AccessSyncPull || e.StaffID != "s1" || e.ResidentID != "r1" || (e.Device != "d1" && e.Device != "d2" && e.Device != "") {
			t.Errorf("entry %+v", e)
		}
	}
	rep, err := s.VerifyAccessLog(ctx)
	if err != nil || !rep.OK() || rep.Entries != 10 {
		t.Fatalf("chain: %v %+v", err, rep)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordPulled(ctx, "", app.NewPullScope(st, "d1").PullAccesses(now, page(1))); err == nil {
		t.Fatal("a record without a holder")
	}
}

// RecordChangesSince returns a page only with its cases recorded, in
// chunks while the page is read, and a page read again records nothing.
func TestRecordChangesSince_RecordsWhatThePageCarries(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetChangeFeed(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.PutResident(ctx, &app.Resident{ID: "r1"}); err != nil {
		t.Fatal(err)
	}
	var ts []app.Thread
	for i := range 2*recordChunk + 17 {
		clinic := app.ID("k1")
		if i%3 == 0 {
			clinic = "k2"
		}
		ts = append(ts, newThread(clinic, "r1", "", app.StatusNew, now, "Hej"))
	}
	if err := s.ImportThreads(ctx, ts); err != nil {
		t.Fatal(err)
	}
	st := &app.Staff{ID: "s1", Roles: map[app.ID][]app.Role{"k1": {app.RoleCaseReceiver}}}
	scope := app.NewPullScope(st, "d1")
	count := func() int {
		es, err := s.Entries(ctx, "k1", time.Time{}, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	for _, raw := range []bool{true, false} {
		page, _, more, err := s.RecordChangesSince(ctx, 0, 2000, scope, raw, nil)
		if err != nil || more {
			t.Fatalf("raw=%v: %v, more %v", raw, err, more)
		}
		want := 0
		for _, th := range ts {
			if th.Case.ClinicID == "k1" {
				want++
			}
		}
		if len(page.Threads) != want {
			t.Fatalf("raw=%v: %d cases, want %d", raw, len(page.Threads), want)
		}
		if n := count(); n != want {
			t.Fatalf("raw=%v: %d entries for %d cases sent", raw, n, want)
		}
	}
	if _, _, _, err := s.RecordChangesSince(ctx, 0, 10, app.NewPullScope(nil, ""), true, nil); err == nil {
		t.Fatal("a page for nobody's device")
	}
	rep, err := s.VerifyAccessLog(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("chain: %v %+v", err, rep.Break)
	}
}
