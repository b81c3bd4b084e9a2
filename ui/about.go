package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// LangPref is the Preferences key of the language chosen in the window's
// menu: "sv" or "en". main reads it at the start (after --lang and
// MOTTAGNING_LANG); the choice takes effect at the next start.
const LangPref = "language"

const (
	textMenuApp       = "about.mottagning"
	textMenuAbout     = "about.about_mottagning"
	textMenuLanguage  = "about.language_menu_item"
	textAboutTitle    = "about.about_mottagning"
	textAboutLead     = "about.case_handling_healthcare_clinics_work"
	textAboutVersion  = "about.version"
	textAboutLog      = "about.log_file"
	textAboutNoLog    = "about.no_log_file_program_writes"
	textAboutData     = "about.data_directory"
	textAboutLogNote  = "about.log_file_holds_no_personal"
	textAboutCopy     = "about.copy_path"
	textLangTitle     = "about.language_title"
	textLangLead      = "about.choose_window_language_messages_residents"
	textLangRestart   = "about.language_changes_next_time_you"
	textLangSwedish   = "Svenska"
	textLangEnglish   = "English"
	textLangSave      = "common.save"
	textLangSaved     = "about.saved_restart_mottagning_change_language"
	textLangFixedFlag = "about.language_chosen_lang_or_mottagning"
)

// AboutInfo is what the About box shows: the version from FyneApp.toml,
// the log file (empty when there is none) and the data directory.
type AboutInfo struct {
	Version string
	LogFile string
	DataDir string
	// LanguageFixed is true when --lang or MOTTAGNING_LANG chose the
	// language, which then wins over the menu's choice.
	LanguageFixed bool
}

// MainMenu is the window's menu: Mottagning → Om Mottagning, Språk. Fyne
// adds Avsluta to it. copyText puts a text on the clipboard.
func MainMenu(w fyne.Window, prefs fyne.Preferences, info AboutInfo, copyText func(string)) *fyne.MainMenu {
	about := fyne.NewMenuItem(L(textMenuAbout), func() { ShowAbout(w, info, copyText) })
	about.Icon = theme.InfoIcon()
	language := fyne.NewMenuItem(L(textMenuLanguage), func() { ShowLanguage(w, prefs, info.LanguageFixed) })
	return fyne.NewMainMenu(fyne.NewMenu(L(textMenuApp), about, language))
}

// ShowAbout shows the version, the log file and the data directory.
func ShowAbout(w fyne.Window, info AboutInfo, copyText func(string)) dialog.Dialog {
	lead := widget.NewLabel(L(textAboutLead))
	lead.Wrapping = fyne.TextWrapWord
	rows := []*widget.FormItem{widget.NewFormItem(L(textAboutVersion), selectable(info.Version))}
	logRow := fyne.CanvasObject(widget.NewLabel(L(textAboutNoLog)))
	if info.LogFile != "" {
		logRow = container.NewBorder(nil, nil, nil,
			widget.NewButtonWithIcon(L(textAboutCopy), theme.ContentCopyIcon(), func() {
				if copyText != nil {
					copyText(info.LogFile)
				}
			}),
			selectable(info.LogFile))
	}
	rows = append(rows, widget.NewFormItem(L(textAboutLog), logRow))
	if info.DataDir != "" {
		rows = append(rows, widget.NewFormItem(L(textAboutData), selectable(info.DataDir)))
	}
	note := widget.NewLabel(L(textAboutLogNote))
	note.Wrapping = fyne.TextWrapWord
	note.TextStyle.Italic = true // not LowImportance: too faint to read
	body := container.NewVBox(lead, widget.NewForm(rows...), note)
	d := dialog.NewCustom(L(textAboutTitle), L("common.close"), body, w)
	d.Resize(fyne.NewSize(620, 0))
	d.Show()
	return d
}

// ShowLanguage lets the user choose Svenska or English; the choice is
// stored in prefs (LangPref) and used from the next start.
func ShowLanguage(w fyne.Window, prefs fyne.Preferences, fixed bool) dialog.Dialog {
	lead := widget.NewLabel(L(textLangLead) + " " + L(textLangRestart))
	lead.Wrapping = fyne.TextWrapWord
	codes := map[string]string{textLangSwedish: "sv", textLangEnglish: "en"}
	choice := widget.NewRadioGroup([]string{textLangSwedish, textLangEnglish}, nil)
	choice.Required = true
	current := "sv"
	if English() {
		current = "en"
	}
	if prefs != nil {
		if c := prefs.String(LangPref); c == "sv" || c == "en" {
			current = c
		}
	}
	for name, code := range codes {
		if code == current {
			choice.SetSelected(name)
		}
	}
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	status.Hide()
	items := []fyne.CanvasObject{lead, choice}
	if fixed {
		f := widget.NewLabel(L(textLangFixedFlag))
		f.Wrapping = fyne.TextWrapWord
		f.Importance = widget.WarningImportance
		items = append(items, f)
	}
	items = append(items, status)
	var d *dialog.CustomDialog
	save := widget.NewButtonWithIcon(L(textLangSave), theme.DocumentSaveIcon(), func() {
		if prefs != nil {
			prefs.SetString(LangPref, codes[choice.Selected])
		}
		status.SetText(L(textLangSaved))
		status.Importance = widget.SuccessImportance
		status.Show()
	})
	save.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons(L(textLangTitle), container.NewVBox(items...), w)
	d.SetButtons([]fyne.CanvasObject{widget.NewButton(L("common.close"), d.Hide), save})
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
	return d
}

// selectable is a read-only text that can be selected and copied.
func selectable(s string) fyne.CanvasObject {
	l := widget.NewLabel(s)
	l.Selectable = true
	l.Wrapping = fyne.TextWrapBreak
	return l
}

// FitWindow is the window size to open at: want (the default, or the
// size the window was closed at) made to fit room, the screen's work area
// in Fyne units, with space left for the window's title bar and frame.
// A window is never made smaller than 640×480 units; a screen smaller than
// that gets all it has. The screens themselves fit a 1366×768 laptop at
// 125 % and a 1080p one at 150 % (TestScreens_FitALaptop): a screen whose
// content needs more would make Fyne grow the window past the screen.
func FitWindow(want, room fyne.Size) fyne.Size {
	const frameW, frameH = 16, 48 // window frame and title bar, in units
	const minW, minH = 640, 480
	maxW, maxH := room.Width-frameW, room.Height-frameH
	out := want
	if out.Width > maxW {
		out.Width = max(maxW, min(minW, room.Width))
	}
	if out.Height > maxH {
		out.Height = max(maxH, min(minH, room.Height))
	}
	return fyne.NewSize(float32(int(out.Width)), float32(int(out.Height)))
}
