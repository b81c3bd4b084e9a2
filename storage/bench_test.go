package storage

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
)

// Each benchmark of our store has a raw bbolt baseline doing the same
// writes in the plainest way, in the same run on the same disk: the goals
// (ours ≤ 1.3× raw for one case, import rate ≥ 0.8× raw and file ≤ 1.2×
// raw, a list page < 5 ms out of 100,000 cases) are ratios, not absolutes.
//
//	CGO_ENABLED=0 go test -run '^$' -bench Import100k -benchtime 1x -count 2 ./storage/
//	CGO_ENABLED=0 go test -run '^$' -bench 'SaveCaseInterleaved' -benchtime 5000x -count 6 ./storage/
//	CGO_ENABLED=0 go test -run '^$' -bench 'SaveCase|ListPage' ./storage/
//
// The one-case goal is read from BenchmarkSaveCaseInterleaved (median of
// the -count runs): fsync time here drifts too much between two separate
// benchmarks for a 1.3× bound to mean anything.

const benchCases = 100_000

// bench holds what the benchmarks share, built once per process: the
// generated threads (outside any timer) and the 100,000-case database of
// the list benchmarks (written with NoSync, as a fixture, not measured).
var bench struct {
	threadsOnce sync.Once
	ds          *demo.Dataset
	threads     []app.Thread

	listOnce sync.Once
	listDir  string
	listErr  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.listDir != "" {
		os.RemoveAll(bench.listDir)
	}
	os.Exit(code)
}

// benchThreads returns the demo data set and 100,000 threads generated
// over it (repeatable: fixed seed).
func benchThreads(b *testing.B) (*demo.Dataset, []app.Thread) {
	bench.threadsOnce.Do(func() {
		bench.ds = demo.Build(testNow)
		bench.threads = make([]app.Thread, 0, benchCases)
		err := demo.GenerateThreads(context.Background(), bench.ds, testNow, benchCases, 1000, 42, func(ts []app.Thread) error {
			bench.threads = append(bench.threads, ts...)
			return nil
		})
		if err != nil {
			panic(err)
		}
	})
	return bench.ds, bench.threads
}

// BenchmarkSaveCase: one new case with one message, as Skicka ärende
// writes it (CreateThread: header, message, four index entries, fsync).
func BenchmarkSaveCase(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ds := seedDemo(b, s)
	ths := saveCaseThreads(ds, b.N)
	before := s.db.Stats()
	b.ResetTimer()
	for i := range ths {
		if err := s.CreateThread(ctx, &ths[i], app.Write{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportWrites(b, s.db, &before)
}

// reportWrites reports the page writes per operation: with a fast fsync
// the time of a commit follows the pages it writes.
func reportWrites(b *testing.B, db *bolt.DB, before *bolt.Stats) {
	after := db.Stats()
	d := after.Sub(before)
	b.ReportMetric(float64(d.TxStats.GetWrite())/float64(b.N), "pagewrites/op")
}

// BenchmarkSaveCaseRawBolt: the baseline of BenchmarkSaveCase, one Update
// that puts the same case as one JSON record.
func BenchmarkSaveCaseRawBolt(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bCases); return err }); err != nil {
		b.Fatal(err)
	}
	ths := saveCaseThreads(demo.Build(testNow), b.N)
	before := db.Stats()
	b.ResetTimer()
	for i := range ths {
		err := db.Update(func(tx *bolt.Tx) error {
			data, err := json.Marshal(&ths[i])
			if err != nil {
				return err
			}
			return tx.Bucket(bCases).Put([]byte(ths[i].Case.ID), data)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportWrites(b, db, &before)
}

// BenchmarkSaveCaseInterleaved is the measurement behind the ≤ 1.3× goal:
// fsync time on a shared virtual disk drifts by ±40 % between runs, so
// two separate benchmarks compare different disks. Here each iteration
// saves one case in our store and then one record in a raw bbolt file
// beside it, so both see the same disk at the same moment. ns/op is ours;
// raw-ns/op the baseline; ratio = ours/raw.
func BenchmarkSaveCaseInterleaved(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "ours"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ds := seedDemo(b, s)
	raw, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bCases); return err }); err != nil {
		b.Fatal(err)
	}
	ths := saveCaseThreads(ds, b.N)
	rawThs := saveCaseThreads(ds, b.N)
	var ours, base time.Duration
	oursBefore, rawBefore := s.db.Stats(), raw.Stats()
	b.ResetTimer()
	for i := range ths {
		t0 := time.Now()
		if err := s.CreateThread(ctx, &ths[i], app.Write{}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		err := raw.Update(func(tx *bolt.Tx) error {
			data, err := json.Marshal(&rawThs[i])
			if err != nil {
				return err
			}
			return tx.Bucket(bCases).Put([]byte(rawThs[i].Case.ID), data)
		})
		if err != nil {
			b.Fatal(err)
		}
		ours += t1.Sub(t0)
		base += time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(ours)/float64(base), "ratio")
	oursAfter, rawAfter := s.db.Stats(), raw.Stats()
	od, rd := oursAfter.Sub(&oursBefore), rawAfter.Sub(&rawBefore)
	b.ReportMetric(float64(od.TxStats.GetWrite())/float64(b.N), "pagewrites/op")
	b.ReportMetric(float64(rd.TxStats.GetWrite())/float64(b.N), "raw-pagewrites/op")
}

func saveCaseThreads(ds *demo.Dataset, n int) []app.Thread {
	ths := make([]app.Thread, n)
	for i := range ths {
		ths[i] = newThread(ds.Clinics[0].ID, ds.Residents[i%len(ds.Residents)].ID, ds.StaffBy[demo.StaffHandler], app.StatusOngoing,
			testNow, "Hej! Jag behöver förnya mitt recept på blodtrycksmedicin, det tar slut nästa vecka.")
	}
	return ths
}

// BenchmarkImport100k: ImportThreads of 100,000 generated threads into a
// new database, fsync on. Reports the rate and the file size.
func BenchmarkImport100k(b *testing.B) {
	ctx := context.Background()
	_, ths := benchThreads(b)
	var size, used int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s, err := Open(ctx, b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.ImportThreads(ctx, ths); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		size, used = fileSizes(b, s.db)
		s.Close()
	}
	reportImport(b, len(ths), size, used)
}

// BenchmarkImport100kRawBolt: the baseline of BenchmarkImport100k. The
// same records (JSON of the case header and of each message) and the same
// index entries under the same keys, 1,000 threads per transaction, with
// bbolt's defaults.
func BenchmarkImport100kRawBolt(b *testing.B) {
	_, ths := benchThreads(b)
	var size, used int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bCases, bCaseItems, bIdxStatus, bIdxAssignee, bIdxResident} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := rawImport(db, ths); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		size, used = fileSizes(b, db)
		db.Close()
	}
	reportImport(b, len(ths), size, used)
}

func rawImport(db *bolt.DB, ths []app.Thread) error {
	for start := 0; start < len(ths); start += importBatch {
		end := min(start+importBatch, len(ths))
		err := db.Update(func(tx *bolt.Tx) error {
			cases, items := tx.Bucket(bCases), tx.Bucket(bCaseItems)
			idx := []*bolt.Bucket{tx.Bucket(bIdxStatus), tx.Bucket(bIdxAssignee), tx.Bucket(bIdxResident)}
			for i := start; i < end; i++ {
				t := &ths[i]
				data, err := json.Marshal(&t.Case)
				if err != nil {
					return err
				}
				if err := cases.Put([]byte(t.Case.ID), data); err != nil {
					return err
				}
				for j := range t.Messages {
					data, err := json.Marshal(&t.Messages[j])
					if err != nil {
						return err
					}
					if err := items.Put(itemKey(t.Case.ID, itemMessage, t.Messages[j].ID), data); err != nil {
						return err
					}
				}
				st, as, r := caseIndexKeys(&t.Case)
				for k, key := range [][]byte{st, as, r} {
					if key == nil {
						continue
					}
					if err := idx[k].Put(key, nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// fileSizes returns the database file's size and the bytes its pages use
// (the file grows in steps, up to 16 MB, ahead of its pages).
func fileSizes(b *testing.B, db *bolt.DB) (file, used int64) {
	fi, err := os.Stat(db.Path())
	if err != nil {
		b.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil })
	return fi.Size(), used
}

func reportImport(b *testing.B, n int, size, used int64) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "cases/s")
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(float64(used), "used-bytes")
}

// listStore opens the shared database of 100,000 generated cases plus the
// demo data, building it on first use.
func listStore(b *testing.B) (*Store, *demo.Dataset) {
	ctx := context.Background()
	ds, ths := benchThreads(b)
	bench.listOnce.Do(func() {
		bench.listDir, bench.listErr = os.MkdirTemp("", "storage-bench-")
		if bench.listErr != nil {
			return
		}
		s, err := Open(ctx, bench.listDir, Options{NoSync: true})
		if err != nil {
			bench.listErr = err
			return
		}
		defer s.Close()
		if bench.listErr = demo.Seed(ctx, s, ds); bench.listErr != nil {
			return
		}
		bench.listErr = s.ImportThreads(ctx, ths)
	})
	if bench.listErr != nil {
		b.Fatal(bench.listErr)
	}
	s, err := Open(ctx, bench.listDir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, ds
}

// BenchmarkListPage100k: one page (50) of a clinic's case list out of
// 100,000 cases, through the store and through CaseService.ClinicCases
// (which adds the residents' names); goal < 5 ms a page.
func BenchmarkListPage100k(b *testing.B) {
	ctx := context.Background()
	s, ds := listStore(b)
	clinic := ds.Clinics[0].ID
	handler := ds.StaffBy[demo.StaffHandler]
	second, err := s.ListCases(ctx, app.CaseQuery{ClinicID: clinic})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		q    app.CaseQuery
	}{
		{"ListCases", app.CaseQuery{ClinicID: clinic}},
		{"ListCases/page2", app.CaseQuery{ClinicID: clinic, After: second.Next}},
		{"ListCases/status", app.CaseQuery{ClinicID: clinic, Status: app.StatusWaiting}},
		{"ListCases/assignee", app.CaseQuery{ClinicID: clinic, AssigneeID: handler}},
		{"ListCases/assignee+status", app.CaseQuery{ClinicID: clinic, AssigneeID: handler, Status: app.StatusClosed}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				page, err := s.ListCases(ctx, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(page.Cases)
			}
			if n != 50 {
				b.Fatalf("page of %d cases, want 50", n)
			}
			b.ReportMetric(float64(n), "cases/page")
		})
	}

	staff, err := s.Staff(ctx, ds.StaffBy[demo.StaffReceiver])
	if err != nil {
		b.Fatal(err)
	}
	svc := app.NewCaseService(s, app.FixedClock(testNow))
	sess := app.Session{Staff: staff, ClinicID: clinic}
	b.Run("ClinicCases", func(b *testing.B) {
		var n int
		for b.Loop() {
			page, err := svc.ClinicCases(ctx, sess, app.CaseQuery{})
			if err != nil {
				b.Fatal(err)
			}
			n = len(page.Rows)
			if page.Rows[0].ResidentName == "" {
				b.Fatal("row without the resident's name")
			}
		}
		if n != 50 {
			b.Fatalf("page of %d rows, want 50", n)
		}
		b.ReportMetric(float64(n), "cases/page")
	})
}

// openBenchSealed opens an encrypted store in dir and unlocks it (cheap
// key derivation: the benchmarks measure the codec, not argon2id).
func openBenchSealed(b *testing.B, dir string, noSync bool) *Store {
	s, err := Open(context.Background(), dir, Options{Encrypt: true, KeyParams: cheapKeys, NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Unlock(context.Background(), "staff-bench", "bench-lösenord"); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSaveCaseSealed is BenchmarkSaveCase on an encrypted store:
// every value sealed with XChaCha20-Poly1305.
func BenchmarkSaveCaseSealed(b *testing.B) {
	ctx := context.Background()
	s := openBenchSealed(b, b.TempDir(), false)
	defer s.Close()
	ds := seedDemo(b, s)
	ths := saveCaseThreads(ds, b.N)
	before := s.db.Stats()
	b.ResetTimer()
	for i := range ths {
		if err := s.CreateThread(ctx, &ths[i], app.Write{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportWrites(b, s.db, &before)
}

// BenchmarkSaveCaseSealedInterleaved measures the cost of sealing as
// BenchmarkSaveCaseInterleaved measures the store's: each iteration saves
// one case in an encrypted store and one in a plain store beside it, on
// the same disk at the same moment. ns/op is sealed, plain-ns/op the
// plain store, ratio = sealed/plain.
func BenchmarkSaveCaseSealedInterleaved(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	sealed := openBenchSealed(b, filepath.Join(dir, "sealed"), false)
	defer sealed.Close()
	plain, err := Open(ctx, filepath.Join(dir, "plain"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	ds := seedDemo(b, sealed)
	if err := demo.Seed(ctx, plain, ds); err != nil {
		b.Fatal(err)
	}
	ths, plainThs := saveCaseThreads(ds, b.N), saveCaseThreads(ds, b.N)
	var ours, base time.Duration
	b.ResetTimer()
	for i := range ths {
		t0 := time.Now()
		if err := sealed.CreateThread(ctx, &ths[i], app.Write{}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := plain.CreateThread(ctx, &plainThs[i], app.Write{}); err != nil {
			b.Fatal(err)
		}
		ours += t1.Sub(t0)
		base += time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "plain-ns/op")
	b.ReportMetric(float64(ours)/float64(base), "ratio")
}

// BenchmarkSaveCaseNoSync: the CPU cost of one case without fsync, plain
// and sealed, where the codec's share is not hidden by the disk.
func BenchmarkSaveCaseNoSync(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var s *Store
			if sealed {
				s = openBenchSealed(b, b.TempDir(), true)
			} else {
				var err error
				if s, err = Open(ctx, b.TempDir(), Options{NoSync: true}); err != nil {
					b.Fatal(err)
				}
			}
			defer s.Close()
			ds := seedDemo(b, s)
			ths := saveCaseThreads(ds, b.N)
			b.ResetTimer()
			for i := range ths {
				if err := s.CreateThread(ctx, &ths[i], app.Write{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodec: sealing and opening one message-sized JSON value.
func BenchmarkCodec(b *testing.B) {
	ths := saveCaseThreads(demo.Build(testNow), 1)
	p, err := json.Marshal(&ths[0].Messages[0])
	if err != nil {
		b.Fatal(err)
	}
	key := make([]byte, 32)
	aead, err := newAEADCodec(key)
	if err != nil {
		b.Fatal(err)
	}
	ad := adFor(bCaseItems, []byte(ths[0].Case.ID))
	for name, c := range map[string]Codec{"plain": plainCodec{}, "xchacha20poly1305": aead} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				sealed, err := c.Seal(p, ad)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Open(sealed, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen100k: opening the store of 100,000 cases, which now reads
// the page tree from disk first (checkPages, walkAll, quarantineScan:
// damage is reported, not served), against a raw bbolt open of the same
// file (which rebuilds its free list by walking every page too).
func BenchmarkOpen100k(b *testing.B) {
	s, _ := listStore(b)
	dir := filepath.Dir(s.Path())
	s.Close()
	fi, _ := os.Stat(filepath.Join(dir, FileName))
	b.ReportMetric(float64(fi.Size())/(1<<20), "MB")
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			st, err := Open(context.Background(), dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			st.Close()
		}
	})
	b.Run("rawbolt", func(b *testing.B) {
		for b.Loop() {
			db, err := openBolt(filepath.Join(dir, FileName), Options{Timeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
	})
}
