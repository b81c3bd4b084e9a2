package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/demo"
)

// crashDirEnv tells the test binary, started again by TestCrashKillWrites,
// to run as the writer that gets killed.
const crashDirEnv = "CRASH_CHILD_DIR"

// TestCrashKillWrites kills a writing process with SIGKILL at random
// moments, again and again on the same database, and checks after every
// kill that every write the store acknowledged is there, that no write was
// left half done, and that the file and its indexes are consistent. The
// child also records access-log entries (a checkpoint every 7): every
// acknowledged entry must be there and the chain must verify.
// CRASH_KILLS sets the number of kills (default 5; `make crash` runs 1000,
// 2–3 minutes on 2 cores, more under -race); CRASH_SEED repeats a run.
//
// SIGKILL stops the process, not the machine: the page cache survives, so
// this proves that bbolt's commit order and our one-transaction writes
// leave no half-written case, not that fsync reaches the platter.
func TestCrashKillWrites(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("kills with SIGKILL; Windows has no signals")
	}
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("running as the crash child")
	}
	kills := 5
	if v := os.Getenv("CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CRASH_KILLS=%q: want a positive number", v)
		}
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CRASH_SEED=%q: %v", v, err)
		}
	}
	t.Logf("CRASH_SEED=%d CRASH_KILLS=%d", seed, kills)
	rnd := rand.New(rand.NewPCG(seed, 1))

	ctx := context.Background()
	var (
		dir      string
		cases    map[app.ID]int    // acknowledged case → acknowledged message count
		logged   map[app.ID]app.ID // acknowledged access entry → its clinic
		checked  app.ID            // cases up to this id have been checked whole
		total    int
		updates  int
		entries  int
		finalize = func(kill int) {
			t.Helper()
			s := openTestAt(t, dir, Options{Timeout: 5 * time.Second})
			for id, n := range cases {
				wantAcked(t, s, id, n, kill)
			}
			wantLogged(t, s, logged, kill)
			checkClose(t, s)
			total += len(cases)
			entries += len(logged)
		}
	)
	for i := range kills {
		// A new database every killsPerDB kills: the checks after each
		// kill read the whole file, and a long run must not slow down
		// as it grows.
		if i%killsPerDB == 0 {
			if dir != "" {
				finalize(i)
			}
			dir, cases, logged, checked = t.TempDir(), map[app.ID]int{}, map[app.ID]app.ID{}, ""
		}
		got := runAndKill(t, dir, rnd, i%killsPerDB > 0)
		for _, a := range got {
			if a.clinic != "" {
				logged[a.id] = a.clinic
				continue
			}
			cases[a.id] = max(cases[a.id], a.messages)
			if a.update {
				updates++
			}
		}
		s, err := Open(ctx, dir, Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("kill %d: open after the kill: %v", i+1, err)
		}
		for _, a := range got {
			if a.clinic == "" {
				wantAcked(t, s, a.id, cases[a.id], i+1)
			}
		}
		wantLogged(t, s, logged, i+1)
		checked = wantWholeCases(t, s, checked, i+1)
		if err := s.Check(); err != nil {
			t.Fatalf("kill %d: Check: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	finalize(kills)
	if total == 0 || (kills >= 5 && (updates == 0 || entries == 0)) {
		t.Errorf("%d kills acknowledged %d cases, %d updates and %d access entries: the child did not get to write", kills, total, updates, entries)
	}
	t.Logf("%d kills; %d cases, %d updates and %d access entries acknowledged, all present", kills, total, updates, entries)
}

// killsPerDB is how many kills one database takes before the test starts
// on a new one.
const killsPerDB = 100

// ack is one write the child reported as acknowledged: a case (messages
// is its count) or an access entry (clinic is set).
type ack struct {
	id       app.ID
	messages int
	update   bool
	clinic   app.ID
}

// runAndKill starts the child on dir, kills it with SIGKILL at a random
// moment and returns the writes it acknowledged. early allows killing it
// before it is ready (while it opens the database).
func runAndKill(t *testing.T, dir string, rnd *rand.Rand, early bool) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	var acks []ack
	read := func(line string) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "case":
			acks = append(acks, ack{id: app.ID(f[1]), messages: 1})
		case len(f) == 3 && f[0] == "log":
			acks = append(acks, ack{id: app.ID(f[2]), clinic: app.ID(f[1])})
		case len(f) == 3 && f[0] == "msg":
			n, _ := strconv.Atoi(f[2])
			acks = append(acks, ack{id: app.ID(f[1]), messages: n, update: true})
		}
	}
	// When to kill: at a random moment during the writes, after a random
	// number of acknowledged writes, or (early) while the child opens.
	var deadline <-chan time.Time
	killAfter := -1
	mode := rnd.IntN(3)
	if !early && mode == 2 {
		mode = 0
	}
	switch mode {
	case 0:
		// started when the child is ready
	case 1:
		killAfter = 1 + rnd.IntN(100)
	case 2:
		deadline = time.After(time.Duration(rnd.IntN(30)) * time.Millisecond)
	}
	giveUp := time.After(60 * time.Second)
loop:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break loop // the child ended by itself: reported below
			}
			if line == "ready" && mode == 0 {
				deadline = time.After(time.Duration(20+rnd.IntN(181)) * time.Millisecond)
			}
			read(line)
			if killAfter >= 0 && len(acks) >= killAfter {
				break loop
			}
		case <-deadline:
			break loop
		case <-giveUp:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("crash child: no progress in 60 s; stderr:\n%s", stderr.String())
		}
	}
	killErr := cmd.Process.Kill()
	for line := range lines { // acknowledgements written before the kill
		read(line)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if killErr != nil || !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("crash child ended by itself (%v); stderr:\n%s", err, stderr.String())
	}
	return acks
}

// wantWholeCases checks every case with an id above from, acknowledged
// or not (a write in flight at the kill either landed whole or not at
// all): it has its first message, and its last activity is its last
// message's, as every writer here (demo, child) keeps it. The child writes
// only cases newer than the previous check, so the check is incremental.
// It returns the highest id checked.
func wantWholeCases(t *testing.T, s *Store, from app.ID, kill int) app.ID {
	t.Helper()
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bCaseItems).Cursor()
		for k, _ := c.Seek(headerKey(from)); k != nil; k, _ = c.Next() {
			if !isHeaderKey(k) {
				continue
			}
			id := app.ID(k[:len(k)-1])
			if id == from {
				continue
			}
			th, err := s.readThread(tx, id)
			if err != nil {
				return err
			}
			if len(th.Messages) == 0 {
				t.Errorf("after kill %d: case %s has no message", kill, id)
			} else if last := th.Messages[len(th.Messages)-1].At; !th.Case.LastActivity.Equal(last) {
				t.Errorf("after kill %d: case %s: last activity %v, last message %v: header and messages from different writes", kill, id, th.Case.LastActivity, last)
			}
			from = id
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after kill %d: %v", kill, err)
	}
	return from
}

// wantLogged checks that every acknowledged access entry is listed and
// that the chain verifies.
func wantLogged(t *testing.T, s *Store, logged map[app.ID]app.ID, kill int) {
	t.Helper()
	ctx := context.Background()
	byClinic := map[app.ID]map[app.ID]bool{}
	for id, clinic := range logged {
		if byClinic[clinic] == nil {
			byClinic[clinic] = map[app.ID]bool{}
			es, err := s.Entries(ctx, clinic, time.Time{}, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatalf("after kill %d: entries of %s: %v", kill, clinic, err)
			}
			for _, e := range es {
				byClinic[clinic][e.ID] = true
			}
		}
		if !byClinic[clinic][id] {
			t.Errorf("after kill %d: acknowledged access entry %s is gone", kill, id)
		}
	}
	rep, err := s.VerifyAccessLog(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("after kill %d: access log: %+v %v", kill, rep.Break, err)
	}
}

func wantAcked(t *testing.T, s *Store, id app.ID, messages, kill int) {
	t.Helper()
	th, err := s.Thread(context.Background(), id)
	if err != nil {
		t.Errorf("after kill %d: acknowledged case %s: %v", kill, id, err)
		return
	}
	if len(th.Messages) < messages {
		t.Errorf("after kill %d: case %s has %d messages, %d were acknowledged", kill, id, len(th.Messages), messages)
	}
}

// TestCrashChild is the writer TestCrashKillWrites kills; it does nothing
// in a normal test run. It opens the database (seeding the demo data on
// first use) and writes until it is killed, printing each write to stdout
// only after the store acknowledged it: "case <id>" for a new case with one
// message, "msg <id> <n>" for a reply that brought the case to n messages.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process of TestCrashKillWrites")
	}
	ctx := context.Background()
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "crash child: "+format+"\n", args...)
		os.Exit(3)
	}
	s, err := Open(ctx, dir, Options{Timeout: 10 * time.Second, CheckpointEvery: 7})
	if err != nil {
		fail("open: %v", err)
	}
	if s.IsEmpty() {
		if err := demo.Seed(ctx, s, demo.Build(time.Now())); err != nil {
			fail("seed: %v", err)
		}
	}
	clinics, err := s.Clinics(ctx)
	if err != nil {
		fail("clinics: %v", err)
	}
	residents, err := s.AllResidents(ctx)
	if err != nil {
		fail("residents: %v", err)
	}
	staff, err := s.AllStaff(ctx)
	if err != nil {
		fail("staff: %v", err)
	}
	if len(clinics) == 0 || len(residents) == 0 || len(staff) == 0 {
		fail("no demo data: %d clinics, %d residents, %d staff", len(clinics), len(residents), len(staff))
	}
	// os.Stdout is unbuffered: each line is one write(2), in the pipe
	// before the next write begins.
	fmt.Println("ready")

	rnd := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	pick := func() (app.ID, app.ID, app.ID, app.Status) {
		st := app.AllStatuses[rnd.IntN(len(app.AllStatuses))]
		assignee := staff[rnd.IntN(len(staff))].ID
		if st == app.StatusNew {
			assignee = ""
		}
		return clinics[rnd.IntN(len(clinics))].ID, residents[rnd.IntN(len(residents))].ID, assignee, st
	}
	var mine []app.ID
	for i := 0; i < 1_000_000; i++ {
		now := time.Now()
		switch r := rnd.IntN(13); {
		case r >= 10:
			// An access-log entry, as opening a case records it.
			clinic, resident, _, _ := pick()
			e := app.AccessEntry{ID: app.NewID(now), At: now, StaffID: staff[0].ID, ClinicID: clinic, ResidentID: resident, Action: app.AccessOpenCase}
			if err := s.Record(ctx, e); err != nil {
				fail("record: %v", err)
			}
			fmt.Printf("log %s %s\n", clinic, e.ID)
		case r < 3 && len(mine) > 0:
			// A reply that also moves the case in every index.
			id := mine[rnd.IntN(len(mine))]
			n := 0
			err := s.UpdateThread(ctx, id, app.Write{}, func(u *app.Thread) error {
				_, _, assignee, st := pick()
				u.Messages = append(u.Messages, app.Message{ID: app.NewID(now), Author: app.AuthorStaff, AuthorID: staff[0].ID, At: now, Text: "Svar " + strconv.Itoa(i)})
				u.Case.Status, u.Case.AssigneeID, u.Case.LastActivity = st, assignee, now
				n = len(u.Messages)
				return nil
			})
			if err != nil {
				fail("update %s: %v", id, err)
			}
			fmt.Printf("msg %s %d\n", id, n)
		case r < 4:
			// Many cases in one transaction.
			batch := make([]app.Thread, 1+rnd.IntN(50))
			for j := range batch {
				clinic, resident, assignee, st := pick()
				batch[j] = newThread(clinic, resident, assignee, st, now, "Importerat ärende")
			}
			if err := s.ImportThreads(ctx, batch); err != nil {
				fail("import: %v", err)
			}
			for _, th := range batch {
				mine = append(mine, th.Case.ID)
				fmt.Printf("case %s\n", th.Case.ID)
			}
		default:
			clinic, resident, assignee, st := pick()
			th := newThread(clinic, resident, assignee, st, now, "Hej, jag har en fråga om min behandling.")
			if err := s.CreateThread(ctx, &th, app.Write{}); err != nil {
				fail("create: %v", err)
			}
			mine = append(mine, th.Case.ID)
			fmt.Printf("case %s\n", th.Case.ID)
		}
	}
	fail("not killed after a million writes")
}
