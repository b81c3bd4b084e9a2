package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"mottagning/app"
	"mottagning/app/demo"
)

var (
	pdfFile = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	pngFile = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpgFile = []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}
)

func TestNewAttachmentChecksContentNotName(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     []byte
		wantMIME string
		wantName string
		wantErr  error
	}{
		{"remiss.pdf", pdfFile, app.MIMEPDF, "remiss.pdf", nil},
		{"bild.PNG", pngFile, app.MIMEPNG, "bild.png", nil},
		{"foto.jpeg", jpgFile, app.MIMEJPEG, "foto.jpg", nil},
		{"faktura.pdf.exe", pdfFile, app.MIMEPDF, "faktura.pdf.pdf", nil},
		{"../../etc/passwd", pngFile, app.MIMEPNG, "passwd.png", nil},
		{"", pdfFile, app.MIMEPDF, "bilaga.pdf", nil},
		{"../../../../root/.bashrc\x00evil.pdf", pdfFile, app.MIMEPDF, "bashrcevil.pdf", nil},
		{"faktura\u202Efdp.exe", pdfFile, app.MIMEPDF, "fakturafdp.pdf", nil},
		{"bild\u2066x\u2069.png", pngFile, app.MIMEPNG, "bildx.png", nil},
		{`C:\Users\x\intyg.pdf`, pdfFile, app.MIMEPDF, "intyg.pdf", nil},
		{"\xff\xfe.pdf", pdfFile, app.MIMEPDF, "bilaga.pdf", nil},
		{strings.Repeat("å", 130) + ".pdf", pdfFile, app.MIMEPDF, strings.Repeat("å", 120) + ".pdf", nil},
		{strings.Repeat("a", 119) + " b.pdf", pdfFile, app.MIMEPDF, strings.Repeat("a", 119) + ".pdf", nil},
		{"skript.pdf", []byte("#!/bin/sh\nrm -rf /\n"), "", "", app.ErrAttachmentType},
		{"tom.pdf", nil, "", "", app.ErrAttachmentEmpty},
		{"stor.pdf", append(append([]byte{}, pdfFile...), make([]byte, app.MaxAttachmentSize)...), "", "", app.ErrAttachmentTooLarge},
	} {
		a, err := app.NewAttachment(tc.name, tc.data)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) || !errors.Is(err, app.ErrInvalid) {
				t.Errorf("%q: %v, want %v", tc.name, err, tc.wantErr)
			}
			if app.AttachmentMessage(err) == "Bilagan kunde inte läggas till." {
				t.Errorf("%q: no specific Swedish message", tc.name)
			}
			continue
		}
		if err != nil || a.MIME != tc.wantMIME || a.Name != tc.wantName || a.Size != int64(len(tc.data)) || len(a.SHA256) != 64 {
			t.Errorf("%q: %+v, %v", tc.name, a, err)
		}
	}
}

// TestReplyWithFilesStoresBytesAtomically: the reply and its files land in
// one transaction; a bad file refuses the whole reply and writes nothing;
// reading a file back is access-logged and digest-checked.
func TestReplyWithFilesStoresBytesAtomically(t *testing.T) {
	f := newFixture(t)
	sess := f.session(demo.StaffReceiver, 0)
	c, err := f.send(sess, demo.AdultSMS, app.KindQuestion)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.store.Thread(f.ctx, c.ID)
	err = f.cases.ReplyWithFiles(f.ctx, sess, c.ID, "Här är remissen.", []app.File{{Name: "remiss.pdf", Data: pdfFile}, {Name: "virus.exe", Data: []byte("MZ\x90\x00")}})
	if !errors.Is(err, app.ErrAttachmentType) {
		t.Fatalf("reply with a bad file: %v", err)
	}
	after, _ := f.store.Thread(f.ctx, c.ID)
	if len(after.Messages) != len(before.Messages) {
		t.Fatal("a refused reply wrote a message")
	}
	if err := f.cases.ReplyWithFiles(f.ctx, sess, c.ID, "Här är remissen.", []app.File{{Name: "remiss.pdf", Data: pdfFile}, {Name: "bild.png", Data: pngFile}}); err != nil {
		t.Fatal(err)
	}
	th, _ := f.store.Thread(f.ctx, c.ID)
	m := th.Messages[len(th.Messages)-1]
	if len(m.Attachments) != 2 {
		t.Fatalf("attachments on the reply: %+v", m.Attachments)
	}
	logBefore, _ := f.store.Entries(f.ctx, sess.ClinicID, f.now.Add(-1), f.now.Add(1))
	a, data, err := f.cases.AttachmentData(f.ctx, sess, c.ID, m.Attachments[0].ID)
	if err != nil || !bytes.Equal(data, pdfFile) || a.Name != "remiss.pdf" {
		t.Fatalf("read back: %v %+v", err, a)
	}
	logAfter, _ := f.store.Entries(f.ctx, sess.ClinicID, f.now.Add(-1), f.now.Add(1))
	if len(logAfter) != len(logBefore)+1 || logAfter[len(logAfter)-1].Action != app.AccessReadMessage {
		t.Errorf("reading an attachment was not access-logged")
	}
	// Another clinic's staff cannot read it.
	other := f.session(demo.StaffChildClinic, 0)
	if _, _, err := f.cases.AttachmentData(f.ctx, other, c.ID, m.Attachments[0].ID); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("other clinic: %v", err)
	}
	// Too many files.
	many := make([]app.File, app.MaxAttachmentsPerMessage+1)
	for i := range many {
		many[i] = app.File{Name: "x.png", Data: pngFile}
	}
	err = f.cases.ReplyWithFiles(f.ctx, sess, c.ID, "Bilder till dig", many)
	if !errors.Is(err, app.ErrTooManyAttachments) {
		t.Fatalf("too many: %v", err)
	}
	if strings.Contains(err.Error(), "Bilder till dig") || strings.Contains(err.Error(), "x.png") {
		t.Error("error carries message text or a file name")
	}
}

// TestCheckAttachment is the one check of an attachment on every door
// (issue 13, finding 4): the staff tool's NewAttachment, and on the
// server the bytes of an attachment.put op (chunks or inside the op) and
// the description on a case.message op. The type is the content's, the
// name must be what CleanAttachmentName makes of it, the bytes must be
// the described ones; each refusal has its stable code and Swedish text.
func TestCheckAttachment(t *testing.T) {
	good, err := app.NewAttachment("remiss.pdf", pdfFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.CheckAttachment(good, pdfFile); err != nil {
		t.Fatalf("what NewAttachment made: %v", err)
	}
	elf := []byte("\x7fELF\x02\x01\x01\x00 not a pdf")
	with := func(f func(a *app.Attachment)) app.Attachment { a := good; f(&a); return a }
	described := func(name, mime string, data []byte) app.Attachment {
		a, _ := app.NewAttachment("x.pdf", pdfFile)
		a.Name, a.MIME, a.Size = name, mime, int64(len(data))
		sum := sha256.Sum256(data)
		a.SHA256 = hex.EncodeToString(sum[:])
		return a
	}
	for _, tc := range []struct {
		name string
		a    app.Attachment
		data []byte
		want *app.FieldError
	}{
		{"ELF declared as PDF", described("remiss.pdf", app.MIMEPDF, elf), elf, app.ErrAttachmentType},
		{"PNG declared as JPEG", described("bild.jpg", app.MIMEJPEG, pngFile), pngFile, app.ErrAttachmentType},
		{"a type not allowed", described("sida.html", "text/html", []byte("<html>")), []byte("<html>"), app.ErrAttachmentType},
		{"path and NUL in the name", with(func(a *app.Attachment) { a.Name = "../../../../root/.bashrc\x00evil.pdf" }), pdfFile, app.ErrAttachmentName},
		{"direction override in the name", with(func(a *app.Attachment) { a.Name = "x\u202Efdp.pdf" }), pdfFile, app.ErrAttachmentName},
		{"extension of another type", with(func(a *app.Attachment) { a.Name = "remiss.exe" }), pdfFile, app.ErrAttachmentName},
		{"no name", with(func(a *app.Attachment) { a.Name = "" }), pdfFile, app.ErrAttachmentName},
		{"name too long", with(func(a *app.Attachment) { a.Name = strings.Repeat("a", 121) + ".pdf" }), pdfFile, app.ErrAttachmentName},
		{"other bytes", good, append([]byte("%PDF-1.4\n"), make([]byte, len(pdfFile)-9)...), app.ErrAttachmentMismatch},
		{"shorter bytes", good, pdfFile[:len(pdfFile)-1], app.ErrAttachmentMismatch},
		{"digest not hex", with(func(a *app.Attachment) { a.SHA256 = "zz" }), pdfFile, app.ErrAttachmentDescription},
		{"digest in upper case", with(func(a *app.Attachment) { a.SHA256 = strings.ToUpper(a.SHA256) }), pdfFile, app.ErrAttachmentDescription},
		{"empty", with(func(a *app.Attachment) { a.Size = 0 }), nil, app.ErrAttachmentEmpty},
		{"too large", with(func(a *app.Attachment) { a.Size = app.MaxAttachmentSize + 1 }), pdfFile, app.ErrAttachmentTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := app.CheckAttachment(tc.a, tc.data)
			var fe *app.FieldError
			if !errors.Is(err, tc.want) || !errors.As(err, &fe) || !errors.Is(err, app.ErrInvalid) || app.Code(err) != "invalid" {
				t.Fatalf("CheckAttachment = %v, want %s", err, tc.want.Code)
			}
			if msg := app.AttachmentMessage(err); msg != tc.want.Text || msg == "" {
				t.Errorf("Swedish text %q, want %q", msg, tc.want.Text)
			}
			if tc.a.Name != "" && strings.Contains(err.Error(), tc.a.Name) {
				t.Errorf("error %q carries the file name", err)
			}
		})
	}
}

// FuzzCleanAttachmentName: whatever name a file comes with, the cleaned
// name has no directory, separator, control or direction-override
// character, at most 120 characters before the type's extension, passes
// the description check, and cleaning it again changes nothing.
func FuzzCleanAttachmentName(f *testing.F) {
	for _, s := range []string{"remiss.pdf", "../../../../root/.bashrc\x00evil.pdf", "faktura\u202Efdp.exe", `C:\a\b.png`,
		"..", ".", "", " ", "a .pdf", strings.Repeat("å", 130), "\xff\xfe", "x.pdf.exe", "con.pdf", "a/", "\u2066"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, mime := range []string{app.MIMEPDF, app.MIMEJPEG, app.MIMEPNG} {
			c := app.CleanAttachmentName(name, mime)
			if again := app.CleanAttachmentName(c, mime); again != c {
				t.Fatalf("clean(%q) = %q, cleaned again %q", name, c, again)
			}
			if !utf8.ValidString(c) || strings.ContainsAny(c, "/\\:*?\"<>|") {
				t.Fatalf("clean(%q) = %q", name, c)
			}
			for _, r := range c {
				if unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
					t.Fatalf("clean(%q) = %q holds %U", name, c, r)
				}
			}
			ext := map[string]string{app.MIMEPDF: ".pdf", app.MIMEJPEG: ".jpg", app.MIMEPNG: ".png"}[mime]
			if !strings.HasSuffix(c, ext) || utf8.RuneCountInString(strings.TrimSuffix(c, ext)) > 120 || strings.TrimSuffix(c, ext) == "" {
				t.Fatalf("clean(%q) = %q", name, c)
			}
			a := app.Attachment{Name: c, MIME: mime, Size: 1, SHA256: strings.Repeat("0", 64)}
			if err := app.CheckAttachmentDescription(a); err != nil {
				t.Fatalf("description with clean(%q) = %q refused: %v", name, c, err)
			}
		}
	})
}
