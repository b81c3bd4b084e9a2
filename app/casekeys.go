package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// DecodeCaseKeys reads from a case header's JSON (as encoding/json writes
// a Case) only the fields a pulled page is indexed and checked by: ID,
// ClinicID, ResidentID, AssigneeID, CreatorID, Status, LastActivity,
// UnreadByStaff and Version (the server records a pull per version). Every other field of c is left as it is. It is the cold
// sync's hot path (a hundred thousand headers, each stored as it came):
// encoding/json spends about 9 µs on a full Case, this well under one.
// Any JSON it does not expect is an error, never a guess.
func DecodeCaseKeys(data []byte, c *Case) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errCaseKeys
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1)
	}
	for {
		raw, j, esc, err := scanString(data, i)
		if err != nil {
			return err
		}
		key := raw
		if esc {
			// An escaped key (never written by encoding/json): compared
			// as its value.
			k, _, err := jsonString(data, i)
			if err != nil {
				return err
			}
			key = []byte(k)
		}
		i = skipSpace(data, j)
		if i >= len(data) || data[i] != ':' {
			return errCaseKeys
		}
		i = skipSpace(data, i+1)
		switch string(key) {
		case "ID", "ClinicID", "ResidentID", "AssigneeID", "Status", "CreatorID":
			var s string
			if s, i, err = jsonString(data, i); err != nil {
				return err
			}
			switch string(key) {
			case "ID":
				c.ID = ID(s)
			case "ClinicID":
				c.ClinicID = ID(s)
			case "ResidentID":
				c.ResidentID = ID(s)
			case "AssigneeID":
				c.AssigneeID = ID(s)
			case "CreatorID":
				c.CreatorID = ID(s)
			default:
				c.Status = Status(s)
			}
		case "LastActivity":
			var s string
			if s, i, err = jsonString(data, i); err != nil {
				return err
			}
			if c.LastActivity, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return errCaseKeys
			}
		case "Version":
			j := i
			for j < len(data) && data[j] >= '0' && data[j] <= '9' {
				j++
			}
			v, err := strconv.ParseUint(string(data[i:j]), 10, 64)
			if err != nil || (j-i > 1 && data[i] == '0') {
				return errCaseKeys
			}
			c.Version, i = v, j
		case "UnreadByStaff":
			switch {
			case bytes.HasPrefix(data[i:], []byte("true")):
				c.UnreadByStaff, i = true, i+4
			case bytes.HasPrefix(data[i:], []byte("false")):
				c.UnreadByStaff, i = false, i+5
			default:
				return errCaseKeys
			}
		default:
			if i, err = skipValue(data, i); err != nil {
				return err
			}
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return errCaseKeys
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return trailing(data, i+1)
		default:
			return errCaseKeys
		}
	}
}

var errCaseKeys = errors.New("case header: not the JSON of a case")

func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return errCaseKeys
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// scanString finds the string starting at data[i]: its raw bytes
// between the quotes, the index after it, and whether it has escapes.
func scanString(data []byte, i int) ([]byte, int, bool, error) {
	if i >= len(data) || data[i] != '"' {
		return nil, i, false, errCaseKeys
	}
	escaped := false
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '\\':
			escaped = true
			j++
		case c == '"':
			return data[i+1 : j], j + 1, escaped, nil
		case c < 0x20:
			return nil, i, false, errCaseKeys
		}
	}
	return nil, i, false, errCaseKeys
}

// jsonString reads the string starting at data[i] and returns it and the
// index after it; one with escapes goes through encoding/json.
func jsonString(data []byte, i int) (string, int, error) {
	raw, j, esc, err := scanString(data, i)
	if err != nil {
		return "", i, err
	}
	if !esc {
		return string(raw), j, nil
	}
	var s string
	if err := json.Unmarshal(data[i:j], &s); err != nil {
		return "", i, errCaseKeys
	}
	return s, j, nil
}

// skipValue returns the index after the JSON value starting at data[i];
// it checks the value's shape, not every detail of its literals.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return i, errCaseKeys
	}
	switch data[i] {
	case '"':
		_, j, _, err := scanString(data, i)
		return j, err
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				_, k, _, err := scanString(data, j)
				if err != nil {
					return i, err
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return i, errCaseKeys
	default:
		j := i
		for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' && data[j] != ' ' && data[j] != '\n' && data[j] != '\t' && data[j] != '\r' {
			j++
		}
		if !literal(data[i:j]) {
			return i, errCaseKeys
		}
		return j, nil
	}
}

// literal reports whether v is true, false, null or a JSON number.
func literal(v []byte) bool {
	switch string(v) {
	case "true", "false", "null":
		return true
	case "":
		return false
	}
	i := 0
	if v[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(v) && v[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(v)
}
