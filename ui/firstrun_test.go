package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"mottagning/app"
	"mottagning/storage"
	msync "mottagning/sync"
)

// liveSync is a SyncStatus whose first sync a test moves by hand: the
// real engine's first pull against a real server runs in the end-to-end
// test of the root package (TestFirstRunOnNewComputer); here the screen's
// steps are checked one by one.
type liveSync struct {
	fakeSync
	mu   sync.Mutex
	subs []chan struct{}
}

func (l *liveSync) Status() msync.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

func (l *liveSync) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs = append(l.subs, ch)
	l.mu.Unlock()
	return ch, func() {}
}

func (l *liveSync) set(fn func(*msync.Status)) {
	l.mu.Lock()
	fn(&l.st)
	subs := l.subs
	l.mu.Unlock()
	for _, ch := range subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// staffAuth signs in one staff member, as the server's first online
// sign-in does on a connected desktop (sync.RemoteAuth stores them).
type staffAuth struct {
	store *storage.Store
	st    app.Staff
}

func (a staffAuth) SignIn(ctx context.Context, user, _ string) (*app.Staff, error) {
	if user != a.st.Username {
		return nil, app.ErrBadCredentials
	}
	if err := a.store.PutStaff(ctx, &a.st); err != nil {
		return nil, err
	}
	st := a.st
	return &st, nil
}

// Item 1 of issue 14 in the window: a connected desktop on a new computer
// (an empty store) shows the sign-in form, with a line saying that the
// sign-in fetches the data, not "Databasen är tom". After the sign-in it
// waits for the first pull with a progress bar, the cases so far and the
// time left, and goes on to the case lists as soon as the staff member's
// clinic is stored, while the rest of the first sync goes on.
func TestFirstRun_SignInWaitsForTheFirstPull(t *testing.T) {
	test.NewTempApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Connect(ctx, "device-new"); err != nil {
		t.Fatal(err)
	}
	clinic := app.Clinic{ID: "clinic-centrum", Name: "Vårdcentralen Centrum", Region: "Region Test"}
	anna := app.Staff{ID: "staff-anna", Name: "Anna Lindqvist", Username: "anna",
		Roles: map[app.ID][]app.Role{clinic.ID: {app.RoleCaseReceiver}}}
	sync := &liveSync{fakeSync: fakeSync{st: msync.Status{FirstSync: true}}}
	win := test.NewTempWindow(t, nil)
	win.Resize(fyne.NewSize(1200, 760))
	svc := app.NewCaseService(st, app.FixedClock(now))
	u := New(ctx, win, Deps{Directory: st, Cases: svc, Auth: staffAuth{st, anna}, Clock: app.FixedClock(now),
		IdleLock: -1, Sync: sync})
	u.tasks.wait()
	s := u.start

	if s.message.Text != L(textFirstRun) || !s.message.Visible() || !s.main.Visible() || !s.form.Visible() {
		t.Fatalf("new computer: message %q (visible %v), form visible %v", s.message.Text, s.message.Visible(), s.form.Visible())
	}
	capture(t, win, "firstrun_signin")
	s.username.SetText("anna")
	s.password.SetText("lösenord")
	test.Tap(s.signIn)
	u.tasks.wait()
	if !s.first.Visible() || s.form.Visible() || u.work != nil {
		t.Fatalf("after the sign-in: wait shown %v, form %v, workspace %v", s.first.Visible(), s.form.Visible(), u.work != nil)
	}
	if s.firstText.Text != L(textFirstStarting) {
		t.Errorf("before the first page: %q", s.firstText.Text)
	}

	// A page in: 2,000 cases in 4 s, halfway to the server's head; the
	// clinic not yet among them.
	settle := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for u.tasks.wait(); !cond(); u.tasks.wait() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sync.set(func(st *msync.Status) {
		st.FirstStarted, st.FirstCases, st.Progress = now.Add(-4*time.Second), 2000, 0.5
	})
	want := "Hämtar ärenden från servern: 2\u00a0000 hittills, cirka 4 s kvar"
	settle("the progress", func() bool { return s.firstText.Text == want })
	if s.firstBar.Value != 0.5 || u.work != nil {
		t.Errorf("progress bar %.2f, workspace %v", s.firstBar.Value, u.work != nil)
	}
	capture(t, win, "firstrun_wait")

	// The clinic arrives with the next page: the lists open, the first
	// sync still running (the status bar shows it).
	if err := st.PutClinic(ctx, &clinic); err != nil {
		t.Fatal(err)
	}
	sync.set(func(st *msync.Status) { st.FirstCases, st.Progress = 4000, 0.7 })
	settle("the case lists", func() bool { return u.work != nil })
	if u.work.clinic.ID != clinic.ID || u.work.syncScr == nil || !u.work.syncScr.firstSync.Visible() {
		t.Errorf("workspace of %q, first-sync bar shown %v", u.work.clinic.ID, u.work.syncScr != nil && u.work.syncScr.firstSync.Visible())
	}
	if got := u.work.clinicCases.empty.Text; got != L(textListFirstSync) {
		t.Errorf("the empty list during the first sync says %q", got)
	}
	capture(t, win, "firstrun_lists")
}

// A new computer started without --server chooses the server on the start
// screen: a fingerprint that is not 64 hex digits is refused in Swedish
// before anything is sent, a failed connect says why and keeps what was
// typed, and a connect that works turns the screen into the connected
// sign-in form.
func TestFirstRun_ServerChosenOnTheStartScreen(t *testing.T) {
	test.NewTempApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := storage.Open(ctx, t.TempDir(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	anna := app.Staff{ID: "staff-anna", Name: "Anna Lindqvist", Username: "anna"}
	var asked []string
	fail := true
	connect := func(_ context.Context, url, pin string) (*Connection, error) {
		asked = append(asked, url+" "+pin)
		if fail {
			return nil, errors.New("Servern https://example.invalid kan inte nås.")
		}
		return &Connection{Auth: staffAuth{st, anna}, Sync: &liveSync{fakeSync: fakeSync{st: msync.Status{FirstSync: true}}}}, nil
	}
	win := test.NewTempWindow(t, nil)
	win.Resize(fyne.NewSize(1200, 760))
	u := New(ctx, win, Deps{Directory: st, Cases: app.NewCaseService(st, app.FixedClock(now)), Auth: app.NewLocalAuth(st, st, app.FixedClock(now)),
		Clock: app.FixedClock(now), IdleLock: -1, Connect: connect})
	u.tasks.wait()
	s := u.start
	if !s.connectForm.Visible() || s.form.Visible() || s.message.Text != L(textEmptyConnect) {
		t.Fatalf("empty database: connect form %v, sign-in form %v, message %q", s.connectForm.Visible(), s.form.Visible(), s.message.Text)
	}
	s.serverURL.SetText("https://example.invalid:8443")
	s.serverPin.SetText("ab:cd")
	test.Tap(s.connectBtn)
	u.tasks.wait()
	if s.connectErr.Text != L(textNeedPin) || len(asked) != 0 {
		t.Errorf("a short fingerprint: %q, connect called %d times", s.connectErr.Text, len(asked))
	}
	pin := strings.Repeat("0a", 32)
	s.serverPin.SetText(pin)
	test.Tap(s.connectBtn)
	u.tasks.wait()
	if s.connectErr.Text != "Servern https://example.invalid kan inte nås." || s.serverURL.Text == "" || u.start != s {
		t.Errorf("a failed connect: %q", s.connectErr.Text)
	}
	capture(t, win, "firstrun_connect")
	fail = false
	test.Tap(s.connectBtn)
	u.tasks.wait()
	if len(asked) != 2 || asked[1] != "https://example.invalid:8443 "+pin {
		t.Errorf("connect asked with %q", asked)
	}
	if s2 := u.start; s2 == s || !s2.form.Visible() || s2.connectForm.Visible() || s2.message.Text != L(textFirstRun) {
		t.Errorf("after connecting: a new screen %v, sign-in form %v, message %q", s2 != s, s2.form.Visible(), s2.message.Text)
	}
}
