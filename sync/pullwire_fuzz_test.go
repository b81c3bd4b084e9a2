package sync_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"mottagning/app"
	"mottagning/app/demo"
	"mottagning/storage"
	msync "mottagning/sync"
)

// The binary pull and push pages (pullwire.go) are read by every
// connected desktop from the network: FuzzPullPage feeds them arbitrary
// bytes. A page either decodes, and then encodes again to a page that
// decodes to the same records, or is refused with ErrBadPage; it never
// panics and never gives half a page.

// pwPages are real pages: the demo region as the server's store gives it
// (raw, as the binary pull sends it, and decoded), in one page and in
// pages of one record, and push answers with and without case state.
// Residents whose personnummer is not one of Skatteverket's test numbers
// (the demo's built child and samordningsnummer) are left out, so no
// other number ends up in a seed.
type pwPages struct {
	pull [][]byte
	push [][]byte
	// whole is the raw one-page pull the pages were built from.
	whole *msync.PullResponse
	// decoded is the same page read decoded (ChangesSince).
	decoded *msync.PullResponse
}

func pwRealPages(t testing.TB) *pwPages {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, t.TempDir(), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.SetChangeFeed(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ds := demo.Build(now)
	ds.WithPasswords = false
	if err := demo.Seed(ctx, store, ds); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{} // digits only
	for _, n := range demo.TestNumbers() {
		listed[pwDigits(n.String())] = true
	}
	// Everything of the region: a staff member with every clinic role in
	// every clinic.
	all := &app.Staff{ID: "pw-all", Roles: map[app.ID][]app.Role{}}
	for _, c := range ds.Clinics {
		all.Roles[c.ID] = app.AllClinicRoles
	}
	scope := app.NewPullScope(all, "pw-device")
	keepListed := func(ch *app.SyncChanges) {
		keep := ch.Residents[:0]
		for _, r := range ch.Residents {
			if listed[pwDigits(r.PNR.String())] {
				keep = append(keep, r)
			}
		}
		ch.Residents = keep
	}
	head := store.ChangeHead()
	out := &pwPages{}
	page := func(raw bool, after uint64, limit int) *msync.PullResponse {
		read := store.ChangesSince
		if raw {
			read = store.ChangesSinceRaw
		}
		ch, next, more, err := read(ctx, after, limit, scope)
		if err != nil {
			t.Fatal(err)
		}
		keepListed(ch)
		return &msync.PullResponse{Cursor: storage.FormatCursor(next), More: more, Head: storage.FormatCursor(head), Changes: *ch}
	}
	add := func(to *[][]byte, m interface{ MarshalBinary() ([]byte, error) }) {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		pwCheckNumbers(t, b, listed)
		*to = append(*to, b)
	}
	out.whole, out.decoded = page(true, 0, msync.MaxPullLimit), page(false, 0, msync.MaxPullLimit)
	if len(out.whole.Changes.Threads) == 0 {
		t.Fatal("the demo region gave a page without cases")
	}
	add(&out.pull, out.whole)
	add(&out.pull, out.decoded)
	add(&out.pull, &msync.PullResponse{Cursor: storage.FormatCursor(head), Head: storage.FormatCursor(head)})
	// Small pages: one record each, from the start of the feed.
	after := uint64(0)
	for i := 0; i < 12; i++ {
		p := page(i%2 == 0, after, 1)
		add(&out.pull, p)
		n, err := storage.ParseCursor(p.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		if !p.More {
			break
		}
		after = n
	}
	// A page after a cursor that withdraws a case from the caller's view
	// (an ärendehanterare's case given to someone else) beside one it
	// still carries.
	wt := out.whole.Changes.Threads
	add(&out.pull, &msync.PullResponse{After: "1", Cursor: storage.FormatCursor(head), Head: storage.FormatCursor(head),
		Changes: app.SyncChanges{Threads: wt[1:2], Withdrawn: []app.WithdrawnCase{app.Withdrawn(&wt[0].Case)}}})
	// Push answers: applied, rejected (with reasons) and a lost conflict
	// (with the op's payload), with the state of the cases they concern.
	th := out.whole.Changes.Threads
	at := now.UTC().Truncate(time.Second)
	results := []app.OpResult{
		{ID: app.NewOpID(), Kind: app.OpCaseMessage, CaseID: th[0].Case.ID, Outcome: app.OpApplied, Version: th[0].Case.Version, At: at},
		{ID: app.NewOpID(), Kind: app.OpCaseStatus, CaseID: th[0].Case.ID, Outcome: app.OpConflict, ServerStatus: app.StatusClosed,
			Mine: json.RawMessage(`{"Status":"waiting","ClosedAt":"0001-01-01T00:00:00Z"}`), Reason: app.RejectReason("conflict", nil), At: at},
		{ID: app.NewOpID(), Kind: app.OpCaseCreate, CaseID: "okänt-ärende", Outcome: app.OpRejected, Code: "unreachable",
			Blocks: []app.BlockReason{app.BlockNeverSignedIn}, Reason: app.RejectReason("unreachable", []app.BlockReason{app.BlockNeverSignedIn}), At: at},
	}
	state := &app.SyncChanges{Threads: th[:1], Gone: []app.ID{"okänt-ärende"}}
	add(&out.push, &msync.PushResponse{Results: results, State: state})
	add(&out.push, &msync.PushResponse{Results: results[2:]})
	dstate := &app.SyncChanges{Threads: out.decoded.Changes.Threads[:1]}
	add(&out.push, &msync.PushResponse{Results: results[:1], State: dstate})
	return out
}

// pwNumberLike is a personnummer-like run: not a piece of a longer run
// of digits (a time written as Unix nanoseconds, 19 digits, holds a
// "20…" of twelve digits now and then: CI met "204610051683" so).
var pwNumberLike = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)[0-9]{6}[-+]?[0-9]{4})(?:[^0-9]|$)`)

// pwCheckNumbers fails if a seed page holds a personnummer-shaped digit
// run that is not one of Skatteverket's test numbers.
func pwCheckNumbers(t testing.TB, page []byte, listed map[string]bool) {
	t.Helper()
	for _, sm := range pwNumberLike.FindAllSubmatch(page, -1) {
		if m := sm[1]; !listed[pwDigits(string(m))] {
			t.Fatalf("a seed page holds %q, not a Skatteverket test number", m)
		}
	}
}

func pwDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// pwEqual compares decoded pages: records equal field by field (times by
// Equal), an empty list the same as none (encoding/json leaves out an
// empty list under omitempty), embedded JSON equal as JSON.
var pwEqual = []cmp.Option{
	cmp.FilterPath(func(p cmp.Path) bool { return p.Last().Type() != reflect.TypeFor[json.RawMessage]() }, cmpopts.EquateEmpty()),
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmp.Comparer(func(a, b json.RawMessage) bool {
		if len(a) == 0 || len(b) == 0 {
			return len(a) == len(b)
		}
		var x, y any
		if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
			return bytes.Equal(a, b)
		}
		return reflect.DeepEqual(x, y)
	}),
}

func TestPullPage_RoundTrip(t *testing.T) {
	pages := pwRealPages(t)
	for i, b := range pages.pull {
		var p msync.PullResponse
		if err := p.UnmarshalBinary(b); err != nil {
			t.Fatalf("pull page %d: %v", i, err)
		}
		again, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("pull page %d: encode again: %v", i, err)
		}
		if !bytes.Equal(again, b) && i != 1 {
			// Only the decoded page (1) changes form: its messages and
			// notes become raw items.
			t.Errorf("pull page %d: encoded again differs (%d bytes, was %d)", i, len(again), len(b))
		}
		var q msync.PullResponse
		if err := q.UnmarshalBinary(again); err != nil {
			t.Fatalf("pull page %d: decode again: %v", i, err)
		}
		if d := cmp.Diff(p, q, pwEqual...); d != "" {
			t.Errorf("pull page %d: round trip (-first +second):\n%s", i, d)
		}
	}
	for i, b := range pages.push {
		var p msync.PushResponse
		if err := p.UnmarshalBinary(b); err != nil {
			t.Fatalf("push page %d: %v", i, err)
		}
		again, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("push page %d: encode again: %v", i, err)
		}
		var q msync.PushResponse
		if err := q.UnmarshalBinary(again); err != nil {
			t.Fatalf("push page %d: decode again: %v", i, err)
		}
		if d := cmp.Diff(p, q, pwEqual...); d != "" {
			t.Errorf("push page %d: round trip (-first +second):\n%s", i, d)
		}
	}

	// The raw page decodes to what the store gave: the same records, the
	// case headers and items byte for byte.
	var got msync.PullResponse
	if err := got.UnmarshalBinary(pages.pull[0]); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(*pages.whole, got, pwEqual...); d != "" {
		t.Errorf("raw page (-store +decoded):\n%s", d)
	}
	// The decoded page carries the same cases; its messages and notes
	// come back as raw items that decode to them.
	if err := got.UnmarshalBinary(pages.pull[1]); err != nil {
		t.Fatal(err)
	}
	want := pages.decoded.Changes.Threads
	if len(got.Changes.Threads) != len(want) {
		t.Fatalf("decoded page: %d cases, want %d", len(got.Changes.Threads), len(want))
	}
	for i, th := range got.Changes.Threads {
		w := want[i]
		// The header whole is the raw JSON; Case holds its key fields
		// (app.DecodeCaseKeys).
		var whole app.Case
		if err := json.Unmarshal(th.RawHeader, &whole); err != nil {
			t.Fatalf("case %d: header: %v", i, err)
		}
		if d := cmp.Diff(w.Case, whole, pwEqual...); d != "" {
			t.Errorf("case %d (-store +decoded):\n%s", i, d)
		}
		keys := app.Case{ID: w.Case.ID, ClinicID: w.Case.ClinicID, ResidentID: w.Case.ResidentID, AssigneeID: w.Case.AssigneeID,
			CreatorID: w.Case.CreatorID, Status: w.Case.Status, LastActivity: w.Case.LastActivity, UnreadByStaff: w.Case.UnreadByStaff,
			Version: w.Case.Version}
		if d := cmp.Diff(keys, th.Case, pwEqual...); d != "" {
			t.Errorf("case %d key fields (-store +decoded):\n%s", i, d)
		}
		if th.Seq != w.Seq || len(th.Notifications) != len(w.Notifications) {
			t.Errorf("case %d: seq %d, %d notifications; want %d, %d", i, th.Seq, len(th.Notifications), w.Seq, len(w.Notifications))
		}
		var msgs []app.Message
		var notes []app.Note
		for _, it := range th.RawItems {
			switch it.Key[0] {
			case 'm':
				var m app.Message
				if err := json.Unmarshal(it.JSON, &m); err != nil || string(it.Key[1:]) != string(m.ID) {
					t.Fatalf("case %d: message item %q: %v", i, it.Key, err)
				}
				msgs = append(msgs, m)
			case 'n':
				var n app.Note
				if err := json.Unmarshal(it.JSON, &n); err != nil || string(it.Key[1:]) != string(n.ID) {
					t.Fatalf("case %d: note item %q: %v", i, it.Key, err)
				}
				notes = append(notes, n)
			}
		}
		if d := cmp.Diff(w.Messages, msgs, pwEqual...); d != "" {
			t.Errorf("case %d messages (-store +decoded):\n%s", i, d)
		}
		if d := cmp.Diff(w.Notes, notes, pwEqual...); d != "" {
			t.Errorf("case %d notes (-store +decoded):\n%s", i, d)
		}
	}
}

// pwCuts are the lengths a page is cut off at: every length of a small
// page; for a large one (decoding each prefix costs its length) the first
// and last 256 bytes, every frame boundary with the byte before and after
// it, and every 1009th length.
func pwCuts(b []byte) []int {
	if len(b) <= 16<<10 {
		cuts := make([]int, len(b))
		for i := range cuts {
			cuts[i] = i
		}
		return cuts
	}
	set := map[int]bool{}
	for n := 0; n < 256; n++ {
		set[n], set[len(b)-1-n] = true, true
	}
	for n := 0; n < len(b); n += 1009 {
		set[n] = true
	}
	for at := len("MTGPULL1"); at < len(b); {
		set[at-1], set[at], set[at+1] = true, true, true
		n, k := binary.Uvarint(b[at+1:])
		if k <= 0 {
			break
		}
		at += 1 + k + int(n)
	}
	var cuts []int
	for n := range set {
		if n >= 0 && n < len(b) {
			cuts = append(cuts, n)
		}
	}
	slices.Sort(cuts)
	return cuts
}

// TestPullPage_CutOff: a valid page cut off anywhere (pwCuts), and a page
// with anything after its end frame, is refused with ErrBadPage; never
// half a page.
// A withdrawn case travels as a 'W' frame holding its JSON (id, clinic,
// assignee, status, version and nothing else), in the binary page as in
// the JSON one; a withdrawal without a case id is not a page.
func TestPullPage_Withdrawn(t *testing.T) {
	w := app.WithdrawnCase{CaseID: "c1", ClinicID: "k1", AssigneeID: "s2", Status: app.StatusOngoing, Version: 7}
	page := msync.PullResponse{After: "5", Cursor: "9", Head: "9", Changes: app.SyncChanges{Withdrawn: []app.WithdrawnCase{w}}}
	b, err := page.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const frame = `W` + "\x51" + `{"CaseID":"c1","ClinicID":"k1","AssigneeID":"s2","Status":"pagaende","Version":7}`
	if !bytes.Contains(b, []byte(frame+"Z\x00")) {
		t.Fatalf("page %q lacks the frame %q", b, frame)
	}
	var got msync.PullResponse
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(page, got, pwEqual...); d != "" {
		t.Fatalf("round trip (-sent +got):\n%s", d)
	}
	j, err := json.Marshal(&page)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"changes":{"Withdrawn":[{"CaseID":"c1","ClinicID":"k1","AssigneeID":"s2","Status":"pagaende","Version":7}]}`; !strings.Contains(string(j), want) {
		t.Fatalf("JSON page %s lacks %s", j, want)
	}
	bad := bytes.Replace(b, []byte(`"CaseID":"c1"`), []byte(`"CaseID":""  `), 1)
	if err := got.UnmarshalBinary(bad); !errors.Is(err, msync.ErrBadPage) {
		t.Fatalf("a withdrawal without a case id: %v", err)
	}
}

func TestPullPage_CutOff(t *testing.T) {
	pages := pwRealPages(t)
	check := func(kind string, i int, b []byte, dec func([]byte) error) {
		if err := dec(b); err != nil {
			t.Fatalf("%s page %d: %v", kind, i, err)
		}
		for _, n := range pwCuts(b) {
			err := dec(b[:n:n])
			if err == nil {
				t.Fatalf("%s page %d cut off after %d of %d bytes: decoded", kind, i, n, len(b))
			}
			if !errors.Is(err, msync.ErrBadPage) {
				t.Fatalf("%s page %d cut off after %d bytes: %v, not ErrBadPage", kind, i, n, err)
			}
		}
		for _, tail := range [][]byte{{0}, {'Z', 0}, []byte("MTGPULL1")} {
			long := append(bytes.Clone(b), tail...)
			if err := dec(long); !errors.Is(err, msync.ErrBadPage) {
				t.Fatalf("%s page %d with %q after its end: %v, want ErrBadPage", kind, i, tail, err)
			}
		}
	}
	for i, b := range pages.pull {
		check("pull", i, b, func(b []byte) error {
			var p msync.PullResponse
			err := p.UnmarshalBinary(b)
			if err != nil && (p.Cursor != "" || p.Head != "" || p.More) {
				// The records read before the error may stay in
				// p.Changes; the cursor, which a desktop acts on, never.
				t.Fatalf("pull page %d: refused but set the cursor", i)
			}
			return err
		})
	}
	for i, b := range pages.push {
		check("push", i, b, func(b []byte) error {
			var p msync.PushResponse
			err := p.UnmarshalBinary(b)
			if err != nil && (p.Results != nil || p.State != nil) {
				t.Fatalf("push page %d: refused but kept results or state", i)
			}
			return err
		})
	}
	// A pull page is not a push answer, nor the other way round.
	var pull msync.PullResponse
	var push msync.PushResponse
	if err := pull.UnmarshalBinary(pages.push[0]); !errors.Is(err, msync.ErrBadPage) {
		t.Errorf("push page read as a pull page: %v", err)
	}
	if err := push.UnmarshalBinary(pages.pull[0]); !errors.Is(err, msync.ErrBadPage) {
		t.Errorf("pull page read as a push answer: %v", err)
	}
}

func FuzzPullPage(f *testing.F) {
	pages := pwRealPages(f)
	for _, b := range pages.pull {
		f.Add(b)
	}
	for _, b := range pages.push {
		f.Add(b)
	}
	f.Add([]byte("MTGPULL1"))
	f.Add([]byte("MTGPULL1H\x02{}Z\x00"))
	f.Add([]byte("MTGPUSH1H\x0e{\"results\":[]}Z\x00"))
	f.Add([]byte("MTGPULL1H\x02{}C\x03\x01{}I\x04\x02m1{Z\x00"))
	f.Add([]byte("MTGPULL1H\x02{}W\x0e{\"CaseID\":\"a\"}Z\x00"))
	f.Add([]byte("MTGPULL1H\x02{}W\x02{}Z\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)

		var pull msync.PullResponse
		if err := pull.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, msync.ErrBadPage) {
				t.Fatalf("pull: error %v does not wrap ErrBadPage", err)
			}
			if pull.Cursor != "" || pull.Head != "" || pull.More {
				t.Fatalf("pull: refused page set cursor %q head %q more %v", pull.Cursor, pull.Head, pull.More)
			}
		} else {
			again, err := pull.MarshalBinary()
			if err != nil {
				t.Fatalf("pull: a decoded page does not encode again: %v", err)
			}
			var second msync.PullResponse
			if err := second.UnmarshalBinary(again); err != nil {
				t.Fatalf("pull: an encoded page does not decode: %v\npage %q", err, again)
			}
			if d := cmp.Diff(pull, second, pwEqual...); d != "" {
				t.Fatalf("pull: round trip changed the page (-first +second):\n%s", d)
			}
			third, err := second.MarshalBinary()
			if err != nil || !bytes.Equal(third, again) {
				t.Fatalf("pull: encoding is not stable: %v\n%q\n%q", err, again, third)
			}
		}

		var push msync.PushResponse
		if err := push.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, msync.ErrBadPage) {
				t.Fatalf("push: error %v does not wrap ErrBadPage", err)
			}
			if push.Results != nil || push.State != nil {
				t.Fatalf("push: refused answer kept results or state")
			}
		} else {
			again, err := push.MarshalBinary()
			if err != nil {
				t.Fatalf("push: a decoded answer does not encode again: %v", err)
			}
			var second msync.PushResponse
			if err := second.UnmarshalBinary(again); err != nil {
				t.Fatalf("push: an encoded answer does not decode: %v\npage %q", err, again)
			}
			if d := cmp.Diff(push, second, pwEqual...); d != "" {
				t.Fatalf("push: round trip changed the answer (-first +second):\n%s", d)
			}
		}
		if !bytes.Equal(data, orig) {
			t.Fatal("decoding changed its input")
		}
	})
}
