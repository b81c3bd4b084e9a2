package ui

// Language of the window: Swedish by default, or English.
//
// # Message ids
//
// Every text a screen shows has a stable message id, a dotted name such as
// "send.case_cannot_sent" or "common.cancel": the part before the dot is
// the file that owns the text ("common" when several files share it), the
// rest was made from the English text when the id was created. An id is
// never changed when either text is reworded, so a translation is not lost
// when the Swedish changes (it was, when the Swedish text was the key).
//
// The texts are in two files of the same shape, embedded from package
// assets: assets/translations/sv.json and en.json, each a flat JSON object
// from id to text. Both must hold the same ids (a test checks that, and
// that every id the code uses is in them and every id in them is used).
//
// Code uses ids where it shows a text: L(id), or Lf(id, args…) for a text
// with numbers or names in it (fmt verbs; the English may reorder them
// with explicit indexes, %[2]s). The text constants at the top of each file
// hold ids. An id kept in a table and translated later, where it is shown
// (column titles, role explanations), is marked with K so that the key
// test finds it.
//
// # Texts from package app
//
// Package app stays Swedish and free of Fyne: the texts it hands to the UI
// (st.Label(), BlockReason.Message(), lint messages, the personnummer
// errors, and the texts of packages export and personnummer) are Swedish
// sentences, and so are package sync's (sync.Message, a server's reason for
// a refused change). They have ids under "app." and "sync." in the same
// files, and L translates such a sentence through them: L(st.Label())
// looks the Swedish sentence up among the app.* and sync.* texts and
// returns the text of its id in the window's language. A text that is neither an id nor an
// app text (a clinic's own name, an e-service title a manager wrote) is
// returned unchanged. The key test reads app's sources so that a new app
// text without an entry is noticed.
//
// # Choosing the language
//
// The language is chosen once, on the first L (or by SetLanguage before
// that):
//
//  1. SetLanguage("sv"|"en"), which main calls for --lang and for the
//     choice stored in Preferences, wins;
//  2. then the environment variable MOTTAGNING_LANG=sv|en;
//  3. otherwise English when the system's language is English, and Swedish
//     in every other case: another language, no locale, or LANG=C/POSIX
//     (tests, CI and Xvfb screenshots therefore stay Swedish). On Linux and
//     the BSDs the system language is read from the environment the way
//     gettext and Fyne read it (LC_ALL, LC_MESSAGES, LANG; LANGUAGE unless
//     the locale is C or POSIX); on macOS and Windows it is Fyne's
//     lang.SystemLocale() (the system's preferred language).
//
// Our own texts never go through Fyne's localizer, which follows the
// system's locale rather than the window's language. Fyne's own texts
// (file dialogs, the entry's menu, dialog buttons) do: for a Swedish
// window assets/translations/fyne-sv.json is registered for Swedish and,
// when the system's language is another, for that locale too; for an
// English window on Linux and the BSDs LANGUAGE=en is set, so that they are
// English (programs started from the window, the PDF viewer for Skriv ut,
// inherit it). On macOS and Windows an English window on a system in
// another language shows Fyne's texts in that language, if Fyne has it.
//
// Swedish stays what residents receive: the notification texts (R4,
// app.SMSText and the e-mail) and the exported PDF (package export, for the
// journal) are not translated.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"mottagning/app"
	"mottagning/assets"
	"mottagning/export"
)

// LangEnv is the environment variable that chooses the language: sv or en.
const LangEnv = "MOTTAGNING_LANG"

// Language states of langState.
const (
	langUndecided int32 = iota
	langSwedish
	langEnglish
)

var (
	langState atomic.Int32
	langMu    sync.Mutex // serialises deciding and registering
	enOnce    sync.Once
)

// The message tables, read once from the embedded files.
var (
	tablesOnce sync.Once
	svTexts    map[string]string // id → Swedish
	enTexts    map[string]string // id → English
	appTextIDs map[string]string // Swedish text of package app or sync → its app.* or sync.* id
)

func loadTables() {
	tablesOnce.Do(func() {
		svTexts = readTable("sv.json", assets.TranslationsSV)
		enTexts = readTable("en.json", assets.TranslationsEN)
		appTextIDs = make(map[string]string)
		for id, s := range svTexts {
			if strings.HasPrefix(id, "app.") || strings.HasPrefix(id, "sync.") {
				appTextIDs[s] = id
			}
		}
	})
}

func readTable(name string, data []byte) map[string]string {
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		// Embedded and tested: this cannot happen in a built binary.
		slog.Error("read translation table", "file", name, "err", err)
	}
	return m
}

// SetLanguage chooses the language of the window: "sv", "en", or "" for
// the default (MOTTAGNING_LANG, then the system's language). Call it
// before New; texts already shown keep their language.
func SetLanguage(code string) error {
	switch c := strings.ToLower(strings.TrimSpace(code)); c {
	case "sv":
		setEnglish(false)
	case "en":
		setEnglish(true)
	case "":
		langMu.Lock()
		langState.Store(langUndecided)
		langMu.Unlock()
	default:
		return fmt.Errorf("unknown language %q: want sv or en", code)
	}
	return nil
}

// English reports whether the window is in English.
func English() bool {
	s := langState.Load()
	if s == langUndecided {
		s = decideLanguage()
	}
	return s == langEnglish
}

// L is the text of a message id in the window's language. Given the Swedish
// text of package app instead of an id, it is that text's translation; any
// other text is returned unchanged (see the package comment above).
func L(s string) string {
	if s == "" {
		return s
	}
	loadTables()
	sv, ok := svTexts[s]
	id := s
	if !ok {
		if id, ok = appTextIDs[s]; !ok {
			return s
		}
		sv = s
	}
	if English() {
		if en := enTexts[id]; en != "" {
			return en
		}
	}
	return sv
}

// Lf is fmt.Sprintf with the text of a message id as the format:
// Lf("caselist.of_cases", shown, total).
func Lf(id string, args ...any) string {
	return fmt.Sprintf(L(id), args...)
}

// K marks a message id that is kept now and translated with L where it is
// shown (tables of column titles and the like). It returns id unchanged;
// it exists so that the key test finds the id.
func K(id string) string { return id }

func decideLanguage() int32 {
	langMu.Lock()
	defer langMu.Unlock()
	if s := langState.Load(); s != langUndecided {
		return s
	}
	en := false
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(LangEnv))); {
	case v == "en" || strings.HasPrefix(v, "en_") || strings.HasPrefix(v, "en-"):
		en = true
	case v == "sv" || strings.HasPrefix(v, "sv_") || strings.HasPrefix(v, "sv-"):
	case v != "":
		slog.Warn(LangEnv+" ignored: want sv or en", "value", v)
		en = systemLanguage() == "en"
	default:
		en = systemLanguage() == "en"
	}
	return storeLanguage(en)
}

func setEnglish(en bool) {
	langMu.Lock()
	defer langMu.Unlock()
	storeLanguage(en)
}

// storeLanguage sets Fyne's own texts to the language and records the
// choice; langMu is held.
func storeLanguage(en bool) int32 {
	if en {
		registerEnglish()
	} else {
		registerFyneSwedish()
	}
	s := langSwedish
	if en {
		s = langEnglish
	}
	langState.Store(s)
	return s
}

// registerEnglish makes Fyne's own texts English for an English window on
// Linux and the BSDs (see the package comment above). Our texts do not
// need it.
func registerEnglish() {
	enOnce.Do(func() {
		if runtime.GOOS != "darwin" && runtime.GOOS != "windows" && runtime.GOOS != "ios" && runtime.GOOS != "android" {
			// go-locale reads LANGUAGE unless the locale is C/POSIX, and
			// with C/POSIX Fyne's localizer is English anyway.
			if err := os.Setenv("LANGUAGE", "en"); err != nil {
				slog.Warn("set LANGUAGE", "err", err)
			}
		}
		// Fyne read the locale when package lang was initialised; adding
		// translations makes it read it again (an empty table adds none).
		if err := lang.AddTranslationsForLocale([]byte("{}"), fyne.Locale("en")); err != nil {
			slog.Warn("refresh Fyne's locale", "err", err)
		}
	})
}

// registerFyneSwedish makes Fyne's own texts (file dialogs, the entry's
// menu, dialog buttons) Swedish in a Swedish window: Fyne's localizer
// follows the system's language, which may be English or unset.
func registerFyneSwedish() {
	svOnce.Do(func() {
		if runtime.GOOS != "darwin" && runtime.GOOS != "windows" && runtime.GOOS != "ios" && runtime.GOOS != "android" {
			if err := os.Setenv("LANGUAGE", "sv"); err != nil {
				slog.Warn("set LANGUAGE", "err", err)
			}
		}
		if err := lang.AddTranslationsForLocale(assets.FyneSV, fyne.Locale("sv")); err != nil {
			slog.Error("load Swedish texts for Fyne", "err", err)
			return
		}
		if lang.L("Cancel") != "Avbryt" {
			// The localizer follows another system language: give that
			// locale the Swedish texts too.
			if err := lang.AddTranslationsForLocale(assets.FyneSV, lang.SystemLocale()); err != nil {
				slog.Error("load Swedish texts for Fyne", "locale", string(lang.SystemLocale()), "err", err)
			}
		}
	})
}

var svOnce sync.Once

// systemLanguage is the language part of the system's locale ("en", "sv",
// …), or "" when there is none or it is C/POSIX.
func systemLanguage() string {
	var loc string
	switch runtime.GOOS {
	case "darwin", "windows", "ios", "android":
		loc = string(lang.SystemLocale())
	default:
		loc = unixLocale()
	}
	loc = strings.ToLower(loc)
	if i := strings.IndexAny(loc, "_-.@"); i >= 0 {
		loc = loc[:i]
	}
	if loc == "c" || loc == "posix" {
		return ""
	}
	return loc
}

// unixLocale reads the locale as gettext (and go-locale, for Fyne) do.
func unixLocale() string {
	var loc string
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = os.Getenv(env); loc != "" {
			break
		}
	}
	if loc == "" || loc == "C" || loc == "POSIX" {
		return loc
	}
	if languages := os.Getenv("LANGUAGE"); languages != "" {
		return strings.Split(languages, ":")[0]
	}
	return loc
}

// Texts package app and package export make, in the window's language.

// signInText is app.SignInMessage in the window's language.
func signInText(err error, now time.Time) string {
	var tm *app.TooManyAttemptsError
	if English() && errors.As(err, &tm) {
		wait := tm.Until.Sub(now).Round(time.Second)
		if wait < time.Second {
			wait = time.Second
		}
		return fmt.Sprintf("Too many wrong attempts. Wait %s and try again.", englishDuration(wait))
	}
	return L(app.SignInMessage(err, now))
}

// englishDuration is app's swedishDuration in English.
func englishDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	}
	m := int((d + 59*time.Second) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// errorText is the text of an error made for users (the personnummer
// errors, which are Swedish and never contain the input).
func errorText(err error) string { return L(err.Error()) }

// replyAlertFormat is the body of app.ReplyAlertText with the clinic's name
// as %s; the key test checks that it still matches app's text.
const replyAlertFormat = "lang.case_has_new_reply_from"

// replyAlert is app.ReplyAlertText in the window's language.
func replyAlert(clinic string) (title, body string) {
	title, body = app.ReplyAlertText(clinic)
	if !English() {
		return title, body
	}
	return L(title), Lf(replyAlertFormat, clinic)
}

var englishMonths = [...]string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

// dateTime is export.DateTime in the window's language: "12 mars 2025
// 09:30" or "12 March 2025 09:30", Stockholm time.
func dateTime(t time.Time) string {
	if !English() {
		return export.DateTime(t)
	}
	t = t.In(app.Stockholm)
	return fmt.Sprintf("%d %s %d %02d:%02d", t.Day(), englishMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// dayTime is export.DayTime in the window's language.
func dayTime(t, ref time.Time) string {
	if !English() {
		return export.DayTime(t, ref)
	}
	t = t.In(app.Stockholm)
	if t.Year() != ref.In(app.Stockholm).Year() {
		return dateTime(t)
	}
	return fmt.Sprintf("%d %s %02d:%02d", t.Day(), englishMonths[t.Month()-1], t.Hour(), t.Minute())
}

// readText is export.ReadText in the window's language.
func readText(m *app.Message) string {
	if !English() {
		return export.ReadText(m)
	}
	if m.ReadByResident.IsZero() {
		return L(export.TextUnread)
	}
	return Lf("lang.read_by_resident", dayTime(m.ReadByResident, m.At))
}

// longDate is a day in the window's language: "13 mars 2025" or "13 March
// 2025", Stockholm time.
func longDate(t time.Time) string {
	t = t.In(app.Stockholm)
	m := swedishMonths[t.Month()-1]
	if English() {
		m = englishMonths[t.Month()-1]
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
}

var swedishMonths = [...]string{"januari", "februari", "mars", "april", "maj", "juni", "juli",
	"augusti", "september", "oktober", "november", "december"}
