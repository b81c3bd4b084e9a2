package ui

// Language of the window: Swedish by default, English through Fyne's
// translation support (fyne.io/fyne/v2/lang).
//
// # Keys
//
// The Swedish texts are the keys. Every text a screen shows goes through L
// (or Lf for a text with numbers or names in it) where it is used; the text
// constants at the top of each file stay Swedish and are the keys of
// assets/translations/en.json. A Swedish text that is kept in a table and
// translated later, where it is shown (column titles, role explanations),
// is marked with K so that the key test finds it. Texts that package app
// hands to the UI (st.Label(), BlockReason.Message(), lint messages, the
// personnummer errors …) are translated at this boundary, L(st.Label()), so
// that app stays Swedish and free of Fyne; their keys are in en.json too.
//
// Numbers and names go in with fmt verbs: Lf("%d ärenden", n) is
// fmt.Sprintf(L("%d ärenden"), n). The English format may reorder its
// arguments with explicit indexes (%[2]s). Fyne's {{.N}} templates are not
// used, so that the Swedish output is exactly what fmt.Sprintf made before.
//
// # Choosing the language
//
// The language is chosen once, on the first L (or by SetLanguage before
// that):
//
//  1. SetLanguage("sv"|"en"), which main calls for --lang, wins;
//  2. then the environment variable MOTTAGNING_LANG=sv|en;
//  3. otherwise English when the system's language is English, and Swedish
//     in every other case: another language, no locale, or LANG=C/POSIX
//     (tests, CI and Xvfb screenshots therefore stay Swedish). On Linux and
//     the BSDs the system language is read from the environment the way
//     gettext and Fyne read it (LC_ALL, LC_MESSAGES, LANG; LANGUAGE unless
//     the locale is C or POSIX); on macOS and Windows it is Fyne's
//     lang.SystemLocale() (the system's preferred language).
//
// When the language is Swedish, L returns its argument unchanged and Fyne's
// lang package is never asked, so nothing depends on Fyne's localizer.
//
// When it is English, assets/translations/en.json is registered with
// lang.AddTranslationsForLocale(data, "en") and L is lang.L. Fyne's
// localizer follows the system's locale, not ours, and a key missing from
// the localizer's language falls back to the Swedish key (go-i18n reports it
// as not found and lang.L then returns the key), so English must be the
// localizer's language:
//
//   - On Linux and the BSDs, LANGUAGE=en is set in the process environment
//     before the translations are registered (registering re-reads the
//     locale). Fyne's own texts (file dialogs, the entry's context menu)
//     then follow in English too. Programs started from the window (the PDF
//     viewer for Skriv ut) inherit LANGUAGE=en.
//   - On macOS and Windows, go-locale asks the system and ignores the
//     environment. When a probe shows that lookups still are not English
//     (the system's language is, say, Swedish), the same English table is
//     registered for the system's locale as well, which is then the
//     localizer's exact match: every Mottagning text is English. Fyne's own
//     few texts are then looked up in that locale's table, which holds only
//     ours, and show in Fyne's English defaults.
//
// Swedish stays what residents receive: the notification texts (R4,
// app.SMSText and the e-mail) and the exported PDF (package export, for the
// journal) are not translated.

import (
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
	enOK      bool // the English table is registered and lookups are English
)

// probeKey is a key of en.json whose English text shows that lookups
// really are English.
const (
	probeKey  = "Logga in"
	probeWant = "Sign in"
)

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

// L translates a Swedish UI text into the window's language. In Swedish it
// returns s unchanged. A text without an English entry stays Swedish.
func L(s string) string {
	if !English() || s == "" {
		return s
	}
	return lang.L(s)
}

// Lf is fmt.Sprintf with a translated format: Lf("%d ärenden", n).
func Lf(format string, args ...any) string {
	return fmt.Sprintf(L(format), args...)
}

// K marks a Swedish text that is kept now and translated with L where it
// is shown (tables of column titles and the like). It returns s unchanged;
// it exists so that the key test finds the text.
func K(s string) string { return s }

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

// storeLanguage registers the English table when needed and records the
// choice; langMu is held. Without a working English table it stays Swedish.
func storeLanguage(en bool) int32 {
	if en && !registerEnglish() {
		en = false
	}
	if !en {
		registerFyneSwedish()
	}
	s := langSwedish
	if en {
		s = langEnglish
	}
	langState.Store(s)
	return s
}

// registerEnglish gives Fyne's lang package the English table and makes
// sure lookups are English (see the package comment above); it reports
// whether they are.
func registerEnglish() bool {
	enOnce.Do(func() {
		if runtime.GOOS != "darwin" && runtime.GOOS != "windows" && runtime.GOOS != "ios" && runtime.GOOS != "android" {
			// go-locale reads LANGUAGE unless the locale is C/POSIX, and
			// with C/POSIX Fyne's localizer is English anyway.
			if err := os.Setenv("LANGUAGE", "en"); err != nil {
				slog.Warn("set LANGUAGE", "err", err)
			}
		}
		if err := lang.AddTranslationsForLocale(assets.TranslationsEN, fyne.Locale("en")); err != nil {
			slog.Error("load English translations", "err", err)
			return
		}
		if lang.L(probeKey) != probeWant {
			// The localizer follows a system language other than English
			// (macOS, Windows): give that locale the English table too.
			loc := lang.SystemLocale()
			if err := lang.AddTranslationsForLocale(assets.TranslationsEN, loc); err != nil {
				slog.Error("load English translations", "locale", string(loc), "err", err)
				return
			}
		}
		enOK = lang.L(probeKey) == probeWant
		if !enOK {
			slog.Warn("English texts are not available; the window stays Swedish")
		}
	})
	return enOK
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
const replyAlertFormat = "Ett ärende i %s har fått ett nytt svar från en invånare."

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
	return Lf("Läst av invånaren %s", dayTime(m.ReadByResident, m.At))
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
