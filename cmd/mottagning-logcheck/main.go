// Command mottagning-logcheck verifies the access log of a Mottagning
// database (a desktop's or the central server's): it walks the hash chain
// from the oldest kept signed checkpoint to the newest entry and prints OK,
// or the first broken link — which entry, and whether it was edited,
// removed, reordered or a checkpoint's signature is false.
//
//	mottagning-logcheck --data DIR [--user USERNAME]
//
//	--data DIR       the data directory holding mottagning.db
//	--user USERNAME  for an encrypted (desktop) database: a staff member
//	                 who has signed in on that device; the password is read
//	                 from MOTTAGNING_PASSWORD or else the first line of
//	                 standard input
//
// Exit status: 0 the chain is whole, 1 a link is broken, 2 the log could
// not be verified (no database, in use, locked, wrong password).
//
// The database must not be open in another program (the file is locked).
// An older database is upgraded first, as the desktop would at its next
// start (a copy is kept beside it).
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mottagning/storage"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mottagning-logcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory holding "+storage.FileName)
	user := fs.String("user", "", "username of a staff member who can unlock an encrypted database")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *data == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: mottagning-logcheck --data DIR [--user USERNAME]")
		return 2
	}
	// Open would create an empty database where none is: check first.
	if _, err := os.Stat(filepath.Join(*data, storage.FileName)); err != nil {
		fmt.Fprintf(stderr, "no database in %s: %v\n", *data, err)
		return 2
	}
	ctx := context.Background()
	store, err := storage.Open(ctx, *data, storage.Options{Timeout: time.Second})
	if err != nil {
		fmt.Fprintf(stderr, "open: %v\n", err)
		return 2
	}
	defer store.Close()
	if store.Encrypted() {
		if err := unlock(ctx, store, *user, stdin); err != nil {
			fmt.Fprintf(stderr, "the database is encrypted: %v\n", err)
			return 2
		}
	}
	rep, err := store.VerifyAccessLog(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "verify: %v\n", err)
		return 2
	}
	key := base64.StdEncoding.EncodeToString(store.AccessLogPublicKey())
	if !rep.OK() {
		fmt.Fprintf(stdout, "BROKEN %s\n", rep.Break)
		fmt.Fprintf(stdout, "  %d entries verified before it; checkpoint key %s\n", rep.Entries, key)
		return 1
	}
	from := "the first entry"
	if rep.Anchor > 0 {
		from = fmt.Sprintf("the checkpoint at %d (older entries removed after the retention time)", rep.Anchor)
	}
	fmt.Fprintf(stdout, "OK %d entries (%d–%d), %d checkpoints, verified from %s; checkpoint key %s\n",
		rep.Entries, rep.First, rep.Last, rep.Checkpoints, from, key)
	return 0
}

// unlock opens an encrypted database with a staff member's password. It
// only opens the key that member already has; it never adds one.
func unlock(ctx context.Context, store *storage.Store, user string, stdin io.Reader) error {
	if user == "" {
		return errors.New("give --user USERNAME of a staff member who has signed in on this device")
	}
	password, ok := os.LookupEnv("MOTTAGNING_PASSWORD")
	if !ok {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || line == "") {
			return fmt.Errorf("read the password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	staff, err := store.AllStaff(ctx)
	if err != nil {
		return err
	}
	for _, st := range staff {
		if strings.EqualFold(st.Username, user) {
			return store.Unlock(ctx, st.ID, password)
		}
	}
	return fmt.Errorf("no staff member %q: %w", user, storage.ErrLocked)
}
