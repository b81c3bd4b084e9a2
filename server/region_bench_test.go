package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/app/personnummer"
	"mottagning/client"
	"mottagning/internal/pgtest"
	"mottagning/pgstore"
	"mottagning/storage"
)

// The resident side at a region's size: 100,000 residents and 1,000,000
// cases (ten each; MOTTAGNING_REGION_RESIDENTS and _CASES change that),
// residents reading their inbox (the first page) over HTTPS on
// loopback, on bbolt (one node) and on PostgreSQL (one node, then two
// nodes on one database, the load split between them). Each is reported
// beside its raw baseline: the same store calls a request makes (the
// session and its resident, the page) straight against the store.

func regionSize() (residents, cases int) {
	residents, cases = 100_000, 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MOTTAGNING_REGION_RESIDENTS")); err == nil && v > 0 {
		residents = v
	}
	if v, err := strconv.Atoi(os.Getenv("MOTTAGNING_REGION_CASES")); err == nil && v > 0 {
		cases = v
	}
	return
}

// region is a generated region in one store, kept for the whole run.
type region struct {
	store     Store
	residents []app.ID
	err       error
}

var regions struct {
	mu stdsync.Mutex
	m  map[string]*region
}

// fillRegion writes the demo region, then residents copied from a demo
// adult and cases spread evenly over them, in batches. Only Skatteverket's
// test numbers are used, and they run out after some 3,600: the first
// residents get one (they are the ones who sign in, and are returned),
// the rest are known by a reserve number only, as some residents are.
func fillRegion(ctx context.Context, st Store, nres, ncases int) ([]app.ID, error) {
	now := time.Now()
	ds := demo.Build(now)
	ds.WithPasswords = false
	if err := demo.Seed(ctx, st, ds); err != nil {
		return nil, err
	}
	var tmpl *app.Resident
	for _, r := range ds.Residents {
		if r.ID == ds.Persona[demo.AdultEmail] {
			tmpl = r
		}
	}
	used := map[personnummer.Number]bool{}
	for _, r := range ds.Residents {
		used[r.PNR] = true
	}
	var free []personnummer.Number
	for _, n := range demo.TestNumbers() {
		if !used[n] && n.AgeOn(now) >= 18 {
			free = append(free, n)
		}
	}
	ids := make([]app.ID, 0, nres)
	batch := make([]*app.Resident, 0, 5000)
	for i := range nres {
		r := *tmpl
		r.ID, r.PNR, r.Guardians = app.NewID(now), personnummer.Number{}, nil
		if i < len(free) {
			r.PNR = free[i]
		}
		ids = append(ids, r.ID)
		batch = append(batch, &r)
		if len(batch) == cap(batch) || i == nres-1 {
			if err := st.PutResidents(ctx, batch); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	clinic, handler := ds.Clinics[0].ID, ds.StaffBy[demo.StaffHandler]
	ts := make([]app.Thread, 0, 5000)
	for i := range ncases {
		at := now.Add(-time.Duration(ncases-i) * time.Second)
		c := app.Case{ID: app.NewID(at), ClinicID: clinic, ResidentID: ids[i%len(ids)], Kind: app.KindEService,
			EServiceID: app.StandardCatalogue[i%len(app.StandardCatalogue)].ID, Subject: "Förnya recept", Status: app.StatusOngoing,
			AssigneeID: handler, StartedBy: app.StartedByResident, CreatedAt: at, LastActivity: at}
		ts = append(ts, app.Thread{Case: c, Messages: []app.Message{
			{ID: app.NewID(at), CaseID: c.ID, Author: app.AuthorResident, AuthorID: c.ResidentID, At: at, Text: "Hej! Jag behöver förnya mitt recept."},
			{ID: app.NewID(at), CaseID: c.ID, Author: app.AuthorStaff, AuthorID: handler, At: at, Text: "Tack, receptet är förnyat.", ReadByResident: at}}})
		if len(ts) == cap(ts) || i == ncases-1 {
			if err := st.ImportThreads(ctx, ts); err != nil {
				return nil, err
			}
			ts = ts[:0]
		}
	}
	return ids[:min(len(free), len(ids))], nil
}

// regionOn builds (once) the region on "bbolt" or "postgres".
func regionOn(b *testing.B, backend string) *region {
	b.Helper()
	regions.mu.Lock()
	defer regions.mu.Unlock()
	if regions.m == nil {
		regions.m = map[string]*region{}
	}
	if r := regions.m[backend]; r != nil {
		if r.err != nil {
			b.Fatal(r.err)
		}
		return r
	}
	ctx := context.Background()
	nres, ncases := regionSize()
	r := &region{}
	regions.m[backend] = r
	t0 := time.Now()
	switch backend {
	case "bbolt":
		dir, err := os.MkdirTemp("", "mottagning-region")
		if err != nil {
			b.Fatal(err)
		}
		st, err := storage.Open(ctx, dir, storage.Options{NoSync: true}) // generation; reads need no fsync
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.UnlockWithServerKey(ctx, testServerKey); err != nil {
			b.Fatal(err)
		}
		r.store = st
	case "postgres":
		pgOnce.Do(func() { pgCluster = pgtest.StartShared(b) })
		if pgCluster == nil {
			b.Skip("PostgreSQL is not installed")
		}
		url, err := pgCluster.CreateDatabase("region")
		if err != nil {
			b.Fatal(err)
		}
		st, err := pgstore.Open(ctx, url, pgstore.Options{ServerKey: testServerKey})
		if err != nil {
			b.Fatal(err)
		}
		r.store = st
	}
	if err := r.store.SetChangeFeed(ctx); err != nil {
		b.Fatal(err)
	}
	r.residents, r.err = fillRegion(ctx, r.store, nres, ncases)
	if r.err != nil {
		b.Fatal(r.err)
	}
	b.Logf("%s region: %d residents, %d cases written in %v", backend, nres, ncases, time.Since(t0).Round(time.Second))
	return r
}

// node is one server process's worth on a region's store (its own
// store handle for PostgreSQL: its own connection pool), over HTTPS.
type node struct {
	srv *Server
	c   *client.Client
}

func startNode(b *testing.B, st Store) *node {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv, err := New(ctx, Deps{Store: st, Logger: log, ResidentTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	cert, fp := selfSigned(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}
	go hs.ServeTLS(ln, "", "")
	b.Cleanup(func() { hs.Close() })
	c, err := client.New("https://"+ln.Addr().String(), client.Options{PinSHA256: fp})
	if err != nil {
		b.Fatal(err)
	}
	return &node{srv: srv, c: c}
}

// signIn opens n resident sessions through nd (as the e-ID sign-in ends).
func signIn(b *testing.B, nd *node, rs []app.ID, n int) []string {
	b.Helper()
	toks := make([]string, n)
	for i := range toks {
		tok, _, err := nd.srv.sessions.create(context.Background(), rs[(i*7919)%len(rs)])
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = tok
	}
	return toks
}

// runInbox reads first inbox pages through the nodes in turn, 16 at a time.
func runInbox(b *testing.B, nodes []*node, toks []string) float64 {
	var lat latencies
	var n atomic.Int64
	b.SetParallelism(8) // × GOMAXPROCS goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := int(n.Add(1))
			nd := nodes[i%len(nodes)]
			t0 := time.Now()
			page, err := nd.c.InboxPage(ctx, toks[i%len(toks)], "", "", 0)
			if err != nil || len(page.Cases) == 0 {
				b.Errorf("inbox: %d cases, %v", len(page.Cases), err)
				return
			}
			lat.add(time.Since(t0))
		}
	})
	return lat.report(b, time.Since(start))
}

// runRaw makes the store calls of the same requests straight against the
// store: the session's resident, then the page.
func runRaw(b *testing.B, stores []Store, rs []app.ID) {
	var lat latencies
	var n atomic.Int64
	st := stores[0]
	_, shared := st.(SessionResidentStore)
	var keys [][]byte
	if shared {
		ps := st.(ResidentSessionStore)
		for i := range 2000 {
			k := sha256.Sum256([]byte(randomToken(16) + strconv.Itoa(i)))
			if err := ps.PutResidentSession(context.Background(), k[:], rs[(i*7919)%len(rs)], time.Now().Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
			keys = append(keys, k[:])
		}
	}
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := int(n.Add(1))
			st := stores[i%len(stores)]
			t0 := time.Now()
			id := rs[(i*7919)%len(rs)]
			if sess, ok := st.(SessionResidentStore); ok {
				r, ok, err := sess.SessionResident(ctx, keys[i%len(keys)], time.Now())
				if err != nil || !ok {
					b.Errorf("session: %v", err)
					return
				}
				id = r.ID
			} else if _, err := st.Resident(ctx, id); err != nil {
				b.Error(err)
				return
			}
			cs, _, err := st.ResidentCasesPage(ctx, id, "", app.InboxPageSize)
			if err != nil || len(cs) == 0 {
				b.Errorf("page: %d, %v", len(cs), err)
				return
			}
			lat.add(time.Since(t0))
		}
	})
	lat.report(b, time.Since(start))
}

// regionRate is the one-node PostgreSQL figure, for the two-node ratio.
var regionRate float64

// BenchmarkRegionInbox: see the top of the file. postgres2nodes also
// reports its throughput as a multiple of one node's (x1node).
func BenchmarkRegionInbox(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) {
		r := regionOn(b, "bbolt")
		nd := startNode(b, r.store)
		runInbox(b, []*node{nd}, signIn(b, nd, r.residents, 2000))
	})
	b.Run("bboltRaw", func(b *testing.B) {
		r := regionOn(b, "bbolt")
		runRaw(b, []Store{r.store}, r.residents)
	})
	b.Run("postgres", func(b *testing.B) {
		r := regionOn(b, "postgres")
		nd := startNode(b, r.store)
		regionRate = runInbox(b, []*node{nd}, signIn(b, nd, r.residents, 2000))
	})
	b.Run("postgresRaw", func(b *testing.B) {
		r := regionOn(b, "postgres")
		runRaw(b, []Store{r.store}, r.residents)
	})
	second := func(b *testing.B, r *region) Store {
		// The second node: its own store handle and pool on the database.
		st2, err := pgstore.Open(context.Background(), r.store.(*pgstore.Store).URL(), pgstore.Options{ServerKey: testServerKey})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st2.Close() })
		return st2
	}
	b.Run("postgres2nodes", func(b *testing.B) {
		r := regionOn(b, "postgres")
		a, c := startNode(b, r.store), startNode(b, second(b, r))
		rate := runInbox(b, []*node{a, c}, signIn(b, a, r.residents, 2000))
		if regionRate > 0 {
			b.ReportMetric(rate/regionRate, "x1node")
		}
	})
	b.Run("postgres2nodesRaw", func(b *testing.B) {
		r := regionOn(b, "postgres")
		runRaw(b, []Store{r.store, second(b, r)}, r.residents)
	})
}
