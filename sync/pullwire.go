package sync

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"mottagning/sync/wire"

	"mottagning/app"
	"mottagning/app/form"
)

// The binary pull (docs/sync.md, "Binary pages"): a desktop that asks
// for PullMediaType gets the page as frames instead of one JSON document.
// Case headers, messages and notes travel as the server stores them
// (their JSON records), so the server copies them without decoding and
// the desktop seals them without decoding and encoding them again; every
// other record is its JSON. A page ends with an end frame, so a page cut
// off mid-way is an error, never half a page.
//
//	page  = magic frame* end
//	magic = "MTGPULL1"
//	frame = tag uvarint(len(payload)) payload
//
// Tags: 'H' the page's cursor, more and head (JSON, first); 'K' clinic,
// 'S' staff, 'T' template, 'E' e-service, 'F' form series, 'R' resident,
// 'W' a case withdrawn from the caller's view (app.WithdrawnCase) (each
// its JSON); 'G' the id of a case gone; 'C' a case: uvarint(its
// feed position, PulledThread.Seq) and its header (the stored JSON); the
// following 'I' and 'N' frames belong to it; 'I' an
// item: uvarint(len(key)) key JSON, where key is the item's kind byte
// ('m' message, 'n' note) and id; 'N' a notification (JSON); 'Z' end
// (empty).

// PullMediaType is the media type of a binary pull page.
const PullMediaType = wire.PullMediaType

const (
	pullMagic = "MTGPULL1"
	pushMagic = "MTGPUSH1"
)

// PushMediaType is the media type of a binary push answer.
const PushMediaType = wire.PushMediaType

// ErrBadPage: a binary pull page that does not decode (cut off, an
// unknown frame, a record that is not its JSON).
var ErrBadPage = errors.New("sync: malformed pull page")

// MarshalBinary writes the page in the binary pull format.
func (r *PullResponse) MarshalBinary() ([]byte, error) {
	return marshalPage(pullMagic, wire.PageHead{After: r.After, Cursor: r.Cursor, More: r.More, Head: r.Head}, &r.Changes)
}

// MarshalBinary writes a push's answer in the binary format: magic
// "MTGPUSH1", an 'H' frame with the results (JSON), then the state of
// the cases as in a pull page.
func (r *PushResponse) MarshalBinary() ([]byte, error) {
	var ch app.SyncChanges
	if r.State != nil {
		ch = *r.State
	}
	return marshalPage(pushMagic, wire.PushHead{Results: wire.Map(r.Results, wire.FromResult), From: ch.From, To: ch.To}, &ch)
}

func marshalPage(magic string, head any, ch *app.SyncChanges) ([]byte, error) {
	size := 64
	for i := range ch.Threads {
		size += len(ch.Threads[i].RawHeader) + 16
		for _, it := range ch.Threads[i].RawItems {
			size += len(it.Key) + len(it.JSON) + 16
		}
	}
	w := pageWriter{buf: make([]byte, 0, size)}
	w.buf = append(w.buf, magic...)
	w.json('H', head)
	for i := range ch.Clinics {
		w.json('K', wire.FromClinic(ch.Clinics[i]))
	}
	for i := range ch.Staff {
		w.json('S', wire.FromStaff(ch.Staff[i]))
	}
	for i := range ch.Templates {
		w.json('T', wire.FromTemplate(ch.Templates[i]))
	}
	for i := range ch.EServices {
		w.json('E', wire.FromEService(ch.EServices[i]))
	}
	for i := range ch.FormSeries {
		w.json('F', &ch.FormSeries[i])
	}
	for i := range ch.Residents {
		w.json('R', wire.FromResident(ch.Residents[i]))
	}
	for _, id := range ch.Gone {
		w.frame('G', []byte(id))
	}
	for i := range ch.Withdrawn {
		w.json('W', wire.FromWithdrawnCase(ch.Withdrawn[i]))
	}
	for i := range ch.Threads {
		t := &ch.Threads[i]
		if t.RawHeader != nil {
			w.caseFrame(t.Seq, t.RawHeader)
			for _, it := range t.RawItems {
				w.item(it.Key, it.JSON)
			}
		} else {
			// A thread read decoded (not by ChangesSinceRaw): its records
			// as the server would store them.
			p, err := json.Marshal(wire.FromCase(t.Case))
			if err != nil && w.err == nil {
				w.err = fmt.Errorf("sync: encode pull page: %w", err)
			}
			w.caseFrame(t.Seq, p)
			for j := range t.Messages {
				w.itemJSON('m', t.Messages[j].ID, wire.FromMessage(t.Messages[j]))
			}
			for j := range t.Notes {
				w.itemJSON('n', t.Notes[j].ID, wire.FromNote(t.Notes[j]))
			}
		}
		for j := range t.Notifications {
			w.json('N', wire.FromNotification(t.Notifications[j]))
		}
	}
	w.frame('Z', nil)
	return w.buf, w.err
}

type pageWriter struct {
	buf []byte
	err error
}

func (w *pageWriter) frame(tag byte, p []byte) {
	w.buf = append(w.buf, tag)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(p)))
	w.buf = append(w.buf, p...)
}

func (w *pageWriter) caseFrame(seq uint64, header []byte) {
	sl := len(binary.AppendUvarint(nil, seq))
	w.buf = append(w.buf, 'C')
	w.buf = binary.AppendUvarint(w.buf, uint64(sl+len(header)))
	w.buf = binary.AppendUvarint(w.buf, seq)
	w.buf = append(w.buf, header...)
}

func (w *pageWriter) json(tag byte, v any) {
	p, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("sync: encode pull page: %w", err)
	}
	w.frame(tag, p)
}

func (w *pageWriter) item(key, j []byte) {
	w.buf = append(w.buf, 'I')
	kl := len(binary.AppendUvarint(nil, uint64(len(key))))
	w.buf = binary.AppendUvarint(w.buf, uint64(kl+len(key)+len(j)))
	w.buf = binary.AppendUvarint(w.buf, uint64(len(key)))
	w.buf = append(w.buf, key...)
	w.buf = append(w.buf, j...)
}

func (w *pageWriter) itemJSON(kind byte, id app.ID, v any) {
	p, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("sync: encode pull page: %w", err)
	}
	w.item(append([]byte{kind}, id...), p)
}

// UnmarshalBinary reads a page in the binary pull format. The raw
// headers and items of its threads refer to data, which must not change
// while the page is in use.
func (r *PullResponse) UnmarshalBinary(data []byte) error {
	*r = PullResponse{}
	var h wire.PageHead
	if err := unmarshalPage(data, pullMagic, &h, &r.Changes); err != nil {
		return err
	}
	r.After, r.Cursor, r.More, r.Head = h.After, h.Cursor, h.More, h.Head
	return nil
}

// UnmarshalBinary reads a push's answer in the binary format.
func (r *PushResponse) UnmarshalBinary(data []byte) error {
	*r = PushResponse{}
	var h wire.PushHead
	ch := &app.SyncChanges{}
	if err := unmarshalPage(data, pushMagic, &h, ch); err != nil {
		return err
	}
	r.Results = wire.Map(h.Results, wire.Result.App)
	ch.From, ch.To = h.From, h.To
	if !ch.Empty() {
		r.State = ch
	}
	return nil
}

func unmarshalPage(data []byte, magic string, head any, ch *app.SyncChanges) error {
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return fmt.Errorf("%w: not a page of this kind", ErrBadPage)
	}
	rest := data[len(magic):]
	var cur *app.PulledThread
	seenHead := false
	bad := func(what string, tag byte) error {
		return fmt.Errorf("%w: %s in frame %q", ErrBadPage, what, tag)
	}
	for {
		if len(rest) == 0 {
			return fmt.Errorf("%w: cut off (no end frame)", ErrBadPage)
		}
		tag := rest[0]
		n, k := binary.Uvarint(rest[1:])
		if k <= 0 || n > uint64(len(rest)-1-k) {
			return bad("length", tag)
		}
		p := rest[1+k : 1+k+int(n)]
		rest = rest[1+k+int(n):]
		if !seenHead && tag != 'H' {
			return bad("no page head before", tag)
		}
		var err error
		switch tag {
		case 'H':
			if seenHead {
				return bad("second page head", tag)
			}
			seenHead = true
			err = json.Unmarshal(p, head)
		case 'K':
			err = appendWire(p, &ch.Clinics, wire.Clinic.App)
		case 'S':
			err = appendWire(p, &ch.Staff, wire.Staff.App)
		case 'T':
			err = appendWire(p, &ch.Templates, wire.Template.App)
		case 'E':
			err = appendWire(p, &ch.EServices, wire.EService.App)
		case 'F':
			err = appendJSON[form.Series](p, &ch.FormSeries)
		case 'R':
			err = appendWire(p, &ch.Residents, wire.Resident.App)
		case 'W':
			err = appendWire(p, &ch.Withdrawn, wire.WithdrawnCase.App)
			if err == nil && ch.Withdrawn[len(ch.Withdrawn)-1].CaseID == "" {
				return bad("withdrawn case without id", tag)
			}
		case 'G':
			if len(p) == 0 {
				return bad("empty id", tag)
			}
			ch.Gone = append(ch.Gone, app.ID(p))
		case 'C':
			seq, sk := binary.Uvarint(p)
			if sk <= 0 {
				return bad("case position", tag)
			}
			ch.Threads = append(ch.Threads, app.PulledThread{RawHeader: p[sk:], RawItems: []app.RawItem{}, Seq: seq})
			cur = &ch.Threads[len(ch.Threads)-1]
			err = app.DecodeCaseKeys(p[sk:], &cur.Case)
			if err == nil && cur.Case.ID == "" {
				return bad("case without id", tag)
			}
		case 'I':
			if cur == nil {
				return bad("item before its case", tag)
			}
			kl, kk := binary.Uvarint(p)
			if kk <= 0 || kl < 2 || kl > uint64(len(p)-kk) {
				return bad("item key", tag)
			}
			key, j := p[kk:kk+int(kl)], p[kk+int(kl):]
			if key[0] != 'm' && key[0] != 'n' {
				return bad("item kind", tag)
			}
			cur.RawItems = append(cur.RawItems, app.RawItem{Key: key, JSON: j})
		case 'N':
			if cur == nil {
				return bad("notification before its case", tag)
			}
			err = appendWire(p, &cur.Notifications, wire.Notification.App)
		case 'Z':
			if len(p) != 0 || len(rest) != 0 {
				return bad("data after the end", tag)
			}
			return nil
		default:
			return bad("unknown frame", tag)
		}
		if err != nil {
			return fmt.Errorf("%w: frame %q: %w", ErrBadPage, tag, err)
		}
	}
}

func appendJSON[T any](p []byte, to *[]T) error {
	var v T
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	*to = append(*to, v)
	return nil
}
