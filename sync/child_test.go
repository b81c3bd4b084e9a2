package sync_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/pgstore"
	"mottagning/server"
	"mottagning/server/staffauth"
	"mottagning/storage"
	msync "mottagning/sync"
)

// Child processes: the crash test and the cold-sync benchmark run the
// server, and the crash test desktops, as separate processes (this test
// binary started again with childRoleEnv set), so that they can be killed
// with SIGKILL and, in the benchmark, so that the desktop's memory is
// measured without the server's.

const (
	childRoleEnv  = "SYNC_CHILD_ROLE" // "server" or "desktop"
	childDirEnv   = "SYNC_CHILD_DIR"
	childAddrEnv  = "SYNC_CHILD_ADDR"  // server: where to listen
	childCasesEnv = "SYNC_CHILD_CASES" // server: generated cases at the first clinic
	childURLEnv   = "SYNC_CHILD_URL"   // desktop: the server
	childPinEnv   = "SYNC_CHILD_PIN"
	childUserEnv  = "SYNC_CHILD_USER"
	childModeEnv  = "SYNC_CHILD_MODE" // desktop: "work" or "final"
	childSeedEnv  = "SYNC_CHILD_SEED"
	// childDBEnv: server: keep the data in this PostgreSQL database (a
	// node of several) instead of bbolt in the directory; childCertEnv:
	// server: the certificate file all nodes share (one pin).
	childDBEnv   = "SYNC_CHILD_DB"
	childCertEnv = "SYNC_CHILD_CERT"
)

// TestSyncChild is the child process; it does nothing in a normal run.
func TestSyncChild(t *testing.T) {
	switch os.Getenv(childRoleEnv) {
	case "":
		t.Skip("runs only as a child process of the crash test and the benchmark")
	case "server":
		if path := os.Getenv("SYNC_CHILD_CPUPROFILE"); path != "" {
			f, err := os.Create(path)
			if err == nil && pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
		if err := runServerChild(); err != nil {
			fmt.Fprintln(os.Stderr, "server child:", err)
			os.Exit(3)
		}
		pprof.StopCPUProfile()
	case "desktop":
		if err := runDesktopChild(); err != nil {
			fmt.Fprintln(os.Stderr, "desktop child:", err)
			os.Exit(3)
		}
	}
	os.Exit(0)
}

// runServerChild serves the sync API from dir on childAddrEnv; at its
// first start it seeds the demo data set (and childCasesEnv generated
// cases, all at the first clinic) and a TLS certificate, which later starts
// reuse (the desktops' pin). It prints "ready URL PIN" and serves until
// killed or until stdin closes.
func runServerChild() error {
	ctx := context.Background()
	dir := os.Getenv(childDirEnv)
	st, auth, empty, seeding, err := openChildStore(ctx, dir)
	if err != nil {
		return err
	}
	store := st
	err = seeding(func() error {
		if ok, err := empty(); err != nil || !ok {
			return err
		}
		// Killed before "ready" never happens: the parent waits for it at
		// the first start.
		now := time.Now()
		ds := demo.Build(now)
		ds.WithPasswords = false
		if err := demo.Seed(ctx, store, ds); err != nil {
			return err
		}
		admin := app.Staff{ID: app.NewID(now), Name: "Admin", Username: "regionadmin"}
		if err := auth.Bootstrap(ctx, admin, demo.Password(admin.Username)); err != nil {
			return err
		}
		by := &staffauth.Claims{StaffID: admin.ID}
		for _, st := range ds.Staff {
			if err := auth.PutStaff(ctx, by, st); err != nil {
				return err
			}
			if err := auth.SetPassword(ctx, by, st.ID, demo.Password(st.Username)); err != nil {
				return err
			}
		}
		if n, _ := strconv.Atoi(os.Getenv(childCasesEnv)); n > 0 {
			centrum := ds.Clinics[0].ID
			err := demo.GenerateThreads(ctx, ds, now, n, 2000, 1, func(ts []app.Thread) error {
				for i := range ts {
					ts[i].Case.ClinicID = centrum
				}
				return store.ImportThreads(ctx, ts)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, server.Deps{Store: store, Staff: authAdapter{auth}, EID: &server.TestEID{}, Logger: quiet})
	if err != nil {
		return err
	}
	certFile := filepath.Join(dir, "cert.pem")
	if f := os.Getenv(childCertEnv); f != "" {
		certFile = f
	}
	cert, pin, err := childCert(certFile)
	if err != nil {
		return err
	}
	var ln net.Listener
	for try := 0; ; try++ {
		if ln, err = net.Listen("tcp", os.Getenv(childAddrEnv)); err == nil || try > 100 {
			break
		}
		time.Sleep(20 * time.Millisecond) // the killed server's port
	}
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	// The benchmark's baseline: the same records straight from bbolt, no protocol.
	if bs, ok := store.(*storage.Store); ok {
		mux.HandleFunc("GET /raw", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			if err := bs.StreamRecords(r.Context(), w); err != nil {
				slog.Error("raw stream", "err", err)
			}
		})
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(quiet.Handler(), slog.LevelWarn)}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	fmt.Printf("ready https://%s %s\n", ln.Addr(), pin)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	_ = hs.Close()
	return store.Close()
}

// childCert reads the server's certificate from path, or makes and
// writes one.
func childCert(path string) (tls.Certificate, string, error) {
	if data, err := os.ReadFile(path); err == nil {
		cert, err := tls.X509KeyPair(data, data)
		if err != nil {
			return cert, "", err
		}
		return cert, client.Fingerprint(cert.Certificate[0]), nil
	}
	cert, pin, err := selfSignedCert()
	if err != nil {
		return cert, "", err
	}
	der, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		return cert, "", err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return cert, "", err
	}
	return cert, pin, os.Rename(tmp, path)
}

// proc is a running child.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	done   chan struct{}
	stderr *strings.Builder
}

// startChild starts the test binary as a child with env.
func startChild(t testing.TB, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSyncChild$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), env...)
	// stderr is read only once the process has ended (done).
	p := &proc{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{}), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		_ = cmd.Wait()
		close(p.done)
		close(p.lines)
	}()
	return p
}

// kill sends SIGKILL and waits for the process to be gone; it returns the
// lines the child printed that were not read yet.
func (p *proc) kill() []string {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	var rest []string
	for l := range p.lines {
		rest = append(rest, l)
	}
	<-p.done
	return rest
}

// stop closes stdin (the child ends by itself) and waits.
func (p *proc) stop(t testing.TB, within time.Duration) []string {
	_ = p.stdin.Close()
	var rest []string
	timeout := time.After(within)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.done
				return rest
			}
			rest = append(rest, l)
		case <-timeout:
			t.Errorf("child did not end in %s; killing it\n%s", within, p.stderr)
			return append(rest, p.kill()...)
		}
	}
}

// startServerChild starts the server child on dir at addr ("127.0.0.1:0"
// the first time) and waits until it serves.
func startServerChild(t testing.TB, dir, addr string, cases int, env ...string) (p *proc, url, pin string) {
	t.Helper()
	p = startChild(t, append([]string{childRoleEnv + "=server", childDirEnv + "=" + dir, childAddrEnv + "=" + addr, childCasesEnv + "=" + strconv.Itoa(cases)}, env...)...)
	timeout := time.After(10 * time.Minute)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.done
				t.Fatalf("server child ended before it was ready:\n%s", p.stderr)
			}
			if f := strings.Fields(l); len(f) == 3 && f[0] == "ready" {
				return p, f[1], f[2]
			}
		case <-timeout:
			p.kill()
			t.Fatal("server child not ready in 10 min")
		}
	}
}

// --- the desktop child ---

// runDesktopChild is a connected desktop without its window: it signs in
// (online, or offline with the cached verifier), then, in mode "work",
// makes local changes and syncs in a loop, printing each acknowledged
// change ("case ID TOKEN", "msg CASE TOKEN", "note CASE TOKEN"), until
// killed. In mode "final" it syncs until nothing is pending and the pull
// is complete, prints "done" and ends.
func runDesktopChild() error {
	ctx := context.Background()
	dir := os.Getenv(childDirEnv)
	store, err := storage.Open(ctx, dir, storage.Options{NoSync: true, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer store.Close()
	c, err := client.New(os.Getenv(childURLEnv), client.Options{PinSHA256: os.Getenv(childPinEnv), Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	tokens := &msync.Tokens{Remote: c, Store: store}
	auth := app.UnlockingAuth{Store: store, Auth: &msync.RemoteAuth{Remote: c, Local: app.NewLocalAuth(store, store, app.SystemClock{}),
		Store: store, Tokens: tokens, DeviceName: "crash"}}
	user := ""
	ds := demo.Build(time.Now())
	for _, s := range ds.Staff {
		if s.ID == ds.StaffBy[os.Getenv(childUserEnv)] {
			user = s.Username
		}
	}
	var st *app.Staff
	for try := 0; ; try++ {
		if st, err = auth.SignIn(ctx, user, demo.Password(user)); err == nil {
			break
		}
		if try > 500 {
			return fmt.Errorf("sign in: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var clinic app.ID
	for id := range st.Roles {
		if clinic == "" || id < clinic {
			clinic = id
		}
	}
	eng := msync.New(msync.Options{Replica: store, Remote: c, Tokens: tokens, DeviceID: store.SyncDevice(), Log: quiet,
		NoEvents: true, PullLimit: 20, PushOps: 7})
	sess := app.Session{Staff: st, ClinicID: clinic}
	cases := app.NewCaseService(store, app.SystemClock{})
	fmt.Println("started")
	if os.Getenv(childModeEnv) == "final" {
		for try := 0; ; try++ {
			err := eng.SyncOnce(ctx)
			n, _ := store.PendingCount(ctx)
			if err == nil && n == 0 {
				fmt.Println("done")
				return nil
			}
			if try > 500 {
				return fmt.Errorf("final sync: %v, %d pending", err, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	seed, _ := strconv.ParseUint(os.Getenv(childSeedEnv), 10, 64)
	rnd := rand.New(rand.NewPCG(seed, 7))
	for step := 0; ; step++ {
		token := fmt.Sprintf("t%d-%d-%d", seed, step, rnd.Uint32())
		page, err := store.ListCases(ctx, app.CaseQuery{ClinicID: clinic, Limit: 100})
		if err == nil && len(page.Cases) > 0 {
			cs := page.Cases[rnd.IntN(len(page.Cases))]
			switch rnd.IntN(6) {
			case 0:
				if id, err := sendCase(ctx, store, cases, sess, cs.ResidentID, token); err == nil {
					fmt.Println("case", id, token)
				}
			case 1, 2:
				if cs.Status == app.StatusClosed {
					_ = cases.Reopen(ctx, sess, cs.ID)
				}
				if err := cases.Reply(ctx, sess, cs.ID, token); err == nil {
					fmt.Println("msg", cs.ID, token)
				}
			case 3:
				if err := cases.AddNote(ctx, sess, cs.ID, token); err == nil {
					fmt.Println("note", cs.ID, token)
				}
			case 4:
				_ = cases.Assign(ctx, sess, cs.ID, st.ID)
			case 5:
				if cs.Status == app.StatusClosed {
					_ = cases.Reopen(ctx, sess, cs.ID)
				} else {
					_ = cases.Close(ctx, sess, cs.ID)
				}
			}
		}
		if rnd.IntN(2) == 0 {
			_ = eng.SyncOnce(ctx)
		}
	}
}

func sendCase(ctx context.Context, store *storage.Store, cases *app.CaseService, sess app.Session, resident app.ID, token string) (app.ID, error) {
	ts, err := store.Templates(ctx, sess.ClinicID)
	if err != nil {
		return "", err
	}
	for _, tp := range ts {
		if tp.Kind == app.KindQuestion || tp.Kind == app.KindInformation {
			c, err := cases.SendCase(ctx, sess, app.SendRequest{TemplateID: tp.ID, ResidentID: resident, Subject: token, Text: token})
			if err != nil {
				return "", err
			}
			return c.ID, nil
		}
	}
	return "", errors.New("no template")
}

// openChildStore opens the server child's store: bbolt in dir, or the
// PostgreSQL database of childDBEnv (sealed, staff accounts beside it).
// seeding runs the demo seed alone among the nodes; empty says whether
// there is anything yet.
func openChildStore(ctx context.Context, dir string) (server.Store, *staffauth.Service, func() (bool, error), func(func() error) error, error) {
	opts := staffauth.Options{Params: demo.PasswordParams, SourcePerMinute: 1e6, SourceBurst: 1e6}
	if url := os.Getenv(childDBEnv); url != "" {
		st, err := pgstore.Open(ctx, url, pgstore.Options{ServerKey: testServerKey, Logger: quiet})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		opts.Failures = st.FailureLimit(opts.SourcePerMinute, opts.SourceBurst)
		auth, err := staffauth.New(st.AuthKV(), nil, opts)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return st, auth, func() (bool, error) { return st.IsEmpty(ctx) },
			func(fn func() error) error { return st.Seeding(ctx, fn) }, nil
	}
	st, err := storage.Open(ctx, filepath.Join(dir, "store"), storage.Options{NoSync: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	auth, err := staffauth.Open(filepath.Join(dir, "auth.db"), nil, opts)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return st, auth, func() (bool, error) { return st.IsEmpty(), nil }, func(fn func() error) error { return fn() }, nil
}
