package sync_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
)

// BenchmarkSync is issue 6's sync benchmark. The server runs as a child
// process (so that the desktop's memory is measured alone) holding the
// demo data set plus SYNC_BENCH_CASES generated cases (default 100,000),
// all at the clinic of the desktop's staff member; the desktop (a sealed
// store, as connected desktops are) talks to it over loopback TLS.
//
//   - Cold: a new desktop syncs everything. Reported: cases/s, s/sync,
//     MB on the wire (TLS bytes both ways), the desktop's peak heap
//     (sampled every 2 ms from runtime/metrics), and, measured in the same
//     run, the raw baseline: the same records streamed from the server's
//     bbolt over HTTP (GET /raw of the child, storage.StreamRecords) into
//     an empty bbolt, no protocol (raw-cases/s), and the ratio of the two
//     rates (goal ≥ 0.5, under 10 s, peak heap under 100 MB).
//   - Incremental0: a sync with nothing to do (goal < 10 ms).
//   - Incremental100: a sync of 100 changes made on the desktop (100
//     replies pushed, their cases pulled back; goal < 100 ms).
func BenchmarkSync(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("SYNC_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	srv, url, pin := startServerChild(b, b.TempDir(), "127.0.0.1:0", n)
	defer srv.stop(b, time.Minute)
	var wire atomic.Int64
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, n: &wire}, nil
	}
	staff := benchStaff(demo.StaffReceiver)
	var d *desktop
	top := b // the desktop outlives the sub-benchmarks
	cold := func() (time.Duration, int64, uint64) {
		d = newDesktopAt(top, url, pin, top.TempDir(), dial)
		d.signIn(&app.Staff{Username: staff}, "")
		runtime.GC()
		w0 := wire.Load()
		stop := sampleHeap()
		start := time.Now()
		d.mustSync()
		el := time.Since(start)
		peak := stop()
		// The clinic of the generated cases: the one with the most.
		most := 0
		for id := range d.sess.Staff.Roles {
			page, _ := d.store.ListCases(d.ctx, app.CaseQuery{ClinicID: id, Limit: 500})
			if len(page.Cases) > most {
				most, d.sess.ClinicID = len(page.Cases), id
			}
		}
		return el, wire.Load() - w0, peak
	}

	b.Run("Cold", func(b *testing.B) {
		var el, rawEl time.Duration
		var bytes, rawBytes int64
		var peak uint64
		for i := 0; i < b.N; i++ {
			e, w, p := cold()
			el, bytes, peak = el+e, bytes+w, max(peak, p)
			b.StopTimer()
			w0 := wire.Load()
			rawEl += rawCopy(b, d, url, filepath.Join(b.TempDir(), "raw.db"))
			rawBytes += wire.Load() - w0
			b.StartTimer()
		}
		got := d.eng.Status()
		page, err := d.store.ListCases(d.ctx, app.CaseQuery{ClinicID: d.sess.ClinicID, Limit: 1})
		if err != nil || len(page.Cases) == 0 || !got.LastSync.After(time.Time{}) {
			b.Fatalf("the desktop holds no case after the cold sync: %v", err)
		}
		per := func(d time.Duration) float64 { return float64(n) * float64(b.N) / d.Seconds() }
		b.ReportMetric(per(el), "cases/s")
		b.ReportMetric(el.Seconds()/float64(b.N), "s/sync")
		b.ReportMetric(float64(bytes)/float64(b.N)/1e6, "wire-MB")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(per(rawEl), "raw-cases/s")
		b.ReportMetric(rawEl.Seconds()/float64(b.N), "raw-s")
		b.ReportMetric(float64(rawBytes)/float64(b.N)/1e6, "raw-wire-MB")
		b.ReportMetric(per(el)/per(rawEl), "ratio")
	})
	ensure := func(b *testing.B) {
		if d == nil {
			cold()
		}
	}
	b.Run("Incremental0", func(b *testing.B) {
		ensure(b)
		d.mustSync()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.mustSync()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/sync")
	})
	b.Run("Incremental100", func(b *testing.B) {
		ensure(b)
		page, err := d.store.ListCases(d.ctx, app.CaseQuery{ClinicID: d.sess.ClinicID, Limit: 500})
		var open []app.Case
		for _, c := range page.Cases {
			if c.Status != app.StatusClosed && len(open) < 100 {
				// Only cases a reply can reach (R10: a locked or protected
				// resident's case takes no reply).
				if reach, rerr := d.cases.ReplyReach(d.ctx, d.sess, c.ID); rerr == nil && reach.OK() {
					open = append(open, c)
				}
			}
		}
		if err != nil || len(open) < 100 {
			b.Fatalf("want 100 open cases: %d, %v", len(open), err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for j, c := range open {
				if err := d.cases.Reply(d.ctx, d.sess, c.ID, fmt.Sprintf("Svar %d.%d", i, j)); err != nil {
					b.Fatalf("reply: %v", err)
				}
			}
			b.StartTimer()
			d.mustSync()
		}
		b.StopTimer()
		if n, _ := d.store.PendingCount(d.ctx); n != 0 {
			b.Fatalf("%d pending after the sync", n)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/sync")
	})
}

// benchStaff is the username of a demo staff member (the usernames of
// demo.Build are fixed; the ids are not).
func benchStaff(key string) string {
	ds := demo.Build(time.Now())
	for _, s := range ds.Staff {
		if s.ID == ds.StaffBy[key] {
			return s.Username
		}
	}
	panic("no demo staff " + key)
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// sampleHeap samples the heap in use (live and not yet swept objects)
// every 2 ms until the returned function is called, which returns the peak.
func sampleHeap() func() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg stdsync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak }
}

// rawCopy is the baseline: GET /raw over the desktop's own TLS transport
// and every record written into an empty bbolt file, in transactions of
// 10,000 records, no protocol, no decoding of the values.
func rawCopy(b *testing.B, d *desktop, url, path string) time.Duration {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, url+"/raw", nil)
	resp, err := d.c.HTTP().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 256<<10)
	tx, err := db.Begin(true)
	if err != nil {
		b.Fatal(err)
	}
	buckets := make([]*bolt.Bucket, len(storage.RawBuckets))
	open := func() {
		for i, name := range storage.RawBuckets {
			if buckets[i], err = tx.CreateBucketIfNotExists(name); err != nil {
				b.Fatal(err)
			}
		}
	}
	open()
	records := 0
	for {
		which, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		kl, err1 := binary.ReadUvarint(br)
		vl, err2 := binary.ReadUvarint(br)
		if err1 != nil || err2 != nil || int(which) >= len(buckets) {
			b.Fatalf("raw stream: bad record %d", records)
		}
		kv := make([]byte, kl+vl)
		if _, err := io.ReadFull(br, kv); err != nil {
			b.Fatal(err)
		}
		if err := buckets[which].Put(kv[:kl], kv[kl:]); err != nil {
			b.Fatal(err)
		}
		if records++; records%10000 == 0 {
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			if tx, err = db.Begin(true); err != nil {
				b.Fatal(err)
			}
			open()
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
