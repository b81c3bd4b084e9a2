package storage

import (
	"bytes"
	"context"
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
)

// The store is what app.AuditService.Verify reaches the chain through.
var _ app.ChainVerifier = (*Store)(nil)

// TestAuditVerifyFindsTamperedEntry: real service calls on the demo store,
// the granskare's check through app.AuditService reports a whole chain;
// one entry edited with a raw bbolt write, the same check reports that
// link as the first broken one, and the extract still lists what is there.
func TestAuditVerifyFindsTamperedEntry(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ds := seedDemo(t, s)
	clock := app.FixedClock(testNow)
	cases := app.NewCaseService(s, clock)
	audit := app.NewAuditService(s, clock)
	sessionOf := func(key string) app.Session {
		st, err := s.Staff(ctx, ds.StaffBy[key])
		if err != nil {
			t.Fatal(err)
		}
		return app.Session{Staff: st, ClinicID: ds.Clinics[0].ID}
	}
	granskare, anna := sessionOf(demo.StaffAuditor), sessionOf(demo.StaffReceiver)

	before, err := audit.Verify(ctx, granskare)
	if err != nil || !before.OK() {
		t.Fatalf("the seeded log: %+v, %v", before, err)
	}
	page, err := cases.ClinicCases(ctx, anna, app.CaseQuery{Limit: 1})
	if err != nil || len(page.Rows) == 0 {
		t.Fatalf("clinic cases: %v", err)
	}
	if _, err := cases.OpenCase(ctx, anna, page.Rows[0].ID); err != nil {
		t.Fatal(err)
	}
	var maria *app.Resident
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultBoth] {
			maria = r
		}
	}
	if _, err := cases.LookupResident(ctx, anna, maria.PNR); err != nil {
		t.Fatal(err)
	}
	if _, err := cases.OpenCase(ctx, anna, page.Rows[0].ID); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, granskare)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Entries != before.Entries+3 || rep.Last != before.Last+3 {
		t.Fatalf("after three accesses: %+v (before %+v)", rep, before)
	}

	// The lookup of Maria becomes an open of a case: a plausible forgery.
	lookup := before.Last + 2
	raw(t, s, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bAccessChain)
		v := bk.Get(seqKey(lookup))
		if !bytes.Contains(v, []byte(app.AccessLookupResident)) {
			return errors.New("the lookup is not at the expected position")
		}
		return bk.Put(seqKey(lookup), bytes.Replace(v, []byte(app.AccessLookupResident), []byte(app.AccessPrint), 1))
	})
	rep, err = audit.Verify(ctx, granskare)
	if err != nil {
		t.Fatal(err)
	}
	wantBreak(t, rep, lookup, app.BreakEdited)

	d := app.DateIn(testNow)
	x, err := audit.Extract(ctx, granskare, maria.PNR, d, d.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Rows) != 1 || x.Rows[0].Action != app.AccessPrint {
		t.Errorf("extract of Maria after the edit: %+v", x.Rows)
	}
	// The extract's own record continues the chain; the break stays where it was.
	if rep, _ := audit.Verify(ctx, granskare); rep.Break == nil || rep.Break.Seq != lookup {
		t.Errorf("after the extract: %+v", rep)
	}
}
