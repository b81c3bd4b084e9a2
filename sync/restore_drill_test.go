package sync_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/internal/servertest"
)

// TestRestoreDrill is the restore drill of issue 15 (item 2), the way a
// region's operations team runs it, on the real server binary: a
// connected desktop writes notes while `mottagning-server backup` runs
// against the live server; the server is stopped (the machine is lost);
// meanwhile the desktop keeps working offline; `restore` puts the archive
// on another data directory, with the server key from the archive; the
// restored server starts on the same address with the same certificate,
// so the same pinned desktop connects without a re-pin. Its staff member
// signs in again (restore rotates the token key: old tokens stop), its
// offline work is pushed, and a new desktop's cold sync from the restored
// server holds every note acknowledged before the backup began and every
// note made offline: nothing acknowledged before the backup, and nothing
// queued, is lost.
func TestRestoreDrill(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds and runs the server binary")
	}
	bin := servertest.Binary(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dataA, keyA := t.TempDir(), filepath.Join(t.TempDir(), "data-key")
	a := startServerProc(t, bin, "--addr", addr, "--data", dataA, "--demo", "--key-file", keyA)
	url := "https://" + addr

	d := newDesktopAt(t, url, a.fp, "", nil)
	signInAnna(t, d)
	d.mustSync()
	caseID := openCaseOf(t, d)

	// Notes while the backup runs; those acknowledged (pushed and
	// answered) before it began must survive.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var mu stdsync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg stdsync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			text := fmt.Sprintf("Anteckning %d före återställningen.", i)
			if err := d.cases.AddNote(d.ctx, d.sess, caseID, text); err != nil {
				t.Errorf("note: %v", err)
				return
			}
			if err := d.sync(); err == nil && pending(d) == 0 {
				mu.Lock()
				acked = append(acked, text)
				mu.Unlock()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	archive := filepath.Join(t.TempDir(), "backup.age")
	if out, err := exec.Command(bin, "backup", "--data", dataA, "--out", archive, "--recipient", id.Recipient().String()).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(before) == 0 {
		t.Fatal("no note acknowledged before the backup")
	}
	a.stop(t)

	// Offline work while the server is down.
	offline := []string{"Ringde patienten medan servern låg nere.", "Patienten kommer på torsdag."}
	for _, text := range offline {
		if err := d.cases.AddNote(d.ctx, d.sess, caseID, text); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.sync(); err == nil {
		t.Fatal("sync succeeded with the server down")
	}

	// Restore on another data directory, the key from the archive.
	dataB, keyB := t.TempDir(), filepath.Join(t.TempDir(), "restored-key")
	identity := filepath.Join(t.TempDir(), "identity.txt")
	os.WriteFile(identity, []byte(id.String()+"\n"), 0o600)
	if out, err := exec.Command(bin, "restore", "--data", dataB, "--in", archive, "--identity", identity, "--key-file", keyB).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	b := startServerProc(t, bin, "--addr", addr, "--data", dataB, "--key-file", keyB)
	defer b.stop(t)
	if b.fp != a.fp {
		t.Fatalf("the restored server's fingerprint %s differs from %s: every pinned desktop would refuse it", b.fp, a.fp)
	}

	// The same desktop: its token is refused (the key is new), its
	// staff member signs in again, the offline notes go up.
	if err := d.sync(); err == nil {
		t.Error("a token from before the restore still works")
	}
	signInAnna(t, d)
	deadline := time.Now().Add(20 * time.Second)
	for pending(d) > 0 && time.Now().Before(deadline) {
		if err := d.sync(); err != nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if n := pending(d); n != 0 {
		t.Fatalf("%d changes still queued on the desktop after the restore", n)
	}

	// What the restored server holds, through a new desktop's cold sync.
	fresh := newDesktopAt(t, url, b.fp, "", nil)
	signInAnna(t, fresh)
	fresh.mustSync()
	th, err := fresh.store.Thread(fresh.ctx, caseID)
	if err != nil {
		t.Fatalf("the case on the restored server: %v", err)
	}
	have := map[string]bool{}
	for _, n := range th.Notes {
		have[n.Text] = true
	}
	for _, text := range append(before, offline...) {
		if !have[text] {
			t.Errorf("lost in the restore: %q", text)
		}
	}
	t.Logf("%d notes acknowledged before the backup, %d offline; the restored case has %d notes", len(before), len(offline), len(th.Notes))
}

func pending(d *desktop) int {
	n, err := d.store.PendingCount(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

// signInAnna signs the demo ärendehanterare anna in on d (online) and
// points the session at a clinic where she handles cases.
func signInAnna(t *testing.T, d *desktop) {
	t.Helper()
	got, err := d.auth.SignIn(d.ctx, "anna", demo.Password("anna"))
	if err != nil {
		t.Fatalf("sign in anna: %v", err)
	}
	clinic := d.sess.ClinicID
	if clinic == "" {
		for c, roles := range got.Roles {
			for _, r := range roles {
				if r == app.RoleCaseHandler || r == app.RoleCaseReceiver {
					clinic = c
				}
			}
		}
	}
	st := *got
	d.signIn(&st, clinic)
}

// openCaseOf returns a case of the desktop's clinic that is not closed.
func openCaseOf(t *testing.T, d *desktop) app.ID {
	t.Helper()
	page, err := d.store.ListCases(d.ctx, app.CaseQuery{ClinicID: d.sess.ClinicID, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Cases {
		if c.Status != app.StatusClosed {
			if _, err := d.cases.OpenCase(d.ctx, d.sess, c.ID); err == nil {
				return c.ID
			}
		}
	}
	t.Fatal("no open case the desktop's staff member may see")
	return ""
}

// serverProc is a running mottagning-server.
type serverProc struct {
	cmd    *exec.Cmd
	fp     string
	exited chan struct{}
	log    *strings.Builder
	mu     *stdsync.Mutex
}

// startServerProc starts the binary and waits for its listening line.
func startServerProc(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, exited: make(chan struct{}), log: &strings.Builder{}, mu: &stdsync.Mutex{}}
	go func() { _ = cmd.Wait(); pw.Close(); close(p.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.exited })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := stdsync.OnceFunc(func() { close(ready) })
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			var rec struct{ Msg, Fingerprint_SHA256 string }
			if json.Unmarshal([]byte(line), &rec) == nil {
				if rec.Msg == "tls" {
					p.fp = rec.Fingerprint_SHA256
				}
				if rec.Msg == "listening" {
					once()
				}
			}
			p.mu.Unlock()
		}
		once()
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start\n%s", p.output())
	}
	if p.fp == "" {
		t.Fatalf("server did not start or logged no fingerprint\n%s", p.output())
	}
	return p
}

func (p *serverProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *serverProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not stop\n%s", p.output())
	}
}
