package storage

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/form"
)

// ServerImport receives a server database's content in the order a new
// store needs it (mottagning-server migrate: bbolt to PostgreSQL). Every
// record comes as the application knows it (opened); the importer seals
// it under its own rules. Positions (the change feed, the access-log
// chain) and versions come as they are, so that desktops' cursors and
// the chain's checkpoints stay valid.
type ServerImport interface {
	ImportDirectory(ctx context.Context, cs []app.Clinic, st []app.Staff, ts []app.MessageTemplate, es []app.EService, fs []form.Series) error
	ImportResidents(ctx context.Context, rs []app.Resident) error
	// ImportThread gets a case with its messages, notes, notifications
	// (Thread.Outbox) and attachment bytes (Thread.Blobs).
	ImportThread(ctx context.Context, t *app.Thread) error
	ImportCredentials(ctx context.Context, cs []app.Credential) error
	ImportOpResults(ctx context.Context, rs []app.OpResult) error
	ImportPullLogged(ctx context.Context, holder, caseID app.ID, version uint64) error
	// ImportAccessLog gets the chain: its signing key, its links by
	// position, its checkpoints and its head.
	ImportAccessLog(ctx context.Context, key ed25519.PrivateKey, links []app.ChainLink, cps []app.Checkpoint, headSeq uint64, headHash []byte) error
	// ImportFeed gets the change feed's entries by position (kind as in
	// the feed: 'c' case, 'r' resident, …) and turns the feed on.
	ImportFeed(ctx context.Context, entries []FeedEntry) error
	MarkDemo(ctx context.Context) error
}

// FeedEntry is one change-feed entry.
type FeedEntry struct {
	Seq        uint64
	Kind       byte
	Clinic, ID app.ID
}

// ExportServer hands everything the server's database holds to to, in
// one read transaction (the server is stopped: MVCC keeps it consistent
// all the same). Staged upload chunks are left behind: desktops upload
// them again. It refuses a desktop's database.
func (s *Store) ExportServer(ctx context.Context, to ServerImport) error {
	if s.Role() != RoleServer {
		return fmt.Errorf("export: not a server's database (role %v): %w", s.Role(), app.ErrInvalid)
	}
	return s.view(func(tx *bolt.Tx) error {
		var cs []app.Clinic
		var st []app.Staff
		var ts []app.MessageTemplate
		var es []app.EService
		var fs []form.Series
		if err := eachValue(s, tx, bClinics, func(_ []byte, c *app.Clinic) error { cs = append(cs, *c); return nil }); err != nil {
			return err
		}
		if err := eachValue(s, tx, bStaff, func(_ []byte, x *app.Staff) error { st = append(st, *x); return nil }); err != nil {
			return err
		}
		if err := eachValue(s, tx, bTemplates, func(_ []byte, x *app.MessageTemplate) error { ts = append(ts, *x); return nil }); err != nil {
			return err
		}
		if err := eachValue(s, tx, bEServices, func(_ []byte, x *app.EService) error { es = append(es, *x); return nil }); err != nil {
			return err
		}
		if err := eachValue(s, tx, bForms, func(_ []byte, x *form.Series) error { fs = append(fs, *x); return nil }); err != nil {
			return err
		}
		if err := to.ImportDirectory(ctx, cs, st, ts, es, fs); err != nil {
			return err
		}
		var rs []app.Resident
		flush := func() error {
			if len(rs) == 0 {
				return nil
			}
			err := to.ImportResidents(ctx, rs)
			rs = rs[:0]
			return err
		}
		err := eachValue(s, tx, bResidents, func(_ []byte, r *app.Resident) error {
			rs = append(rs, *r)
			if len(rs) == 5000 {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return err
		}
		if err := s.exportThreads(ctx, tx, to); err != nil {
			return err
		}
		var creds []app.Credential
		if err := eachValue(s, tx, bCredentials, func(_ []byte, c *app.Credential) error { creds = append(creds, *c); return nil }); err != nil {
			return err
		}
		if err := to.ImportCredentials(ctx, creds); err != nil {
			return err
		}
		var ops []app.OpResult
		if err := eachValue(s, tx, bAppliedOps, func(_ []byte, r *app.OpResult) error { ops = append(ops, *r); return nil }); err != nil {
			return err
		}
		if err := to.ImportOpResults(ctx, ops); err != nil {
			return err
		}
		if b := tx.Bucket(bPullLogged); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				i := bytes.IndexByte(k, 0)
				if i < 0 || len(v) != 8 {
					return fmt.Errorf("pull_logged: %w", ErrCorruptValue)
				}
				return to.ImportPullLogged(ctx, app.ID(k[:i]), app.ID(k[i+1:]), binary.BigEndian.Uint64(v))
			})
			if err != nil {
				return err
			}
		}
		if err := s.exportAccessLog(ctx, tx, to); err != nil {
			return err
		}
		var feed []FeedEntry
		err = tx.Bucket(bChanges).ForEach(func(k, v []byte) error {
			kind, clinic, id, ok := feedEntry(v)
			if !ok || len(k) != 8 {
				return fmt.Errorf("change feed: %w", ErrCorruptValue)
			}
			feed = append(feed, FeedEntry{Seq: binary.BigEndian.Uint64(k), Kind: kind, Clinic: clinic, ID: id})
			return nil
		})
		if err != nil {
			return err
		}
		if err := to.ImportFeed(ctx, feed); err != nil {
			return err
		}
		if s.IsDemo() {
			return to.MarkDemo(ctx)
		}
		return nil
	})
}

// eachValue decodes every value of a bucket (missing: none).
func eachValue[T any](s *Store, tx *bolt.Tx, bucket []byte, fn func(k []byte, v *T) error) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		var x T
		if err := decode(s.c(bucket), bucket, k, v, &x); err != nil {
			return err
		}
		return fn(k, &x)
	})
}

func (s *Store) exportThreads(ctx context.Context, tx *bolt.Tx, to ServerImport) error {
	c := tx.Bucket(bCaseItems).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if !isHeaderKey(k) {
			continue
		}
		id := app.ID(k[:len(k)-1])
		t, err := s.readThread(tx, id)
		if err != nil {
			return err
		}
		// The notifications and the attachments' bytes of the case.
		prefix := join(string(id), "")
		oc := tx.Bucket(bIdxOutboxCase).Cursor()
		for nk, _ := oc.Seek(prefix); nk != nil && bytes.HasPrefix(nk, prefix); nk, _ = oc.Next() {
			var n app.Notification
			if err := s.get(tx, bOutbox, string(nk[len(prefix):]), &n); err != nil {
				return err
			}
			t.Outbox = append(t.Outbox, n)
		}
		for _, m := range t.Messages {
			for _, a := range m.Attachments {
				ak := attKey(id, a.ID)
				v := tx.Bucket(bAttachments).Get(ak)
				if v == nil {
					continue // not uploaded yet: the desktop sends it again
				}
				data, err := decodeRaw(s.c(bAttachments), bAttachments, ak, v)
				if err != nil {
					return err
				}
				if t.Blobs == nil {
					t.Blobs = map[app.ID][]byte{}
				}
				t.Blobs[a.ID] = data
			}
		}
		if err := to.ImportThread(ctx, t); err != nil {
			return fmt.Errorf("case %s: %w", id, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) exportAccessLog(ctx context.Context, tx *bolt.Tx, to ServerImport) error {
	if len(s.signKey) != ed25519.PrivateKeySize {
		return fmt.Errorf("export access log: %w", ErrLocked)
	}
	var links []app.ChainLink
	err := tx.Bucket(bAccessChain).ForEach(func(k, v []byte) error {
		var l app.ChainLink
		if err := decode(s.c(bAccessChain), bAccessChain, k, v, &l); err != nil {
			return err
		}
		links = append(links, l)
		return nil
	})
	if err != nil {
		return err
	}
	var cps []app.Checkpoint
	err = tx.Bucket(bCheckpoints).ForEach(func(k, v []byte) error {
		var cp app.Checkpoint
		if err := decode(s.c(bCheckpoints), bCheckpoints, k, v, &cp); err != nil {
			return err
		}
		cps = append(cps, cp)
		return nil
	})
	if err != nil {
		return err
	}
	head, err := readHead(tx)
	if err != nil {
		return err
	}
	return to.ImportAccessLog(ctx, s.signKey, links, cps, head.Seq, head.Hash)
}
