// Package servertest holds what tests of several packages need to drive
// the real mottagning-server: its binary, built once per test process, and
// the one-time codes of an authenticator app.
package servertest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	once sync.Once
	path string
	err  error
)

// Binary builds mottagning-server (no cgo, as it ships) once per test
// process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		goTool, lerr := exec.LookPath("go")
		if lerr != nil {
			err = lerr
			return
		}
		dir, derr := os.MkdirTemp("", "mottagning-server-test")
		if derr != nil {
			err = derr
			return
		}
		path = filepath.Join(dir, "mottagning-server")
		build := exec.Command(goTool, "build", "-o", path, "mottagning/cmd/mottagning-server")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, berr := build.CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build mottagning-server with CGO_ENABLED=0: %v\n%s", berr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TOTP is RFC 6238's code of secret (base32, as the server hands it out)
// at t: SHA-1, 6 digits, 30-second steps.
func TOTP(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	h := m.Sum(nil)
	off := h[len(h)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(h[off:off+4])&0x7fffffff)%1000000)
}
