// Command mottagning is the desktop program of Mottagning: a clinic's staff
// work with the 1177 e-service cases of their clinic.
//
// This file is the composition root and nothing else: it reads the flags,
// opens the store, seeds the demo data set when asked to, builds the
// services and hands them to the user interface.
//
//	mottagning [--data DIR] [--demo [--demo-size N]] [--notify-config FILE] [--lang sv|en]
//	           [--server URL [--server-pin SHA256 [--repin]]]
//
//	--data DIR     the data directory (default: <user config dir>/Mottagning)
//	--notify-config FILE
//	               SMTP server and SMS gateway for notifications (TOML, see
//	               notify.Config); MOTTAGNING_SMTP_*, MOTTAGNING_SMS_* and
//	               MOTTAGNING_RETRY_* variables override it. Without either,
//	               notifications stay queued in the database.
//	--demo         on an empty data directory, create the demo data set;
//	               a directory with real data is refused and left unchanged
//	--demo-size N  with --demo on an empty directory, also generate N cases
//	--server URL   connected mode (shared/STYLE.md): the central server at
//	               https://host:port is the system of record; this database
//	               becomes its replica (docs/sync.md). The first connect pins
//	               the server's certificate (its SHA-256 fingerprint is
//	               printed; compare it with the one the server printed) and
//	               a changed certificate is refused. Later starts may omit
//	               --server: the stored one is used. A demo database
//	               never connects.
//	               A certificate that verifies against the system's trusted
//	               CAs for the server's host name is trusted that way
//	               instead (no pin; renewals need nothing). A pinned desktop
//	               follows a rotation the server announced and signed
//	               (mottagning-server rotate-cert, docs/sync.md).
//	--server-pin SHA256
//	               pin this fingerprint instead of trusting the first connect
//	--repin        with --server-pin: replace the stored pin after the
//	               server's certificate was replaced without a rotation (a
//	               restore); the data and the queued changes stay and are
//	               sent at the next sync
//	--lang sv|en   the window's language; without it MOTTAGNING_LANG=sv|en,
//	               otherwise English on an English system and Swedish on
//	               any other (ui/lang.go)
//
// An empty data directory started without --server (and without --demo)
// asks for the server on the start screen instead: its address and the
// certificate's fingerprint, as IT gives them. The first sign-in there
// brings the staff member's clinics and cases (docs/sync.md).
//
// For screenshots of a demo database, MOTTAGNING_AUTOSELECT="anna:1" chooses
// the staff member with that username and their clinic at that position in
// the start screen's list (from 0) and opens the case lists. It is read only
// together with --demo.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/notify"
	"mottagning/storage"
	"mottagning/ui"
)

// fyneAppTOML is the packaging metadata. `fyne package` reads it at build
// time; a plain `go build` does not, so the program reads its own copy and
// the app id, version and the fyneDo migration are the same either way.
//
//go:embed FyneApp.toml
var fyneAppTOML []byte

// Batch size for --demo-size: one write transaction per batch, and never
// more than one batch of generated cases in memory.
const demoBatch = 1000

func main() { os.Exit(run()) }

func run() int {
	logPath, closeLog := setupLog(logFilePath())
	defer closeLog()
	// The Fyne app comes first: its Preferences hold the language chosen
	// in the window, and a start-up failure is shown in a window of its own.
	a := newApp()
	st := &starter{app: a, logPath: logPath}
	if err := chooseLanguage(langArg(os.Args[1:]), a.Preferences()); err != nil {
		return st.fail("lang", ui.L("start.lang_must_sv_or_en"), 2)
	}
	langFixed := langArg(os.Args[1:]) != "" || os.Getenv(ui.LangEnv) != ""

	fs := flag.NewFlagSet("mottagning", flag.ContinueOnError)
	dataDir := fs.String("data", defaultDataDir(), "start.data_directory_database")
	demoOn := fs.Bool("demo", false, "start.create_demo_data_when_database")
	demoSize := fs.Int("demo-size", 0, "start.demo_also_create_many_made")
	notifyConfig := fs.String("notify-config", "", "start.configuration_file_notifications_smtp_sms")
	serverURL := fs.String("server", "", "start.central_server_address_https_host")
	serverPin := fs.String("server-pin", "", "start.server_certificate_sha_256_trust")
	repin := fs.Bool("repin", false, "start.server_pin_replace_stored_fingerprint")
	fs.String("lang", "", "start.window_language_sv_or_en")
	showVersion := fs.Bool("version", false, "start.print_program_version_exit")
	translateFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return st.fail("flags", ui.Lf("start.wrong_command_start_help_see", err), 2)
	}
	if *showVersion {
		fmt.Println("mottagning " + version())
		return 0
	}
	slog.Info("mottagning starting", "version", version(), "os", runtime.GOOS)
	switch {
	case *dataDir == "":
		return st.fail("data-dir", ui.L("start.no_data_directory_was_found"), 2)
	case *demoSize < 0 || (*demoSize > 0 && !*demoOn):
		return st.fail("demo-size", ui.L("start.demo_size_needs_demo_number"), 2)
	case *demoOn && *serverURL != "":
		return st.fail("demo-server", ui.L("start.demo_database_never_connected_server"), 2)
	}

	// Read the notification settings before anything else: a typo must
	// stop the program with the setting's name, not leave notifications
	// silently off.
	environ, lookup := notify.Environ()
	notifyCfg, err := notify.LoadConfig(*notifyConfig, environ, lookup)
	if err != nil {
		return st.fail("notify-config", ui.Lf("start.notification_settings_wrong", err), 2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Resident and case values are sealed under a data key that each staff
	// member's password unlocks (storage/crypt.go); a plain database is
	// rewritten sealed at the first sign-in.
	storeOpt := storage.Options{Encrypt: true}
	if *demoOn {
		storeOpt.KeyParams = demo.PasswordParams // demo passwords are printed on screen anyway
	}
	store, err := storage.Open(ctx, *dataDir, storeOpt)
	if err != nil {
		slog.Error("open database", "err", err)
		return st.fail("open-database", openMessage(*dataDir, err), 1)
	}
	defer func() {
		// Sign the access log's head, so the next run can verify up to here.
		if _, err := store.CheckpointAccessLog(context.Background()); err != nil && !errors.Is(err, app.ErrLocked) && !errors.Is(err, app.ErrNotFound) {
			slog.Error("checkpoint access log", "err", err)
		}
		if err := store.Close(); err != nil {
			slog.Error("close database", "err", err)
		}
	}()

	profileCPU(ctx, os.Getenv("MOTTAGNING_CPUPROFILE"))

	var pre *ui.Preselect
	// demoPending: an empty database becomes a demo database; the window
	// shows the seeding with a progress bar (ui.Deps.Prepare).
	demoPending := false
	if *demoOn {
		need, err := checkDemo(store, *dataDir, *demoSize)
		if err != nil {
			return st.fail("demo", err.Error(), 1)
		}
		demoPending = need
		pre = autoselect(os.Getenv("MOTTAGNING_AUTOSELECT"))
	}
	isDemo := store.IsDemo() || demoPending

	// Connected mode: a --server now, or one stored at an earlier connect.
	var remote *client.Client
	if url, _ := store.SyncServer(); *serverURL != "" || url != "" {
		if remote, err = connectServerRepin(ctx, store, *serverURL, *serverPin, *repin); err != nil {
			return st.fail("connect", err.Error(), 1)
		}
	}

	w := a.NewWindow("Mottagning")
	// The window opens at the size it had when it was last closed.
	prefs := a.Preferences()
	// The menu: Om Mottagning (version, log file) and the language.
	w.SetMainMenu(ui.MainMenu(w, prefs, ui.AboutInfo{Version: version(), LogFile: logPath, DataDir: *dataDir, LanguageFixed: langFixed},
		func(s string) { a.Clipboard().SetContent(s) }))
	// (fitted to the screen it opens on: fitToScreen, below).
	size := fyne.NewSize(
		float32(prefs.FloatWithFallback("window.width", 1200)),
		float32(prefs.FloatWithFallback("window.height", 760)))
	w.Resize(size)
	var gui *ui.UI
	w.SetCloseIntercept(func() {
		if gui != nil {
			gui.Close() // a reply waiting for its undo time is sent
		}
		size = w.Canvas().Size()
		prefs.SetFloat("window.width", float64(size.Width))
		prefs.SetFloat("window.height", float64(size.Height))
		w.Close()
	})
	clock := app.SystemClock{}
	cases := app.NewCaseService(store, clock)
	// The desktop notification of a new reply: on a connected desktop
	// cases.ServerChanged decides (startSync), the window shows it.
	notifyUser := func(title, body string) { a.SendNotification(fyne.NewNotification(title, body)) }
	// The OS key store, where there is one, is a second way to the data key
	// once a password is verified (after a password reset, for example);
	// the password stays the way in. A demo database leaves it alone.
	var ring app.Keyring
	if !isDemo {
		ring = &storage.OSKeyring{}
	}
	keyringError := func(err error) { slog.Debug("os key store not used", "err", err) }
	var auth app.Authenticator = app.UnlockingAuth{Auth: app.NewLocalAuth(store, store, clock), Store: store,
		Keyring: ring, KeyringError: keyringError}
	dispatched, testSender := func() {}, &notify.TestSender{Clock: clock}
	// The granskare reads the server's log of the clinic when connected
	// (every device's entries), this database's own when standalone.
	var audit ui.AuditReader = app.NewAuditService(store, clock)
	// Connected mode only: the status bar and Ändringar (sync), and the
	// lookup of residents never seen on this device. Standalone shows no
	// status bar.
	var syncStatus ui.SyncStatus
	var residentLookup ui.ResidentLookup
	var second ui.SecondFactor
	// The kontaktcenter's lock and unlock: on this database standalone,
	// on the server when connected.
	var contact ui.ContactCenter = app.NewContactCenterService(store, clock)
	if remote == nil {
		// The notification dispatcher of the standalone desktop: its outbox
		// is this database. It must end before the store closes.
		dispatched, testSender = startDispatcher(ctx, store, clock, notifyCfg, isDemo)
	} else {
		// Connected: the server notifies; this desktop syncs.
		conn, stopSync := startSync(ctx, store, remote, cases, clock, ring, keyringError)
		defer stopSync()
		auth, syncStatus, residentLookup = conn.auth, conn.engine, conn.lookup
		audit, second, contact = conn.audit, conn.second, conn.contact
	}
	// mu guards dispatched and the start screen's connect below, which
	// runs off the UI goroutine, against these defers.
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		dispatched()
	}()
	// A new computer started without --server chooses its server on the
	// start screen (an empty database that is not a demo): the same
	// connect and sync as --server, from then on.
	var connect func(ctx context.Context, url, pin string) (*ui.Connection, error)
	if remote == nil && store.IsEmpty() && !isDemo {
		var stopSync func()
		closed := false
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			closed = true // a connect still under way starts nothing now
			if stopSync != nil {
				stopSync()
			}
		}()
		connect = func(cctx context.Context, url, pin string) (*ui.Connection, error) {
			mu.Lock()
			defer mu.Unlock()
			if closed {
				return nil, errors.New(ui.L("start.program_closing"))
			}
			if stopSync != nil {
				return nil, errors.New(ui.L("start.computer_already_connected_server"))
			}
			c, err := connectChosen(cctx, store, url, pin)
			if err != nil {
				return nil, err
			}
			// The server notifies now; the standalone dispatcher ends.
			dispatched()
			dispatched = func() {}
			conn, stop := startSync(ctx, store, c, cases, clock, ring, keyringError)
			stopSync = stop
			return &ui.Connection{Auth: conn.auth, Sync: conn.engine, Lookup: conn.lookup, Audit: conn.audit, SecondFactor: conn.second,
				ContactCenter: conn.contact}, nil
		}
	}
	var prepare func(ctx context.Context, progress func(done, total int)) error
	if demoPending {
		prepare = func(ctx context.Context, progress func(done, total int)) error {
			return seedDemo(ctx, store, *dataDir, *demoSize, progress)
		}
	}
	gui = ui.New(ctx, w, ui.Deps{
		Directory:     store,
		Cases:         cases,
		Bulk:          cases,
		Templates:     app.NewTemplateService(store, clock),
		Audit:         audit,
		StaffAdmin:    app.NewStaffService(store, clock),
		Guardians:     app.NewGuardianService(store, clock),
		EServices:     app.NewEServiceBuilder(store, store, clock),
		TestNotify:    app.NewNotificationAdmin(testSender),
		Auth:          auth,
		Clock:         clock,
		Prefs:         prefs,
		Notify:        notifyUser,
		Demo:          isDemo,
		DemoPassword:  demo.Password,
		Preselect:     pre,
		Sync:          syncStatus,
		Lookup:        residentLookup,
		Connect:       connect,
		SecondFactor:  second,
		ContactCenter: contact,
		Prepare:       prepare,
	})

	// Ctrl+C or SIGTERM closes the window like the user would, so that the
	// store is closed and its lock released.
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fyne.Do(func() {
				gui.Close()
				a.Quit()
			})
		case <-done:
		}
	}()
	w.Show() // creates the native window here, on the main goroutine
	fitToScreen(w, size)
	a.Run()
	close(done)
	stop() // end the UI's reads before the deferred Close of the store
	return 0
}

// startDispatcher starts delivering the outbox when a channel is
// configured, and returns a function that stops it and waits. A demo
// database never sends to the outside world: its dispatcher runs only
// when every configured server is on this machine (a mailpit, a local
// Kannel). Log lines name hosts and modes, never an address or secret.
//
// It also returns what "Skicka testavisering" sends through: the same
// channels (nil ones when nothing is configured).
func startDispatcher(ctx context.Context, store *storage.Store, clock app.Clock, cfg *notify.Config, isDemo bool) (stop func(), test *notify.TestSender) {
	nothing := func() {}
	test = &notify.TestSender{Clock: clock}
	if !cfg.Configured() {
		slog.Info("notify: no SMTP server or SMS gateway configured (--notify-config, MOTTAGNING_SMTP_HOST, MOTTAGNING_SMS_KIND); notifications stay queued")
		return nothing, test
	}
	if isDemo && !cfg.OnlyLoopback() {
		slog.Warn("notify: demo database, and the configuration points outside this machine: no notifications are sent", "config", cfg)
		return nothing, test
	}
	d := &notify.Dispatcher{Outbox: store, Clock: clock, Backoff: cfg.Backoff(), Log: slog.Default()}
	if sc, err := cfg.SMTPConfig(); err != nil {
		slog.Error("notify: SMTP settings", "err", err)
	} else if sc != nil {
		cl, err := notify.NewSMTPClient(*sc)
		if err != nil {
			slog.Error("notify: SMTP settings; e-mail notifications stay queued", "err", err)
		} else {
			d.Mail = cl
		}
	}
	if sms, err := cfg.SMSSender(); err != nil {
		slog.Error("notify: SMS settings; SMS notifications stay queued", "err", err)
	} else if sms != nil {
		d.SMS = sms
	}
	if d.Mail != nil {
		test.Mail = d.Mail
	}
	if d.SMS != nil {
		test.SMS = d.SMS
	}
	if d.Mail == nil && d.SMS == nil {
		return nothing, test
	}
	slog.Info("notify: delivering notifications", "config", cfg)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
			slog.Error("notify: dispatcher stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, test
}

// openMessage says in Swedish what is wrong with the data directory and
// what to do about it.
func openMessage(dir string, err error) string {
	switch {
	case errors.Is(err, storage.ErrAlreadyRunning):
		return ui.Lf("start.mottagning_already_running_data_directory", dir)
	case errors.Is(err, storage.ErrTooNew):
		return ui.Lf("start.database_was_made_by_newer", dir)
	case errors.Is(err, storage.ErrDamaged):
		return ui.Lf("start.database_file_damaged_part_cannot",
			filepath.Join(dir, storage.FileName))
	case errors.Is(err, storage.ErrUnreadable):
		return ui.Lf("start.file_not_mottagning_database_or",
			filepath.Join(dir, storage.FileName))
	case errors.Is(err, storage.ErrDiskFull):
		return ui.Lf("start.disk_full_so_database_could", dir)
	case errors.Is(err, fs.ErrPermission):
		return ui.Lf("start.mottagning_may_not_read_or", dir)
	}
	return ui.Lf("start.database_could_not_opened_choose", dir, err)
}

// checkDemo says whether --demo must seed the database (it is empty). It
// never mixes demo data into real data: a database that holds anything
// but the demo set is refused. Its errors are Swedish messages for the
// user.
func checkDemo(store *storage.Store, dir string, size int) (seed bool, err error) {
	switch {
	case store.IsEmpty():
		return true, nil
	case !store.IsDemo():
		return false, errors.New(ui.Lf("start.data_directory_holds_real_data", dir))
	}
	if size > 0 {
		fmt.Fprintln(os.Stderr, ui.Lf("start.demo_database_exists_already_demo", dir))
	}
	return false, nil
}

// seedDemo fills an empty database with the demo data set and size more
// generated cases, telling progress how far it has come (cases written of
// all to write); the window shows it (ui.Deps.Prepare).
func seedDemo(ctx context.Context, store *storage.Store, dir string, size int, progress func(done, total int)) error {
	now := time.Now()
	ds := demo.Build(now)
	total := len(ds.Threads) + size
	progress(0, total)
	if err := demo.Seed(ctx, store, ds); err != nil {
		slog.Error("seed demo data", "err", err)
		return seedMessage(dir, err)
	}
	slog.Info("seeded demo data", "clinics", len(ds.Clinics), "staff", len(ds.Staff), "cases", len(ds.Threads))
	done := len(ds.Threads)
	progress(done, total)
	if size > 0 {
		err := demo.GenerateThreads(ctx, ds, now, size, demoBatch, 1, func(ts []app.Thread) error {
			if err := store.ImportThreads(ctx, ts); err != nil {
				return err
			}
			done += len(ts)
			progress(done, total)
			return nil
		})
		if err != nil {
			slog.Error("generate demo cases", "done", done, "err", err)
			return seedMessage(dir, err)
		}
	}
	return demoKeys(ctx, store, ds, dir)
}

func seedMessage(dir string, err error) error {
	switch {
	case errors.Is(err, storage.ErrDiskFull):
		return errors.New(ui.Lf("start.disk_became_full_while_demo", dir))
	case errors.Is(err, context.Canceled):
		return errors.New(ui.Lf("start.cancelled_demo_database_incomplete_remove", dir))
	}
	return errors.New(ui.Lf("start.demo_data_could_not_written", dir, err))
}

// autoselect parses MOTTAGNING_AUTOSELECT ("username:clinic-index" or
// "username:clinic-index:screen", screen being case, send, bulk, preview:NAME or
// tab:TITLE).
func autoselect(v string) *ui.Preselect {
	if v == "" {
		return nil
	}
	parts := strings.SplitN(v, ":", 3)
	var n int
	var err error
	if len(parts) >= 2 {
		n, err = strconv.Atoi(parts[1])
	}
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || err != nil || n < 0 {
		slog.Warn("MOTTAGNING_AUTOSELECT ignored: want username:clinic-index[:screen]")
		return nil
	}
	p := &ui.Preselect{Username: parts[0], Clinic: n}
	if len(parts) == 3 {
		p.Screen = parts[2]
	}
	return p
}

// demoKeys gives every demo account a key to the sealed database: the
// first Unlock rewrites the seeded file sealed, the others wrap the data
// key for their password (printed on the sign-in screen).
func demoKeys(ctx context.Context, store *storage.Store, ds *demo.Dataset, dir string) error {
	for _, st := range ds.Staff {
		if err := store.Unlock(ctx, st.ID, demo.Password(st.Username)); err != nil {
			slog.Error("demo keys", "staff", st.ID, "err", err)
			return seedMessage(dir, err)
		}
	}
	// Old access-log entries beyond the retention time go; the chain still
	// verifies from the oldest kept checkpoint.
	if _, err := store.PruneAccessLog(ctx, time.Now()); err != nil {
		slog.Error("prune access log", "err", err)
	}
	return nil
}

// profileCPU writes a CPU profile for developers finding what the window
// does when nobody uses it (docs/architecture.md, Performance):
// MOTTAGNING_CPUPROFILE=file[,delay[,duration]] profiles from delay
// (default 45s) after the start for duration (default 30s). Empty: nothing.
func profileCPU(ctx context.Context, spec string) {
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	delay, dur := 45*time.Second, 30*time.Second
	if len(parts) > 1 {
		if d, err := time.ParseDuration(parts[1]); err == nil {
			delay = d
		}
	}
	if len(parts) > 2 {
		if d, err := time.ParseDuration(parts[2]); err == nil {
			dur = d
		}
	}
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		f, err := os.Create(parts[0])
		if err != nil {
			slog.Error("cpu profile", "err", err)
			return
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			slog.Error("cpu profile", "err", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(dur):
		}
		pprof.StopCPUProfile()
		slog.Info("cpu profile written")
	}()
}
