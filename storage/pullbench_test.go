package storage

import (
	"context"
	"testing"
	"time"

	"mottagning/app"
)

// BenchmarkRecordPulled is the server's access-log write of a cold sync of
// 100,000 cases by an ärendemottagare: 50 pages of 2,000 cases, each page
// one transaction (sync/bench_test.go pays it inside BenchmarkSync/Cold).
//
//	CGO_ENABLED=0 go test -run '^$' -bench RecordPulled -benchtime 1x -count 3 ./storage/
func BenchmarkRecordPulled(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	const pages, per = 50, 2000
	st := &app.Staff{ID: app.NewID(now), Roles: map[app.ID][]app.Role{"k1": {app.RoleCaseReceiver}}}
	scope := app.NewPullScope(st, app.NewID(now))
	threads := make([][]app.PulledThread, pages)
	for p := range threads {
		threads[p] = make([]app.PulledThread, per)
		for i := range threads[p] {
			c := &threads[p][i].Case
			c.ID, c.ClinicID, c.ResidentID, c.Version = app.NewID(now), "k1", app.NewID(now), 3
		}
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(ctx, b.TempDir(), Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for p := range threads {
			n, err := s.RecordPulled(ctx, scope.Holder(), scope.PullAccesses(now, threads[p]))
			if err != nil || n != per {
				b.Fatalf("page %d: %d, %v", p, n, err)
			}
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100k")
}
