package app

import (
	"golang.org/x/text/unicode/norm"

	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"mottagning/app/personnummer"
)

// The case lists of the staff tool filter by status, type, assignee and
// unread, search by personnummer or text, and sort by any column, over
// 100,000 cases and more. bbolt's indexes serve the first page at once
// (ListCases); everything else runs on an in-memory index of one clinic's
// case headers, built in the background from those same pages and kept
// current by the services' own writes and by sync (ServerChanged).
//
// Memory: a row is a pointer to a small struct whose repeated strings
// (status, kind, e-service, assignee) are interned, about 200 bytes a
// case, plus one entry per resident (BenchmarkCaseIndex reports the heap).

// CaseSort is the column a case list is sorted by.
type CaseSort int

// Sort columns.
const (
	SortActivity CaseSort = iota // last activity (default, newest first)
	SortStatus
	SortSubject
	SortType
	SortResident // surname first
	SortStartedBy
	SortPNR      // personnummer (birth date order); reserve numbers last
	SortUnread   // unread first
	SortAssignee // handläggare by name; unassigned last
)

// ListKind is which of the two lists: Mottagningens ärenden or Mina ärenden.
type ListKind int

// The two case lists.
const (
	ClinicList ListKind = iota
	MyList
)

// CaseFilter selects and orders a case list.
type CaseFilter struct {
	List ListKind
	// Status filters on one status; empty for all.
	Status Status
	// Type filters on the case type: an e-service id, or KindInformation /
	// KindQuestion as a string for staff-started cases; empty for all.
	Type string
	// AssigneeID filters on one assignee; Unassigned on no assignee.
	AssigneeID ID
	Unassigned bool
	// UnreadOnly keeps cases with a reply staff have not opened.
	UnreadOnly bool
	// Search is a personnummer (whole, or the digits typed so far) or text
	// found in the subject or the resident's name, case-insensitively.
	Search string
	Sort   CaseSort
	// Reverse turns the natural order around (the natural order is newest
	// first for activity, A–Ö for text columns, workflow order for status).
	Reverse bool
}

// indexRow is what a list shows of a case, compact: 100,000 of them must
// stay well under the heap budget of the case list. Repeated strings
// (status, type, assignee, started by) are interned.
type indexRow struct {
	id         ID
	subject    string
	resident   *indexResident
	residentID ID
	last       int64 // last activity, Unix milliseconds
	// Codes into the index's table of repeated strings (0 is ""): the
	// assignee, the type (e-service id, or the kind of a staff-started
	// case), the status and who started it.
	assignee, typ, status, startedBy uint16
	unread                           bool
}

// header gives the list fields of the row as a Case.
func (r *indexRow) header(clinic ID, str []string) Case {
	c := Case{ID: r.id, ClinicID: clinic, ResidentID: r.residentID, Subject: r.subject, Status: Status(str[r.status]),
		AssigneeID: ID(str[r.assignee]), StartedBy: StartedBy(str[r.startedBy]),
		LastActivity: time.UnixMilli(r.last).In(Stockholm), UnreadByStaff: r.unread}
	switch k := CaseKind(str[r.typ]); k {
	case KindInformation, KindQuestion:
		c.Kind = k
	default:
		c.Kind, c.EServiceID = KindEService, ID(k)
	}
	return c
}

type indexResident struct {
	name    string
	nameKey string // swedishKey of the name
	sortKey string // swedishKey of surname, then given name
	pnr     personnummer.Number
	reserve string
	digits  string // personnummer digits, for search while typing
}

// swedishKey lower-cases s and maps å, ä, ö to the three bytes after 'z',
// so that byte order is Swedish dictionary order (å < ä < ö after z) and
// a search needle keyed the same way is found with strings.Contains.
// Other accented letters fold to their base letter ("Wójcik" is found by
// "wojcik", and sorts as "wojcik"); æ and ø are the Danish and Norwegian
// ä and ö.
func swedishKey(s string) string { return strings.Map(keyRune, s) }

// clinicIndex holds one clinic's case headers, newest activity first.
type clinicIndex struct {
	clinic    ID
	mu        sync.RWMutex
	rows      []*indexRow
	byID      map[ID]*indexRow
	residents map[ID]*indexResident
	intern    map[string]string
	codes     map[string]uint16
	str       []string // code → string; str[0] == ""
	ready     bool
	err       error
	done      chan struct{}
}

// code returns the code of a repeated string, adding it when new.
func (x *clinicIndex) code(s string) uint16 {
	if s == "" {
		return 0
	}
	if c, ok := x.codes[s]; ok {
		return c
	}
	if len(x.str) == 0 {
		x.str = []string{""}
	}
	if len(x.str) > 0xFFFF {
		panic("app: case index: more than 65535 distinct assignees, types and statuses")
	}
	c := uint16(len(x.str))
	x.str = append(x.str, s)
	x.codes[s] = c
	return c
}

// lookup is code without adding: ok is false for a string no row has.
func (x *clinicIndex) lookup(s string) (uint16, bool) {
	if s == "" {
		return 0, true
	}
	c, ok := x.codes[s]
	return c, ok
}

func (x *clinicIndex) in(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := x.intern[s]; ok {
		return v
	}
	x.intern[s] = s
	return s
}

// CaseResult is one filtered, sorted case list: an immutable snapshot.
type CaseResult struct {
	clinic ID
	str    []string
	rows   []*indexRow
	// Total is the number of cases of the list before filtering, Unread
	// how many of those have a reply staff have not opened (the badge).
	Total, Unread int
}

// Len is the number of matching cases.
func (r *CaseResult) Len() int { return len(r.rows) }

// Row returns the i-th matching case as a list row. Its Case holds the
// fields a list shows (not TemplateID, CreatedAt, ClosedAt or the
// guardian's id: open the case for those).
func (r *CaseResult) Row(i int) CaseRow {
	x := r.rows[i]
	out := CaseRow{Case: x.header(r.clinic, r.str)}
	if x.resident != nil {
		out.ResidentName, out.PNR, out.ReserveNumber = x.resident.name, x.resident.pnr, x.resident.reserve
	}
	return out
}

// Index returns the position of case id in the result, or -1.
func (r *CaseResult) Index(id ID) int {
	return slices.IndexFunc(r.rows, func(x *indexRow) bool { return x.id == id })
}

// caseIndexes is the CaseService's set of clinic indexes.
type caseIndexes struct {
	mu      sync.Mutex
	clinics map[ID]*clinicIndex
	alert   func(c Case)
}

// index returns the clinic's index, building it on first use; concurrent
// callers wait for the one build.
func (s *CaseService) index(ctx context.Context, clinic ID) (*clinicIndex, error) {
	s.idx.mu.Lock()
	if s.idx.clinics == nil {
		s.idx.clinics = map[ID]*clinicIndex{}
	}
	x, ok := s.idx.clinics[clinic]
	if !ok {
		x = &clinicIndex{clinic: clinic, codes: map[string]uint16{}, str: []string{""}, byID: map[ID]*indexRow{}, residents: map[ID]*indexResident{}, intern: map[string]string{}, done: make(chan struct{})}
		s.idx.clinics[clinic] = x
		go s.build(context.WithoutCancel(ctx), clinic, x)
	}
	s.idx.mu.Unlock()
	select {
	case <-x.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if x.err != nil {
		s.idx.mu.Lock()
		delete(s.idx.clinics, clinic) // try again next time
		s.idx.mu.Unlock()
		return nil, x.err
	}
	return x, nil
}

// build reads every case of the clinic in pages (short read
// transactions), one status range per goroutine since decoding the
// headers is the cost, then the residents they concern.
func (s *CaseService) build(ctx context.Context, clinic ID, x *clinicIndex) {
	defer close(x.done)
	parts := make([][]Case, len(AllStatuses))
	errs := make([]error, len(AllStatuses))
	var wg sync.WaitGroup
	for i, st := range AllStatuses {
		wg.Go(func() {
			q := CaseQuery{ClinicID: clinic, Status: st, Limit: 500}
			for {
				page, err := s.store.ListCases(ctx, q)
				if err != nil {
					errs[i] = fmt.Errorf("index cases of clinic %s: %w", clinic, err)
					return
				}
				parts[i] = append(parts[i], page.Cases...)
				if page.Next == "" {
					return
				}
				q.After = page.Next
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		x.err = err
		return
	}
	need := map[ID]bool{}
	for _, p := range parts {
		for i := range p {
			need[p[i].ResidentID] = true
		}
	}
	ids := make([]ID, 0, len(need))
	for id := range need {
		ids = append(ids, id)
	}
	rs, err := s.store.ResidentsByID(ctx, ids)
	if err != nil {
		x.err = fmt.Errorf("index cases of clinic %s: residents: %w", clinic, err)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for id, r := range rs {
		x.residents[id] = newIndexResident(r)
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	x.rows = make([]*indexRow, 0, n)
	for _, p := range parts {
		for i := range p {
			r := x.newRow(&p[i])
			x.rows = append(x.rows, r)
			x.byID[r.id] = r
		}
	}
	slices.SortFunc(x.rows, before)
	x.ready = true
}

func newIndexResident(r *Resident) *indexResident {
	name := r.Register.FullName()
	ir := &indexResident{name: name, nameKey: swedishKey(name), pnr: r.PNR, reserve: r.ReserveNumber,
		sortKey: swedishKey(r.Register.FamilyName + " " + r.Register.GivenName)}
	if !r.PNR.IsZero() {
		ir.digits = digitsOf(r.PNR.String())
	}
	return ir
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// before is the index order: newest activity first, then higher id.
func before(a, b *indexRow) int {
	if c := cmp.Compare(b.last, a.last); c != 0 {
		return c
	}
	return strings.Compare(string(b.id), string(a.id))
}

// put stores a header in its place in the order; x.mu must be held for
// writing. A row is replaced, never changed in place, so results already
// handed out stay as they were.
func (x *clinicIndex) put(c *Case) {
	row := x.newRow(c)
	if old := x.byID[c.ID]; old != nil {
		if i, ok := slices.BinarySearchFunc(x.rows, old, before); ok {
			x.rows = slices.Delete(x.rows, i, i+1)
		}
	}
	i, _ := slices.BinarySearchFunc(x.rows, row, before)
	x.rows = slices.Insert(x.rows, i, row)
	x.byID[c.ID] = row
}

func (x *clinicIndex) newRow(c *Case) *indexRow {
	row := &indexRow{id: c.ID, subject: x.in(c.Subject), resident: x.residents[c.ResidentID], residentID: ID(x.in(string(c.ResidentID))),
		last: c.LastActivity.UnixMilli(), assignee: x.code(string(c.AssigneeID)), status: x.code(string(c.Status)),
		startedBy: x.code(string(c.StartedBy)), unread: c.UnreadByStaff}
	if c.EServiceID != "" {
		row.typ = x.code(string(c.EServiceID))
	} else {
		row.typ = x.code(string(c.Kind))
	}
	return row
}

// indexCase brings a changed or new case into its clinic's index, if that
// index exists. Services call it after every write they make.
func (s *CaseService) indexCase(ctx context.Context, c *Case) {
	s.idx.mu.Lock()
	x := s.idx.clinics[c.ClinicID]
	s.idx.mu.Unlock()
	if x == nil {
		return
	}
	<-x.done
	x.mu.RLock()
	_, known := x.residents[c.ResidentID]
	x.mu.RUnlock()
	var ir *indexResident
	if !known {
		if r, err := s.store.Resident(ctx, c.ResidentID); err == nil {
			ir = newIndexResident(r)
		}
	}
	x.mu.Lock()
	if ir != nil {
		x.residents[c.ResidentID] = ir
	}
	x.put(c)
	x.mu.Unlock()
}

// CaseChanged brings a case changed outside this service (a resident's
// reply on the server) into the lists. It reads the header from the store.
// A connected desktop's sync writes go through ServerChanged.
// When the change is a new reply staff have not opened, the alert set with
// SetReplyAlert is raised.
func (s *CaseService) CaseChanged(ctx context.Context, id ID) error {
	c, err := s.store.Case(ctx, id)
	if err != nil {
		return fmt.Errorf("case changed %s: %w", id, err)
	}
	wasUnread := false
	s.idx.mu.Lock()
	x := s.idx.clinics[c.ClinicID]
	alert := s.idx.alert
	s.idx.mu.Unlock()
	if x != nil {
		<-x.done
		x.mu.RLock()
		if r := x.byID[id]; r != nil {
			wasUnread = r.unread && r.last == c.LastActivity.UnixMilli()
		}
		x.mu.RUnlock()
	}
	s.indexCase(ctx, c)
	if c.UnreadByStaff && !wasUnread && alert != nil {
		alert(*c)
	}
	return nil
}

// SetReplyAlert sets the function raised when a resident's reply arrives
// (CaseChanged; on a connected desktop ServerChanged, the one path of the
// "new reply" alert): the desktop shows a notification and refreshes the
// unread badge. It receives the header; what it shows must carry no
// personal data or message text (a desktop notification is seen by anyone
// near the screen).
func (s *CaseService) SetReplyAlert(fn func(c Case)) {
	s.idx.mu.Lock()
	s.idx.alert = fn
	s.idx.mu.Unlock()
}

// ReplyAlertText is the title and body of the desktop notification for a
// reply in a clinic: no name, no subject, no text.
func ReplyAlertText(clinicName string) (title, body string) {
	return "Nytt svar i Mottagning", "Ett ärende i " + clinicName + " har fått ett nytt svar från en invånare."
}

// FindCases filters, searches and sorts a case list of the session's
// clinic on the in-memory index (built on first use; call it off the UI
// goroutine). Roles as ClinicCases and MyCases. A search by a whole
// personnummer is a lookup of that resident and is access-logged.
func (s *CaseService) FindCases(ctx context.Context, sess Session, f CaseFilter) (*CaseResult, error) {
	switch f.List {
	case ClinicList:
		if !sess.Staff.Has(sess.ClinicID, RoleCaseReceiver) {
			return nil, forbid("find clinic cases", sess.ClinicID)
		}
	case MyList:
		if !sess.Staff.Has(sess.ClinicID, RoleCaseHandler) && !sess.Staff.Has(sess.ClinicID, RoleCaseReceiver) {
			return nil, forbid("find my cases", sess.ClinicID)
		}
		f.AssigneeID, f.Unassigned = sess.Staff.ID, false
	default:
		return nil, fmt.Errorf("find cases: list %d: %w", f.List, ErrInvalid)
	}
	x, err := s.index(ctx, sess.ClinicID)
	if err != nil {
		return nil, err
	}
	search := strings.TrimSpace(f.Search)
	var onlyResident ID
	var digits string
	var assigneeKey map[uint16]string
	if f.Sort == SortAssignee {
		if assigneeKey, err = s.assigneeKeys(ctx, x); err != nil {
			return nil, err
		}
	}
	if search != "" {
		if n, err := personnummer.ParseAt(search, s.clock.Now()); err == nil {
			r, err := s.store.ResidentByPNR(ctx, n)
			switch {
			case IsNotFound(err):
				return &CaseResult{}, nil
			case err != nil:
				return nil, fmt.Errorf("find cases: %w", err)
			}
			if err := s.record(ctx, sess, AccessLookupResident, r.ID, ""); err != nil {
				return nil, err
			}
			onlyResident, search = r.ID, ""
		} else if isNumberLike(search) {
			digits, search = digitsOf(search), ""
		} else {
			search = swedishKey(search)
		}
	}

	x.mu.RLock()
	out := &CaseResult{clinic: sess.ClinicID, str: x.str, rows: make([]*indexRow, 0, len(x.rows)/4)}
	// Filter values as codes; a value no row has matches nothing.
	status, okS := x.lookup(string(f.Status))
	typ, okT := x.lookup(f.Type)
	assignee, okA := x.lookup(string(f.AssigneeID))
	if !okS || !okT || !okA {
		out.rows = nil
	}
	for _, r := range x.rows {
		if f.List == MyList && r.assignee != assignee {
			continue
		}
		out.Total++
		if r.unread {
			out.Unread++
		}
		switch {
		case !okS || !okT || !okA,
			f.Status != "" && r.status != status,
			f.Type != "" && r.typ != typ,
			f.AssigneeID != "" && r.assignee != assignee,
			f.Unassigned && r.assignee != 0,
			f.UnreadOnly && !r.unread,
			onlyResident != "" && r.residentID != onlyResident,
			digits != "" && (r.resident == nil || !strings.Contains(r.resident.digits, digits)),
			search != "" && !containsKey(r.subject, search) && (r.resident == nil || !strings.Contains(r.resident.nameKey, search)):
			continue
		}
		out.rows = append(out.rows, r)
	}
	x.mu.RUnlock()
	if f.Sort != SortActivity || f.Reverse {
		sortRows(out.rows, x.str, f.Sort, f.Reverse, assigneeKey) // else already in index order
	}
	return out, nil
}

// IsNotFound reports whether err is (or wraps) ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// isNumberLike: the search looks like the start of a personnummer (digits,
// maybe a - or +), not text.
func isNumberLike(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			digits++
		case r == '-' || r == '+' || r == ' ':
		default:
			return false
		}
	}
	return digits >= 2
}

var statusOrder = map[Status]int{StatusNew: 0, StatusOngoing: 1, StatusWaiting: 2, StatusClosed: 3}

// sortRows sorts by the column, then newest activity, then id (stable
// across calls: equal keys never swap between two renders).
func sortRows(rows []*indexRow, str []string, by CaseSort, reverse bool, assigneeKey map[uint16]string) {
	activity := before
	name := func(r *indexRow) string {
		if r.resident == nil {
			return ""
		}
		return r.resident.sortKey
	}
	// Empty keys (no resident, no number, nobody assigned) sort last.
	lastEmpty := func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		case b == "":
			return -1
		}
		return strings.Compare(a, b)
	}
	pnr := func(r *indexRow) string {
		if r.resident == nil || r.resident.pnr.IsZero() {
			return ""
		}
		return r.resident.digits
	}
	var key func(a, b *indexRow) int
	switch by {
	case SortStatus:
		key = func(a, b *indexRow) int {
			return cmp.Compare(statusOrder[Status(str[a.status])], statusOrder[Status(str[b.status])])
		}
	case SortSubject:
		key = func(a, b *indexRow) int { return compareKey(a.subject, b.subject) }
	case SortType:
		key = func(a, b *indexRow) int { return strings.Compare(str[a.typ], str[b.typ]) }
	case SortResident:
		key = func(a, b *indexRow) int { return strings.Compare(name(a), name(b)) }
	case SortStartedBy:
		key = func(a, b *indexRow) int { return strings.Compare(str[a.startedBy], str[b.startedBy]) }
	case SortPNR:
		key = func(a, b *indexRow) int { return lastEmpty(pnr(a), pnr(b)) }
	case SortUnread:
		key = func(a, b *indexRow) int {
			switch {
			case a.unread == b.unread:
				return 0
			case a.unread:
				return -1
			}
			return 1
		}
	case SortAssignee:
		key = func(a, b *indexRow) int { return lastEmpty(assigneeKey[a.assignee], assigneeKey[b.assignee]) }
	default:
		slices.SortFunc(rows, func(a, b *indexRow) int {
			if reverse {
				return -activity(a, b)
			}
			return activity(a, b)
		})
		return
	}
	slices.SortFunc(rows, func(a, b *indexRow) int {
		c := key(a, b)
		if reverse {
			c = -c
		}
		if c != 0 {
			return c
		}
		return activity(a, b)
	})
}

func keyRune(r rune) rune {
	switch r = unicode.ToLower(r); r {
	case 'å':
		return '{'
	case 'ä', 'æ':
		return '|'
	case 'ö', 'ø':
		return '}'
	}
	if r >= 0xC0 && int(r) < len(foldTable) {
		if f := foldTable[r]; f != 0 {
			return f
		}
	}
	return r
}

// foldTable maps the accented Latin letters (Latin-1 Supplement and
// Latin Extended-A and -B) to their lower-case base letter; 0 where there
// is none.
var foldTable = func() [0x250]rune {
	var t [0x250]rune
	for r := rune(0xC0); r < 0x250; r++ {
		d := []rune(norm.NFD.String(string(unicode.ToLower(r))))
		if len(d) > 1 && d[0] < 0x80 && unicode.IsLetter(d[0]) {
			t[r] = d[0]
		}
	}
	// Letters that do not decompose.
	for from, to := range map[rune]rune{'ł': 'l', 'đ': 'd', 'ß': 's', 'ı': 'i', 'ħ': 'h', 'ŧ': 't'} {
		t[from] = to
	}
	return t
}()

// assigneeKeys are the keyed names of the assignees of x's rows, by code,
// for the Handläggare sort. A staff member the directory does not know
// sorts by their id, after the names.
func (s *CaseService) assigneeKeys(ctx context.Context, x *clinicIndex) (map[uint16]string, error) {
	staff, err := s.store.AllStaff(ctx)
	if err != nil {
		return nil, fmt.Errorf("find cases: staff names: %w", err)
	}
	names := make(map[ID]string, len(staff))
	for _, st := range staff {
		names[st.ID] = swedishKey(st.Name)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make(map[uint16]string, len(x.str))
	for c, v := range x.str {
		if c == 0 || v == "" {
			continue
		}
		if n, ok := names[ID(v)]; ok {
			out[uint16(c)] = n
		} else {
			out[uint16(c)] = "\x7f" + v
		}
	}
	return out, nil
}

// containsKey reports whether swedishKey(s) contains key, without
// allocating (subjects are not stored keyed, to save memory).
func containsKey(s, key string) bool {
	if key == "" {
		return true
	}
	for i := range s {
		if hasKeyPrefix(s[i:], key) {
			return true
		}
	}
	return false
}

func hasKeyPrefix(s, key string) bool {
	for _, k := range key {
		if s == "" {
			return false
		}
		r, n := utf8.DecodeRuneInString(s)
		if keyRune(r) != k {
			return false
		}
		s = s[n:]
	}
	return true
}

// compareKey compares swedishKey(a) with swedishKey(b) without allocating.
func compareKey(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(keyRune(ra), keyRune(rb)); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}
