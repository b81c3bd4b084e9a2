package wire

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/app/personnummer"
)

// Fixed values for the golden and round-trip tests. A "full" fixture
// sets every field (requireFull proves it, so a field added to an app
// type fails here until the fixture, and then the wire, carry it); a
// "sparse" one leaves times zero, omitempty fields empty and slices nil.

var (
	t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)
	t1 = t0.Add(90 * time.Minute)
	t2 = t0.Add(26 * time.Hour)
	t3 = t0.Add(49*time.Hour + 7*time.Second)
)

func pnr(s string) personnummer.Number {
	var n personnummer.Number
	if err := n.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// mustJSON is the app's encoding of a payload, as app.newOp makes it.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	caseFull = app.Case{
		ID: "c-1", ClinicID: "k-1", ResidentID: "r-child", Kind: app.KindEService, EServiceID: "e-1", TemplateID: "t-1",
		Subject: "Förnya recept <&> \"snart\"", Status: app.StatusOngoing, AssigneeID: "s-2", StartedBy: app.StartedByGuardian,
		StartedByGuardian: "r-g1", CreatorID: "s-1", CreatedAt: t0, LastActivity: t1, UnreadByStaff: true, ClosedAt: t2,
		Version: 17, StatusVersion: 12, AssigneeVersion: 15, StatusBy: "dt-0a1b2c", AssigneeBy: "dt-3d4e5f",
	}
	caseSparse = app.Case{ID: "c-2", ClinicID: "k-1", ResidentID: "r-adult", Kind: app.KindQuestion, Subject: "Fråga",
		Status: app.StatusNew, StartedBy: app.StartedByClinic}

	attachmentFull = app.Attachment{ID: "a-1", Name: "remiss.pdf", MIME: app.MIMEPDF, Size: 48213,
		SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}

	messageFull = app.Message{
		ID: "m-1", CaseID: "c-1", Author: app.AuthorGuardian, AuthorID: "r-g1", At: t0, Text: "Hej!\nRad två\t<b>",
		ReadByResident: t1,
		Attachments: []app.Attachment{attachmentFull,
			{ID: "a-2", Name: "bild.png", MIME: app.MIMEPNG, Size: 1, SHA256: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}},
		Answers: form.Answers{
			"besvar":  {form.TextValue("Huvudvärk"), form.TextValue("Yrsel")},
			"antal":   {form.NumberValue(2.5)},
			"akut":    {form.BoolValue(true)},
			"val":     {{Code: "omboka", System: "urn:mottagning"}},
			"fil":     {{Attachment: &form.Attachment{ID: "a-3", Name: "intyg.jpg", ContentType: app.MIMEJPEG, Size: 77}}},
			"lakemed": {form.GroupValue(form.Answers{"namn": {form.TextValue("Alvedon")}}), form.GroupValue(form.Answers{"namn": {form.TextValue("Ipren")}})},
		},
		FormVersion: 2,
	}
	messageSparse = app.Message{ID: "m-2", CaseID: "c-2", Author: app.AuthorStaff, AuthorID: "s-1", At: t0, Text: "Svar"}

	noteFull = app.Note{ID: "n-1", CaseID: "c-1", StaffID: "s-2", At: t2, Text: "Ringde, ingen svarade."}

	threadFull   = app.Thread{Case: caseFull, Messages: []app.Message{messageFull, messageSparse}, Notes: []app.Note{noteFull}}
	threadSparse = app.Thread{Case: caseSparse}

	notificationFull = app.Notification{
		ID: "m-1.r-g1.sms", CaseID: "c-1", MessageID: "m-1", ClinicID: "k-1", ResidentID: "r-child", RecipientID: "r-g1",
		Guardian: true, Channel: app.ChannelSMS, Address: app.Hidden, State: app.NotificationFailed, Attempts: 3,
		CreatedAt: t0, NextAttempt: t1, LastAttempt: t2, DoneAt: t3, LastError: "smtp-451",
	}

	pulledFull = app.PulledThread{Thread: threadFull, Notifications: []app.Notification{notificationFull,
		{ID: "m-1.r-g2.epost", CaseID: "c-1", MessageID: "m-1", ClinicID: "k-1", ResidentID: "r-child", RecipientID: "r-g2",
			Guardian: true, Channel: app.ChannelEmail, Address: app.Hidden, State: app.NotificationQueued, CreatedAt: t0, NextAttempt: t1}},
		Seq: 4711}
	pulledSparse = app.PulledThread{Thread: app.Thread{Case: caseSparse, Messages: []app.Message{}, Notes: []app.Note{}}}

	residentFull = app.Resident{
		ID: "r-child", PNR: pnr("20150101-0027"), ReserveNumber: "R-123",
		Register: app.Register{GivenName: "Alva", FamilyName: "Öberg", Address: app.Address{Street: "Storgatan 1",
			PostalCode: "111 22", City: "Stockholm"}, ProtectedIdentity: true, Deceased: true},
		Account: app.Account{Activated: true, ActivatedAt: t0, LastSignIn: t1, LoginLocked: true, JournalSealed: true,
			LockEvents: []app.LockEvent{{At: t1, Locked: true, By: "s-9", Check: app.CheckBankID, Reason: app.ReasonLostEID}}},
		Settings: app.Settings{Mobile: app.Hidden, Email: app.Hidden, NotifySMS: true, NotifyEmail: true, ShareWithCare: true, SavedAt: t2},
		Guardians: []app.Guardianship{
			{GuardianID: "r-g1", ProxyActivated: true, Contact: app.GuardianContact{Mobile: app.Hidden, Email: app.Hidden, SavedAt: t1},
				Blocked: true, BlockedBy: "s-3", BlockedAt: t2, BlockedClinic: "k-1"},
			{GuardianID: "r-g2", Contact: app.GuardianContact{Email: app.Hidden, SavedAt: t0}},
		},
		HeldBlocks: []app.Guardianship{{GuardianID: "r-g3", ProxyActivated: true, Contact: app.GuardianContact{Mobile: app.Hidden, Email: app.Hidden, SavedAt: t0},
			Blocked: true, BlockedBy: "s-3", BlockedAt: t1, BlockedClinic: "k-1"}},
		Demo: true, UpdatedAt: t3,
	}
	residentSparse = app.Resident{ID: "r-adult", PNR: pnr("19121212-1212"),
		Register: app.Register{GivenName: "Tolvan", FamilyName: "Tolvansson"}}
	residentReserve = app.Resident{ID: "r-reserve", ReserveNumber: "R-9", Guardians: []app.Guardianship{}}

	staffFull = app.Staff{ID: "s-1", Name: "Sara Ek", Username: "sara", Title: "Sjuksköterska",
		Roles: map[app.ID][]app.Role{
			"k-1": {app.RoleCaseReceiver, app.RoleCaseHandler, app.RoleLocalAdmin},
			"k-2": {app.RolePermissionAdmin, app.RoleAuditor},
		},
		RegionRoles: []app.Role{app.RoleContactCenter}, Disabled: true}
	staffSparse = app.Staff{ID: "s-2", Name: "Per", Username: "per"}

	clinicFull   = app.Clinic{ID: "k-1", Name: "Vårdcentralen Norr", Region: "Region Stockholm", StandardEServices: []app.ID{"std-fornya-recept", "std-bestall-intyg"}}
	clinicSparse = app.Clinic{ID: "k-2", Name: "BVC"}

	templateFull = app.MessageTemplate{ID: "t-1", ClinicID: "k-1", Name: "Provsvar", Kind: app.KindInformation,
		Subject: "Dina provsvar", Body: "Hej {namn},\nDina provsvar är klara.", UpdatedAt: t1, Retired: true}

	definitionFull = form.Definition{Name: "Förnya recept", Description: "Be om förnyelse.", Standard: true,
		Availability: form.Availability{MinAge: ptr(0), MaxAge: ptr(17), Proxy: true,
			Named: []form.NamedResident{{ResidentID: "r-child", Until: t3}, {ResidentID: "r-adult"}}},
		ReceivingRole: string(app.RoleCaseReceiver), Queue: "recept", AutoReply: "Tack, vi svarar inom tre dagar.",
		AttachmentsAllowed: true, Closed: true, ClosedMessage: "Stängt i juli."}
	eserviceFull   = app.EService{ID: "e-1", ClinicID: "k-1", Name: "Förnya recept", Description: "Lokal", Standard: true, Definition: &definitionFull}
	eserviceSparse = app.EService{ID: "std-fornya-recept", Name: "Förnya recept", Standard: true}

	formFull = &form.Form{ID: "e-1", Version: 1, Status: form.StatusPublished, Title: "Förnya recept", Description: "Frågor",
		Codes: []form.Coding{{System: "http://loinc.org", Code: "1-8", Display: "Recept"}},
		Items: []form.Item{
			{ID: "besvar", Type: form.TypeText, Label: "Vad gäller det?", Prefix: "1.", Help: "Kort", Required: true, Repeats: true, MaxLength: 200},
			{ID: "antal", Type: form.TypeNumber, Label: "Antal", Min: ptr(0.0), Max: ptr(10.5), Decimals: ptr(1),
				Unit: &form.Coding{Code: "st"}, ReadOnly: true},
			{ID: "val", Type: form.TypeChoice, Label: "Åtgärd", AllowOther: true, ValueSet: "#v", Control: "radio-button",
				Options:        []form.Option{{Code: "avboka", Label: "Avboka", Score: ptr(1.0), Selected: true}, {Code: "omboka", Label: "Omboka"}},
				EnableWhen:     []form.Condition{{Item: "besvar", Op: form.OpExists, Value: form.BoolValue(true)}},
				EnableBehavior: form.Any, Initial: []form.Value{form.CodeValue("avboka")}},
			{ID: "sida", Type: form.TypeGroup, Label: "Sida 2", Page: true, Items: []form.Item{{ID: "fil", Type: form.TypeAttachment, Label: "Bilaga"}}},
		},
		ScoreItem: "antal"}
	seriesFull = form.Series{FormID: "e-1",
		Published: []form.Published{{Form: formFull, PublishedAt: t1, PublishedBy: "s-1", Digest: formFull.Digest()}},
		Draft:     &form.Form{ID: "e-1", Version: 2, Status: form.StatusDraft, Title: "Förnya recept", Items: []form.Item{}}}
	seriesSparse = form.Series{FormID: "e-2"}

	accessFull = app.AccessEntry{ID: "al-1", At: t0, StaffID: "s-1", ClinicID: "k-1", ResidentID: "r-child", CaseID: "c-1", Action: app.AccessReadMessage, Device: "d-1"}

	statusFull   = app.StatusChange{Status: app.StatusClosed, ClosedAt: t2}
	statusSparse = app.StatusChange{Status: app.StatusOngoing}
	assignFull   = app.AssignChange{AssigneeID: "s-2"}

	attachmentPutData = appAttachmentPut{Attachment: attachmentFull, Data: []byte("%PDF-1.7\n\x00\xff")}
)

// op is a full op of kind k with payload p (nil: none).
func op(k app.OpKind, p any) app.SyncOp {
	o := app.SyncOp{ID: "5f0c6a3e-8d2b-4c1a-9e7f-1b2c3d4e5f60", Seq: 42, Kind: k, CaseID: "c-1", Base: 17, MadeAt: t0}
	if p != nil {
		o.Payload = mustJSON(p)
	}
	return o
}

var (
	resultFull = app.OpResult{ID: "5f0c6a3e-8d2b-4c1a-9e7f-1b2c3d4e5f60", Kind: app.OpCaseStatus, CaseID: "c-1", Outcome: app.OpConflict,
		Version: 18, Code: "conflict", Detail: "attachment_type", Reason: "Statusen ändrades på servern innan din ändring kom fram. Serverns värde gäller.",
		Blocks: []app.BlockReason{app.BlockLoginLocked, app.BlockChildProtected}, ServerStatus: app.StatusWaiting, ServerAssignee: "s-3",
		Mine: mustJSON(statusFull), At: t3}
	resultApplied  = app.OpResult{ID: "op-2", Kind: app.OpCaseNote, CaseID: "c-1", Outcome: app.OpApplied, Version: 19, At: t3}
	resultRejected = app.Rejected(&app.SyncOp{ID: "op-3", Kind: app.OpCaseCreate, CaseID: "c-9"},
		&app.UnreachableError{Reasons: []app.BlockReason{app.BlockNeverSignedIn}}, t3)
	resultSparse = app.OpResult{ID: "op-4", Outcome: app.OpRejected, Code: "invalid", Reason: app.RejectReason("invalid", nil)}

	changesFull = app.SyncChanges{
		Threads:    []app.PulledThread{pulledFull, pulledSparse},
		Gone:       []app.ID{"c-gone"},
		Residents:  []app.Resident{residentFull, residentSparse},
		Staff:      []app.Staff{staffFull, staffSparse},
		Clinics:    []app.Clinic{clinicFull},
		Templates:  []app.MessageTemplate{templateFull},
		EServices:  []app.EService{eserviceFull, eserviceSparse},
		FormSeries: []form.Series{seriesFull, seriesSparse},
		Withdrawn:  []app.WithdrawnCase{{CaseID: "c-2", ClinicID: "k-1", AssigneeID: "s-2", Status: app.StatusOngoing, Version: 9}},
		From:       "000000000000002a", To: "0000000000000031",
	}
)

// requireFull fails when any field of v (of this module's types, through
// pointers, the first element of slices, and maps) is zero; values of other packages (time,
// personnummer, form) only need to be set.
func requireFull(t *testing.T, v any) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if v.IsZero() {
			t.Errorf("fixture is not full: %s is zero", path)
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			walk(path, v.Elem())
		case reflect.Struct:
			pkg := v.Type().PkgPath()
			if !strings.HasPrefix(pkg, "mottagning/") || strings.HasPrefix(pkg, "mottagning/app/") {
				return
			}
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.Tag.Get("json") != "-" {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Slice:
			// The first element must be full; the others may be sparse.
			if v.Type().Elem().Kind() != reflect.Uint8 {
				walk(path+"[0]", v.Index(0))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(fmt.Sprintf("%s[%v]", path, k), v.MapIndex(k))
			}
		}
	}
	walk(reflect.TypeOf(v).String(), reflect.ValueOf(v))
}
