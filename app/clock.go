package app

import (
	"time"
	_ "time/tzdata" // the Stockholm zone must exist on Windows too
)

// Clock is the injectable source of "now". Rules take a time argument; services
// read it from a Clock so that R8 (the 13th birthday) is testable on any date.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ClockFunc adapts a function to Clock; tests use it for a fixed or moving clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// FixedClock returns a Clock that always says t.
func FixedClock(t time.Time) Clock { return ClockFunc(func() time.Time { return t }) }

// Stockholm is the Europe/Stockholm location: ages and birthdays are
// computed on its calendar date (shared/DOMAIN.md, Dates).
var Stockholm = mustLoad("Europe/Stockholm")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("app: time zone " + name + ": " + err.Error())
	}
	return loc
}

// DateIn returns midnight of t's calendar date in Stockholm.
func DateIn(t time.Time) time.Time {
	y, m, d := t.In(Stockholm).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Stockholm)
}
