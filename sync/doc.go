// Package sync is the sync protocol between connected desktops and the
// central server (docs/sync.md): the wire types both sides share, and the
// desktop's sync engine (Engine), which pushes the queued ops, pulls the
// changes of its clinics and keeps a status for the user interface. The
// server's handlers are in package server (server/sync.go); the HTTP calls
// in package client. Callers that also need the standard library's sync
// package import it as stdsync.
package sync
