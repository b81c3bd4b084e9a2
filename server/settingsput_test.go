package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"mottagning/app/demo"
	"mottagning/client"
)

// TestR13_SettingsPutRequiresEveryField: PUT /api/resident/settings
// replaces the settings whole, so a body without every field (which used
// to wipe the fields it left out) is refused with 400 invalid, the
// missing field named and a Swedish reason, and nothing changes. A whole
// body, also one read from /me with savedAt, is saved.
func TestR13_SettingsPutRequiresEveryField(t *testing.T) {
	e := newEnv(t)
	tok := e.signIn(demo.AdultNone)
	full := client.Settings{Mobile: "070-174 06 77", Email: "pia@example.com", NotifySMS: true, NotifyEmail: true, ShareWithCare: true}
	saved, err := e.c.UpdateSettings(e.ctx, tok, full)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"notifySms":false}`, "mobile"},
		{`{"mobile":"0701740677","email":"pia@example.com","notifySms":true,"notifyEmail":true}`, "shareWithCare"},
		{`{"mobile":"0701740677","email":null,"notifySms":true,"notifyEmail":true,"shareWithCare":true}`, "email"},
		{`{}`, "mobile"},
	} {
		status, body := e.raw("PUT", "/api/resident/settings", tok, tc.body)
		if status != http.StatusBadRequest {
			t.Errorf("PUT %s: status %d, want 400: %s", tc.body, status, body)
			continue
		}
		e.refused(t, "PUT "+tc.body, status, body, "invalid")
		var eb client.Error
		_ = json.Unmarshal(body, &eb)
		if eb.Field != tc.field || len(eb.Reasons) != 1 || eb.Reasons[0].Code != "required" || !strings.Contains(eb.Reasons[0].Message, "saknas") {
			t.Errorf("PUT %s: field %q reasons %+v, want %s required with a Swedish reason", tc.body, eb.Field, eb.Reasons, tc.field)
		}
	}
	me, err := e.c.ResidentMe(e.ctx, tok)
	if err != nil || me.Settings != *saved {
		t.Fatalf("settings after refused partial bodies = %+v, %v; want %+v", me.Settings, err, *saved)
	}
	// Read from /me, one field changed, sent back whole (with savedAt).
	next := me.Settings
	next.NotifyEmail = false
	b, _ := json.Marshal(next)
	if status, body := e.raw("PUT", "/api/resident/settings", tok, string(b)); status != http.StatusOK {
		t.Fatalf("PUT the whole settings read from /me: %d %s", status, body)
	}
	me, err = e.c.ResidentMe(e.ctx, tok)
	if err != nil || me.Settings.NotifyEmail || !me.Settings.NotifySMS || me.Settings.Email != "pia@example.com" || !me.Settings.ShareWithCare {
		t.Fatalf("settings = %+v, %v; want only notifyEmail turned off", me.Settings, err)
	}
}
