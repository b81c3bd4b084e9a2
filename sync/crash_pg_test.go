package sync_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"mottagning/app/demo"
	"mottagning/internal/pgtest"
)

// TestCrashSyncKillsTwoNodes is TestCrashSyncKills on PostgreSQL with two
// server nodes on one database: two desktops (each restart goes to a
// node picked at random, so a desktop pushes through one node and pulls
// through the other) work and sync while one node, the other, a desktop,
// the database itself (SIGKILL to postgres: no shutdown checkpoint) or
// everything is killed at random moments and restarted. At the end, after
// a full sync: every change a desktop acknowledged is on the server
// exactly once or rejected with the reason kept, nothing is there twice,
// nothing is pending, and both replicas equal the server's records.
// CRASH_KILLS and CRASH_SEED as in TestCrashSyncKills.
func TestCrashSyncKillsTwoNodes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("kills with SIGKILL")
	}
	if os.Getenv(childRoleEnv) != "" {
		t.Skip("running as a child")
	}
	if onPostgres() {
		t.Skip("starts its own cluster: runs in the main pass of make test")
	}
	kills, seed := crashParams(t, 8, 4)
	rnd := rand.New(rand.NewPCG(seed, 16))

	pg := pgtest.Start(t)
	dbURL := pg.NewDatabase(t)
	root := t.TempDir()
	cert := filepath.Join(root, "cert.pem")
	nodeDirs := []string{filepath.Join(root, "node-a"), filepath.Join(root, "node-b")}
	nodes := make([]*proc, 2)
	addrs := make([]string, 2)
	var pin string
	startNode := func(i int) {
		addr := addrs[i]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		p, url, pn := startServerChild(t, nodeDirs[i], addr, 0, childDBEnv+"="+dbURL, childCertEnv+"="+cert)
		nodes[i], addrs[i], pin = p, strings.TrimPrefix(url, "https://"), pn
	}
	startNode(0) // seeds the database
	startNode(1)
	users := []string{demo.StaffReceiver, demo.StaffHandler}
	dirs := []string{filepath.Join(root, "a"), filepath.Join(root, "b")}
	desks := make([]*proc, len(users))
	acks := map[string]crashAck{}
	read := ackReader(acks)
	startDesk := func(i int, mode string) *proc {
		node := rnd.IntN(2)
		return startChild(t, childRoleEnv+"=desktop", childDirEnv+"="+dirs[i], childURLEnv+"=https://"+addrs[node], childPinEnv+"="+pin,
			childUserEnv+"="+users[i], childModeEnv+"="+mode, childSeedEnv+"="+strconv.FormatUint(rnd.Uint64(), 10))
	}
	defer func() {
		for _, d := range desks {
			if d != nil {
				d.kill()
			}
		}
		for _, n := range nodes {
			if n != nil {
				n.kill()
			}
		}
	}()
	dbDown := false
	killed := map[string]int{}
	for k := 0; k < kills; k++ {
		if dbDown {
			pg.Restart(t)
			dbDown = false
		}
		for i := range nodes {
			if nodes[i] == nil {
				startNode(i)
			}
		}
		for i := range desks {
			if desks[i] == nil {
				desks[i] = startDesk(i, "work")
			}
		}
		deadline := time.After(time.Duration(200+rnd.IntN(600)) * time.Millisecond)
	wait:
		for {
			select {
			case <-deadline:
				break wait
			case l, ok := <-desks[0].lines:
				alive(t, 0, desks[0], ok)
				read(0, []string{l})
			case l, ok := <-desks[1].lines:
				alive(t, 1, desks[1], ok)
				read(1, []string{l})
			}
		}
		switch target := rnd.IntN(6); target {
		case 0, 1:
			nodes[target].kill()
			nodes[target] = nil
			killed["node"]++
		case 2:
			// The database: the nodes stay up and must ride it out (their
			// requests fail meanwhile; the desktops keep their changes).
			pg.Kill()
			dbDown = true
			killed["database"]++
			// Let the desktops hit the dead database for a moment.
			time.Sleep(time.Duration(rnd.IntN(400)) * time.Millisecond)
		case 3, 4:
			i := rnd.IntN(len(desks))
			read(i, desks[i].kill())
			desks[i] = nil
			killed["desktop"]++
		default:
			pg.Kill()
			dbDown = true
			for i := range nodes {
				nodes[i].kill()
				nodes[i] = nil
			}
			for i := range desks {
				read(i, desks[i].kill())
				desks[i] = nil
			}
			killed["all"]++
		}
	}
	for i := range desks {
		if desks[i] != nil {
			read(i, desks[i].kill())
			desks[i] = nil
		}
	}
	if dbDown {
		pg.Restart(t)
	}
	for i := range nodes {
		if nodes[i] == nil {
			startNode(i)
		}
	}
	// Full sync, each desktop twice, through random nodes.
	finalSyncs(t, len(desks), startDesk)
	for i := range nodes {
		nodes[i].stop(t, 30*time.Second)
		nodes[i] = nil
	}
	checkCrashRun(t, openCheckStore(t, "", dbURL), dirs, users, acks)
	t.Logf("%d kills %v; %d changes acknowledged by the desktops", kills, killed, len(acks))
}
