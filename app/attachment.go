package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mottagning/app/textcheck"
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
	maxAttachmentIDLen       = 64
)

// Allowed attachment types: PDF, JPEG and PNG.
const (
	MIMEPDF  = "application/pdf"
	MIMEJPEG = "image/jpeg"
	MIMEPNG  = "image/png"
)

// Attachment errors. Each is a FieldError of field "attachment" (so it
// matches ErrInvalid), whose Code is the stable reason an API refusal
// carries and whose Text is the Swedish sentence (AttachmentMessage).
var (
	ErrAttachmentTooLarge = &FieldError{"attachment", "attachment_too_large",
		fmt.Sprintf("Filen är för stor. En bilaga får vara högst %d MB.", MaxAttachmentSize>>20)}
	ErrAttachmentType = &FieldError{"attachment", "attachment_type",
		"Filtypen stöds inte. Bifoga en PDF-, JPEG- eller PNG-fil."}
	ErrAttachmentEmpty    = &FieldError{"attachment", "attachment_empty", "Filen är tom."}
	ErrTooManyAttachments = &FieldError{"attachment", "attachment_count",
		fmt.Sprintf("Ett meddelande kan ha högst %d bilagor.", MaxAttachmentsPerMessage)}
	// ErrAttachmentName: a described file name that is not what
	// CleanAttachmentName makes of it (a path, a NUL byte, a control or
	// direction-override character, too long, another type's extension).
	ErrAttachmentName = &FieldError{"attachment", "attachment_name",
		"Bilagans filnamn går inte att använda. Det får inte innehålla sökvägar eller osynliga styrtecken och ska sluta med filtypens ändelse."}
	// ErrAttachmentDescription: an id or digest that no file made by
	// NewAttachment has.
	ErrAttachmentDescription = &FieldError{"attachment", "attachment_description",
		"Bilagans beskrivning i meddelandet är inte giltig."}
	// ErrAttachmentMismatch: bytes that are not the described file (size
	// or digest).
	ErrAttachmentMismatch = &FieldError{"attachment", "digest_mismatch",
		"Bilagan är inte den fil som meddelandet beskriver. Skicka bilagan igen."}
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
	if errors.Is(err, ErrAttachmentNotDownloaded) {
		return "Bilagan har inte hämtats till den här datorn ännu. Den hämtas när datorn är ansluten."
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe.Field == "attachment" {
		return fe.Text
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

// CleanAttachmentName is the file name an attachment of type mime gets
// from the name it was offered with: the base name only (no directory,
// of either kind of separator), without control characters (NUL among
// them), direction overrides and the characters Windows forbids, with no
// leading dot, at most 120 characters before an extension that is always
// the real type's, so
// that a file called "x.pdf.exe", "../../x" or "x\u202Efdp.exe" cannot
// mislead anyone who saves it. Cleaning a clean name changes nothing.
func CleanAttachmentName(name, mime string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if textcheck.Forbidden(r) || r == utf8.RuneError || strings.ContainsRune(`/\:*?"<>|`, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSuffix(name, filepath.Ext(name))
	for utf8.RuneCountInString(name) > maxAttachmentNameLen {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	// No leading dot: a saved file is not to be hidden ("../.bashrc").
	name = strings.TrimLeftFunc(name, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	name = strings.TrimRightFunc(name, unicode.IsSpace)
	if name == "" {
		name = "bilaga"
	}
	return name + extFor[mime]
}

// NewAttachment checks a file offered as an attachment and describes it:
// not empty, at most MaxAttachmentSize, and a PDF, JPEG or PNG by its
// content, under its cleaned name (CleanAttachmentName). The id is set by
// the caller.
func NewAttachment(name string, data []byte) (Attachment, error) {
	switch {
	case len(data) == 0:
		return Attachment{}, ErrAttachmentEmpty
	case len(data) > MaxAttachmentSize:
		return Attachment{}, ErrAttachmentTooLarge
	}
	mime := sniffMIME(data)
	sum := sha256.Sum256(data)
	a := Attachment{Name: CleanAttachmentName(name, mime), MIME: mime, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	if err := CheckAttachment(a, data); err != nil {
		return Attachment{}, err
	}
	return a, nil
}

// CheckAttachmentDescription checks what a message says of a file: what
// NewAttachment would have made for some file — a size within the
// limits, an allowed type, a clean name (CleanAttachmentName leaves it as
// it is) and a SHA-256 in hex. The id is not the file's: see
// checkDescription.
func CheckAttachmentDescription(a Attachment) error {
	switch {
	case a.Size <= 0:
		return ErrAttachmentEmpty
	case a.Size > MaxAttachmentSize:
		return ErrAttachmentTooLarge
	case extFor[a.MIME] == "":
		return ErrAttachmentType
	case a.Name == "" || CleanAttachmentName(a.Name, a.MIME) != a.Name:
		return ErrAttachmentName
	}
	if b, err := hex.DecodeString(a.SHA256); err != nil || len(b) != sha256.Size || a.SHA256 != strings.ToLower(a.SHA256) {
		return ErrAttachmentDescription
	}
	return nil
}

// CheckAttachment is the one check of a file and its description, on
// every door by which an attachment enters: the staff tool
// (NewAttachment), and on the server the bytes of an attachment.put op,
// assembled from chunks or inside the op. The description must pass
// CheckAttachmentDescription, and data must be the described file: its
// size and digest, and its type decided by its content, never by its
// name. The error is one of the attachment FieldErrors.
func CheckAttachment(a Attachment, data []byte) error {
	if err := CheckAttachmentDescription(a); err != nil {
		return err
	}
	if err := a.verify(data); err != nil {
		if errors.Is(err, ErrAttachmentCorrupt) {
			return ErrAttachmentMismatch
		}
		return err
	}
	return nil
}

// checkDescription checks an attachment description made on a desktop
// (a case.message op): an id fit for a key and a URL path segment, and
// CheckAttachmentDescription.
func (a Attachment) checkDescription() error {
	if !validAttachmentID(a.ID) {
		return ErrAttachmentDescription
	}
	return CheckAttachmentDescription(a)
}

// validAttachmentID: 1 to 64 letters, digits, '-' or '_' (NewID makes
// 26 upper-case letters and digits).
func validAttachmentID(id ID) bool {
	if id == "" || len(id) > maxAttachmentIDLen {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// File is an attachment offered with a new message: a name and its bytes.
type File struct {
	Name string
	Data []byte
}

// ErrAttachmentCorrupt: the stored bytes do not match the digest on the message.
var ErrAttachmentCorrupt = errors.New("attachment bytes do not match their digest")

// verify checks that data is the file a describes: its size and digest
// (ErrAttachmentCorrupt), and its type by content (ErrAttachmentType), so
// that bytes stored before every door checked the type are not opened as
// what they are not.
func (a Attachment) verify(data []byte) error {
	sum := sha256.Sum256(data)
	if int64(len(data)) != a.Size || hex.EncodeToString(sum[:]) != a.SHA256 {
		return ErrAttachmentCorrupt
	}
	if sniffMIME(data) != a.MIME {
		return ErrAttachmentType
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
// transfer by staff member st, up (upload) or down: either way st must
// see the case's content (CaseVisible), as the attachment.put op that
// follows an upload must, and as pulling the case does. Not found when
// the case has no message describing it.
func (s *CaseService) SyncAttachment(ctx context.Context, st *Staff, caseID, attID ID, upload bool) (Attachment, error) {
	t, err := s.store.Thread(ctx, caseID)
	if err != nil {
		return Attachment{}, fmt.Errorf("attachment %s of case %s: %w", attID, caseID, err)
	}
	// Both ways the one rule of who sees a case's content: uploading
	// comes before the attachment.put op that needs it, downloading is
	// pulling the case's content.
	if !mayHandle(Session{Staff: st, ClinicID: t.Case.ClinicID}, &t.Case) {
		return Attachment{}, forbid("attachment of case", caseID)
	}
	a, ok := t.attachment(attID)
	if !ok {
		return Attachment{}, fmt.Errorf("attachment %s of case %s: %w", attID, caseID, ErrNotFound)
	}
	return a, nil
}

// applyStagedAttachment applies an attachment.put op whose bytes were
// uploaded in chunks: in one transaction it assembles the chunks of the
// case, checks them (CheckAttachment: the message's description, the
// digest, the type by content), stores the bytes with the case (w marks
// the op applied) and drops the chunks. A missing chunk leaves the op
// undecided (ErrAttachmentIncomplete); bytes that fail the check are
// refused, nothing is stored, and their chunks are dropped.
func (s *CaseService) applyStagedAttachment(ctx context.Context, sess Session, caseID, attID ID, w Write) (OpResult, error) {
	cs, ok := s.store.(ChunkStaging)
	if !ok {
		return OpResult{}, fmt.Errorf("attachment %s: no bytes: %w", attID, errUnsupported)
	}
	refused := false
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
			if err := CheckAttachment(desc, data); err != nil {
				refused = true
				return fmt.Errorf("attachment %s of case %s: %w", attID, caseID, err)
			}
			t.Blobs = map[ID][]byte{attID: data}
			return nil
		})
		if err != nil {
			return err
		}
		return cs.DiscardStagedChunks(ctx, caseID, attID)
	})
	if refused {
		// The chunks make a file the server does not take: drop them
		// (their transaction was rolled back with the refusal). A desktop
		// that uploads the same file again gets the same answer.
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

// rejectDetail is the stable reason and the Swedish text of a rejected
// op refused with a FieldError (an attachment's type or name, say): the
// desktop's list of rejected changes then says what was wrong, not only
// that something was. Other errors keep reason.
func rejectDetail(err error, reason string) (string, string) {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Code, "Ändringen gjordes inte: " + fe.Text
	}
	return "", reason
}
