package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/client"
	"mottagning/storage"
)

// benchData is the demo region plus generated cases, built once per test
// binary into a directory that each benchmark run copies (the Go harness
// calls a benchmark several times with a growing b.N).
var benchData struct {
	once stdsync.Once
	dir  string
	ds   *demo.Dataset
	ids  []app.ID
	err  error
}

func benchEnv(b *testing.B, n int) (*env, []app.ID) {
	b.Helper()
	ctx := context.Background()
	benchData.once.Do(func() {
		benchData.dir, benchData.err = os.MkdirTemp("", "mottagning-bench")
		if benchData.err != nil {
			return
		}
		store, err := storage.Open(ctx, benchData.dir, storage.Options{NoSync: true}) // generation only
		if err != nil {
			benchData.err = err
			return
		}
		defer store.Close()
		now := time.Now()
		ds := demo.Build(now)
		ds.WithPasswords = false
		if err := demo.Seed(ctx, store, ds); err != nil {
			benchData.err = err
			return
		}
		benchData.ds = ds
		benchData.err = demo.GenerateThreads(ctx, ds, now, n, 5000, 1, func(ts []app.Thread) error {
			for i := range ts {
				if ts[i].Case.ClinicID == ds.Clinics[0].ID && len(benchData.ids) < 1000 {
					benchData.ids = append(benchData.ids, ts[i].Case.ID)
				}
			}
			return store.ImportThreads(ctx, ts)
		})
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
	dir := b.TempDir()
	src, err := os.ReadFile(filepath.Join(benchData.dir, storage.FileName))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, storage.FileName), src, 0o600); err != nil {
		b.Fatal(err)
	}
	store, err := storage.Open(ctx, dir, storage.Options{}) // fsync on commit, as in production
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, envOpt{noDemo: true, store: store})
	ds := benchData.ds
	e.ds = ds
	e.auth.staff = map[string]*app.Staff{}
	for i := range ds.Staff {
		e.auth.staff[e.auth.token(ds.Staff[i].ID)] = &ds.Staff[i]
	}
	// Warm the staff case index (built on first use) outside the timing.
	sess := app.Session{Staff: &ds.Staff[0], ClinicID: ds.Clinics[0].ID}
	if _, err := e.srv.Cases().FindCases(ctx, sess, app.CaseFilter{}); err != nil {
		b.Fatal(err)
	}
	return e, benchData.ids
}

// latencies collects request durations and reports requests/s and p99.
type latencies struct {
	mu stdsync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration) float64 {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return 0
	}
	rate := float64(len(l.d)) / elapsed.Seconds()
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds())/1000, "p50-ms")
	return rate
}

// BenchmarkServerStaff: a case handler's work over HTTPS on loopback with
// 100,000 cases: a page of Mottagningens ärenden (through the indexes),
// then opening a case (which writes the access-log entry, one fsync).
func BenchmarkServerStaff(b *testing.B) {
	e, ids := benchEnv(b, 100_000)
	anna, centrum := e.auth.token(e.ds.StaffBy[demo.StaffReceiver]), string(e.ds.Clinics[0].ID)
	var lat latencies
	var n atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			t0 := time.Now()
			var err error
			if i%2 == 0 {
				_, err = e.c.Cases(e.ctx, anna, centrum, client.CaseListQuery{List: "clinic", Limit: 50})
			} else {
				_, err = e.c.OpenCase(e.ctx, anna, centrum, string(ids[int(i)%len(ids)]))
			}
			if err != nil {
				b.Error(err)
				return
			}
			lat.add(time.Since(t0))
		}
	})
	lat.report(b, time.Since(start))
}

// BenchmarkServerStaffList: only the case list page (no write).
func BenchmarkServerStaffList(b *testing.B) {
	e, _ := benchEnv(b, 100_000)
	anna, centrum := e.auth.token(e.ds.StaffBy[demo.StaffReceiver]), string(e.ds.Clinics[0].ID)
	var lat latencies
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t0 := time.Now()
			if _, err := e.c.Cases(e.ctx, anna, centrum, client.CaseListQuery{List: "clinic", Limit: 50}); err != nil {
				b.Error(err)
				return
			}
			lat.add(time.Since(t0))
		}
	})
	lat.report(b, time.Since(start))
}

// BenchmarkServerResident: residents' inbox and opening a case (the read
// receipt is a write) with 100,000 cases in the database.
func BenchmarkServerResident(b *testing.B) {
	e, _ := benchEnv(b, 100_000)
	var tokens []string
	var firstCase []string
	for _, key := range []string{demo.AdultSMS, demo.AdultEmail, demo.AdultBoth, demo.AdultNone} {
		s, err := e.c.ResidentSignIn(e.ctx, e.persona(key).PNR.String(), time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		inbox, err := e.c.Inbox(e.ctx, s.Token, "")
		if err != nil || len(inbox) == 0 {
			b.Fatal(fmt.Errorf("inbox: %v", err))
		}
		tokens, firstCase = append(tokens, s.Token), append(firstCase, inbox[0].ID)
	}
	var lat latencies
	var n atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			k := i % len(tokens)
			t0 := time.Now()
			var err error
			if i%2 == 0 {
				_, err = e.c.Inbox(e.ctx, tokens[k], "")
			} else {
				_, err = e.c.ReadCase(e.ctx, tokens[k], firstCase[k])
			}
			if err != nil {
				b.Error(err)
				return
			}
			lat.add(time.Since(t0))
		}
	})
	lat.report(b, time.Since(start))
}
