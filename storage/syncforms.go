package storage

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
	"mottagning/app/form"
)

// Sync of the e-service builder (issue 7). On a connected desktop a
// change of a local e-service or of its form versions queues an op
// (app.OpEServicePut, app.OpFormSeriesPut) carrying the whole record; on
// the server a form series has a feed entry (kind feedForm, under the
// e-service's clinic) so that the clinic's desktops pull it; a pulled
// series replaces the desktop's copy unless the desktop still has a
// change of it queued (the answer to that op brings it back).

// feedForm is the feed entry kind of a form series.
const feedForm = 'f'

// eserviceOp is the op of a local e-service written on a desktop; a
// standard (catalogue) e-service is national and never queued.
func eserviceOp(e *app.EService) []app.SyncOp {
	if e.Standard || e.ClinicID == "" {
		return nil
	}
	return []app.SyncOp{{Kind: app.OpEServicePut, Payload: payload(e)}}
}

// formSeriesOp is the op of a form series written on a desktop.
func formSeriesOp(fs *form.Series) app.SyncOp {
	return app.SyncOp{Kind: app.OpFormSeriesPut, Payload: payload(fs)}
}

// formClinic is the clinic of the e-service a form series belongs to
// ("" when the e-service is not stored here).
func (s *Store) formClinic(tx *bolt.Tx, formID string) app.ID {
	var e app.EService
	if err := s.get(tx, bEServices, formID, &e); err != nil {
		return ""
	}
	return e.ClinicID
}

// addFormSeries adds a form series to a pull page (pager.add asked the
// scope).
func (p *pager) addFormSeries(id app.ID) error {
	var fs form.Series
	if err := p.s.get(p.tx, bForms, string(id), &fs); err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	p.out.FormSeries = append(p.out.FormSeries, fs)
	p.n++
	return nil
}

// applyPulledForms stores the pulled form series on a desktop, skipping
// those with a change still queued here.
func (s *Store) applyPulledForms(tx *bolt.Tx, list []form.Series) error {
	if len(list) == 0 {
		return nil
	}
	pending := map[string]bool{}
	err := tx.Bucket(bPendingOps).ForEach(func(k, v []byte) error {
		var op app.SyncOp
		if err := decode(s.c(bPendingOps), bPendingOps, k, v, &op); err != nil {
			return err
		}
		if op.Kind == app.OpFormSeriesPut {
			var id struct {
				FormID string `json:"formId"`
			}
			if json.Unmarshal(op.Payload, &id) == nil {
				pending[id.FormID] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range list {
		fs := &list[i]
		if fs.FormID == "" || pending[fs.FormID] {
			continue
		}
		if err := s.put(tx, bForms, fs.FormID, fs); err != nil {
			return err
		}
	}
	return nil
}
