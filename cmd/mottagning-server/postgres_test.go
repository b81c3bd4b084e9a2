package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/internal/pgtest"
)

// TestProcessTwoNodesOnPostgres runs two real server processes on one
// PostgreSQL database, both started with --demo on it while it is empty
// (one seeds, the other finds it seeded), as nodes behind a load
// balancer: a staff token issued by one is accepted by the other; a case
// sent through one is in the other's case lists (its index follows the
// feed); a resident signed in through one reads the inbox and replies
// through the other; a sign-out at one ends the session at both.
func TestProcessTwoNodesOnPostgres(t *testing.T) {
	binary(t)
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	key := keyFile(t)
	// Both at once, on the empty database: one seeds the demo region.
	var nodes []*proc
	for range 2 {
		nodes = append(nodes, launch(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", url, "--demo", "--key-file", key, "--metrics-addr", "off"))
	}
	for _, n := range nodes {
		n.ready(t)
	}
	a, b := nodes[0], nodes[1]
	for _, n := range nodes {
		if !strings.Contains(n.logs.String(), `"store":"postgres"`) {
			t.Fatalf("a node does not run on PostgreSQL:\n%s", n.logs)
		}
	}
	seeded := 0
	for _, n := range nodes {
		if n.logs.has("demo region seeded") {
			seeded++
		}
	}
	if seeded != 1 {
		t.Errorf("the demo region was seeded %d times, want once", seeded)
	}
	ctx := t.Context()

	tok, err := a.c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceName: "Testdator"})
	if err != nil {
		t.Fatalf("staff sign-in at node a: %v", err)
	}
	me, err := b.c.StaffMe(ctx, tok.AccessToken)
	if err != nil || me.Username != "anna" {
		t.Fatalf("node b with node a's token: %+v, %v", me, err)
	}
	var centrum string
	for clinic, roles := range me.Roles {
		if len(roles) == 2 {
			centrum = clinic
		}
	}
	// Node b builds its case list of centrum before the case is sent.
	before, err := b.c.SearchCases(ctx, tok.AccessToken, centrum, client.CaseSearch{List: "clinic", Limit: 500})
	if err != nil {
		t.Fatalf("search at node b: %v", err)
	}
	ts, err := a.c.Templates(ctx, tok.AccessToken, centrum, "fraga")
	if err != nil || len(ts) == 0 {
		t.Fatalf("templates: %v", err)
	}
	ds := demo.Build(time.Now())
	var larsPNR string
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultEmail] {
			larsPNR = r.PNR.String()
		}
	}
	v, err := a.c.LookupResident(ctx, tok.AccessToken, centrum, larsPNR)
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	sent, err := a.c.SendCase(ctx, tok.AccessToken, centrum, client.SendCaseRequest{TemplateID: ts[0].ID, ResidentID: v.ID, Subject: "Hur mår du?", Text: "Hej! Hur mår du?"})
	if err != nil {
		t.Fatalf("send at node a: %v", err)
	}
	// Node b's list follows the feed: the new case shows up there.
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := b.c.SearchCases(ctx, tok.AccessToken, centrum, client.CaseSearch{List: "clinic", Limit: 500})
		if err != nil {
			t.Fatalf("search at node b: %v", err)
		}
		if slices.ContainsFunc(page.Rows, func(r client.CaseRow) bool { return r.ID == sent.ID }) {
			if page.Total != before.Total+1 {
				t.Errorf("node b lists %d cases, want %d", page.Total, before.Total+1)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node b's case list does not show the case sent through node a")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The resident signs in through node b and reads through node a.
	sess, err := b.c.ResidentSignIn(ctx, larsPNR, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("resident sign-in at node b: %v", err)
	}
	inbox, err := a.c.Inbox(ctx, sess.Token, "")
	if err != nil {
		t.Fatalf("inbox at node a with node b's session: %v", err)
	}
	if !slices.ContainsFunc(inbox, func(c client.ResidentCase) bool { return c.ID == sent.ID }) {
		t.Fatalf("the inbox at node a lacks the case")
	}
	if _, err := a.c.ResidentReply(ctx, sess.Token, sent.ID, "Bra, tack!"); err != nil {
		t.Fatalf("reply at node a: %v", err)
	}
	th, err := b.c.OpenCase(ctx, tok.AccessToken, centrum, sent.ID)
	if err != nil || len(th.Messages) != 2 {
		t.Fatalf("staff at node b see %+v, %v", th, err)
	}
	// Signing out at node a ends the resident's session at node b.
	if err := a.c.ResidentSignOut(ctx, sess.Token); err != nil {
		t.Fatalf("resident sign-out at node a: %v", err)
	}
	if _, err := b.c.Inbox(ctx, sess.Token, ""); client.Code(err) != "unauthenticated" {
		t.Fatalf("node b after sign-out at node a: %v", err)
	}
	for _, n := range nodes {
		n.stop(t)
	}
	for _, s := range []string{larsPNR, "Lars", "Hur mår du", "Bra, tack"} {
		for _, n := range nodes {
			if strings.Contains(n.logs.String(), s) {
				t.Errorf("a node's log contains %q", s)
			}
		}
	}
}

// TestProcessMigrateToPostgres: a bbolt server with a day's work is
// stopped and migrated (mottagning-server migrate) into an empty
// PostgreSQL database; started again with --db on the same data
// directory (same certificate), it serves the same data: the staff
// member's refresh token from before the move still works, the case sent
// before is there with its reply, the resident signs in and reads it, and
// migrating again into the now full database is refused.
func TestProcessMigrateToPostgres(t *testing.T) {
	binary(t)
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	data, key := t.TempDir(), keyFile(t)
	p := start(t, "--addr", "127.0.0.1:0", "--data", data, "--demo", "--key-file", key, "--metrics-addr", "off")
	ctx := t.Context()
	tok, err := p.c.StaffSignIn(ctx, client.StaffSignInRequest{Username: "anna", Password: demo.Password("anna"), DeviceName: "Testdator"})
	if err != nil {
		t.Fatal(err)
	}
	me, err := p.c.StaffMe(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	var centrum string
	for clinic, roles := range me.Roles {
		if len(roles) == 2 {
			centrum = clinic
		}
	}
	ts, err := p.c.Templates(ctx, tok.AccessToken, centrum, "fraga")
	if err != nil || len(ts) == 0 {
		t.Fatalf("templates: %v", err)
	}
	ds := demo.Build(time.Now())
	var pnr string
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultEmail] {
			pnr = r.PNR.String()
		}
	}
	v, err := p.c.LookupResident(ctx, tok.AccessToken, centrum, pnr)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := p.c.SendCase(ctx, tok.AccessToken, centrum, client.SendCaseRequest{TemplateID: ts[0].ID, ResidentID: v.ID, Subject: "Före flytten", Text: "Hej!"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := p.c.ResidentSignIn(ctx, pnr, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.c.ResidentReply(ctx, sess.Token, sent.ID, "Svar före flytten"); err != nil {
		t.Fatal(err)
	}
	before, err := p.c.SearchCases(ctx, tok.AccessToken, centrum, client.CaseSearch{List: "clinic", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	p.stop(t)

	out, err := cli(t, "migrate", "--data", data, "--to", url, "--key-file", key)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "migrated to PostgreSQL") || !strings.Contains(out, "verified") {
		t.Fatalf("migrate said:\n%s", out)
	}
	q := start(t, "--addr", "127.0.0.1:0", "--data", data, "--db", url, "--key-file", key, "--eid", "test", "--allow-test-eid", "--metrics-addr", "off")
	if !strings.Contains(q.logs.String(), `"store":"postgres"`) {
		t.Fatalf("not on PostgreSQL:\n%s", q.logs)
	}
	nt, err := q.c.StaffRefresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("the refresh token from before the move: %v", err)
	}
	th, err := q.c.OpenCase(ctx, nt.AccessToken, centrum, sent.ID)
	if err != nil || len(th.Messages) != 2 || th.Messages[1].Text != "Svar före flytten" {
		t.Fatalf("the case after the move: %+v, %v", th, err)
	}
	after, err := q.c.SearchCases(ctx, nt.AccessToken, centrum, client.CaseSearch{List: "clinic", Limit: 500})
	if err != nil || after.Total != before.Total {
		t.Fatalf("the clinic's list after the move: %d cases, %v; want %d", after.Total, err, before.Total)
	}
	sess2, err := q.c.ResidentSignIn(ctx, pnr, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := q.c.Inbox(ctx, sess2.Token, "")
	if err != nil || !slices.ContainsFunc(inbox, func(c client.ResidentCase) bool { return c.ID == sent.ID }) {
		t.Fatalf("inbox after the move: %v", err)
	}
	q.stop(t)
	if out, err := cli(t, "migrate", "--data", data, "--to", url, "--key-file", key); err == nil || !strings.Contains(out, "empty") {
		t.Fatalf("a second migrate into the full database: %v\n%s", err, out)
	}
}
