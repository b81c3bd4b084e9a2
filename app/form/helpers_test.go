package form

import (
	"encoding/json"
	"time"
)

// testNow is a fixed "today" for every test: 2025-06-15 in Stockholm.
var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, stockholm)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
