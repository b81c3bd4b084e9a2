package app

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func caseKeysOf(c *Case) [9]any {
	return [9]any{c.ID, c.ClinicID, c.ResidentID, c.AssigneeID, c.CreatorID, c.Status, c.LastActivity.UnixNano(), c.UnreadByStaff, c.Version}
}

// DecodeCaseKeys reads the same values encoding/json does, for headers as
// the store writes them: escapes, empty and missing fields, every status.
func TestDecodeCaseKeys_AgreesWithEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 26, 8, 30, 1, 123456789, time.UTC)
	cases := []Case{
		{ID: "01M8A", ClinicID: "k1", ResidentID: "r1", AssigneeID: "s1", Status: StatusNew, LastActivity: at, UnreadByStaff: true,
			Subject: `Fråga "om" provsvar \ med {klamrar} och [hakar], komma`, Version: 7, StatusVersion: 3, StatusBy: "d1"},
		{ID: "01M8B", ClinicID: "k\"2", ResidentID: "r\u00e52", Status: StatusClosed, LastActivity: at.In(time.FixedZone("CET", 3600)), ClosedAt: at},
		{ID: "x", ClinicID: "k", ResidentID: "r", Status: StatusWaiting},
		{ID: "y", ClinicID: "k", ResidentID: "r", Status: StatusOngoing, CreatorID: "s2", Version: 18446744073709551615},
	}
	for _, c := range cases {
		data, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		var want, got Case
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if err := DecodeCaseKeys(data, &got); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if caseKeysOf(&got) != caseKeysOf(&want) {
			t.Errorf("%s:\n got %v\nwant %v", data, caseKeysOf(&got), caseKeysOf(&want))
		}
		spaced := bytes.ReplaceAll(bytes.ReplaceAll(data, []byte(`,"`), []byte(" ,\n\"")), []byte(`":`), []byte(`" : `))
		var got2 Case
		if err := DecodeCaseKeys(spaced, &got2); err != nil || caseKeysOf(&got2) != caseKeysOf(&want) {
			t.Errorf("with white space: %v %v", err, caseKeysOf(&got2))
		}
	}
	for _, bad := range []string{``, `[]`, `{`, `{"ID":}`, `{"ID":"a"`, `{"ID":"a"}x`, `{"ID":1}`, `{"LastActivity":"igår"}`,
		`{"UnreadByStaff":"ja"}`, `{"Subject":"a` + "\x01" + `"}`, `{"Version":}`, `{"Version":-1}`, `{"Version":1.5}`, `{"Version":01}`, `{"Version":"1"}`,
		`{"Version":18446744073709551616}`, `{"X":[1,2}`} {
		var c Case
		if err := DecodeCaseKeys([]byte(bad), &c); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Whatever the bytes, no panic; a header in encoding/json's own form
// decodes to the values encoding/json reads.
func FuzzDecodeCaseKeys(f *testing.F) {
	at := time.Date(2026, 11, 26, 8, 30, 1, 5, time.UTC)
	for _, c := range []Case{{ID: "a", ClinicID: "k", ResidentID: "r", Status: StatusNew, LastActivity: at, UnreadByStaff: true, Subject: "Hej"}, {}} {
		data, _ := json.Marshal(&c)
		f.Add(data)
	}
	f.Add([]byte(`{"ID":"a\u00e5","Subject":"{[\"]}"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Case
		err := DecodeCaseKeys(data, &got)
		var want Case
		if json.Unmarshal(data, &want) != nil {
			return
		}
		canon, _ := json.Marshal(&want)
		if !bytes.Equal(canon, data) {
			return
		}
		if err != nil {
			t.Fatalf("encoding/json's own form refused: %s: %v", data, err)
		}
		if caseKeysOf(&got) != caseKeysOf(&want) {
			t.Fatalf("%s:\n got %v\nwant %v", data, caseKeysOf(&got), caseKeysOf(&want))
		}
	})
}

func BenchmarkDecodeCaseKeys(b *testing.B) {
	now := time.Now()
	c := Case{ID: NewID(now), ClinicID: NewID(now), ResidentID: NewID(now), Kind: KindEService, EServiceID: "std-kontakta-mottagningen",
		Subject: "Fråga om provsvar", Status: StatusNew, AssigneeID: NewID(now), StartedBy: StartedByResident,
		CreatedAt: now, LastActivity: now, ClosedAt: now, Version: 3}
	data, _ := json.Marshal(&c)
	b.Run("keys", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var c Case
			if err := DecodeCaseKeys(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var c Case
			if err := json.Unmarshal(data, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestLiteral(t *testing.T) {
	for _, v := range []string{"0", "-0", "12", "1.5", "-1.5e+3", "2E9", "true", "false", "null"} {
		if !literal([]byte(v)) || !json.Valid([]byte(v)) {
			t.Errorf("%q refused", v)
		}
	}
	for _, v := range []string{"", "-", "01", "1.", ".5", "1e", "tru", "nul", "+1", "1x"} {
		if literal([]byte(v)) {
			t.Errorf("%q accepted", v)
		}
	}
}
