// Package sync will hold the sync protocol between desktops and the central
// server (wire types, the desktop's sync engine, the server's handlers). It
// is empty until the sync issue; it exists now so the dependency rule of
// shared/STYLE.md (no Fyne outside ui, assets and main) is enforced on it
// from the start. Callers that also need the standard library's sync
// package import this one as msync.
package sync
