package wire

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"mottagning/app"
	"mottagning/app/form"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json: a deliberate protocol change only")

// The bodies as package sync declared them before this package
// (sync/wire.go, sync/pullwire.go), with app types inside: what desktops
// and servers send today.
type (
	todayPushRequest struct {
		DeviceID string       `json:"deviceId"`
		Ops      []app.SyncOp `json:"ops"`
		Cursor   string       `json:"cursor,omitempty"`
	}
	todayPushResponse struct {
		Results []app.OpResult   `json:"results"`
		State   *app.SyncChanges `json:"state,omitempty"`
	}
	todayPushHead struct {
		Results []app.OpResult `json:"results"`
		From    string         `json:"from,omitempty"`
		To      string         `json:"to,omitempty"`
	}
	todayPullResponse struct {
		After   string          `json:"after"`
		Cursor  string          `json:"cursor"`
		More    bool            `json:"more"`
		Head    string          `json:"head"`
		Changes app.SyncChanges `json:"changes"`
	}
	todayLookupResponse struct {
		ResidentID string         `json:"residentId"`
		Residents  []app.Resident `json:"residents"`
	}
	todayVerifierResponse struct {
		Verifier string    `json:"verifier"`
		Staff    app.Staff `json:"staff"`
	}
)

// How a caller converts those bodies (the lead's switch-over, in small).
func pushRequestFrom(r todayPushRequest) PushRequest {
	return PushRequest{DeviceID: r.DeviceID, Ops: Map(r.Ops, FromOp), Cursor: r.Cursor}
}

func (r PushRequest) today() todayPushRequest {
	return todayPushRequest{DeviceID: r.DeviceID, Ops: Map(r.Ops, Op.App), Cursor: r.Cursor}
}

func pushResponseFrom(r todayPushResponse) PushResponse {
	w := PushResponse{Results: Map(r.Results, FromResult)}
	if r.State != nil {
		s := FromChanges(*r.State)
		w.State = &s
	}
	return w
}

func (r PushResponse) today() todayPushResponse {
	t := todayPushResponse{Results: Map(r.Results, Result.App)}
	if r.State != nil {
		s := r.State.App()
		t.State = &s
	}
	return t
}

func pushHeadFrom(h todayPushHead) PushHead {
	return PushHead{Results: Map(h.Results, FromResult), From: h.From, To: h.To}
}

func (h PushHead) today() todayPushHead {
	return todayPushHead{Results: Map(h.Results, Result.App), From: h.From, To: h.To}
}

func pullResponseFrom(r todayPullResponse) PullResponse {
	return PullResponse{After: r.After, Cursor: r.Cursor, More: r.More, Head: r.Head, Changes: FromChanges(r.Changes)}
}

func (r PullResponse) today() todayPullResponse {
	return todayPullResponse{After: r.After, Cursor: r.Cursor, More: r.More, Head: r.Head, Changes: r.Changes.App()}
}

func lookupResponseFrom(r todayLookupResponse) LookupResponse {
	return LookupResponse{ResidentID: r.ResidentID, Residents: Map(r.Residents, FromResident)}
}

func (r LookupResponse) today() todayLookupResponse {
	return todayLookupResponse{ResidentID: r.ResidentID, Residents: Map(r.Residents, Resident.App)}
}

func verifierFrom(r todayVerifierResponse) VerifierResponse {
	return VerifierResponse{Verifier: r.Verifier, Staff: FromStaff(r.Staff)}
}

func (r VerifierResponse) today() todayVerifierResponse {
	return todayVerifierResponse{Verifier: r.Verifier, Staff: r.Staff.App()}
}

// golden is one value as the app (or package sync) encodes it today, and
// its wire form.
type golden struct {
	name string
	full bool // every field set (requireFull)
	app  any
	wire any
	// decode reads the golden bytes as the wire type: the wire value and
	// the app value it converts to.
	decode func([]byte) (wire, app any, err error)
}

func pair[A, W any](name string, full bool, a A, from func(A) W, to func(W) A) golden {
	return golden{name: name, full: full, app: a, wire: from(a), decode: func(b []byte) (any, any, error) {
		var w W
		err := json.Unmarshal(b, &w)
		return w, to(w), err
	}}
}

func goldens() []golden {
	gs := []golden{
		pair("case.full", true, caseFull, FromCase, Case.App),
		pair("case.sparse", false, caseSparse, FromCase, Case.App),
		pair("message.full", true, messageFull, FromMessage, Message.App),
		pair("message.sparse", false, messageSparse, FromMessage, Message.App),
		pair("attachment", true, attachmentFull, FromAttachment, Attachment.App),
		pair("note", true, noteFull, FromNote, Note.App),
		pair("thread.full", true, threadFull, FromThread, Thread.App),
		pair("thread.sparse", false, threadSparse, FromThread, Thread.App),
		pair("pulledthread.full", true, pulledFull, FromPulledThread, PulledThread.App),
		pair("pulledthread.sparse", false, pulledSparse, FromPulledThread, PulledThread.App),
		pair("notification", true, notificationFull, FromNotification, Notification.App),
		pair("resident.full", true, residentFull, FromResident, Resident.App),
		pair("resident.sparse", false, residentSparse, FromResident, Resident.App),
		pair("resident.reserve", false, residentReserve, FromResident, Resident.App),
		pair("staff.full", true, staffFull, FromStaff, Staff.App),
		pair("staff.sparse", false, staffSparse, FromStaff, Staff.App),
		pair("clinic.full", true, clinicFull, FromClinic, Clinic.App),
		pair("clinic.sparse", false, clinicSparse, FromClinic, Clinic.App),
		pair("template", true, templateFull, FromTemplate, Template.App),
		pair("eservice.full", true, eserviceFull, FromEService, EService.App),
		pair("eservice.sparse", false, eserviceSparse, FromEService, EService.App),
		pair("formseries.full", true, seriesFull, same[form.Series], same[form.Series]),
		pair("formseries.sparse", false, seriesSparse, same[form.Series], same[form.Series]),
		pair("accessentry", true, accessFull, FromAccessEntry, AccessEntry.App),
		pair("statuschange.full", true, statusFull, FromStatusChange, StatusChange.App),
		pair("statuschange.sparse", false, statusSparse, FromStatusChange, StatusChange.App),
		pair("assignchange", true, assignFull, FromAssignChange, AssignChange.App),
		pair("attachmentput.data", true, attachmentPutData, fromAttachmentPut, AttachmentPut.appPut),
		pair("attachmentput.chunked", false, appAttachmentPut{Attachment: attachmentFull}, fromAttachmentPut, AttachmentPut.appPut),

		pair("result.full", true, resultFull, FromResult, Result.App),
		pair("result.applied", false, resultApplied, FromResult, Result.App),
		pair("result.rejected", false, resultRejected, FromResult, Result.App),
		pair("result.sparse", false, resultSparse, FromResult, Result.App),
		pair("changes.full", true, changesFull, FromChanges, Changes.App),
		pair("changes.empty", false, app.SyncChanges{}, FromChanges, Changes.App),

		pair("pushrequest", true, todayPushRequest{DeviceID: "d-1", Ops: []app.SyncOp{op(app.OpCaseMessage, &messageFull),
			op(app.OpCaseRead, nil)}, Cursor: "000000000000002a"}, pushRequestFrom, PushRequest.today),
		pair("pushresponse.full", true, todayPushResponse{Results: []app.OpResult{resultFull, resultRejected},
			State: &changesFull}, pushResponseFrom, PushResponse.today),
		pair("pushresponse.nostate", false, todayPushResponse{Results: []app.OpResult{resultApplied}}, pushResponseFrom, PushResponse.today),
		pair("pushhead", true, todayPushHead{Results: []app.OpResult{resultFull}, From: "1", To: "2"}, pushHeadFrom, PushHead.today),
		pair("pullresponse", true, todayPullResponse{After: "000000000000002a", Cursor: "0000000000000031", More: true,
			Head: "0000000000000040", Changes: changesFull}, pullResponseFrom, PullResponse.today),
		pair("pagehead", true, PageHead{After: "1", Cursor: "2", More: true, Head: "3"}, same[PageHead], same[PageHead]),
		pair("events", true, EventsResponse{Head: "0000000000000040", Changed: true}, same[EventsResponse], same[EventsResponse]),
		pair("lookuprequest", true, LookupRequest{Personnummer: "19121212-1212"}, same[LookupRequest], same[LookupRequest]),
		pair("lookupresponse", true, todayLookupResponse{ResidentID: "r-child", Residents: []app.Resident{residentFull, residentSparse}},
			lookupResponseFrom, LookupResponse.today),
		pair("verifier", true, todayVerifierResponse{Verifier: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", Staff: staffFull},
			verifierFrom, VerifierResponse.today),
	}
	// One op per kind, with a full payload as the app makes it.
	for _, o := range []app.SyncOp{
		op(app.OpCaseCreate, &threadFull),
		op(app.OpCaseMessage, &messageFull),
		op(app.OpCaseNote, &noteFull),
		op(app.OpCaseStatus, statusFull),
		op(app.OpCaseAssign, assignFull),
		op(app.OpCaseRead, nil),
		op(app.OpAccessRecord, accessFull),
		op(app.OpTemplatePut, &templateFull),
		op(app.OpAttachmentPut, attachmentFull),
		op(app.OpEServicePut, eserviceFull),
		op(app.OpFormSeriesPut, &seriesFull),
	} {
		gs = append(gs, pair("op."+string(o.Kind), o.Kind != app.OpCaseRead, o, FromOp, Op.App))
	}
	gs = append(gs, pair("op.attachment.put.data", true, op(app.OpAttachmentPut, attachmentPutData), FromOp, Op.App))
	return gs
}

// TestGolden pins the protocol: each wire value encodes to the bytes in
// testdata (indented there, for review; indenting adds only whitespace).
// It also proves compatibility with today: the app's encoding of the same
// value (stored records, queued ops, what older desktops and servers
// send) is the same bytes, the wire types decode those bytes and encode
// them again unchanged, and app → wire → JSON → wire → app gives the
// original value.
func TestGolden(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			if g.full {
				requireFull(t, g.app)
			}
			got, err := json.Marshal(g.wire)
			if err != nil {
				t.Fatal(err)
			}
			var ind bytes.Buffer
			if err := json.Indent(&ind, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			ind.WriteByte('\n')
			path := filepath.Join("testdata", g.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, ind.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(ind.Bytes(), want) {
				t.Errorf("wire encoding changed: a protocol change (see the package doc).\ngot:\n%s\nwant:\n%s", ind.Bytes(), want)
			}

			today, err := json.Marshal(g.app)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(today, got) {
				t.Errorf("the app encodes this value differently from the wire:\napp:  %s\nwire: %s", today, got)
			}

			var compact bytes.Buffer
			if err := json.Compact(&compact, want); err != nil {
				t.Fatal(err)
			}
			w, a, err := g.decode(compact.Bytes())
			if err != nil {
				t.Fatalf("wire does not decode the golden: %v", err)
			}
			again, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, compact.Bytes()) {
				t.Errorf("decoded and encoded again, the bytes differ:\ngot:  %s\nwant: %s", again, compact.Bytes())
			}
			if !reflect.DeepEqual(a, g.app) {
				t.Errorf("app → wire → JSON → wire → app changed the value:\ngot:  %#v\nwant: %#v", a, g.app)
			}
		})
	}
}

// TestGoldenEveryOpKind: every op kind has a golden op and a payload type.
func TestGoldenEveryOpKind(t *testing.T) {
	have := map[string]bool{}
	for _, g := range goldens() {
		have[g.name] = true
	}
	for _, k := range constsOf(t, ".")["OpKind"] {
		if !have["op."+k] {
			t.Errorf("op kind %s: no golden op", k)
		}
		if _, ok := payloads[OpKind(k)]; !ok && OpKind(k) != OpCaseRead {
			t.Errorf("op kind %s: no payload type", k)
		}
	}
}

// TestGoldenFilesUsed: no golden file is left over from a fixture that
// is gone (a removed type is a protocol change too).
func TestGoldenFilesUsed(t *testing.T) {
	have := map[string]bool{}
	for _, g := range goldens() {
		have[g.name+".golden.json"] = true
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	for _, f := range files {
		if !have[filepath.Base(f)] {
			t.Errorf("%s: no fixture writes it", f)
		}
	}
}
