package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Attachment is a file on a message (bilaga), both ways: staff to resident
// and resident to staff. The bytes live apart from the message, under the
// case and the attachment id (an id names a file only within its case);
// the message carries this description.
type Attachment struct {
	ID   ID
	Name string
	// MIME is decided from the file's content, never from its name.
	MIME string
	Size int64
	// SHA256 is the hex digest of the bytes, checked when they are read back.
	SHA256 string
}

// Limits on attachments.
const (
	MaxAttachmentSize        = 10 << 20 // 10 MiB per file
	MaxAttachmentsPerMessage = 5
	maxAttachmentNameLen     = 120
)

// Allowed attachment types: PDF, JPEG and PNG.
const (
	MIMEPDF  = "application/pdf"
	MIMEJPEG = "image/jpeg"
	MIMEPNG  = "image/png"
)

// Attachment errors; each matches ErrInvalid.
var (
	ErrAttachmentTooLarge = fmt.Errorf("attachment larger than %d MiB: %w", MaxAttachmentSize>>20, ErrInvalid)
	ErrAttachmentType     = fmt.Errorf("attachment is not a PDF, JPEG or PNG file: %w", ErrInvalid)
	ErrAttachmentEmpty    = fmt.Errorf("attachment is empty: %w", ErrInvalid)
	ErrTooManyAttachments = fmt.Errorf("more than %d attachments on one message: %w", MaxAttachmentsPerMessage, ErrInvalid)
	// ErrAttachmentTaken: a message names an attachment id that a message
	// of another case describes already. The id names one file of one
	// case; a message cannot borrow another case's file by its id.
	ErrAttachmentTaken = &FieldError{"attachment", "attachment_id",
		"Bilagan hör till ett annat ärende och kan inte läggas på det här meddelandet."}
)

// ErrAttachmentNotDownloaded: the attachment is described on a message,
// but its bytes have not reached this device yet. A connected desktop
// fetches the bytes of other desktops' attachments in the background
// after a pull (sync/attach.go); until then opening one says so.
var ErrAttachmentNotDownloaded = fmt.Errorf("attachment bytes not on this device yet: %w", ErrNotFound)

// notDownloaded turns the store's "no bytes" for an attachment that a
// message describes into ErrAttachmentNotDownloaded.
func notDownloaded(err error) error {
	if errors.Is(err, ErrNotFound) {
		return ErrAttachmentNotDownloaded
	}
	return err
}

// AttachmentMessage is the Swedish text for an attachment error.
func AttachmentMessage(err error) string {
	switch {
	case errors.Is(err, ErrAttachmentNotDownloaded):
		return "Bilagan har inte hämtats till den här datorn ännu. Den hämtas när datorn är ansluten."
	case errors.Is(err, ErrAttachmentTooLarge):
		return fmt.Sprintf("Filen är för stor. En bilaga får vara högst %d MB.", MaxAttachmentSize>>20)
	case errors.Is(err, ErrAttachmentType):
		return "Filtypen stöds inte. Bifoga en PDF-, JPEG- eller PNG-fil."
	case errors.Is(err, ErrAttachmentEmpty):
		return "Filen är tom."
	case errors.Is(err, ErrTooManyAttachments):
		return fmt.Sprintf("Ett meddelande kan ha högst %d bilagor.", MaxAttachmentsPerMessage)
	}
	return "Bilagan kunde inte läggas till."
}

// sniffMIME decides the type from the first bytes.
func sniffMIME(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return MIMEPDF
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return MIMEJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return MIMEPNG
	}
	return ""
}

var extFor = map[string]string{MIMEPDF: ".pdf", MIMEJPEG: ".jpg", MIMEPNG: ".png"}

// cleanAttachmentName keeps the base name, drops control and path
// characters, shortens it, and makes its extension match the real type,
// so that a file called "x.pdf.exe" or "../../x" cannot mislead anyone
// who saves it.
func cleanAttachmentName(name, mime string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.TrimSuffix(name, filepath.Ext(name)))
	if name == "" || name == "." {
		name = "bilaga"
	}
	for utf8.RuneCountInString(name) > maxAttachmentNameLen {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	return name + extFor[mime]
}

// NewAttachment checks a file offered as an attachment and describes it:
// not empty, at most MaxAttachmentSize, and a PDF, JPEG or PNG by its
// content. The id is set by the caller.
func NewAttachment(name string, data []byte) (Attachment, error) {
	switch {
	case len(data) == 0:
		return Attachment{}, ErrAttachmentEmpty
	case len(data) > MaxAttachmentSize:
		return Attachment{}, ErrAttachmentTooLarge
	}
	mime := sniffMIME(data)
	if mime == "" {
		return Attachment{}, ErrAttachmentType
	}
	sum := sha256.Sum256(data)
	return Attachment{Name: cleanAttachmentName(name, mime), MIME: mime, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// checkDescription checks an attachment description made on a desktop
// (a case.message op): what NewAttachment would have made for some file.
func (a Attachment) checkDescription() error {
	switch {
	case a.ID == "" || len(a.ID) > 64:
		return fmt.Errorf("attachment id: %w", ErrInvalid)
	case a.Size <= 0:
		return ErrAttachmentEmpty
	case a.Size > MaxAttachmentSize:
		return ErrAttachmentTooLarge
	case a.MIME != MIMEPDF && a.MIME != MIMEJPEG && a.MIME != MIMEPNG:
		return ErrAttachmentType
	case len(a.Name) == 0 || len(a.Name) > maxAttachmentNameLen*4:
		return fmt.Errorf("attachment name: %w", ErrInvalid)
	}
	if b, err := hex.DecodeString(a.SHA256); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("attachment digest: %w", ErrInvalid)
	}
	return nil
}

// File is an attachment offered with a new message: a name and its bytes.
type File struct {
	Name string
	Data []byte
}

// ErrAttachmentCorrupt: the stored bytes do not match the digest on the message.
var ErrAttachmentCorrupt = errors.New("attachment bytes do not match their digest")

func (a Attachment) verify(data []byte) error {
	sum := sha256.Sum256(data)
	if int64(len(data)) != a.Size || hex.EncodeToString(sum[:]) != a.SHA256 {
		return ErrAttachmentCorrupt
	}
	return nil
}

// attachment finds an attachment on any message of the thread.
func (t *Thread) attachment(id ID) (Attachment, bool) {
	for _, m := range t.Messages {
		for _, a := range m.Attachments {
			if a.ID == id {
				return a, true
			}
		}
	}
	return Attachment{}, false
}

// Attachments in sync (docs/sync.md, Attachments): the bytes travel apart
// from the attachment.put op, in chunks of AttachmentChunkSize, each with
// its SHA-256; the digest on the message checks the whole file.

// AttachmentChunkSize is the length of every chunk of an attachment's
// bytes but the last.
const AttachmentChunkSize = 256 << 10

// AttachmentChunks is the number of chunks of an attachment of size bytes.
func AttachmentChunks(size int64) int {
	if size <= 0 {
		return 0
	}
	return int((size + AttachmentChunkSize - 1) / AttachmentChunkSize)
}

// AttachmentChunkLen is the length of chunk n of an attachment of size
// bytes, 0 for a chunk beyond its end.
func AttachmentChunkLen(size int64, n int) int {
	if n < 0 || n >= AttachmentChunks(size) {
		return 0
	}
	return int(min(size-int64(n)*AttachmentChunkSize, AttachmentChunkSize))
}

// ErrAttachmentIncomplete: an attachment.put op came before all the
// chunks of its bytes. It is no refusal (its Code is "internal"): the op
// is left undecided and unremembered, so that the desktop pushes it again
// after uploading the chunks the server lacks.
var ErrAttachmentIncomplete = errors.New("attachment chunks missing on the server")

// AttachmentRef is an attachment described on a message of a case (a
// connected desktop's list of attachments to fetch).
type AttachmentRef struct {
	CaseID ID
	Attachment
}

// ChunkStaging is the central server's store of the chunks desktops
// upload ahead of their attachment.put ops (storage.Store behind the
// server's gate). CaseService finds it on its store. Chunks and bytes
// are kept per case: an attachment id names a file only within its case.
type ChunkStaging interface {
	// StagedAttachment assembles the staged chunks of attachment id of
	// case caseID (size bytes), or fails with ErrAttachmentIncomplete.
	StagedAttachment(ctx context.Context, caseID, id ID, size int64) ([]byte, error)
	// DiscardStagedChunks removes the staged chunks of id of case caseID.
	DiscardStagedChunks(ctx context.Context, caseID, id ID) error
	// HasAttachmentData reports whether the bytes of id of case caseID are stored.
	HasAttachmentData(ctx context.Context, caseID, id ID) (bool, error)
	// Batch runs fn's store calls in one transaction.
	Batch(ctx context.Context, fn func(ctx context.Context) error) error
}

// SyncAttachment describes attachment attID on case caseID for a chunk
// transfer by staff member st: to upload its bytes st must be allowed to
// handle the case (as the attachment.put op that follows must), to
// download them a role in the case's clinic is enough (as for pulling the
// case). Not found when the case has no message describing it.
func (s *CaseService) SyncAttachment(ctx context.Context, st *Staff, caseID, attID ID, upload bool) (Attachment, error) {
	t, err := s.store.Thread(ctx, caseID)
	if err != nil {
		return Attachment{}, fmt.Errorf("attachment %s of case %s: %w", attID, caseID, err)
	}
	allowed := st.InClinic(t.Case.ClinicID)
	if upload {
		allowed = mayHandle(Session{Staff: st, ClinicID: t.Case.ClinicID}, &t.Case)
	}
	if !allowed {
		return Attachment{}, forbid("attachment of case", caseID)
	}
	a, ok := t.attachment(attID)
	if !ok {
		return Attachment{}, fmt.Errorf("attachment %s of case %s: %w", attID, caseID, ErrNotFound)
	}
	return a, nil
}

// applyStagedAttachment applies an attachment.put op whose bytes were
// uploaded in chunks: in one transaction it assembles the case's chunks, checks
// them against the digest on the message, stores the bytes with the case
// (w marks the op applied) and drops the chunks. A
// missing chunk leaves the op undecided (ErrAttachmentIncomplete); bytes
// that do not match the message are refused, and their chunks dropped.
func (s *CaseService) applyStagedAttachment(ctx context.Context, sess Session, caseID, attID ID, w Write) (OpResult, error) {
	cs, ok := s.store.(ChunkStaging)
	if !ok {
		return OpResult{}, fmt.Errorf("attachment %s: no bytes: %w", attID, errUnsupported)
	}
	corrupt := false
	err := cs.Batch(ctx, func(ctx context.Context) error {
		err := s.store.UpdateThread(ctx, caseID, w, func(t *Thread) error {
			if !mayHandle(sess, &t.Case) {
				return forbid("op on case", caseID)
			}
			desc, ok := t.attachment(attID)
			if !ok {
				return fmt.Errorf("attachment %s on no message of case %s: %w", attID, caseID, ErrNotFound)
			}
			if held, err := cs.HasAttachmentData(ctx, caseID, attID); err != nil {
				return err
			} else if held {
				return errAlready
			}
			data, err := cs.StagedAttachment(ctx, caseID, attID, desc.Size)
			if err != nil {
				return fmt.Errorf("attachment %s of case %s: %w", attID, caseID, err)
			}
			if err := desc.verify(data); err != nil {
				corrupt = true
				return fmt.Errorf("attachment %s: %w: %w", attID, ErrInvalid, err)
			}
			t.Blobs = map[ID][]byte{attID: data}
			return nil
		})
		if err != nil {
			return err
		}
		return cs.DiscardStagedChunks(ctx, caseID, attID)
	})
	if corrupt {
		// Staged chunks are checked whole when the last one arrives, so
		// this is a store that changed under them; the desktop's next
		// upload starts over.
		if derr := cs.DiscardStagedChunks(ctx, caseID, attID); derr != nil {
			return OpResult{}, derr
		}
	}
	if err != nil && !errors.Is(err, errAlready) {
		return OpResult{}, fmt.Errorf("op %s on case %s: %w", OpAttachmentPut, caseID, err)
	}
	cur, cerr := s.store.Case(ctx, caseID)
	if cerr != nil {
		return OpResult{}, cerr
	}
	if err == nil {
		s.indexCase(ctx, cur)
	}
	return OpResult{Version: cur.Version}, nil
}
