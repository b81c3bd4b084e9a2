package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"mottagning/app"
)

// TestDecodePayload: each kind's payload decodes as its wire type.
func TestDecodePayload(t *testing.T) {
	for _, c := range []struct {
		op   app.SyncOp
		want any
	}{
		{op(app.OpCaseCreate, &threadFull), ptr(FromThread(threadFull))},
		{op(app.OpCaseMessage, &messageFull), ptr(FromMessage(messageFull))},
		{op(app.OpCaseNote, &noteFull), ptr(FromNote(noteFull))},
		{op(app.OpCaseStatus, statusFull), ptr(FromStatusChange(statusFull))},
		{op(app.OpCaseAssign, assignFull), ptr(FromAssignChange(assignFull))},
		{op(app.OpCaseRead, nil), nil},
		{op(app.OpAccessRecord, accessFull), ptr(FromAccessEntry(accessFull))},
		{op(app.OpTemplatePut, &templateFull), ptr(FromTemplate(templateFull))},
		{op(app.OpAttachmentPut, attachmentFull), ptr(fromAttachmentPut(appAttachmentPut{Attachment: attachmentFull}))},
		{op(app.OpAttachmentPut, attachmentPutData), ptr(fromAttachmentPut(attachmentPutData))},
		{op(app.OpEServicePut, eserviceFull), ptr(FromEService(eserviceFull))},
		{op(app.OpFormSeriesPut, &seriesFull), ptr(seriesFull)},
	} {
		got, err := FromOp(c.op).DecodePayload()
		if err != nil {
			t.Errorf("%s: %v", c.op.Kind, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.op.Kind, got, c.want)
		}
	}
	for _, o := range []Op{
		{ID: "x", Kind: "case.unknown", Payload: json.RawMessage(`{}`)},
		{ID: "y", Kind: OpCaseStatus, Payload: json.RawMessage(`[1]`)},
	} {
		if _, err := o.DecodePayload(); !errors.Is(err, ErrPayload) {
			t.Errorf("%s %s: err %v, want ErrPayload", o.Kind, o.Payload, err)
		}
	}
}

// TestPayloadPassesUnconverted: a payload the wire cannot read reaches
// the app as it came, so the app refuses it with a result as before.
func TestPayloadPassesUnconverted(t *testing.T) {
	for _, c := range []struct {
		name    string
		kind    OpKind
		payload string
		want    string
	}{
		{"UnknownKind", "case.unknown", `{"X":1}`, `{"X":1}`},
		{"NotItsKind", OpCaseStatus, `"avslutad"`, `"avslutad"`},
		{"BadTime", OpCaseCreate, `{"Case":{"ID":"c"},"Messages":[{"At":"igår"}]}`, `{"Case":{"ID":"c"},"Messages":[{"At":"igår"}]}`},
		{"Null", OpCaseRead, `null`, ``},
		{"None", OpCaseRead, ``, ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := json.RawMessage(c.payload)
			if c.payload == "" {
				in = nil
			}
			if got := (Op{Kind: c.kind, Payload: in}).App().Payload; string(got) != c.want {
				t.Errorf("to app: %s, want %s", got, c.want)
			}
			if got := FromOp(app.SyncOp{Kind: app.OpKind(c.kind), Payload: in}).Payload; string(got) != c.want {
				t.Errorf("to wire: %s, want %s", got, c.want)
			}
		})
	}
}

// TestRawThreadPassesThrough: the stored records of a binary page go
// through the conversions untouched (they never go through JSON).
func TestRawThreadPassesThrough(t *testing.T) {
	in := app.PulledThread{Thread: app.Thread{Case: app.Case{ID: "c-1", ClinicID: "k-1"}}, Seq: 9,
		RawHeader: []byte(`{"ID":"c-1","ClinicID":"k-1"}`), RawItems: []app.RawItem{{Key: []byte("mm-1"), JSON: []byte(`{"ID":"m-1"}`)}}}
	if got := FromPulledThread(in).App(); !reflect.DeepEqual(got, in) {
		t.Errorf("got %#v, want %#v", got, in)
	}
}

// TestConversionsDoNotAlias: a converted value shares no slice with the
// original that a caller could change through the other (form values,
// which the app treats as immutable, excepted).
func TestConversionsDoNotAlias(t *testing.T) {
	a := threadFull
	a.Messages = append([]app.Message(nil), threadFull.Messages...)
	w := FromThread(a)
	w.Messages[0].Text = "ändrad"
	w.Messages[0].Attachments[0].Name = "ändrad"
	if a.Messages[0].Text != messageFull.Text || a.Messages[0].Attachments[0].Name != attachmentFull.Name {
		t.Error("FromThread shares the messages with the app value")
	}
	s := FromStaff(staffFull).App()
	s.Roles["k-1"][0] = app.RoleAuditor
	if staffFull.Roles["k-1"][0] != app.RoleCaseReceiver {
		t.Error("Staff conversions share the roles")
	}
}

// FuzzOpConversion: whatever decodes as an op converts to the app and back
// without a panic, and one round makes it stable: a second round gives
// the same bytes.
func FuzzOpConversion(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "op.*.golden.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Kind":"case.status","Payload":{"Status":"x","ClosedAt":"2025-01-01T00:00:00+01:00"}}`))
	f.Add([]byte(`{"Kind":"case.message","Payload":{"Answers":{"a":[{"number":1e400}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var o Op
		if json.Unmarshal(b, &o) != nil {
			return
		}
		_, _ = o.DecodePayload()
		once, err := json.Marshal(FromOp(o.App()))
		if err != nil {
			return
		}
		var o2 Op
		if err := json.Unmarshal(once, &o2); err != nil {
			t.Fatalf("an encoded op does not decode: %v\n%s", err, once)
		}
		twice, err := json.Marshal(FromOp(o2.App()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Errorf("not stable after one round:\n%s\n%s", once, twice)
		}
	})
}
