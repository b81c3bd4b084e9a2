// Package assets holds the files Mottagning embeds in its binary: the
// application icon now, fonts and translations later. It imports only the
// standard library so that any package (and the server) may use it; the ui
// package wraps the bytes in Fyne resources.
package assets

import _ "embed"

// Icon is the application icon: a 256×256 PNG of a white speech bubble with
// a care cross on a rounded blue square. FyneApp.toml names the same file for
// packaging.
//
//go:embed icon.png
var Icon []byte
