// Package mailpittest starts a real mailpit (the SMTP server `make test`
// installs) on free 127.0.0.1 ports for the tests of notify, sync and the
// server's binary. It is imported by tests only.
package mailpittest

import (
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is a running mailpit: SMTP on SMTPPort, its HTTP API at API.
type Server struct {
	SMTPPort int
	API      string
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Binary is the mailpit executable on PATH or in $GOPATH/bin, or "".
func Binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	p := filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "mailpit")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// Start runs mailpit with its own database in a temp dir, with extra flags,
// and stops it at cleanup; the test is skipped when mailpit is missing.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		// `make test` sets MOTTAGNING_REQUIRE_SERVICES=1: CI cannot pass
		// by skipping what it failed to install.
		if os.Getenv("MOTTAGNING_REQUIRE_SERVICES") == "1" {
			t.Fatal("mailpit not installed: run `make test` (go install github.com/axllent/mailpit@v1.33.1)")
		}
		t.Skip("mailpit not installed: run `make test` (go install github.com/axllent/mailpit@v1.33.1)")
	}
	mp := &Server{SMTPPort: FreePort(t)}
	httpPort := FreePort(t)
	mp.API = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	args := append([]string{
		"--smtp", fmt.Sprintf("127.0.0.1:%d", mp.SMTPPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(t.TempDir(), "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns",
		"--max", "0", "-q",
	}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(mp.API + "/api/v1/messages?limit=1")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", mp.SMTPPort)); err == nil {
				c.Close()
				return mp
			}
		}
		select {
		case <-done:
			t.Fatalf("mailpit exited at start (args %v)", args)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not start in 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
