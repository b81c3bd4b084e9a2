package app

import (
	"bytes"
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
// and resident to staff. The bytes live apart from the message, keyed by
// the attachment id; the message carries this description.
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
)

// AttachmentMessage is the Swedish text for an attachment error.
func AttachmentMessage(err error) string {
	switch {
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
