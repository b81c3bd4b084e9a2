package sync_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
)

// TestConvergence_DropsReordersPartitions: three desktops of one clinic
// work on the same cases while requests and answers are lost at random,
// desktops are cut off and come back, and a resident replies in between.
// At the end every case a desktop holds equals the server's, and the
// server holds every message and note any desktop wrote. SYNC_SEEDS sets
// the number of seeds (default 3; `make crash` runs 200).
func TestConvergence_DropsReordersPartitions(t *testing.T) {
	seeds := 3
	if s, err := strconv.Atoi(os.Getenv("SYNC_SEEDS")); err == nil && s > 0 {
		seeds = s
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { convergence(t, uint64(seed)) })
	}
}

func convergence(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 6))
	ce := startCentral(t, centralOpt{})
	ctx := ce.ctx
	centrum := ce.ds.Clinics[0].ID
	anna, bjorn := ce.staff(demo.StaffReceiver), ce.staff(demo.StaffHandler)
	var ds []*desktop
	for i := 0; i < 3; i++ {
		d := newDesktop(t, ce, "")
		d.signIn(anna, centrum)
		d.mustSync()
		d.f.rnd = rnd.Float64
		d.f.dropReq, d.f.dropResp = 0.15, 0.15
		ds = append(ds, d)
	}
	var open []app.ID
	for _, th := range ce.ds.Threads {
		if th.Case.ClinicID == centrum {
			open = append(open, th.Case.ID)
		}
	}
	written := map[app.ID]bool{} // message and note ids written on desktops
	resTok := map[app.ID]string{}
	for step := 0; step < 60; step++ {
		d := ds[rnd.IntN(len(ds))]
		id := open[rnd.IntN(len(open))]
		switch rnd.IntN(8) {
		case 0:
			d.f.down.Store(!d.f.down.Load()) // partition or heal
		case 1:
			if err := d.cases.Reply(ctx, d.sess, id, fmt.Sprintf("Svar %d", step)); err == nil {
				th, _ := d.store.Thread(ctx, id)
				written[th.Messages[len(th.Messages)-1].ID] = true
			}
		case 2:
			if err := d.cases.AddNote(ctx, d.sess, id, fmt.Sprintf("Anteckning %d", step)); err == nil {
				th, _ := d.store.Thread(ctx, id)
				written[th.Notes[len(th.Notes)-1].ID] = true
			}
		case 3:
			_ = d.cases.Close(ctx, d.sess, id)
		case 4:
			_ = d.cases.Reopen(ctx, d.sess, id)
		case 5:
			to := anna.ID
			if rnd.IntN(2) == 0 {
				to = bjorn.ID
			}
			_ = d.cases.Assign(ctx, d.sess, id, to)
		case 6:
			// The resident of the case replies, when the case allows it.
			c, err := ce.store.Case(ctx, id)
			if err != nil || !c.Answerable() || c.Status == app.StatusClosed {
				continue
			}
			r, err := ce.store.Resident(ctx, c.ResidentID)
			if err != nil || r.PNR.IsZero() || r.Account.LoginLocked || app.IsChild(r, ce.ds.Now) {
				continue
			}
			tok, ok := resTok[r.ID]
			if !ok {
				s, err := ce.c.ResidentSignIn(ctx, r.PNR.String(), 0)
				if err != nil {
					continue
				}
				tok, resTok[r.ID] = s.Token, s.Token
			}
			_, _ = ce.c.ResidentReply(ctx, tok, string(id), fmt.Sprintf("Invånarsvar %d", step))
		default:
			_ = d.sync()
		}
	}
	// Heal everything and sync until quiet.
	for _, d := range ds {
		d.f.down.Store(false)
		d.f.dropReq, d.f.dropResp = 0, 0
	}
	for round := 0; round < 3; round++ {
		for _, d := range ds {
			d.mustSync()
		}
	}
	srv, err := ce.store.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id := range written {
		if !holds(srv, id) {
			t.Errorf("seed %d: the server lacks item %s a desktop wrote", seed, id)
		}
	}
	for i, d := range ds {
		if n, _ := d.store.PendingCount(ctx); n != 0 {
			t.Errorf("seed %d: desktop %d has %d pending ops", seed, i, n)
		}
		if st := d.eng.Status(); len(st.Rejected) != 0 {
			t.Errorf("seed %d: desktop %d has rejections: %+v", seed, i, st.Rejected[0].Result)
		}
		snap, err := d.store.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for cid, th := range snap.Threads {
			want, ok := srv.Threads[cid]
			if !ok {
				t.Errorf("seed %d: desktop %d holds case %s the server does not", seed, i, cid)
				continue
			}
			if g, w := js(th), js(want); g != w {
				t.Errorf("seed %d: desktop %d case %s differs:\n got %s\nwant %s", seed, i, cid, g, w)
			}
		}
		for cid, th := range srv.Threads {
			if _, ok := snap.Threads[cid]; !ok && th.Case.ClinicID == centrum {
				t.Errorf("seed %d: desktop %d lacks case %s", seed, i, cid)
			}
		}
	}
}

func holds(s *storage.SyncSnapshot, id app.ID) bool {
	for _, th := range s.Threads {
		for _, m := range th.Messages {
			if m.ID == id {
				return true
			}
		}
		for _, n := range th.Notes {
			if n.ID == id {
				return true
			}
		}
	}
	return false
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }
