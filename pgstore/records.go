package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/app/personnummer"
	"mottagning/storage"
)

// --- residents ---

// PutResident implements app.ResidentStore.
func (s *Store) PutResident(ctx context.Context, r *app.Resident) error {
	return s.write(ctx, "put resident "+string(r.ID), func(tx *wtx) error { return s.putResident(ctx, tx, r) })
}

// PutResidents stores many residents in one transaction (register
// import, demo), a thousand to a round trip: a personnummer another
// resident has fails it with app.ErrConflict (the unique index).
func (s *Store) PutResidents(ctx context.Context, rs []*app.Resident) error {
	err := s.write(ctx, "put residents", func(tx *wtx) error {
		for start := 0; start < len(rs); start += 1000 {
			b := &pgx.Batch{}
			for _, r := range rs[start:min(start+1000, len(rs))] {
				if err := s.queueResident(tx, b, r); err != nil {
					return err
				}
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("put residents: a personnummer belongs to another resident: %w", app.ErrConflict)
	}
	return err
}

// queueResident queues the writes of one resident (row, guardian index,
// feed) on b.
func (s *Store) queueResident(tx *wtx, b *pgx.Batch, r *app.Resident) error {
	if r.ID == "" {
		return fmt.Errorf("put resident: empty id: %w", app.ErrInvalid)
	}
	var hash []byte
	if !r.PNR.IsZero() {
		hash = s.pnrHash(r.PNR)
	}
	data, err := s.seal.Seal("residents", string(r.ID), r)
	if err != nil {
		return err
	}
	b.Queue(`INSERT INTO residents (id, pnr_hash, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET pnr_hash = EXCLUDED.pnr_hash, data = EXCLUDED.data`, string(r.ID), hash, data)
	b.Queue("DELETE FROM guardianships WHERE child_id = $1", string(r.ID))
	for _, g := range r.Guardians {
		b.Queue("INSERT INTO guardianships (guardian_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", string(g.GuardianID), string(r.ID))
	}
	s.feedAdd(tx, feedResident, "", r.ID)
	return nil
}

func (s *Store) putResident(ctx context.Context, tx *wtx, r *app.Resident) error {
	if r.ID == "" {
		return fmt.Errorf("put resident: empty id: %w", app.ErrInvalid)
	}
	var hash []byte
	if !r.PNR.IsZero() {
		hash = s.pnrHash(r.PNR)
		var other string
		err := tx.QueryRow(ctx, "SELECT id FROM residents WHERE pnr_hash = $1 AND id <> $2", hash, string(r.ID)).Scan(&other)
		if err == nil {
			return fmt.Errorf("put resident %s: personnummer already belongs to resident %s: %w", r.ID, other, app.ErrConflict)
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	data, err := s.seal.Seal("residents", string(r.ID), r)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO residents (id, pnr_hash, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET pnr_hash = EXCLUDED.pnr_hash, data = EXCLUDED.data`, string(r.ID), hash, data)
	if isUniqueViolation(err) {
		return fmt.Errorf("put resident %s: personnummer already belongs to another resident: %w", r.ID, app.ErrConflict)
	}
	if err != nil {
		return err
	}
	// The guardian index: the child's guardians as the register has them.
	b := &pgx.Batch{}
	b.Queue("DELETE FROM guardianships WHERE child_id = $1", string(r.ID))
	for _, g := range r.Guardians {
		b.Queue("INSERT INTO guardianships (guardian_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", string(g.GuardianID), string(r.ID))
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	s.feedAdd(tx, feedResident, "", r.ID)
	return nil
}

// Resident implements app.ResidentStore.
func (s *Store) Resident(ctx context.Context, id app.ID) (*app.Resident, error) {
	var r app.Resident
	if err := s.get(ctx, s.read(ctx), "residents", "id", string(id), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ResidentByPNR implements app.ResidentStore.
func (s *Store) ResidentByPNR(ctx context.Context, n personnummer.Number) (*app.Resident, error) {
	if n.IsZero() {
		return nil, fmt.Errorf("resident by personnummer: %w", app.ErrNotFound)
	}
	var id string
	var data []byte
	err := s.read(ctx).QueryRow(ctx, "SELECT id, data FROM residents WHERE pnr_hash = $1", s.pnrHash(n)).Scan(&id, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("resident by personnummer: %w", app.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var r app.Resident
	if err := s.seal.Open("residents", id, data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ResidentsByID implements app.ResidentStore, in one query.
func (s *Store) ResidentsByID(ctx context.Context, ids []app.ID) (map[app.ID]*app.Resident, error) {
	out := make(map[app.ID]*app.Resident, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, string(id))
	}
	rows, err := s.read(ctx).Query(ctx, "SELECT id, data FROM residents WHERE id = ANY($1)", keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		var r app.Resident
		if err := s.seal.Open("residents", id, data, &r); err != nil {
			return nil, err
		}
		out[app.ID(id)] = &r
	}
	return out, rows.Err()
}

// UpdateResident implements app.ResidentStore: the row is locked from
// the read to the commit.
func (s *Store) UpdateResident(ctx context.Context, id app.ID, fn func(r *app.Resident) error) error {
	return s.write(ctx, "update resident "+string(id), func(tx *wtx) error {
		var r app.Resident
		if err := s.getForUpdate(ctx, tx, "residents", "id", string(id), &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return clean(err)
		}
		r.ID = id
		return s.putResident(ctx, tx, &r)
	})
}

// ReadableResidents lists every resident, leaving out (and naming) those
// whose value does not open.
func (s *Store) ReadableResidents(ctx context.Context) (out []app.Resident, damaged []app.ID, err error) {
	rows, err := s.read(ctx).Query(ctx, "SELECT id, data FROM residents ORDER BY id")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, nil, err
		}
		var r app.Resident
		if err := s.seal.Open("residents", id, data, &r); errors.Is(err, storage.ErrCorruptValue) {
			damaged = append(damaged, app.ID(id))
			continue
		} else if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, damaged, rows.Err()
}

// --- directory ---

// putRow seals v into table under key (upsert); extra columns follow.
func (s *Store) putRow(ctx context.Context, tx *wtx, table, key string, v any, cols []string, vals ...any) error {
	data, err := s.seal.Seal(table, key, v)
	if err != nil {
		return err
	}
	keyCol := "id"
	if table == "credentials" {
		keyCol = "staff_id"
	} else if table == "form_series" {
		keyCol = "form_id"
	}
	names, ph, set := keyCol+", data", "$1, $2", "data = EXCLUDED.data"
	args := []any{key, data}
	for i, c := range cols {
		names += ", " + c
		ph += fmt.Sprintf(", $%d", i+3)
		set += ", " + c + " = EXCLUDED." + c
		args = append(args, vals[i])
	}
	_, err = tx.Exec(ctx, "INSERT INTO "+table+" ("+names+") VALUES ("+ph+") ON CONFLICT ("+keyCol+") DO UPDATE SET "+set, args...)
	return err
}

// PutClinic implements app.DirectoryStore.
func (s *Store) PutClinic(ctx context.Context, c *app.Clinic) error {
	return s.write(ctx, "put clinic "+string(c.ID), func(tx *wtx) error {
		if err := s.putRow(ctx, tx, "clinics", string(c.ID), c, nil); err != nil {
			return err
		}
		s.feedAdd(tx, feedClinic, c.ID, c.ID)
		return nil
	})
}

// Clinic implements app.DirectoryStore.
func (s *Store) Clinic(ctx context.Context, id app.ID) (*app.Clinic, error) {
	var c app.Clinic
	if err := s.get(ctx, s.read(ctx), "clinics", "id", string(id), &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Clinics implements app.DirectoryStore, sorted by name.
func (s *Store) Clinics(ctx context.Context) ([]app.Clinic, error) {
	out, err := all[app.Clinic](ctx, s, "clinics", "id", "")
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutStaff implements app.DirectoryStore.
func (s *Store) PutStaff(ctx context.Context, st *app.Staff) error {
	return s.write(ctx, "put staff "+string(st.ID), func(tx *wtx) error {
		if err := s.putRow(ctx, tx, "staff", string(st.ID), st, nil); err != nil {
			return err
		}
		s.feedAdd(tx, feedStaff, "", st.ID)
		return nil
	})
}

// Staff implements app.DirectoryStore.
func (s *Store) Staff(ctx context.Context, id app.ID) (*app.Staff, error) {
	var st app.Staff
	if err := s.get(ctx, s.read(ctx), "staff", "id", string(id), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// AllStaff implements app.DirectoryStore, sorted by name.
func (s *Store) AllStaff(ctx context.Context) ([]app.Staff, error) {
	out, err := all[app.Staff](ctx, s, "staff", "id", "")
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutTemplate implements app.DirectoryStore.
func (s *Store) PutTemplate(ctx context.Context, t *app.MessageTemplate) error {
	return s.write(ctx, "put template "+string(t.ID), func(tx *wtx) error {
		if err := s.putRow(ctx, tx, "templates", string(t.ID), t, []string{"clinic_id"}, string(t.ClinicID)); err != nil {
			return err
		}
		s.feedAdd(tx, feedTemplate, t.ClinicID, t.ID)
		return nil
	})
}

// Template implements app.DirectoryStore.
func (s *Store) Template(ctx context.Context, id app.ID) (*app.MessageTemplate, error) {
	var t app.MessageTemplate
	if err := s.get(ctx, s.read(ctx), "templates", "id", string(id), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Templates implements app.DirectoryStore: the clinic's templates by name.
func (s *Store) Templates(ctx context.Context, clinicID app.ID) ([]app.MessageTemplate, error) {
	out, err := all[app.MessageTemplate](ctx, s, "templates", "id", "clinic_id = $1", string(clinicID))
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutEService implements app.DirectoryStore.
func (s *Store) PutEService(ctx context.Context, e *app.EService) error {
	return s.write(ctx, "put e-service "+string(e.ID), func(tx *wtx) error {
		if err := s.putRow(ctx, tx, "eservices", string(e.ID), e, []string{"clinic_id"}, string(e.ClinicID)); err != nil {
			return err
		}
		s.feedAdd(tx, feedEService, e.ClinicID, e.ID)
		return nil
	})
}

// EServices implements app.DirectoryStore: the clinic's local e-services.
func (s *Store) EServices(ctx context.Context, clinicID app.ID) ([]app.EService, error) {
	out, err := all[app.EService](ctx, s, "eservices", "id", "clinic_id = $1", string(clinicID))
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// --- credentials ---

// PutCredential implements app.CredentialStore.
func (s *Store) PutCredential(ctx context.Context, c *app.Credential) error {
	if c.StaffID == "" {
		return fmt.Errorf("put credential: no staff id: %w", app.ErrInvalid)
	}
	return s.write(ctx, "put credential "+string(c.StaffID), func(tx *wtx) error {
		return s.putRow(ctx, tx, "credentials", string(c.StaffID), c, nil)
	})
}

// Credential implements app.CredentialStore.
func (s *Store) Credential(ctx context.Context, staffID app.ID) (*app.Credential, error) {
	var c app.Credential
	if err := s.get(ctx, s.read(ctx), "credentials", "staff_id", string(staffID), &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateCredential implements app.CredentialStore.
func (s *Store) UpdateCredential(ctx context.Context, staffID app.ID, fn func(c *app.Credential) error) error {
	return s.write(ctx, "update credential "+string(staffID), func(tx *wtx) error {
		var c app.Credential
		if err := s.getForUpdate(ctx, tx, "credentials", "staff_id", string(staffID), &c); err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return clean(err)
		}
		c.StaffID = staffID
		return s.putRow(ctx, tx, "credentials", string(staffID), &c, nil)
	})
}

// --- e-service forms ---

// FormSeries implements app.FormStore.
func (s *Store) FormSeries(ctx context.Context, formID app.ID) (*form.Series, error) {
	var fs form.Series
	if err := s.get(ctx, s.read(ctx), "form_series", "form_id", string(formID), &fs); err != nil {
		return nil, err
	}
	return &fs, nil
}

// PutFormSeries implements app.FormStore: a published version never
// changes or goes (form.ErrPublished).
func (s *Store) PutFormSeries(ctx context.Context, fs *form.Series) error {
	if fs.FormID == "" {
		return fmt.Errorf("put form series: no id: %w", app.ErrInvalid)
	}
	return s.write(ctx, "put form series "+fs.FormID, func(tx *wtx) error {
		var old form.Series
		err := s.getForUpdate(ctx, tx, "form_series", "form_id", fs.FormID, &old)
		switch {
		case errors.Is(err, app.ErrNotFound):
		case err != nil:
			return err
		default:
			if len(fs.Published) < len(old.Published) {
				return clean(fmt.Errorf("form %s: a published version would be dropped: %w", fs.FormID, form.ErrPublished))
			}
			for i, p := range old.Published {
				if fs.Published[i].Digest != p.Digest || fs.Published[i].Form.Digest() != p.Digest {
					return clean(fmt.Errorf("form %s version %d: a published version would change: %w", fs.FormID, i+1, form.ErrPublished))
				}
			}
		}
		for i, p := range fs.Published {
			if p.Form == nil || p.Form.Digest() != p.Digest {
				return clean(fmt.Errorf("form %s version %d: digest does not match: %w", fs.FormID, i+1, form.ErrPublished))
			}
		}
		if err := s.putRow(ctx, tx, "form_series", fs.FormID, fs, nil); err != nil {
			return err
		}
		// The series feeds under its e-service's clinic (its id).
		var clinic string
		if err := tx.QueryRow(ctx, "SELECT clinic_id FROM eservices WHERE id = $1", fs.FormID).Scan(&clinic); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		s.feedAdd(tx, feedForm, app.ID(clinic), app.ID(fs.FormID))
		return nil
	})
}
