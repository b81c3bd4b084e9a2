package main

// What the program does before the window: where its files are, its log
// file, its language and how a failure to start reaches a user who
// started it from an icon (a window, not only stderr).

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/BurntSushi/toml"
	"gopkg.in/natefinch/lumberjack.v2"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"mottagning/ui"
)

// langPref is the Preferences key of the language chosen in the window
// (ui.LanguageMenu); --lang and MOTTAGNING_LANG win over it.
const langPref = ui.LangPref

// appMeta is FyneApp.toml's [Details] and [Migrations].
type appMeta struct {
	Details struct {
		ID, Name, Version string
		Build             int
	}
	Migrations map[string]bool
}

func readMeta() (appMeta, error) {
	var m appMeta
	_, err := toml.Decode(string(fyneAppTOML), &m)
	return m, err
}

// version is what --version, the About box and the log's first line say:
// FyneApp.toml's version and build.
func version() string {
	m, err := readMeta()
	if err != nil || m.Details.Version == "" {
		return "dev"
	}
	return fmt.Sprintf("%s (%d)", m.Details.Version, m.Details.Build)
}

// logFilePath is the rotating log file in the user's cache directory:
// <cache>/Mottagning/mottagning.log (~/.cache on Linux, ~/Library/Caches
// on macOS, %LocalAppData% on Windows). Empty when there is no cache
// directory.
func logFilePath() string {
	dir, err := os.UserCacheDir()
	if err != nil || dir == "" {
		return ""
	}
	return filepath.Join(dir, "Mottagning", "mottagning.log")
}

// setupLog sends slog to stderr and to the rotating log file (5 MB per
// file, 3 old files kept for at most 90 days, old ones compressed). The
// program's log lines carry ids, counts, hosts and error kinds, never a
// personnummer, a name or message text (docs/architecture.md, Logging);
// cmd/mottagning-logcheck checks a log file for that. It returns the
// file's path ("" when only stderr is used) and a closer.
func setupLog(path string) (string, func()) {
	var w io.Writer = os.Stderr
	closer := func() {}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			lj := &lumberjack.Logger{Filename: path, MaxSize: 5, MaxBackups: 3, MaxAge: 90, Compress: true}
			w = io.MultiWriter(os.Stderr, lj)
			closer = func() { _ = lj.Close() }
		} else {
			path = ""
		}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(w, nil)))
	return path, closer
}

// langArg finds --lang (or -lang) in the arguments before the flags are
// parsed, so that the flags' help is in the chosen language too.
func langArg(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "lang" {
			continue
		}
		if hasVal {
			return val
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// chooseLanguage decides the window's language: --lang, then
// MOTTAGNING_LANG, then the choice stored in the window's Preferences,
// then the system's (ui.SetLanguage).
func chooseLanguage(flagValue string, prefs fyne.Preferences) error {
	code := flagValue
	if code == "" && os.Getenv(ui.LangEnv) == "" && prefs != nil {
		code = prefs.String(langPref)
		if code != "sv" && code != "en" {
			code = ""
		}
	}
	return ui.SetLanguage(code)
}

// translateFlags puts the flags' help texts in the window's language, and
// the usage line with them.
func translateFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) { f.Usage = ui.L(f.Usage) })
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), ui.L("start.usage_mottagning_flags"))
		fs.PrintDefaults()
	}
}

// defaultDataDir is where the database lives when --data is not given:
// <user config dir>/Mottagning on Linux and macOS, and under Local
// AppData on Windows (%LocalAppData%\Mottagning: the database belongs to
// this computer and must not roam with the profile). An older Windows
// installation that kept it under the roaming AppData keeps using it.
func defaultDataDir() string {
	if runtime.GOOS == "windows" {
		return windowsDataDir(os.Getenv("LOCALAPPDATA"), os.Getenv("APPDATA"), exists)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "Mottagning")
}

func windowsDataDir(local, roaming string, exists func(string) bool) string {
	if roaming != "" {
		old := filepath.Join(roaming, "Mottagning")
		if local == "" || (exists(old) && !exists(filepath.Join(local, "Mottagning"))) {
			return old
		}
	}
	if local == "" {
		return ""
	}
	return filepath.Join(local, "Mottagning")
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// hasDisplay says whether a window can be shown: Linux and the BSDs need
// an X11 or Wayland display; macOS and Windows always have one.
func hasDisplay() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// starter is the program before its main window: the Fyne app (for its
// Preferences and for the start-problem window) and the log file.
type starter struct {
	app     fyne.App
	logPath string
}

// newApp makes the Fyne app with the packaging metadata (app id, name,
// version, migrations) from the embedded FyneApp.toml; a `fyne package`
// build sets the same values.
func newApp() fyne.App {
	m, err := readMeta()
	if err != nil {
		slog.Error("read FyneApp.toml", "err", err) // the window works without it
	} else {
		fyneapp.SetMetadata(fyne.AppMetadata{
			ID: m.Details.ID, Name: m.Details.Name, Version: m.Details.Version, Build: m.Details.Build,
			Icon: ui.Icon(), Migrations: m.Migrations,
		})
	}
	a := fyneapp.New()
	a.SetIcon(ui.Icon())
	return a
}

// fail reports a start-up failure: on stderr, in the log (its kind only:
// msg can name a directory), and in a window of its own with what to do,
// so that a staff member who started the program from a menu sees it.
// It returns code, the exit status.
func (s *starter) fail(kind, msg string, code int) int {
	fmt.Fprintln(os.Stderr, msg)
	slog.Error("start-up failed", "kind", kind)
	s.showProblem(msg)
	return code
}

// showProblem shows msg in a window until it is closed. Without a display
// the message on stderr is all there is.
func (s *starter) showProblem(msg string) {
	if s.app == nil || !hasDisplay() || os.Getenv("MOTTAGNING_NO_PROBLEM_WINDOW") != "" {
		return
	}
	a := s.app
	w := a.NewWindow("Mottagning")
	w.SetContent(ui.StartProblem(msg, s.logPath, func(t string) { a.Clipboard().SetContent(t) }, a.Quit))
	w.Resize(fyne.NewSize(640, 320))
	w.ShowAndRun()
}
