package ui

import (
	"time"

	msync "mottagning/sync"
)

// Texts of a first sync: the first-run screen of a new computer and the
// status bar while the first pull runs.
const (
	textFirstStarting = "firstsync.fetching_your_clinics_cases_from"
	textFirstSoFar    = "firstsync.fetching_cases_so_far"
	textFirstLeft     = "firstsync.fetching_cases_time_left"
	textSeconds       = "firstsync.seconds"
	textMinutes       = "firstsync.min"
	textListFirstSync = "firstsync.cases_being_fetched_from_server"
)

// firstSyncText says how far a first sync has come: the cases so far and,
// once a little of it is done, the time left, estimated from the time it
// took so far (the pull's position against the server's head).
func firstSyncText(st msync.Status, now time.Time) string {
	if st.FirstStarted.IsZero() || (st.FirstCases == 0 && st.Progress <= 0) {
		return L(textFirstStarting)
	}
	cases := thousands(st.FirstCases)
	elapsed := now.Sub(st.FirstStarted)
	if st.Progress < 0.02 || st.Progress >= 1 || elapsed < time.Second {
		return Lf(textFirstSoFar, cases)
	}
	left := time.Duration(float64(elapsed) * (1 - st.Progress) / st.Progress)
	return Lf(textFirstLeft, cases, durationText(left))
}

// durationText is a rough duration: seconds under two minutes, minutes above.
func durationText(d time.Duration) string {
	if d < 2*time.Minute {
		return Lf(textSeconds, max(1, int(d.Round(time.Second)/time.Second)))
	}
	return Lf(textMinutes, int(d.Round(time.Minute)/time.Minute))
}
