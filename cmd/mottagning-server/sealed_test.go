package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mottagning/app/demo"
	"mottagning/client"
)

// TestProcessServerKey: the server key's rules on the real binary (issue
// 15, item 1). A real (non-demo) database needs a key; a key file inside
// the data directory or readable by others is refused; the first start
// makes the key file (0600) and seals the store; a wrong key, a missing key
// file and a start without a key are refused with a message that names the
// way out, and nothing of the data is lost (the right key opens it again);
// a key command works like the file.
func TestProcessServerKey(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()
	refused := func(want string, args ...string) {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--data", data}, args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Fatalf("%v: %v\n%s\nwant %q", args, err, out, want)
		}
	}
	refused("--key-file")
	refused("inside the data directory", "--key-file", filepath.Join(data, "data-key"))
	loose := filepath.Join(t.TempDir(), "loose-key")
	os.WriteFile(loose, bytes.Repeat([]byte("ab"), 32), 0o644)
	refused("chmod 600", "--key-file", loose)

	key := keyFile(t)
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-file", key, "--eid", "test", "--allow-test-eid")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	if !strings.Contains(p.logs.String(), "new server key written") {
		t.Errorf("no word of the new key file\n%s", p.logs)
	}
	reg := filepath.Join("..", "..", "testdata", "register", "demo-region.csv")
	if out, err := cli(t, "import-register", "--data", data, reg); err != nil {
		t.Fatalf("import-register: %v\n%s", err, out)
	}
	p.stop(t)

	refused("the database is sealed")
	other := filepath.Join(t.TempDir(), "other-key")
	os.WriteFile(other, bytes.Repeat([]byte("cd"), 32), 0o600)
	refused("does not open this database", "--key-file", other)
	refused("does not exist", "--key-file", filepath.Join(t.TempDir(), "gone"))
	if out, err := cli(t, "import-register", "--data", data, reg); err == nil || !strings.Contains(out, "sealed") {
		t.Fatalf("offline import without the key: %v\n%s", err, out)
	}
	if out, err := cli(t, "import-register", "--data", data, "--key-file", key, reg); err != nil || !strings.Contains(out, "24 unchanged") {
		t.Fatalf("offline import with the key: %v\n%s", err, out)
	}

	q := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-command", "cat "+key, "--eid", "test", "--allow-test-eid")
	raw, _ := os.ReadFile(reg)
	firstPNR := strings.Split(strings.Split(string(raw), "\n")[3], ",")[0]
	sess, err := q.c.ResidentSignIn(t.Context(), firstPNR, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("sign in after the refused starts: %v", err)
	}
	if me, err := q.c.ResidentMe(t.Context(), sess.Token); err != nil || me.Name != "Karin Johansson" {
		t.Fatalf("me = %+v, %v", me, err)
	}
	q.stop(t)

	// A new server key: keygen makes it, rekey moves the wrap to it.
	newKey := filepath.Join(t.TempDir(), "new-key")
	if out, err := cli(t, "keygen", "--out", newKey); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	if out, err := cli(t, "keygen", "--out", newKey); err == nil {
		t.Fatalf("keygen over an existing key file: %s", out)
	}
	if out, err := cli(t, "rekey", "--data", data, "--key-file", key, "--new-key-file", newKey); err != nil {
		t.Fatalf("rekey: %v\n%s", err, out)
	}
	refused("does not open this database", "--key-file", key)
	r := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-file", newKey, "--eid", "test", "--allow-test-eid")
	if _, err := r.c.ResidentSignIn(t.Context(), firstPNR, 10*time.Millisecond); err != nil {
		t.Fatalf("sign in with the new key: %v", err)
	}
	r.stop(t)
}

// TestProcessSealsAnOldPlainServerDatabase: a data directory as the
// server wrote it before sealing (testdata/server-plain-v0: the demo
// region, written by mottagning-server at 4e18757 without a key) is
// sealed at the first start with a key: the same residents and cases are
// served, the certificate (and so every desktop's pin) is the same, and
// afterwards no personnummer, resident name or message text of it is in
// any file of the directory.
func TestProcessSealsAnOldPlainServerDatabase(t *testing.T) {
	data := t.TempDir()
	if err := os.CopyFS(data, os.DirFS(filepath.Join("testdata", "server-plain-v0"))); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chmod(p, 0o600)
		}
		return nil
	})
	ds := demo.Build(time.Now())
	secrets := serverSecrets(ds)
	if hits := filesHolding(t, data, secrets); len(hits) == 0 {
		t.Fatal("the old plain database holds none of the demo data: the search would prove nothing")
	}
	certBefore := mustRead(t, filepath.Join(data, selfCertFile))

	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--key-file", keyFile(t), "--eid", "test")
	if !strings.Contains(p.logs.String(), "it was plain until now") {
		t.Errorf("no word of the sealing\n%s", p.logs)
	}
	var karin string
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultSMS] {
			karin = r.PNR.String()
		}
	}
	sess, err := p.c.ResidentSignIn(t.Context(), karin, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("resident sign-in on the sealed database: %v", err)
	}
	me, err := p.c.ResidentMe(t.Context(), sess.Token)
	if err != nil || me.Name == "" {
		t.Fatalf("me = %+v, %v", me, err)
	}
	tok, err := p.c.StaffSignIn(t.Context(), client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceName: "Testdator"})
	if err != nil {
		t.Fatalf("staff sign-in on the sealed database: %v", err)
	}
	smi, err := p.c.StaffMe(t.Context(), tok.AccessToken)
	if err != nil || len(smi.Roles) == 0 {
		t.Fatalf("staff me = %+v, %v", smi, err)
	}
	p.stop(t)
	if mustRead(t, filepath.Join(data, selfCertFile)) != certBefore {
		t.Error("the certificate changed: pinned desktops would refuse the server")
	}
	if hits := filesHolding(t, data, secrets); len(hits) > 0 {
		t.Errorf("after sealing, demo data is readable in the data directory: %v", hits)
	}
}

// TestProcessNoPlaintextInServerFilesOrBackup: a sealed server that has
// been used (a resident's reply, new settings) and its backup hold no
// personnummer, resident name, address, phone number or message text in
// any file, as the desktop's TestEncryptedFileHoldsNoPlaintext checks.
func TestProcessNoPlaintextInServerFilesOrBackup(t *testing.T) {
	data := t.TempDir()
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--demo", "--key-file", keyFile(t))
	ds := demo.Build(time.Now())
	var karin string
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultSMS] {
			karin = r.PNR.String()
		}
	}
	ctx := t.Context()
	sess, err := p.c.ResidentSignIn(ctx, karin, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	const reply, mobile = "Utslaget har spridit sig till båda armarna sedan i går kväll", "0701740699"
	inbox, err := p.c.Inbox(ctx, sess.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	replied := false
	for _, c := range inbox {
		if c.Answerable {
			if _, err := p.c.ResidentReply(ctx, sess.Token, c.ID, reply); err != nil {
				t.Fatalf("reply: %v", err)
			}
			replied = true
			break
		}
	}
	if !replied {
		t.Fatal("no answerable case in the demo inbox")
	}
	if _, err := p.c.UpdateSettings(ctx, sess.Token, client.Settings{Mobile: mobile, NotifySMS: true}); err != nil {
		t.Fatal(err)
	}
	_, recipient := ageIdentity(t)
	archive := filepath.Join(t.TempDir(), "backup.age")
	if out, err := cli(t, "backup", "--data", data, "--out", archive, "--recipient", recipient); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	p.stop(t)

	secrets := append(serverSecrets(ds), reply, mobile, "+46701740699")
	if hits := filesHolding(t, data, secrets); len(hits) > 0 {
		t.Errorf("readable in the server's data directory: %v", hits)
	}
	if hits := filesHolding(t, filepath.Dir(archive), secrets); len(hits) > 0 {
		t.Errorf("readable in the backup: %v", hits)
	}
}

// serverSecrets are the demo residents' personnummer (both forms), names,
// addresses, contact details and the demo's message texts.
func serverSecrets(ds *demo.Dataset) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 6 {
			out = append(out, s)
		}
	}
	for _, r := range ds.Residents {
		add(r.PNR.String())
		add(strings.ReplaceAll(r.PNR.String(), "-", ""))
		add(r.Register.FullName())
		add(r.Register.Address.Street)
		add(r.Settings.Mobile)
		add(r.Settings.Email)
	}
	for _, th := range ds.Threads {
		for _, m := range th.Messages {
			if len(m.Text) >= 20 {
				add(m.Text[:20])
			}
		}
	}
	return out
}

// filesHolding lists "what in file" for each secret found in a file under
// dir, in plain bytes or as a JSON string.
func filesHolding(t *testing.T, dir string, secrets []string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			j, _ := json.Marshal(s)
			if bytes.Contains(data, []byte(s)) || bytes.Contains(data, j[1:len(j)-1]) {
				hits = append(hits, s[:4]+"… in "+filepath.Base(p))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}
