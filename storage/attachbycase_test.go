package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
)

// Attachments by case (schema v11, issue 13 finding 3).

// TestAttachmentBytesScopedToCase: an attachment id names a file only
// within its case. Another case that names the same id — on a message
// written before v11, or by asking the store directly — reaches nothing
// of the file: not its bytes, not its chunks, not whether it is there;
// staging chunks under the id through another case neither sees nor
// disturbs the owner's upload.
func TestAttachmentBytesScopedToCase(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ds := seedDemo(t, s)
	data := pdfBytes(t, app.AttachmentChunkSize+5)
	a, err := app.NewAttachment("remiss.pdf", data)
	if err != nil {
		t.Fatal(err)
	}
	a.ID = app.NewID(testNow)
	mine := newThread(ds.Clinics[0].ID, ds.Residents[0].ID, "", app.StatusNew, testNow, "Här kommer remissen.")
	mine.Messages[0].Attachments = []app.Attachment{a}
	mine.Blobs = map[app.ID][]byte{a.ID: data}
	if err := s.CreateThread(ctx, &mine, app.Write{}); err != nil {
		t.Fatal(err)
	}
	other := newThread(ds.Clinics[1].ID, ds.Residents[1].ID, "", app.StatusNew, testNow, "Ett annat ärende.")
	if err := s.CreateThread(ctx, &other, app.Write{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AttachmentData(ctx, mine.Case.ID, a.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the owner reads its bytes: %v", err)
	}
	if got, err := s.AttachmentData(ctx, other.Case.ID, a.ID); !errors.Is(err, app.ErrNotFound) || got != nil {
		t.Errorf("another case reads the id: %d bytes, %v; want ErrNotFound", len(got), err)
	}
	if held, err := s.HasAttachmentData(ctx, other.Case.ID, a.ID); err != nil || held {
		t.Errorf("another case holds the id: %v %v", held, err)
	}
	if c, err := s.AttachmentChunk(ctx, other.Case.ID, a.ID, 0); !errors.Is(err, app.ErrNotFound) || c != nil {
		t.Errorf("another case downloads a chunk of the id: %d bytes, %v", len(c), err)
	}

	// Uploads: the owner's and another case's under the same id are apart.
	b := app.NewID(testNow)
	file := pdfBytes(t, 2*app.AttachmentChunkSize)
	if _, err := s.StageChunk(ctx, mine.Case.ID, b, 0, chunkOf(file, 0), int64(len(file)), sumOf(file)); err != nil {
		t.Fatal(err)
	}
	if have, err := s.StagedChunks(ctx, other.Case.ID, b); err != nil || len(have) != 0 {
		t.Errorf("another case sees the owner's staged chunks: %v %v", have, err)
	}
	wrong := pdfBytes(t, 2*app.AttachmentChunkSize)
	for n := range 2 {
		if _, err := s.StageChunk(ctx, other.Case.ID, b, n, chunkOf(wrong, n), int64(len(file)), sumOf(file)); n == 1 && !errors.Is(err, app.ErrAttachmentCorrupt) {
			t.Fatalf("the other case's whole upload = %v, want ErrAttachmentCorrupt", err)
		}
	}
	if have, _ := s.StagedChunks(ctx, mine.Case.ID, b); !slices.Equal(have, []int{0}) {
		t.Errorf("the owner's staged chunks after another case's failed upload: %v, want [0]", have)
	}

	// The id is claimed: a message of another case cannot describe it.
	err = s.UpdateThread(ctx, other.Case.ID, app.Write{}, func(u *app.Thread) error {
		u.Messages = append(u.Messages, app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, At: testNow, Text: "Se bilagan.", Attachments: []app.Attachment{a}})
		return nil
	})
	if !errors.Is(err, app.ErrAttachmentTaken) || !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("another case's message naming the id = %v, want ErrAttachmentTaken", err)
	}
	if th, _ := s.Thread(ctx, other.Case.ID); len(th.Messages) != 1 {
		t.Errorf("the refused message was written: %d messages", len(th.Messages))
	}
	// The owner's later writes keep the claim.
	err = s.UpdateThread(ctx, mine.Case.ID, app.Write{}, func(u *app.Thread) error {
		u.Case.Status = app.StatusOngoing
		return nil
	})
	if err != nil {
		t.Fatalf("the owner's case written again: %v", err)
	}
}

// The checked-in v10 databases with attachments (beyond the records of
// schema-files.json): testdata/v10-attachments.db is a server's (plain,
// change feed on), testdata/v10-attachments-sealed.db a desktop's,
// sealed, unlocked by staffA with passA. Today's code cannot write the
// state they hold (another case's message naming an id, bytes in the v10
// keys), so TestGenerateAttachmentSchemaFiles writes the golden records
// through today's code, undoes migration 11, and then adds the v10 keys
// with raw bbolt.
func attachmentsFile(sealed bool) string {
	if sealed {
		return filepath.Join("testdata", "v10-attachments-sealed.db")
	}
	return filepath.Join("testdata", "v10-attachments.db")
}

// attFixture is what the v10 attachment files hold, from fixed ids and
// bytes (no randomness: the test compares against this, not against what
// the code under test wrote).
type attFixture struct {
	caseA, caseB, caseC app.ID
	staff               app.ID
	// x: case A's file; a message of case B names it with another digest.
	// y: described, with its digest, by case A and by case C.
	// z: bytes no message describes.
	// w: case A's upload under way (its second chunk staged, server).
	// v: case A's file a desktop is fetching (its second chunk staged).
	// u: staged chunk of an id no message describes.
	x, y, z, w, v, u app.Attachment
	data             map[app.ID][]byte
	msgA, msgB, msgC app.Message
}

func fixtureBytes(id app.ID, n int) []byte {
	b := []byte("%PDF-1.4\n")
	for len(b) < n {
		b = append(b, "bilaga "+string(id)+"\n"...)
	}
	return b[:n]
}

func newAttFixture(g *schemaGolden) attFixture {
	f := attFixture{caseA: g.Threads[1].Case.ID, caseB: g.Threads[4].Case.ID, caseC: g.Threads[2].Case.ID,
		staff: g.Staff[0].ID, data: map[app.ID][]byte{}}
	desc := func(id app.ID, name string, n int) app.Attachment {
		d := fixtureBytes(id, n)
		f.data[id] = d
		return app.Attachment{ID: id, Name: name, MIME: app.MIMEPDF, Size: int64(n), SHA256: sumOf(d)}
	}
	f.x = desc("01JATTX0000000000000000000", "remiss.pdf", 5000)
	f.y = desc("01JATTY0000000000000000000", "intyg.pdf", 3000)
	f.z = desc("01JATTZ0000000000000000000", "okand.pdf", 1000)
	f.w = desc("01JATTW0000000000000000000", "journal.pdf", app.AttachmentChunkSize+20)
	f.v = desc("01JATTV0000000000000000000", "provsvar.pdf", app.AttachmentChunkSize+10)
	f.u = desc("01JATTU0000000000000000000", "lost.pdf", app.AttachmentChunkSize+30)
	at := g.Threads[1].Case.LastActivity
	msg := func(id app.ID, c app.ID, atts ...app.Attachment) app.Message {
		return app.Message{ID: id, CaseID: c, Author: app.AuthorStaff, AuthorID: f.staff, At: at, Text: "Bilagor.", Attachments: atts}
	}
	forged := f.x
	forged.SHA256 = sumOf([]byte("gissat"))
	f.msgA = msg("01JMSGA0000000000000000000", f.caseA, f.x, f.y, f.w, f.v)
	f.msgB = msg("01JMSGB0000000000000000000", f.caseB, forged)
	f.msgC = msg("01JMSGC0000000000000000000", f.caseC, f.y)
	return f
}

// TestGenerateAttachmentSchemaFiles writes the v10 attachment files that
// do not exist yet (see attachmentsFile); a checked-in file is never
// rewritten.
func TestGenerateAttachmentSchemaFiles(t *testing.T) {
	if !*updateSchemaFiles {
		t.Skip("run with -update-schema-files to write the missing checked-in databases")
	}
	ctx := context.Background()
	g := loadGolden(t)
	f := newAttFixture(g)
	for _, sealed := range []bool{false, true} {
		if _, err := os.Stat(attachmentsFile(sealed)); err == nil {
			t.Logf("%s exists, kept", attachmentsFile(sealed))
			continue
		}
		dir := t.TempDir()
		opt := Options{migrateTo: SchemaVersion}
		if sealed {
			opt.Encrypt, opt.KeyParams = true, cheapKeys
		}
		s, err := Open(ctx, dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		var codec Codec = plainCodec{}
		if sealed {
			if err := s.Unlock(ctx, staffA, passA); err != nil {
				t.Fatal(err)
			}
			if codec, err = newAEADCodec(append([]byte(nil), s.dataKey...)); err != nil {
				t.Fatal(err)
			}
		}
		if err := demo.Seed(ctx, s, &demo.Dataset{Clinics: g.Clinics, Staff: g.Staff, Residents: g.Residents, Templates: g.Templates, Threads: g.Threads}); err != nil {
			t.Fatal(err)
		}
		if !sealed {
			if err := s.SetChangeFeed(ctx); err != nil {
				t.Fatal(err)
			}
		}
		path := s.Path()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		undoWith(t, path, SchemaVersion-1, codec)
		writeV10Attachments(t, path, codec, f)
		compactTo(t, path, attachmentsFile(sealed))
		t.Logf("%s written", attachmentsFile(sealed))
	}
}

// writeV10Attachments adds f's messages and attachments to the v10
// database at path in the v10 keys.
func writeV10Attachments(t *testing.T, path string, codec Codec, f attFixture) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		items := tx.Bucket(bCaseItems)
		for _, m := range []app.Message{f.msgA, f.msgB, f.msgC} {
			k := itemKey(m.CaseID, itemMessage, m.ID)
			enc, err := encode(codec, bCaseItems, k, &m)
			if err != nil {
				return err
			}
			if err := items.Put(k, enc); err != nil {
				return err
			}
		}
		raw := func(bucket, k, p []byte) error {
			enc, err := encodeRaw(codec, bucket, k, p)
			if err != nil {
				return err
			}
			return tx.Bucket(bucket).Put(k, enc)
		}
		for _, a := range []app.Attachment{f.x, f.y, f.z} {
			if err := raw(bAttachments, []byte(a.ID), f.data[a.ID]); err != nil {
				return err
			}
		}
		v10Chunk := func(id app.ID, rest ...byte) []byte { return append(append([]byte(id), 0), rest...) }
		mark := binary.BigEndian.AppendUint64(nil, uint64(testNow.UnixMilli()))
		for _, a := range []app.Attachment{f.w, f.v, f.u} {
			if err := raw(bAttachChunks, v10Chunk(a.ID, 0, 0, 0, 1), f.data[a.ID][app.AttachmentChunkSize:]); err != nil {
				return err
			}
			if err := raw(bAttachChunks, v10Chunk(a.ID, 't'), mark); err != nil {
				return err
			}
		}
		ref := app.AttachmentRef{CaseID: f.caseA, Attachment: f.v}
		enc, err := encode(codec, bAttachFetch, []byte(f.v.ID), &ref)
		if err != nil {
			return err
		}
		return tx.Bucket(bAttachFetch).Put([]byte(f.v.ID), enc)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpgradeV10AttachmentsMoveUnderTheirCase: a v10 database is copied
// aside and upgraded; each attachment lands under the case whose messages
// describe it: case A keeps its file although case B's message names its
// id (with another digest); bytes that two cases describe with their
// digest, and bytes nobody describes, reach no case but stay in the file;
// staged chunks and the fetch list follow their case, chunks of no case
// are dropped. A sealed desktop database is marked when it opens locked
// and moved at its first Unlock, re-sealed under the new keys.
func TestUpgradeV10AttachmentsMoveUnderTheirCase(t *testing.T) {
	ctx := context.Background()
	f := newAttFixture(loadGolden(t))
	for _, sealed := range []bool{false, true} {
		name := map[bool]string{false: "server", true: "sealed desktop"}[sealed]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, attachmentsFile(sealed), filepath.Join(dir, FileName))
			orig, err := os.ReadFile(filepath.Join(dir, FileName))
			if err != nil {
				t.Fatal(err)
			}
			opt := Options{}
			if sealed {
				opt.Encrypt, opt.KeyParams = true, cheapKeys
			}
			s := openTestAt(t, dir, opt)
			if v := s.Version(); v != SchemaVersion {
				t.Fatalf("version %d after Open, want %d", v, SchemaVersion)
			}
			if bak, err := os.ReadFile(s.Backup); err != nil || !bytes.Equal(bak, orig) {
				t.Fatalf("no byte-for-byte backup before migrating: %v", err)
			}
			pending := func() (p bool) {
				_ = s.view(func(tx *bolt.Tx) error { p = tx.Bucket(bMeta).Get(kAttachByCase) != nil; return nil })
				return p
			}
			if pending() != sealed {
				t.Fatalf("move pending after Open = %v, want %v", pending(), sealed)
			}
			if sealed {
				if _, err := s.Thread(ctx, f.caseA); !errors.Is(err, ErrLocked) {
					t.Fatalf("reading before Unlock = %v, want ErrLocked", err)
				}
				if err := s.Unlock(ctx, staffA, passA); err != nil {
					t.Fatalf("unlock: %v", err)
				}
				if pending() {
					t.Fatal("move still pending after Unlock")
				}
			}
			wantAttachmentsByCase(t, s, f)
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
			checkClose(t, s)
			if sealed {
				raw, err := os.ReadFile(filepath.Join(dir, FileName))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(raw, []byte("bilaga "+f.x.ID)) || bytes.Contains(raw, []byte("remiss.pdf")) {
					t.Error("the sealed file holds attachment bytes or a file name in the clear")
				}
			}
			// A second Open finds nothing to migrate, and reads the same.
			s = openTestAt(t, dir, opt)
			if s.Backup != "" {
				t.Errorf("second Open made another backup %s", s.Backup)
			}
			if sealed {
				if err := s.Unlock(ctx, staffA, passA); err != nil {
					t.Fatal(err)
				}
			}
			for id, c := range map[app.ID]app.ID{f.x.ID: f.caseA, f.v.ID: f.caseA} {
				if got, err := s.AttachmentData(ctx, c, id); err != nil || !bytes.Equal(got, f.data[id]) {
					t.Errorf("after reopening, %s: %v", id, err)
				}
			}
			if _, err := s.AttachmentData(ctx, f.caseB, f.x.ID); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("after reopening, case B reads case A's file: %v", err)
			}
		})
	}
}

// wantAttachmentsByCase checks s against f after migration 11, finishes
// the download under way, and checks that case B cannot claim case A's id.
func wantAttachmentsByCase(t *testing.T, s *Store, f attFixture) {
	t.Helper()
	ctx := context.Background()
	if got, err := s.AttachmentData(ctx, f.caseA, f.x.ID); err != nil || !bytes.Equal(got, f.data[f.x.ID]) {
		t.Errorf("case A reads its file: %v", err)
	}
	for _, c := range []struct {
		caseID app.ID
		a      app.Attachment
		why    string
	}{
		{f.caseB, f.x, "case B named case A's id"},
		{f.caseA, f.y, "two cases describe the id with its digest"},
		{f.caseC, f.y, "two cases describe the id with its digest"},
		{f.caseA, f.z, "no message describes the id"},
	} {
		if got, err := s.AttachmentData(ctx, c.caseID, c.a.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("%s: read = %d bytes, %v; want ErrNotFound", c.why, len(got), err)
		}
	}
	// Nothing is deleted: bytes that reach no case stay under the v10 key.
	err := s.view(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bAttachments)
		for _, a := range []app.Attachment{f.y, f.z} {
			v := bk.Get([]byte(a.ID))
			if v == nil {
				t.Errorf("bytes of %s are gone", a.ID)
				continue
			}
			p, err := decodeRaw(s.c(bAttachments), bAttachments, []byte(a.ID), v)
			if err != nil || !bytes.Equal(p, f.data[a.ID]) {
				t.Errorf("bytes of %s left under the v10 key: %v", a.ID, err)
			}
		}
		if bk.Get([]byte(f.x.ID)) != nil {
			t.Errorf("bytes of %s left under the v10 key as well", f.x.ID)
		}
		// u's chunks (no case) are dropped; nothing of v10 keys remains.
		return tx.Bucket(bAttachChunks).ForEach(func(k, _ []byte) error {
			if _, _, ok := splitChunkKey(k); !ok {
				t.Errorf("chunk key %q of the v10 layout left", k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if have, err := s.StagedChunks(ctx, f.caseA, f.w.ID); err != nil || !slices.Equal(have, []int{1}) {
		t.Errorf("case A's upload under way: staged %v, %v; want [1]", have, err)
	}
	if have, err := s.StagedChunks(ctx, f.caseA, f.v.ID); err != nil || !slices.Equal(have, []int{1}) {
		t.Errorf("case A's download under way: staged %v, %v; want [1]", have, err)
	}
	if w, err := s.WantedAttachments(ctx, 0); err != nil || len(w) != 1 || w[0].CaseID != f.caseA || w[0].Attachment != f.v {
		t.Errorf("wanted = %+v, %v; want case A's v", w, err)
	}
	done, err := s.StageFetchedChunk(ctx, f.caseA, f.v.ID, 0, f.data[f.v.ID][:app.AttachmentChunkSize])
	if err != nil || !done {
		t.Errorf("finish the download under way: %v %v", done, err)
	} else if got, err := s.AttachmentData(ctx, f.caseA, f.v.ID); err != nil || !bytes.Equal(got, f.data[f.v.ID]) {
		t.Errorf("the finished download: %v", err)
	}
	if got, err := s.StagedAttachment(ctx, f.caseA, f.w.ID, f.w.Size); !errors.Is(err, app.ErrAttachmentIncomplete) {
		t.Errorf("case A's upload assembles with a chunk missing: %d bytes, %v", len(got), err)
	}
	err = s.UpdateThread(ctx, f.caseB, app.Write{}, func(u *app.Thread) error {
		u.Messages = append(u.Messages, app.Message{ID: app.NewID(testNow), Author: app.AuthorStaff, AuthorID: f.staff, At: testNow,
			Text: "Igen.", Attachments: []app.Attachment{f.w}})
		return nil
	})
	if !errors.Is(err, app.ErrAttachmentTaken) {
		t.Errorf("case B names case A's id after the upgrade: %v, want ErrAttachmentTaken", err)
	}
}
