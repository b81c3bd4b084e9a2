package storage

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage/storetest"
)

// TestDiskFull fills a 2 MB tmpfs with cases. The write that does not fit
// fails with ErrDiskFull and changes nothing; every case acknowledged
// before it is still there, in the same open store and after a reopen on
// the full disk.
func TestDiskFull(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to mount a small tmpfs")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})

	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
	}()
	ds := demo.Build(testNow)
	for i := range ds.Clinics {
		if err := s.PutClinic(ctx, &ds.Clinics[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutResidents(ctx, ds.Residents); err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("Jag har haft ont i ryggen sedan i måndags och undrar om jag ska komma in. ", 30)
	var acked []app.ID
	var failed app.ID
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("10,000 cases fit on a 2 MB disk: the writes do not reach it")
		}
		th := newThread(ds.Clinics[i%2].ID, ds.Residents[i%len(ds.Residents)].ID, "", app.StatusNew, testNow, text)
		if err = s.CreateThread(ctx, &th, app.Write{}); err != nil {
			failed = th.Case.ID
			break
		}
		acked = append(acked, th.Case.ID)
	}
	t.Logf("disk full after %d cases: %v", len(acked), err)
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write on a full disk: got %v, want ErrDiskFull", err)
	}
	if len(acked) < 10 {
		t.Fatalf("only %d cases fit: the test does not show much", len(acked))
	}
	// After a failed commit the store goes on: smaller writes either fit
	// or fail the same clean way.
	refused := []app.ID{failed}
	for i := range 20 {
		th := newThread(ds.Clinics[0].ID, ds.Residents[i].ID, "", app.StatusNew, testNow, "Kort fråga.")
		switch err := s.CreateThread(ctx, &th, app.Write{}); {
		case err == nil:
			acked = append(acked, th.Case.ID)
		case errors.Is(err, ErrDiskFull):
			refused = append(refused, th.Case.ID)
		default:
			t.Fatalf("small write after a full disk: %v", err)
		}
	}
	wantCases := func(s *Store) {
		t.Helper()
		for _, id := range refused {
			if _, err := s.Case(ctx, id); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("case %s whose write failed: got %v, want ErrNotFound", id, err)
			}
		}
		for _, id := range acked {
			if _, err := s.Thread(ctx, id); err != nil {
				t.Fatalf("acknowledged case %s: %v", id, err)
			}
		}
		if err := s.Check(); err != nil {
			t.Errorf("Check: %v", err)
		}
		all := storetest.ListAll(t, s, app.CaseQuery{ClinicID: ds.Clinics[0].ID}, 500)
		all = append(all, storetest.ListAll(t, s, app.CaseQuery{ClinicID: ds.Clinics[1].ID}, 500)...)
		if len(all) != len(acked) {
			t.Errorf("the case lists hold %d cases, %d were acknowledged", len(all), len(acked))
		}
	}
	wantCases(s)

	// Closing and reopening on the full disk must work or say why.
	if err := s.Close(); err != nil {
		t.Fatalf("Close on a full disk: %v", err)
	}
	closed = true
	s2, err := Open(ctx, dir, Options{})
	if err != nil {
		if !errors.Is(err, ErrDiskFull) && !errors.Is(err, ErrUnreadable) {
			t.Fatalf("reopen on a full disk: %v (want success or a named error)", err)
		}
		t.Logf("reopen on a full disk: %v", err)
		return
	}
	defer s2.Close()
	wantCases(s2)
}
