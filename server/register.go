package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"mottagning/app"
	"mottagning/app/personnummer"
)

// The population register import (R12): names, addresses, protected
// identity, deceased and guardianships come only from here. The formats
// are documented in docs/register-format.md.

// RegisterPerson is one validated row of a register file.
type RegisterPerson struct {
	Line      int // 1-based line (CSV) or record number (JSON), for errors
	PNR       personnummer.Number
	Register  app.Register
	Guardians []personnummer.Number
}

// RegisterError names the line and field of a refused row. It never
// contains the value: it may be a personnummer or a name.
type RegisterError struct {
	Line    int
	Field   string
	Problem string
}

func (e *RegisterError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("register file, line %d: %s", e.Line, e.Problem)
	}
	return fmt.Sprintf("register file, line %d, field %s: %s", e.Line, e.Field, e.Problem)
}

// Unwrap makes every RegisterError an app.ErrInvalid.
func (e *RegisterError) Unwrap() error { return app.ErrInvalid }

// The CSV columns, in this order, with this header line.
var registerColumns = []string{"personnummer", "fornamn", "efternamn", "gatuadress", "postnummer", "postort",
	"skyddad_identitet", "avliden", "vardnadshavare"}

// MaxRegisterFile bounds a register file (256 MiB: a large region).
const MaxRegisterFile = 256 << 20

// Field length limits.
const (
	maxNameLen    = 100
	maxAddressLen = 200
	maxGuardians  = 4
)

// registerJSON is the JSON form: {"format": "mottagning-register/1", "persons": [...]}.
type registerJSON struct {
	Format  string               `json:"format"`
	Persons []registerJSONPerson `json:"persons"`
}

type registerJSONPerson struct {
	Personnummer     string   `json:"personnummer"`
	Fornamn          string   `json:"fornamn"`
	Efternamn        string   `json:"efternamn"`
	Gatuadress       string   `json:"gatuadress"`
	Postnummer       string   `json:"postnummer"`
	Postort          string   `json:"postort"`
	SkyddadIdentitet bool     `json:"skyddad_identitet"`
	Avliden          bool     `json:"avliden"`
	Vardnadshavare   []string `json:"vardnadshavare"`
}

// RegisterFormatJSON is the format tag of the JSON form.
const RegisterFormatJSON = "mottagning-register/1"

// ParseRegister reads and validates a whole register file, CSV or JSON
// (decided by the first non-space byte: '{' is JSON). It returns the first
// problem as a *RegisterError naming the line and field; nothing is
// returned half: either every row is valid or none is used. Guardians are
// checked against the file here and against the database by ImportRegister.
func ParseRegister(r io.Reader, now time.Time) ([]RegisterPerson, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRegisterFile+1))
	if err != nil {
		return nil, fmt.Errorf("read register file: %w", err)
	}
	if len(data) > MaxRegisterFile {
		return nil, &RegisterError{Line: 0, Problem: fmt.Sprintf("the file is larger than %d MiB", MaxRegisterFile>>20)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, &RegisterError{Line: firstInvalidLine(data), Problem: "not UTF-8 text"}
	}
	var persons []RegisterPerson
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		persons, err = parseRegisterJSON(data, now)
	} else {
		persons, err = parseRegisterCSV(data, now)
	}
	if err != nil {
		return nil, err
	}
	if len(persons) == 0 {
		return nil, &RegisterError{Line: 1, Problem: "the file holds no person"}
	}
	seen := make(map[personnummer.Number]int, len(persons))
	for _, p := range persons {
		if first, dup := seen[p.PNR]; dup {
			return nil, &RegisterError{Line: p.Line, Field: "personnummer", Problem: fmt.Sprintf("the same person as on line %d", first)}
		}
		seen[p.PNR] = p.Line
	}
	return persons, nil
}

func firstInvalidLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, n := utf8.DecodeRune(data)
		if r == utf8.RuneError && n <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[n:]
	}
	return line
}

func parseRegisterCSV(data []byte, now time.Time) ([]RegisterPerson, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, csvError(err, 1)
	}
	line, _ := cr.FieldPos(0)
	if len(header) != len(registerColumns) {
		return nil, &RegisterError{Line: line, Problem: "the header must be: " + strings.Join(registerColumns, ",")}
	}
	for i, h := range header {
		if strings.ToLower(strings.TrimSpace(h)) != registerColumns[i] {
			return nil, &RegisterError{Line: line, Field: fmt.Sprintf("column %d", i+1), Problem: fmt.Sprintf("want %q; the header must be: %s", registerColumns[i], strings.Join(registerColumns, ","))}
		}
	}
	var out []RegisterPerson
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvError(err, line)
		}
		line, _ = cr.FieldPos(0)
		if len(rec) != len(registerColumns) {
			return nil, &RegisterError{Line: line, Problem: fmt.Sprintf("%d fields, want %d", len(rec), len(registerColumns))}
		}
		b := func(i int) (bool, error) {
			switch strings.ToLower(strings.TrimSpace(rec[i])) {
			case "", "nej", "n", "0", "false":
				return false, nil
			case "ja", "j", "1", "true":
				return true, nil
			}
			return false, &RegisterError{Line: line, Field: registerColumns[i], Problem: "want ja or nej"}
		}
		prot, err := b(6)
		if err != nil {
			return nil, err
		}
		dead, err := b(7)
		if err != nil {
			return nil, err
		}
		var gs []string
		if g := strings.TrimSpace(rec[8]); g != "" {
			gs = strings.Split(g, ";")
		}
		p, err := registerPerson(line, now, rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], prot, dead, gs)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
}

func csvError(err error, line int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &RegisterError{Line: pe.Line, Problem: "broken CSV: " + pe.Err.Error()}
	}
	if err == io.EOF {
		return &RegisterError{Line: line, Problem: "the file is empty"}
	}
	return &RegisterError{Line: line, Problem: "broken CSV"}
}

func parseRegisterJSON(data []byte, now time.Time) ([]RegisterPerson, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f registerJSON
	if err := dec.Decode(&f); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, &RegisterError{Line: lineAt(data, se.Offset), Problem: "broken JSON"}
		case errors.As(err, &te):
			return nil, &RegisterError{Line: lineAt(data, te.Offset), Field: te.Field, Problem: "wrong JSON type"}
		}
		// Unknown fields: the decoder's text names the field (a key, not a value).
		return nil, &RegisterError{Line: 1, Problem: strings.TrimPrefix(err.Error(), "json: ")}
	}
	if f.Format != RegisterFormatJSON {
		return nil, &RegisterError{Line: 1, Field: "format", Problem: fmt.Sprintf("want %q", RegisterFormatJSON)}
	}
	out := make([]RegisterPerson, 0, len(f.Persons))
	for i, jp := range f.Persons {
		p, err := registerPerson(i+1, now, jp.Personnummer, jp.Fornamn, jp.Efternamn, jp.Gatuadress, jp.Postnummer, jp.Postort,
			jp.SkyddadIdentitet, jp.Avliden, jp.Vardnadshavare)
		if err != nil {
			if re, ok := err.(*RegisterError); ok {
				re.Problem += fmt.Sprintf(" (person %d in \"persons\")", i+1)
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// registerPerson validates one row. A protected person's address is not
// kept even if the file has one (R9: it is never shown, so it is better
// not stored).
func registerPerson(line int, now time.Time, pnr, given, family, street, postal, city string, prot, dead bool, guardians []string) (RegisterPerson, error) {
	bad := func(field, problem string) (RegisterPerson, error) {
		return RegisterPerson{}, &RegisterError{Line: line, Field: field, Problem: problem}
	}
	p := RegisterPerson{Line: line}
	n, err := personnummer.ParseAt(pnr, now)
	if err != nil {
		return bad("personnummer", pnrProblem(err))
	}
	p.PNR = n
	text := func(field, v string, max int, required bool) (string, error) {
		v = strings.TrimSpace(v)
		switch {
		case required && v == "":
			return "", &RegisterError{Line: line, Field: field, Problem: "empty"}
		case utf8.RuneCountInString(v) > max:
			return "", &RegisterError{Line: line, Field: field, Problem: fmt.Sprintf("longer than %d characters", max)}
		case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
			return "", &RegisterError{Line: line, Field: field, Problem: "contains a control character"}
		}
		return v, nil
	}
	reg := app.Register{ProtectedIdentity: prot, Deceased: dead}
	if reg.GivenName, err = text("fornamn", given, maxNameLen, true); err != nil {
		return RegisterPerson{}, err
	}
	if reg.FamilyName, err = text("efternamn", family, maxNameLen, true); err != nil {
		return RegisterPerson{}, err
	}
	var a app.Address
	if a.Street, err = text("gatuadress", street, maxAddressLen, false); err != nil {
		return RegisterPerson{}, err
	}
	if a.PostalCode, err = text("postnummer", postal, 10, false); err != nil {
		return RegisterPerson{}, err
	}
	if a.City, err = text("postort", city, maxNameLen, false); err != nil {
		return RegisterPerson{}, err
	}
	if a.PostalCode != "" && !validPostalCode(a.PostalCode) {
		return bad("postnummer", "want five digits, e.g. 553 20")
	}
	if !prot {
		reg.Address = a
	}
	p.Register = reg
	if len(guardians) > maxGuardians {
		return bad("vardnadshavare", fmt.Sprintf("more than %d guardians", maxGuardians))
	}
	for i, g := range guardians {
		gn, err := personnummer.ParseAt(g, now)
		if err != nil {
			return bad(fmt.Sprintf("vardnadshavare (number %d)", i+1), pnrProblem(err))
		}
		if gn == n {
			return bad("vardnadshavare", "a person cannot be their own guardian")
		}
		p.Guardians = append(p.Guardians, gn)
	}
	return p, nil
}

func validPostalCode(s string) bool {
	d := strings.ReplaceAll(s, " ", "")
	if len(d) != 5 {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// pnrProblem names what is wrong with a personnummer, never the number.
func pnrProblem(err error) string {
	switch {
	case errors.Is(err, personnummer.ErrEmpty):
		return "empty"
	case errors.Is(err, personnummer.ErrChecksum):
		return "the check digit is wrong"
	case errors.Is(err, personnummer.ErrDate):
		return "the date does not exist"
	case errors.Is(err, personnummer.ErrFuture):
		return "the birth date is in the future"
	case errors.Is(err, personnummer.ErrReserve):
		return "a reserve number, not a personnummer"
	case errors.Is(err, personnummer.ErrSerialZero):
		return "serial number 000, which is never issued"
	}
	return "not a personnummer (want ÅÅÅÅMMDD-NNNN)"
}

// ImportResult counts what an import did. It is also the JSON answer of
// POST /admin/import-register (field names as here).
type ImportResult struct {
	Created, Updated, Unchanged int
	// BlocksKept counts the guardian blocks on the file's persons that are
	// still in force after the import: an import never lifts a lokal
	// administratör's block (app.ApplyRegister). BlocksHeld counts those
	// of them held for guardians the file no longer lists; they apply
	// again if a later file lists the guardian.
	BlocksKept, BlocksHeld int
}

// ImportRegister applies a parsed register file to the store in one
// transaction, under the gate's exclusive lock so that no sign-in or
// settings change between reading and writing a resident is lost. An
// existing resident (found by personnummer) gets the new register data and
// guardians through app.ApplyRegister, keeping account, settings, the
// guardians' contact details and every guardian block (counted in the
// result); a new one is created without an account
// (R1: it is activated by the first sign-in). Cases are never touched, and
// nobody is deleted. A guardian must be in the file or already in the
// database; otherwise nothing is written.
func ImportRegister(ctx context.Context, g *Gate, persons []RegisterPerson, now time.Time) (ImportResult, error) {
	var res ImportResult
	err := g.Exclusive(func() error {
		byPNR := make(map[personnummer.Number]*app.Resident, len(persons))
		changed := make([]*app.Resident, 0, len(persons))
		existing := make(map[*app.Resident]bool, len(persons))
		for _, p := range persons {
			r, err := g.Store.ResidentByPNR(ctx, p.PNR)
			switch {
			case err == nil:
				existing[r] = true
			case errors.Is(err, app.ErrNotFound):
				r = &app.Resident{ID: app.NewID(now), PNR: p.PNR}
			default:
				return fmt.Errorf("import register, line %d: %w", p.Line, err)
			}
			byPNR[p.PNR] = r
		}
		for _, p := range persons {
			r := byPNR[p.PNR]
			ids := make([]app.ID, 0, len(p.Guardians))
			for i, gp := range p.Guardians {
				gr := byPNR[gp]
				if gr == nil {
					found, err := g.Store.ResidentByPNR(ctx, gp)
					if errors.Is(err, app.ErrNotFound) {
						return &RegisterError{Line: p.Line, Field: fmt.Sprintf("vardnadshavare (number %d)", i+1), Problem: "not in the file nor in the register already imported"}
					}
					if err != nil {
						return fmt.Errorf("import register, line %d: %w", p.Line, err)
					}
					gr = found
				}
				ids = append(ids, gr.ID)
			}
			type registered struct {
				R app.Register
				G []app.Guardianship
				H []app.Guardianship
			}
			before, _ := json.Marshal(registered{r.Register, r.Guardians, r.HeldBlocks})
			kept, held := app.ApplyRegister(r, p.Register, ids)
			res.BlocksKept += kept
			res.BlocksHeld += held
			after, _ := json.Marshal(registered{r.Register, r.Guardians, r.HeldBlocks})
			switch {
			case !existing[r]:
				res.Created++
			case bytes.Equal(before, after):
				res.Unchanged++
				continue
			default:
				res.Updated++
			}
			r.UpdatedAt = now
			changed = append(changed, r)
		}
		if len(changed) == 0 {
			return nil
		}
		// The gate's write lock is held: write through the store itself.
		return g.Store.PutResidents(ctx, changed)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// ImportRegister imports a register file into the running server and
// rebuilds the guardian index.
func (s *Server) ImportRegister(ctx context.Context, r io.Reader) (ImportResult, error) {
	persons, err := ParseRegister(r, s.clock.Now())
	if err != nil {
		return ImportResult{}, err
	}
	res, err := ImportRegister(ctx, s.gate, persons, s.clock.Now())
	if err != nil {
		return ImportResult{}, err
	}
	if err := s.children.reload(ctx); err != nil {
		return res, fmt.Errorf("import register: guardian index: %w", err)
	}
	return res, nil
}
