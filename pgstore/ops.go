package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mottagning/app"
)

// AppliedOp returns the stored result of op id, or app.ErrNotFound.
func (s *Store) AppliedOp(ctx context.Context, id string) (*app.OpResult, error) {
	var r app.OpResult
	if err := s.get(ctx, s.read(ctx), "applied_ops", "id", id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func (s *Store) putOpResult(ctx context.Context, tx *wtx, r *app.OpResult) error {
	data, err := s.seal.Seal("applied_ops", r.ID, r)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO applied_ops (id, at, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at, data = EXCLUDED.data`, r.ID, r.At.UnixMilli(), data)
	return err
}

// PutOpResult stores the final result of an op. An op applied once stays
// applied: a later answer to a copy of it never turns it into a refusal.
func (s *Store) PutOpResult(ctx context.Context, r *app.OpResult) error {
	if r.ID == "" {
		return fmt.Errorf("op result: no id: %w", app.ErrInvalid)
	}
	return s.write(ctx, "store op result "+r.ID, func(tx *wtx) error {
		var old app.OpResult
		err := s.getForUpdate(ctx, tx, "applied_ops", "id", r.ID, &old)
		if err == nil && old.Outcome == app.OpApplied && r.Outcome != app.OpApplied {
			return nil
		}
		if err != nil && !errors.Is(err, app.ErrNotFound) {
			return err
		}
		return s.putOpResult(ctx, tx, r)
	})
}

// PruneAppliedOps forgets op results older than before; it returns how many.
func (s *Store) PruneAppliedOps(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.write(ctx, "prune applied ops", func(tx *wtx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM applied_ops WHERE at < $1", before.UnixMilli())
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
