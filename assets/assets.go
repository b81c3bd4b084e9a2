// Package assets holds the files Mottagning embeds in its binary: the
// application icon and the English translation of the user interface. It
// imports only the standard library so that any package (and the server)
// may use it; the ui package wraps the bytes for Fyne.
package assets

import _ "embed"

// Icon is the application icon: a 256×256 PNG of a white speech bubble with
// a care cross on a rounded blue square. FyneApp.toml names the same file for
// packaging.
//
//go:embed icon.png
var Icon []byte

// TranslationsEN is the English translation of the desktop UI: a flat JSON
// object from each Swedish text (the key, as the ui package writes it) to
// its English text, in the format of Fyne's lang package (go-i18n). The ui
// package registers it with lang.AddTranslationsForLocale when the window
// is in English; see ui/lang.go.
//
//go:embed translations/en.json
var TranslationsEN []byte

// FyneSV is Swedish for the texts of Fyne's own widgets and dialogs
// (Öppna, Spara, Avbryt, the entry's menu, the file dialog), in Fyne's
// translation format. The ui package registers it when the window is
// Swedish, whatever the system's language: a Swedish window with English
// file dialogs is what users noticed.
//
//go:embed translations/fyne-sv.json
var FyneSV []byte
