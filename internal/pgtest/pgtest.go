// Package pgtest starts a real, throwaway PostgreSQL cluster for the tests
// of the PostgreSQL store and of the server on it: initdb in a temporary
// directory and postgres listening on a Unix socket only (no TCP port at
// all), stopped and deleted at cleanup. `make test` installs the
// distribution's PostgreSQL server package. initdb refuses to run as root,
// so under root the cluster runs as the user nobody. It is imported by
// tests only.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	// Dir holds the data directory and the socket directory.
	Dir     string
	sock    string
	data    string
	user    string
	bin     string
	nobody  bool // run initdb and postgres as nobody (the tests run as root)
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	dbs     atomic.Int64
	logFile string
}

// BinDir is the directory of the PostgreSQL server programs (initdb,
// pg_ctl, postgres), or "" when none is installed. Debian keeps them in
// /usr/lib/postgresql/<version>/bin, off PATH.
func BinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	var v int
	fmt.Sscan(filepath.Base(filepath.Dir(binDir)), &v)
	return v
}

// Required says whether a missing PostgreSQL fails the test instead of
// skipping it: `make test` sets MOTTAGNING_REQUIRE_SERVICES=1, so that CI
// cannot pass by skipping what it failed to install.
func Required() bool { return os.Getenv("MOTTAGNING_REQUIRE_SERVICES") == "1" }

// Start initialises and starts a cluster that is stopped and removed when
// t ends. Without PostgreSQL the test is skipped (failed under Required).
func Start(t testing.TB) *Cluster {
	t.Helper()
	c, err := start()
	if err != nil {
		if err == errMissing {
			if Required() {
				t.Fatal("PostgreSQL is not installed: run `make test` (apt-get install postgresql)")
			}
			t.Skip("PostgreSQL is not installed: run `make test` (apt-get install postgresql)")
		}
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// StartShared starts a cluster that outlives t, for a package's tests to
// share: the caller closes it (TestMain). Without PostgreSQL it returns
// nil (and fails t under Required).
func StartShared(t testing.TB) *Cluster {
	t.Helper()
	c, err := start()
	if err == errMissing {
		if Required() {
			t.Fatal("PostgreSQL is not installed: run `make test` (apt-get install postgresql)")
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var errMissing = fmt.Errorf("pgtest: PostgreSQL not installed")

func start() (*Cluster, error) {
	bin := BinDir()
	if bin == "" {
		return nil, errMissing
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, sock: filepath.Join(dir, "s"), data: filepath.Join(dir, "data"), user: "mottagning", bin: bin,
		logFile: filepath.Join(dir, "postgres.log")}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse root: the cluster is nobody's.
		c.nobody = true
		if err := os.Chown(dir, 65534, 65534); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := c.mkdir(c.sock); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	out, err := c.run("initdb", "-D", c.data, "-U", c.user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	if err := c.startServer(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) mkdir(p string) error {
	if err := os.Mkdir(p, 0o700); err != nil {
		return err
	}
	if c.nobody {
		return os.Chown(p, 65534, 65534)
	}
	return nil
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	cmd.SysProcAttr = procAttr(c.nobody)
	return cmd
}

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	return c.command(name, args...).CombinedOutput()
}

// startServer runs postgres in the foreground of a child process, which
// dies with the test binary (Pdeathsig), and waits until it accepts
// connections.
func (c *Cluster) startServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	logf, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := c.command("postgres", "-D", c.data, "-k", c.sock, "-c", "listen_addresses=",
		"-c", "fsync=on", "-c", "max_connections=200", "-c", "shared_buffers=64MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	c.cmd, c.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("pgtest: postgres exited at start:\n%s", c.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres did not accept connections in 30 s: %v\n%s", err, c.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log is the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(c.logFile)
	return string(b)
}

// URL is the connection string of database db over the Unix socket.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres:///%s?host=%s&user=%s&sslmode=disable", db, c.sock, c.user)
}

// NewDatabase creates an empty database and returns its URL; it is
// dropped when t ends.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", c.dbs.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			return // the cluster is gone, and its directory with it
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return c.URL(name)
}

// CreateDatabase creates database name and returns its URL; it lives as
// long as the cluster.
func (c *Cluster) CreateDatabase(name string) (string, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return c.URL(name), nil
}

// Kill stops postgres with SIGKILL, as a crash would (no shutdown
// checkpoint); Restart brings it back on the same directory.
func (c *Cluster) Kill() {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	// The backends notice their postmaster is gone and exit; a new
	// postmaster refuses to start while any of them holds shared memory.
	// Their titles do not name the cluster, so they are found as the
	// postmaster's children before it is killed, and waited for by pid.
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(cmd.Process.Pid)).Output()
	children := strings.Fields(string(out))
	cmd.Process.Kill()
	<-done
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range children {
		for time.Now().Before(deadline) {
			if _, err := os.Stat("/proc/" + pid); err != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Restart starts postgres again after Kill or Stop.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if err := c.startServer(); err != nil {
		t.Fatal(err)
	}
}

// Stop shuts postgres down cleanly (SIGINT: fast shutdown).
func (c *Cluster) Stop() {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Close stops the cluster and removes its directory.
func (c *Cluster) Close() {
	c.Stop()
	os.RemoveAll(c.Dir)
}
