package sync

import (
	"bytes"
	"encoding/json"

	"mottagning/sync/wire"
)

// The bodies of the sync API carry app values in Go, but their bytes are
// the protocol's (package wire): each body encodes and decodes through
// its wire type, so renaming a field of an app struct changes nothing on
// the wire nor in a desktop's queue (storage keeps queued ops in the wire
// form too). The golden tests of package wire pin those bytes.

// MarshalJSON encodes r as wire.PushRequest.
func (r PushRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire.PushRequest{DeviceID: r.DeviceID, Ops: wire.Map(r.Ops, wire.FromOp), Cursor: r.Cursor})
}

// UnmarshalJSON decodes a wire.PushRequest, refusing unknown fields (a
// server reads requests strictly).
func (r *PushRequest) UnmarshalJSON(data []byte) error {
	var w wire.PushRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*r = PushRequest{DeviceID: w.DeviceID, Ops: wire.Map(w.Ops, wire.Op.App), Cursor: w.Cursor}
	return nil
}

// MarshalJSON encodes r as wire.PushResponse.
func (r PushResponse) MarshalJSON() ([]byte, error) {
	w := wire.PushResponse{Results: wire.Map(r.Results, wire.FromResult)}
	if r.State != nil {
		ch := wire.FromChanges(*r.State)
		w.State = &ch
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a wire.PushResponse.
func (r *PushResponse) UnmarshalJSON(data []byte) error {
	var w wire.PushResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*r = PushResponse{Results: wire.Map(w.Results, wire.Result.App)}
	if w.State != nil {
		ch := w.State.App()
		r.State = &ch
	}
	return nil
}

// MarshalJSON encodes r as wire.PullResponse.
func (r PullResponse) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire.PullResponse{After: r.After, Cursor: r.Cursor, More: r.More, Head: r.Head, Changes: wire.FromChanges(r.Changes)})
}

// UnmarshalJSON decodes a wire.PullResponse.
func (r *PullResponse) UnmarshalJSON(data []byte) error {
	var w wire.PullResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*r = PullResponse{After: w.After, Cursor: w.Cursor, More: w.More, Head: w.Head, Changes: w.Changes.App()}
	return nil
}

// MarshalJSON encodes r as wire.LookupResponse.
func (r LookupResponse) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire.LookupResponse{ResidentID: r.ResidentID, Residents: wire.Map(r.Residents, wire.FromResident)})
}

// UnmarshalJSON decodes a wire.LookupResponse.
func (r *LookupResponse) UnmarshalJSON(data []byte) error {
	var w wire.LookupResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*r = LookupResponse{ResidentID: w.ResidentID, Residents: wire.Map(w.Residents, wire.Resident.App)}
	return nil
}

// MarshalJSON encodes r as wire.VerifierResponse.
func (r VerifierResponse) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire.VerifierResponse{Verifier: r.Verifier, Staff: wire.FromStaff(r.Staff)})
}

// UnmarshalJSON decodes a wire.VerifierResponse.
func (r *VerifierResponse) UnmarshalJSON(data []byte) error {
	var w wire.VerifierResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*r = VerifierResponse{Verifier: w.Verifier, Staff: w.Staff.App()}
	return nil
}

// appendWire decodes one frame as its wire type W and appends its app
// value.
func appendWire[W, A any](p []byte, to *[]A, conv func(W) A) error {
	var w W
	if err := json.Unmarshal(p, &w); err != nil {
		return err
	}
	*to = append(*to, conv(w))
	return nil
}
