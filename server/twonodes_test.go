package server

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	stdsync "sync"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/pgstore"
	msync "mottagning/sync"
)

// secondNode starts another server on e's PostgreSQL database, with its
// own store handle (pool, listener) and e's staff accounts, over HTTPS.
func secondNode(t *testing.T, e *env) *client.Client {
	t.Helper()
	pg, ok := e.store.(*pgstore.Store)
	if !ok {
		t.Skip("two nodes share a PostgreSQL database (MOTTAGNING_TEST_DB=postgres)")
	}
	st, err := pgstore.Open(e.ctx, pg.URL(), pgstore.Options{ServerKey: testServerKey, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv, err := New(e.ctx, Deps{Store: st, Staff: e.auth, EID: &TestEID{Clock: e.clock}, Clock: e.clock, Logger: log,
		ResidentStartPerMinute: 1 << 20, TestNotifyPerMinute: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	cert, fp := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}
	go hs.ServeTLS(ln, "", "")
	t.Cleanup(func() { hs.Close() })
	c, err := client.New("https://"+ln.Addr().String(), client.Options{PinSHA256: fp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	return c
}

// TestPushRacingAtTwoNodesAppliedOnce: the same push (a retry racing its
// original, through another node of the load balancer) arrives at two
// nodes at once, eight times: its op is applied exactly once — the case's
// version rises by one, the note is there once — and every copy gets the
// same answer. The device's lock is the database's (KeyLocker), not the
// node's.
func TestPushRacingAtTwoNodesAppliedOnce(t *testing.T) {
	e := newEnv(t)
	c2 := secondNode(t, e)
	d := &doorEnv{e}
	bjorn := e.ds.StaffBy[demo.StaffHandler]
	mine := d.caseOf(0, func(c *app.Case) bool { return c.AssigneeID == bjorn && c.Status != app.StatusClosed })
	for round := range 5 {
		before, err := e.store.Case(e.ctx, mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		note := op(app.OpCaseNote, mine.ID, before.Version, &app.Note{ID: app.NewID(now), CaseID: mine.ID, StaffID: bjorn, At: now, Text: "Ring upp."})
		req := &msync.PushRequest{Ops: []app.SyncOp{note}}
		tok := d.staff(demo.StaffHandler)
		var wg stdsync.WaitGroup
		results := make([]*msync.PushResponse, 8)
		errs := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := e.c
				if i%2 == 1 {
					cl = c2
				}
				results[i], errs[i] = cl.SyncPush(context.Background(), tok, req)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d push %d: %v", round, i, err)
			}
			if r := results[i].Results; len(r) != 1 || r[0].Outcome != app.OpApplied || r[0].Version != results[0].Results[0].Version {
				t.Errorf("round %d push %d: %+v; want applied, as every copy", round, i, r)
			}
		}
		after, err := e.store.Case(e.ctx, mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version+1 {
			t.Errorf("round %d: the case went from version %d to %d: the op was applied %d times", round, before.Version, after.Version, after.Version-before.Version)
		}
	}
}
