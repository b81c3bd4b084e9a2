// Package assets holds the files Mottagning embeds in its binary: the
// application icon and the texts of the user interface in Swedish and English. It
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

// TranslationsSV and TranslationsEN are the texts of the desktop UI in
// Swedish and English: flat JSON objects from each stable message id
// ("send.case_cannot_sent", "app.closed") to its text. The ui package reads
// them; see ui/lang.go.
//
//go:embed translations/sv.json
var TranslationsSV []byte

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
