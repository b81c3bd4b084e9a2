package app_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

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
