package pgstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mottagning/app"
	"mottagning/app/demo"
)

// TestFeedPositionsInCommitOrder: writers on two store handles (two
// nodes) create cases at once while a reader follows the feed the way a
// desktop's pull does, moving its cursor to the last position it saw.
// Had a position been taken by a transaction that committed after a
// later position was read, the reader would step over it for good: every
// case must be seen. A LISTEN on each node wakes WaitChange.
func TestFeedPositionsInCommitOrder(t *testing.T) {
	url := shared(t).NewDatabase(t)
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(ctx, url, Options{ServerKey: testServerKey})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.SetChangeFeed(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	ds := demo.Build(time.Now())
	if err := demo.Seed(ctx, a, ds); err != nil {
		t.Fatal(err)
	}
	start := a.ChangeHead()
	var made sync.Map
	var writers sync.WaitGroup
	var done atomic.Bool
	for w := range 8 {
		st := []*Store{a, b}[w%2]
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range 40 {
				now := time.Now()
				th := app.Thread{Case: app.Case{ID: app.NewID(now), ClinicID: ds.Clinics[0].ID, ResidentID: ds.Residents[i%len(ds.Residents)].ID,
					Kind: app.KindInformation, Subject: "Information", Status: app.StatusClosed, CreatedAt: now, LastActivity: now}}
				if err := st.CreateThread(ctx, &th, app.Write{}); err != nil {
					t.Error(err)
					return
				}
				made.Store(th.Case.ID, true)
			}
		}()
	}
	seen := map[app.ID]bool{}
	after := start
	read := func() {
		for {
			ids, next, err := b.ChangedCases(ctx, after, 7)
			if err != nil {
				t.Error(err)
				return
			}
			for _, id := range ids {
				seen[id] = true
			}
			if next == after {
				return
			}
			after = next
		}
	}
	go func() { writers.Wait(); done.Store(true) }()
	for !done.Load() {
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, _ = b.WaitChange(wctx, after)
		cancel()
		read()
	}
	read()
	n := 0
	made.Range(func(k, _ any) bool {
		n++
		if !seen[k.(app.ID)] {
			t.Errorf("case %s was committed but the reader stepped over its position", k)
		}
		return true
	})
	if n != 320 {
		t.Errorf("%d cases made, want 320", n)
	}
	if h := a.ChangeHead(); h < start+320 {
		t.Errorf("node a's head %d: the other node's commits did not reach it (LISTEN/NOTIFY)", h)
	}
}
