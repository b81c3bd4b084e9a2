package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// get decodes bucket[key] into v, or returns app.ErrNotFound.
func (s *Store) get(tx *bolt.Tx, bucket []byte, key string, v any) error {
	data := tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return fmt.Errorf("%s %s: %w", bucket, key, app.ErrNotFound)
	}
	return decode(s.c(bucket), bucket, []byte(key), data, v)
}

func (s *Store) put(tx *bolt.Tx, bucket []byte, key string, v any) error {
	data, err := encode(s.c(bucket), bucket, []byte(key), v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put([]byte(key), data)
}

// update and view run fn in a write or read transaction, under a read
// lock of s.mu: the file, its keys and the codec stay as they are until fn
// returns. fn must not call update or view itself.
func (s *Store) update(op string, fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return writeError(op, guard(s.path, func() error { return s.db.Update(fn) }))
}

// batch is one write transaction that several store calls share (Batch).
type batch struct {
	s  *Store
	tx *bolt.Tx
	// failed: a call in the batch returned an error after it may have
	// written; the whole batch is rolled back.
	failed bool
}

type batchKey struct{}

// ErrBatchFailed: a call inside Batch failed, so the batch was rolled
// back as a whole; the caller repeats its work without Batch.
var ErrBatchFailed = errors.New("a call in the batch failed; nothing of it was written")

// Batch runs fn with a context in which every call of this store uses one
// write transaction, committed (one fsync) when fn returns nil. Any error
// of a call inside rolls everything back: Batch then returns
// ErrBatchFailed (or fn's own error) and nothing of fn was written. fn
// runs on one goroutine and must not start transactions of its own.
func (s *Store) Batch(ctx context.Context, fn func(ctx context.Context) error) error {
	if batchOf(ctx, s) != nil {
		return fn(ctx)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return writeError("batch", guard(s.path, func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			b := &batch{s: s, tx: tx}
			if err := fn(context.WithValue(ctx, batchKey{}, b)); err != nil {
				return err
			}
			if b.failed {
				return ErrBatchFailed
			}
			return nil
		})
	}))
}

// InBatch reports whether ctx runs inside a Batch (of any store).
func InBatch(ctx context.Context) bool { _, ok := ctx.Value(batchKey{}).(*batch); return ok }

func batchOf(ctx context.Context, s *Store) *batch {
	if b, ok := ctx.Value(batchKey{}).(*batch); ok && b.s == s {
		return b
	}
	return nil
}

// updateC is update inside ctx's batch when there is one.
func (s *Store) updateC(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if b := batchOf(ctx, s); b != nil {
		if b.failed {
			return ErrBatchFailed
		}
		if err := fn(b.tx); err != nil {
			var c cleanError
			if errors.As(err, &c) {
				return c.error
			}
			b.failed = true
			return err
		}
		return nil
	}
	return s.update(op, fn)
}

// cleanError is an error a write function returns before it wrote
// anything (a refusal of the caller's fn): a batch goes on after it.
type cleanError struct{ error }

func (c cleanError) Unwrap() error { return c.error }

func clean(err error) error { return cleanError{err} }

// viewC is view inside ctx's batch when there is one (it sees the
// batch's writes).
func (s *Store) viewC(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if b := batchOf(ctx, s); b != nil {
		return fn(b.tx)
	}
	return s.view(fn)
}

func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return guard(s.path, func() error { return s.db.View(fn) })
}

// --- residents ---

// PutResident implements app.ResidentStore.
func (s *Store) PutResident(ctx context.Context, r *app.Resident) error {
	return s.updateC(ctx, "put resident "+string(r.ID), func(tx *bolt.Tx) error { return s.putResident(tx, r) })
}

// PutResidents stores many residents in one transaction (register import, demo).
func (s *Store) PutResidents(ctx context.Context, rs []*app.Resident) error {
	return s.updateC(ctx, "put residents", func(tx *bolt.Tx) error {
		for _, r := range rs {
			if err := s.putResident(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) putResident(tx *bolt.Tx, r *app.Resident) error {
	if r.ID == "" {
		return fmt.Errorf("put resident: empty id: %w", app.ErrInvalid)
	}
	if s.pnrKey == nil {
		return fmt.Errorf("put resident %s: %w", r.ID, ErrLocked)
	}
	idx := tx.Bucket(bResidentPNR)
	var old app.Resident
	if err := s.get(tx, bResidents, string(r.ID), &old); err == nil && !old.PNR.IsZero() && old.PNR != r.PNR {
		if err := idx.Delete(s.pnrIndexKey(old.PNR)); err != nil {
			return err
		}
	}
	if !r.PNR.IsZero() {
		k := s.pnrIndexKey(r.PNR)
		if other := idx.Get(k); other != nil && string(other) != string(r.ID) {
			return fmt.Errorf("put resident %s: personnummer already belongs to resident %s: %w", r.ID, other, app.ErrConflict)
		}
		if err := idx.Put(k, []byte(r.ID)); err != nil {
			return err
		}
	}
	if err := s.put(tx, bResidents, string(r.ID), r); err != nil {
		return err
	}
	return s.feed(tx, feedResident, "", r.ID)
}

// Resident implements app.ResidentStore.
func (s *Store) Resident(ctx context.Context, id app.ID) (*app.Resident, error) {
	var r app.Resident
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bResidents, string(id), &r) }); err != nil {
		return nil, err
	}
	return &r, nil
}

// ResidentByPNR implements app.ResidentStore.
func (s *Store) ResidentByPNR(ctx context.Context, n personnummer.Number) (*app.Resident, error) {
	var r app.Resident
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		if s.pnrKey == nil {
			return fmt.Errorf("resident by personnummer: %w", ErrLocked)
		}
		id := tx.Bucket(bResidentPNR).Get(s.pnrIndexKey(n))
		if id == nil {
			return fmt.Errorf("resident by personnummer: %w", app.ErrNotFound)
		}
		return s.get(tx, bResidents, string(id), &r)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ResidentsByID implements app.ResidentStore.
func (s *Store) ResidentsByID(ctx context.Context, ids []app.ID) (map[app.ID]*app.Resident, error) {
	out := make(map[app.ID]*app.Resident, len(ids))
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		for _, id := range ids {
			if _, ok := out[id]; ok {
				continue
			}
			var r app.Resident
			err := s.get(tx, bResidents, string(id), &r)
			if err != nil {
				if isNotFound(err) {
					continue
				}
				return err
			}
			out[id] = &r
		}
		return nil
	})
	return out, err
}

// UpdateResident implements app.ResidentStore.
func (s *Store) UpdateResident(ctx context.Context, id app.ID, fn func(r *app.Resident) error) error {
	return s.updateC(ctx, "update resident "+string(id), func(tx *bolt.Tx) error {
		var r app.Resident
		if err := s.get(tx, bResidents, string(id), &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		r.ID = id
		return s.putResident(tx, &r)
	})
}

// AllResidents lists every resident (small databases: demo, tests).
func (s *Store) AllResidents(ctx context.Context) ([]app.Resident, error) {
	var out []app.Resident
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bResidents).ForEach(func(k, v []byte) error {
			var r app.Resident
			if err := decode(s.c(bResidents), bResidents, k, v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// ReadableResidents is AllResidents that leaves out the residents whose
// stored value is damaged (ErrCorruptValue) and lists their ids: one
// damaged record must not stop what reads them all at start.
func (s *Store) ReadableResidents(ctx context.Context) (out []app.Resident, damaged []app.ID, err error) {
	err = s.viewC(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bResidents).ForEach(func(k, v []byte) error {
			var r app.Resident
			if err := decode(s.c(bResidents), bResidents, k, v, &r); errors.Is(err, ErrCorruptValue) {
				damaged = append(damaged, app.ID(k))
				return nil
			} else if err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, damaged, err
}

// --- directory: clinics, staff, templates, e-services ---

// PutClinic implements app.DirectoryStore.
func (s *Store) PutClinic(ctx context.Context, c *app.Clinic) error {
	return s.updateC(ctx, "put clinic "+string(c.ID), func(tx *bolt.Tx) error {
		if err := s.put(tx, bClinics, string(c.ID), c); err != nil {
			return err
		}
		return s.feed(tx, feedClinic, c.ID, c.ID)
	})
}

// Clinic implements app.DirectoryStore.
func (s *Store) Clinic(ctx context.Context, id app.ID) (*app.Clinic, error) {
	var c app.Clinic
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bClinics, string(id), &c) }); err != nil {
		return nil, err
	}
	return &c, nil
}

// Clinics implements app.DirectoryStore, sorted by name.
func (s *Store) Clinics(ctx context.Context) ([]app.Clinic, error) {
	out, err := all[app.Clinic](ctx, s, bClinics, nil)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutStaff implements app.DirectoryStore.
func (s *Store) PutStaff(ctx context.Context, st *app.Staff) error {
	return s.updateC(ctx, "put staff "+string(st.ID), func(tx *bolt.Tx) error {
		if err := s.put(tx, bStaff, string(st.ID), st); err != nil {
			return err
		}
		return s.feed(tx, feedStaff, "", st.ID)
	})
}

// Staff implements app.DirectoryStore.
func (s *Store) Staff(ctx context.Context, id app.ID) (*app.Staff, error) {
	var st app.Staff
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bStaff, string(id), &st) }); err != nil {
		return nil, err
	}
	return &st, nil
}

// AllStaff implements app.DirectoryStore, sorted by name.
func (s *Store) AllStaff(ctx context.Context) ([]app.Staff, error) {
	out, err := all[app.Staff](ctx, s, bStaff, nil)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutTemplate implements app.DirectoryStore.
func (s *Store) PutTemplate(ctx context.Context, t *app.MessageTemplate) error {
	return s.updateC(ctx, "put template "+string(t.ID), func(tx *bolt.Tx) error {
		if err := s.put(tx, bTemplates, string(t.ID), t); err != nil {
			return err
		}
		if err := s.feed(tx, feedTemplate, t.ClinicID, t.ID); err != nil {
			return err
		}
		return s.queue(tx, app.SyncOp{Kind: app.OpTemplatePut, Payload: payload(t)})
	})
}

// Template implements app.DirectoryStore.
func (s *Store) Template(ctx context.Context, id app.ID) (*app.MessageTemplate, error) {
	var t app.MessageTemplate
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bTemplates, string(id), &t) }); err != nil {
		return nil, err
	}
	return &t, nil
}

// Templates implements app.DirectoryStore: the clinic's templates by name.
func (s *Store) Templates(ctx context.Context, clinicID app.ID) ([]app.MessageTemplate, error) {
	out, err := all(ctx, s, bTemplates, func(t *app.MessageTemplate) bool { return t.ClinicID == clinicID })
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutEService implements app.DirectoryStore.
func (s *Store) PutEService(ctx context.Context, e *app.EService) error {
	return s.updateC(ctx, "put e-service "+string(e.ID), func(tx *bolt.Tx) error {
		if err := s.put(tx, bEServices, string(e.ID), e); err != nil {
			return err
		}
		if err := s.feed(tx, feedEService, e.ClinicID, e.ID); err != nil {
			return err
		}
		return s.queue(tx, eserviceOp(e)...)
	})
}

// EServices implements app.DirectoryStore: the clinic's local e-services.
func (s *Store) EServices(ctx context.Context, clinicID app.ID) ([]app.EService, error) {
	out, err := all(ctx, s, bEServices, func(e *app.EService) bool { return e.ClinicID == clinicID })
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// all decodes every value of a small bucket, keeping those keep accepts.
func all[T any](ctx context.Context, s *Store, bucket []byte, keep func(*T) bool) ([]T, error) {
	var out []T
	err := s.viewC(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var x T
			if err := decode(s.c(bucket), bucket, k, v, &x); err != nil {
				return err
			}
			if keep == nil || keep(&x) {
				out = append(out, x)
			}
			return nil
		})
	})
	return out, err
}

// PutCredential implements app.CredentialStore.
func (s *Store) PutCredential(ctx context.Context, c *app.Credential) error {
	if c.StaffID == "" {
		return fmt.Errorf("put credential: no staff id: %w", app.ErrInvalid)
	}
	return s.updateC(ctx, "put credential "+string(c.StaffID), func(tx *bolt.Tx) error {
		return s.put(tx, bCredentials, string(c.StaffID), c)
	})
}

// Credential implements app.CredentialStore.
func (s *Store) Credential(ctx context.Context, staffID app.ID) (*app.Credential, error) {
	var c app.Credential
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bCredentials, string(staffID), &c) }); err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateCredential implements app.CredentialStore.
func (s *Store) UpdateCredential(ctx context.Context, staffID app.ID, fn func(c *app.Credential) error) error {
	return s.updateC(ctx, "update credential "+string(staffID), func(tx *bolt.Tx) error {
		var c app.Credential
		if err := s.get(tx, bCredentials, string(staffID), &c); err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		c.StaffID = staffID
		return s.put(tx, bCredentials, string(staffID), &c)
	})
}
