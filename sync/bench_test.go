package sync_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// BenchmarkColdSync: a new desktop pulls the cases of its clinic from a
// server holding SYNC_BENCH_CASES generated cases (default 100,000) over
// loopback TLS. Reports cases/s and the desktop's heap after the sync.
// The raw-bbolt baseline of issue 6 is not written yet.
func BenchmarkColdSync(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("SYNC_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	ce := startCentral(b, centralOpt{})
	ctx := context.Background()
	err := demo.GenerateThreads(ctx, ce.ds, time.Now(), n, 1000, 1, func(ts []app.Thread) error { return ce.store.ImportThreads(ctx, ts) })
	if err != nil {
		b.Fatal(err)
	}
	centrum := ce.ds.Clinics[0].ID
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := newDesktop(b, ce, "")
		d.signIn(ce.staff(demo.StaffReceiver), centrum)
		start := time.Now()
		d.mustSync()
		el := time.Since(start)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(n)/el.Seconds(), "cases/s")
		b.ReportMetric(el.Seconds(), "s/sync")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heapMB")
	}
}
