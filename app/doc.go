// Package app is the domain of Mottagning: the entities (residents, clinics,
// staff, cases, templates, e-services), the rules R1–R16 of shared/DOMAIN.md
// as plain functions of an injected clock, the use-case services the UI
// calls, and the small interfaces (ports) those services consume.
//
// The package imports no Fyne, no bbolt and no net/http: storage, sync and
// notify implement its ports, and ui drives its services. A test in this
// package enforces that with `go list -deps`.
//
// Personal data never goes into an error string or a log line from this
// package: errors name the operation and record ids only.
package app
