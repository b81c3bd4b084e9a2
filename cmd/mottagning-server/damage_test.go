package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/storage"
)

// TestProcessDamageIsReported is item 3 of issue 15 on the real binary.
// One flipped byte in a sealed resident value: the server still starts
// and serves every other resident, and never serves the damaged one as
// truth (issue 15 found the whole server refusing to start, or a changed
// mobile number served). Damaged pages: the server refuses to start with
// a message naming the file and what to do, not a Go panic.
func TestProcessDamageIsReported(t *testing.T) {
	data, key := t.TempDir(), keyFile(t)
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--demo", "--key-file", key)
	p.stop(t)
	path := filepath.Join(data, storage.FileName)

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("residents"))
		k, v := b.Cursor().First()
		v = append([]byte(nil), v...)
		v[len(v)/2] ^= 0x04
		return b.Put(append([]byte(nil), k...), v)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	q := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-file", key, "--eid", "test")
	ds := demo.Build(time.Now())
	served, refused := 0, 0
	for _, persona := range []string{demo.AdultSMS, demo.AdultEmail, demo.AdultBoth} {
		var pnr, name string
		for _, r := range ds.Residents {
			if r.ID == ds.Persona[persona] {
				pnr, name = r.PNR.String(), r.Register.FullName()
			}
		}
		sess, err := q.c.ResidentSignIn(t.Context(), pnr, 10*time.Millisecond)
		var me *client.ResidentMe
		if err == nil {
			me, err = q.c.ResidentMe(t.Context(), sess.Token)
		}
		switch {
		case err != nil && client.Code(err) != "damaged_record":
			t.Errorf("%s: %v; want served, or refused as damaged_record", persona, err)
		case err != nil:
			refused++
		case me.Name != name:
			t.Errorf("served %q for %s: damaged data served as truth", me.Name, persona)
		default:
			served++
		}
	}
	if served < 2 {
		t.Errorf("%d of 3 residents served after one damaged value: the rest must keep serving", served)
	}
	q.stop(t)
	if strings.Contains(q.logs.String(), "panic") {
		t.Errorf("the server panicked:\n%s", q.logs)
	}

	// Damaged pages: every data page's id overwritten.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := 2 * 4096; off+8 <= len(raw); off += 4096 {
		copy(raw[off:], "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8")
	}
	os.WriteFile(path, raw, 0o600)
	out, err := exec.Command(binary(t), "--addr", "127.0.0.1:0", "--data", data, "--key-file", key).CombinedOutput()
	if err == nil {
		t.Fatal("the server started on a damaged file")
	}
	for _, want := range []string{path, "damaged", "restore it from the latest backup", "bbolt check"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "goroutine ") {
		t.Errorf("a Go panic instead of a message:\n%s", out)
	}
}
