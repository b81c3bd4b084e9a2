package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mottagning/storage"
	"net/http"
	"syscall"

	"mottagning/app"
	"mottagning/app/personnummer"
	"mottagning/client"
)

// Error codes the server adds to app.Code's. Every error response carries
// one of ErrorCodes.
const (
	codeUnauthenticated  = "unauthenticated"   // no, a forged, an expired or a revoked token
	codeTooLarge         = "too_large"         // body over MaxBody
	codeInvalidJSON      = "invalid_json"      // malformed JSON, an unknown field, trailing data
	codeMediaType        = "unsupported_media" // a body that is not application/json
	codeMethodNotAllowed = "method_not_allowed"
	codeNotFound         = "not_found"
	codeInternal         = "internal"
	codeNoSpace          = "insufficient_storage" // disk or quota full (ENOSPC, EDQUOT)
	codeDamaged          = "damaged_record"       // a stored record or page fails its check
	codeTOTPEnrolment    = "totp_enrollment_required"
	codeEIDUnavailable   = "eid_unavailable" // no e-ID provider configured
	codeTooManyAttempts  = "too_many_attempts"
	codeInvalid          = "invalid"
	codeForbidden        = "forbidden"
	codeDeviceRevoked    = "device_revoked"    // the device was revoked (signin.go: with the reason)
	codeDeviceProof      = "device_proof"      // a device named without its key's proof
	codeChallenge        = "challenge_invalid" // a device challenge expired, used or forged
)

// ErrorCodes lists every code with its HTTP status and Swedish message.
var ErrorCodes = map[string]struct {
	Status  int
	Message string
}{
	"not_found":          {http.StatusNotFound, "Det du söker finns inte."},
	"forbidden":          {http.StatusForbidden, "Du har inte behörighet till detta."},
	"invalid":            {http.StatusBadRequest, "Uppgifterna är inte giltiga. Kontrollera och försök igen."},
	"unreachable":        {http.StatusConflict, "Invånaren kan inte ta emot meddelanden i e-tjänsterna. Skicka ett brev eller ring i stället."},
	"not_answerable":     {http.StatusConflict, "Ärendet kan inte besvaras."},
	"proxy_not_allowed":  {http.StatusForbidden, "Du kan inte företräda barnet i e-tjänsterna."},
	"login_locked":       {http.StatusForbidden, "Inloggningen är låst. Kontakta 1177 för att låsa upp den."},
	"child_under_13":     {http.StatusForbidden, "Barn under 13 år kan inte logga in själva. En vårdnadshavare använder e-tjänsterna för barnet i ombudsläge."},
	"conflict":           {http.StatusConflict, "Ärendet har ändrats under tiden. Ladda om och försök igen."},
	"bad_credentials":    {http.StatusUnauthorized, "Fel användarnamn, lösenord eller engångskod."},
	"account_disabled":   {http.StatusForbidden, "Kontot är avstängt. Kontakta din behörighetsadministratör."},
	"unauthenticated":    {http.StatusUnauthorized, "Du behöver logga in (igen)."},
	"too_large":          {http.StatusRequestEntityTooLarge, "Förfrågan är för stor."},
	"invalid_json":       {http.StatusBadRequest, "Förfrågan kunde inte läsas."},
	"unsupported_media":  {http.StatusUnsupportedMediaType, "Förfrågan ska skickas som JSON."},
	"method_not_allowed": {http.StatusMethodNotAllowed, "Metoden stöds inte här."},
	"eid_unavailable":    {http.StatusServiceUnavailable, "Inloggning med e-legitimation är inte tillgänglig just nu."},
	"totp_required":      {http.StatusUnauthorized, "Skriv engångskoden från din autentiseringsapp (eller en reservkod)."},
	"device_revoked":     {http.StatusForbidden, "Datorn är spärrad i servern av en administratör. Kontakta IT-supporten eller behörighetsadministratören."},
	"device_proof":       {http.StatusForbidden, "Datorn kunde inte visa att den är den dator som registrerades. Kontakta IT-supporten."},
	"challenge_invalid":  {http.StatusUnauthorized, "Inloggningen tog för lång tid eller skickades två gånger. Försök igen."},
	"too_many_attempts":  {http.StatusTooManyRequests, "För många misslyckade försök. Vänta en stund och försök igen."},
	"internal":           {http.StatusInternalServerError, "Något gick fel i servern. Försök igen senare."},
	// The server's disk (or quota) is full: nothing of the request was
	// stored (a bbolt commit is all or nothing), and a retry later works.
	"insufficient_storage": {http.StatusInsufficientStorage, "Servern har inte plats att spara just nu, så inget sparades. Försök igen senare, och kontakta IT-supporten om det inte går över."},
	// A role of the account requires a second factor: nothing but its
	// enrolment until it has one.
	"totp_enrollment_required": {http.StatusForbidden, "Ditt konto kräver tvåstegsverifiering. Lägg till en autentiseringsapp innan du fortsätter."},
	// A record (or the page it is on) failed its check: it is not served.
	// The rest of the data is; the operator restores it from a backup.
	"damaged_record": {http.StatusInternalServerError, "Uppgifterna kan inte läsas eftersom de är skadade i serverns databas. Ingenting annat påverkas. Kontakta IT-supporten, som kan återställa dem från en säkerhetskopia."},
}

// writeErr writes an error body with the code's message.
func writeErr(w http.ResponseWriter, status int, code, field string, reasons ...client.Reason) {
	msg := ErrorCodes[code].Message
	if msg == "" {
		msg = ErrorCodes[codeInternal].Message
	}
	writeJSON(w, status, client.Error{Code: code, Message: msg, Field: field, Reasons: reasons})
}

// fail maps err to a response. The body carries only the stable code, the
// code's Swedish message and coded reasons, never err's text. An internal
// error is logged with its text: by convention (STYLE.md) app errors carry
// operation and ids only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := app.Code(err)
	var tooMany *app.TooManyAttemptsError
	if errors.As(err, &tooMany) {
		code = codeTooManyAttempts
	}
	if errors.Is(err, ErrTOTPRequired) {
		code = "totp_required"
	}
	if errors.Is(err, ErrUnauthenticated) {
		code = codeUnauthenticated
	}
	if diskFull(err) {
		code = codeNoSpace
	}
	if errors.Is(err, storage.ErrCorruptValue) || errors.Is(err, storage.ErrDamaged) {
		code = codeDamaged
	}
	var pnrErr = personnummerError(err)
	if pnrErr {
		code = codeInvalid
	}
	info, ok := ErrorCodes[code]
	if !ok {
		code, info = codeInternal, ErrorCodes[codeInternal]
	}
	var field string
	var reasons []client.Reason
	var fe *app.FieldError
	var ue *app.UnreachableError
	var pe *app.ProxyError
	switch {
	case errors.As(err, &fe):
		field = fe.Field
		reasons = []client.Reason{{Code: fe.Code, Message: fe.Text}}
	case pnrErr:
		field = "personnummer"
	case errors.As(err, &ue):
		for _, b := range ue.Reasons {
			reasons = append(reasons, client.Reason{Code: string(b), Message: b.Message()})
		}
	case errors.As(err, &pe):
		reasons = []client.Reason{{Code: string(pe.Reason), Message: pe.Reason.Message()}}
	}
	switch code {
	case codeInternal:
		s.log.Error("request failed", "route", r.Pattern, "err", err)
	case codeNoSpace:
		s.log.Error("disk full: request not stored", "route", r.Pattern, "err", err)
	default:
		s.log.Debug("request refused", "route", r.Pattern, "code", code)
	}
	writeErr(w, info.Status, code, field, reasons...)
}

// diskFull reports whether err comes from a full disk or quota.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, errQuota)
}

// personnummerError reports whether err is one of package personnummer's
// parse errors (their texts never contain the input).
func personnummerError(err error) bool {
	for _, e := range []error{personnummer.ErrEmpty, personnummer.ErrFormat, personnummer.ErrReserve, personnummer.ErrDate,
		personnummer.ErrChecksum, personnummer.ErrFuture, personnummer.ErrSerialZero} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// errBody is a decoding failure, already coded.
type errBody struct {
	status int
	code   string
}

func (e *errBody) Error() string { return "request body: " + e.code }

// decode reads a JSON body strictly into v: at most MaxBody bytes, an
// application/json content type, no unknown fields, nothing after the
// value. On failure it has written the error response and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeBody(w, r, v); err != nil {
		var eb *errBody
		if errors.As(err, &eb) {
			writeErr(w, eb.status, eb.code, "")
		} else {
			writeErr(w, http.StatusBadRequest, codeInvalidJSON, "")
		}
		return false
	}
	return true
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &errBody{http.StatusUnsupportedMediaType, codeMediaType}
		}
	}
	if r.ContentLength > MaxBody {
		return &errBody{http.StatusRequestEntityTooLarge, codeTooLarge}
	}
	body := http.MaxBytesReader(w, r.Body, MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &errBody{http.StatusRequestEntityTooLarge, codeTooLarge}
		}
		return &errBody{http.StatusBadRequest, codeInvalidJSON}
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &errBody{http.StatusRequestEntityTooLarge, codeTooLarge}
		}
		return &errBody{http.StatusBadRequest, codeInvalidJSON}
	}
	return nil
}

// invalid is an ErrInvalid for a request field, with the field's name.
func invalid(field string) error {
	return &app.FieldError{Field: field, Code: "invalid_" + field, Text: "Fältet är inte giltigt."}
}
