package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/form"
)

// The versions of each e-service's form (schema v8): one form.Series per
// e-service id, sealed like the rest of the clinic's data. A published
// version never changes: PutFormSeries refuses a series that alters,
// drops or reorders a published version (its digest), so a submission's
// version always reads back as it was.

var bForms = []byte("form_series")

func migrate8(tx *bolt.Tx, _ Codec) error {
	if _, err := tx.CreateBucketIfNotExists(bForms); err != nil {
		return fmt.Errorf("create bucket %s: %w", bForms, err)
	}
	return nil
}

// FormSeries implements app.FormStore.
func (s *Store) FormSeries(ctx context.Context, formID app.ID) (*form.Series, error) {
	var fs form.Series
	if err := s.viewC(ctx, func(tx *bolt.Tx) error { return s.get(tx, bForms, string(formID), &fs) }); err != nil {
		return nil, err
	}
	return &fs, nil
}

// PutFormSeries implements app.FormStore.
func (s *Store) PutFormSeries(ctx context.Context, fs *form.Series) error {
	if fs.FormID == "" {
		return fmt.Errorf("put form series: no id: %w", app.ErrInvalid)
	}
	return s.updateC(ctx, "put form series "+fs.FormID, func(tx *bolt.Tx) error {
		var old form.Series
		err := s.get(tx, bForms, fs.FormID, &old)
		switch {
		case isNotFound(err):
		case err != nil:
			return err
		default:
			if len(fs.Published) < len(old.Published) {
				return fmt.Errorf("form %s: a published version would be dropped: %w", fs.FormID, form.ErrPublished)
			}
			for i, p := range old.Published {
				if fs.Published[i].Digest != p.Digest || fs.Published[i].Form.Digest() != p.Digest {
					return fmt.Errorf("form %s version %d: a published version would change: %w", fs.FormID, i+1, form.ErrPublished)
				}
			}
		}
		for i, p := range fs.Published {
			if p.Form == nil || p.Form.Digest() != p.Digest {
				return fmt.Errorf("form %s version %d: digest does not match: %w", fs.FormID, i+1, form.ErrPublished)
			}
		}
		if err := s.put(tx, bForms, fs.FormID, fs); err != nil {
			return err
		}
		if err := s.feed(tx, feedForm, s.formClinic(tx, fs.FormID), app.ID(fs.FormID)); err != nil {
			return err
		}
		return s.queue(tx, formSeriesOp(fs))
	})
}
