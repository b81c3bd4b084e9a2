// Package wire is the sync protocol between connected desktops and the
// central server (docs/sync.md): the bodies of push, pull, events, lookup
// and verifier, the op envelope and one payload type per op kind, and the
// stable codes they carry. It is the protocol; app holds the domain.
//
// The rule: every field here has an explicit JSON name, and that name is
// the protocol. Renaming or removing one, or changing a code's value, is a
// protocol change: it needs a new media type or version of the call,
// because desktops in the field speak the old one and keep ops queued in
// it for as long as they are offline. The golden tests (testdata) fail on
// any such change; regenerate them (go test -update) only for a deliberate
// new version. App types may change freely: they cross the wire only
// through the conversions here (FromX and X.App), and a test fails when an
// app code has no wire code.
//
// The names are those encoding/json gave the app structs before this
// package existed ("ID", "ClinicID", …, and the camelCase tags of the
// request bodies), so that desktops, the stored records the binary pull
// copies byte for byte, and ops already queued keep working.
//
// Two kinds of value keep encodings that are not ours to mirror and that
// are pinned by the goldens all the same: personnummer.Number (its 12-digit
// text form) and the form package's series, definitions and answers (their
// own camelCase JSON tags, the form's storage format).
package wire
