// Package sbs checks the syntax of SBS-1 / BaseStation lines, the CSV that
// dump1090 and readsb serve on TCP port 30003, and extracts the two things the
// raw log needs: the key (the aircraft's ICAO 24-bit address) and the producer
// timestamp (the "generated" date and time fields).
//
// The parser never modifies the line; it only reads it. A line that fails the
// check gets a *SyntaxError with a machine-readable code, so the adapter can
// send it to the rejected topic with its reason.
//
//	p := sbs.Parser{Location: time.UTC}
//	msg, err := p.Parse([]byte("MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0"))
//	// msg.ICAO == "789252", msg.Generated == 2022-01-08 22:42:15.605 UTC
package sbs

import (
	"bytes"
	"fmt"
	"time"
)

// FormatVersion identifies this parser's rules in the envelope, so records
// checked by an older parser can be told apart after an upgrade.
const FormatVersion = "1"

// Format is the wire-format name recorded in envelopes.
const Format = "sbs-1"

// MaxLineBytes bounds a line. Real SBS lines are under 200 bytes; anything far
// longer is garbage or an attack and is rejected rather than parsed.
const MaxLineBytes = 1024

// fieldCount is the number of comma-separated fields of a MSG line.
const fieldCount = 22

// SyntaxError says why a line is not valid SBS-1.
type SyntaxError struct {
	Code   string // machine-readable, e.g. "sbs.field_count"
	Reason string // human-readable, names the field
}

func (e *SyntaxError) Error() string { return e.Reason }

// ReasonCode is the machine-readable reason recorded with the rejected record.
func (e *SyntaxError) ReasonCode() string { return e.Code }

func syntaxErr(code, format string, args ...any) *SyntaxError {
	return &SyntaxError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Message is what the raw log needs from one line. Fields not listed are left
// in the raw bytes for later stages.
type Message struct {
	Type             string // MSG, SEL, ID, AIR, STA or CLK
	TransmissionType int    // 1-8 for MSG, 0 otherwise
	ICAO             string // upper-case hex, e.g. "789252"; empty for CLK
	// Generated is the producer timestamp; zero when the receiver left the
	// generated date/time fields empty (callers fall back to record or
	// receipt time).
	Generated time.Time
}

// Parser checks SBS-1 lines. The zero value reads timestamps as UTC.
type Parser struct {
	// Location is the feed's time zone: SBS timestamps are the receiver's
	// local time with no offset. Default UTC.
	Location *time.Location
}

// Parse checks one line (without its line terminator) and extracts key and
// timestamp. It never retains or modifies line.
func (p Parser) Parse(line []byte) (Message, error) {
	var m Message
	if len(line) == 0 {
		return m, syntaxErr("sbs.empty", "empty line")
	}
	if len(line) > MaxLineBytes {
		return m, syntaxErr("sbs.too_long", "line is %d bytes, more than the %d allowed", len(line), MaxLineBytes)
	}
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			return m, syntaxErr("sbs.binary", "line contains byte 0x%02x; SBS-1 is printable ASCII", c)
		}
	}
	var arr [fieldCount + 1][]byte
	fields := splitFields(line, &arr)
	m.Type = messageType(fields[0])
	switch m.Type {
	case "MSG":
		if len(fields) > fieldCount {
			return m, syntaxErr("sbs.field_count", "MSG line has more than %d fields", fieldCount)
		}
		if len(fields) != fieldCount {
			return m, syntaxErr("sbs.field_count", "MSG line has %d fields, want %d", len(fields), fieldCount)
		}
		if f := fields[1]; len(f) != 1 || f[0] < '1' || f[0] > '8' {
			return m, syntaxErr("sbs.transmission_type", "field 2 (transmission type) is %q, want 1-8", truncate(f))
		}
		m.TransmissionType = int(fields[1][0] - '0')
	case "SEL", "ID", "AIR", "STA", "CLK":
		// Non-MSG lines are shorter on some receivers; they must still carry
		// the generated date and time (fields 7 and 8).
		if len(fields) < 10 || len(fields) > fieldCount {
			if len(fields) > fieldCount {
				return m, syntaxErr("sbs.field_count", "%s line has more than %d fields", m.Type, fieldCount)
			}
			return m, syntaxErr("sbs.field_count", "%s line has %d fields, want 10 to %d", m.Type, len(fields), fieldCount)
		}
	default:
		m.Type = ""
		return m, syntaxErr("sbs.message_type", "field 1 (message type) is %q, want MSG, SEL, ID, AIR, STA or CLK", truncate(fields[0]))
	}
	if m.Type != "CLK" {
		icao, err := parseICAO(fields[4])
		if err != nil {
			return m, err
		}
		m.ICAO = icao
	}
	ts, err := p.parseTime(fields[6], fields[7])
	if err != nil {
		return m, err
	}
	m.Generated = ts
	return m, nil
}

// splitFields splits line at commas into arr without allocating. A line
// with more than fieldCount fields gets fieldCount+1 entries, enough for the
// field-count check to reject it.
func splitFields(line []byte, arr *[fieldCount + 1][]byte) [][]byte {
	n := 0
	for n < len(arr)-1 {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			break
		}
		arr[n] = line[:i]
		line = line[i+1:]
		n++
	}
	arr[n] = line
	return arr[:n+1]
}

// messageType returns the constant for a known type, so parsing does not
// allocate a string per line; unknown types return "".
func messageType(f []byte) string {
	for _, t := range [...]string{"MSG", "SEL", "ID", "AIR", "STA", "CLK"} {
		if string(f) == t {
			return t
		}
	}
	return ""
}

func parseICAO(f []byte) (string, error) {
	if len(f) != 6 {
		return "", syntaxErr("sbs.icao", "field 5 (ICAO address) is %q, want 6 hex digits", truncate(f))
	}
	out := make([]byte, 6)
	for i, c := range f {
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
			out[i] = c
		case c >= 'a' && c <= 'f':
			out[i] = c - 'a' + 'A'
		default:
			return "", syntaxErr("sbs.icao", "field 5 (ICAO address) is %q, want 6 hex digits", f)
		}
	}
	return string(out), nil
}

// parseTime reads "2006/01/02" and "15:04:05.000" (fraction optional, up to
// nanoseconds). Both empty means the receiver did not fill them in: a zero
// time, no error. It is strict (no spaces, no signs, real calendar dates)
// and allocation-free, since it runs for every line.
func (p Parser) parseTime(date, clock []byte) (time.Time, error) {
	if len(date) == 0 && len(clock) == 0 {
		return time.Time{}, nil
	}
	bad := func() (time.Time, error) {
		return time.Time{}, syntaxErr("sbs.timestamp", "fields 7-8 (generated date/time) are %q %q, want YYYY/MM/DD HH:MM:SS.sss", truncate(date), truncate(clock))
	}
	if len(date) != 10 || date[4] != '/' || date[7] != '/' || len(clock) < 8 || clock[2] != ':' || clock[5] != ':' {
		return bad()
	}
	y, ok1 := digits(date[0:4])
	mo, ok2 := digits(date[5:7])
	d, ok3 := digits(date[8:10])
	h, ok4 := digits(clock[0:2])
	mi, ok5 := digits(clock[3:5])
	sec, ok6 := digits(clock[6:8])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return bad()
	}
	nsec := 0
	if frac := clock[8:]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return bad()
		}
		n, ok := digits(frac[1:])
		if !ok {
			return bad()
		}
		for i := len(frac) - 1; i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, loc)
	if t.Day() != d { // 2022/02/30 normalises to March: not a real date
		return bad()
	}
	return t, nil
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// truncate keeps error messages short when a field is huge.
func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}
