// Package ats checks the syntax of ICAO ATS messages as defined in ICAO Doc
// 4444 (PANS-ATM) Appendix 3 — (FPL-...), (CHG-...), (CNL-...), (DLA-...),
// (DEP-...) and (ARR-...) — and extracts the two things the raw log needs: the
// key (the composite flight key ADEP/EOBD/EOBT/ARCID/ADES, the same as for
// ADEXP) and the producer timestamp.
//
// ICAO ATS messages carry no message time: the filing time lives in the AFTN
// or AMHS envelope, not between the parentheses. Check therefore always returns
// a zero timestamp and the adapter falls back to the Kafka record's CreateTime,
// else the receipt time. The off-block date and time in the key (DOF/ in field
// 18, the time in field 13) describe the flight, not the message, and would
// order an FPL and the CNL that cancels it as simultaneous.
//
// The parser never modifies or retains the message; it only reads it. A message
// that fails the check gets a *SyntaxError with a machine-readable code, so the
// adapter can send it to the rejected topic with its reason. Split frames a
// byte stream into messages for a bufio.Scanner.
//
//	var p ats.Parser
//	key, ts, err := p.Check([]byte("(DLA-DLH5KF-EDDM1330-EDDH-DOF/181022)"))
//	// key == "EDDM/181022/1330/DLH5KF/EDDH", ts.IsZero(), err == nil
//
// See docs/feeds-ats.md for what is validated and the reason codes.
package ats

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// FormatVersion identifies this parser's rules in the envelope, so records
// checked by an older parser can be told apart after an upgrade.
const FormatVersion = "1"

// Format is the wire-format name recorded in envelopes.
const Format = "icao-ats"

// MaxMessageBytes bounds one message, parentheses and line breaks included.
// AFTN limits a message text to 1800 characters and real long-haul flight
// plans stay well under 4 KiB; anything longer is garbage or a framing error
// and is rejected rather than parsed.
const MaxMessageBytes = 8192

// SyntaxError says why a message is not a valid ICAO ATS message.
type SyntaxError struct {
	Code   string // machine-readable, e.g. "ats.bad_field"
	Reason string // human-readable, names the field number
}

func (e *SyntaxError) Error() string { return e.Reason }

// ReasonCode is the machine-readable reason recorded with the rejected record.
func (e *SyntaxError) ReasonCode() string { return e.Code }

func syntaxErr(code, format string, args ...any) *SyntaxError {
	return &SyntaxError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

func badField(field int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Code: "ats.bad_field", Reason: fmt.Sprintf("field %d (%s) ", field, fieldNames[field]) + fmt.Sprintf(format, args...)}
}

var fieldNames = map[int]string{
	3:  "message type",
	7:  "aircraft identification",
	8:  "flight rules and type of flight",
	9:  "number, type of aircraft and wake turbulence category",
	10: "equipment and capabilities",
	13: "departure aerodrome and time",
	15: "route",
	16: "destination aerodrome, total EET and alternates",
	17: "arrival aerodrome and time",
	18: "other information",
	19: "supplementary information",
	22: "amendment",
}

// Message is what the raw log needs from one ATS message. Everything else
// stays in the raw bytes for later stages. All strings are copies: a Message
// does not refer to the input.
type Message struct {
	// Type is the message type designator of field 3, e.g. "FPL".
	Type string
	// Generic is set for a well-formed message of a type other than FPL, CHG,
	// CNL, DLA, DEP and ARR (EST, CPL, ABI, LAM, ...). Only fields 3 and 7
	// (when present) and DOF/ were checked; ADEP, EOBT, ADES and EOBD are
	// filled in when a field of the right shape was found, else left empty.
	Generic bool
	// ARCID is the aircraft identification of field 7, e.g. "DLH5KF".
	ARCID string
	// SSR is the SSR mode and code of field 7, e.g. "A4737"; empty when absent.
	SSR string
	// ADEP is the departure aerodrome of field 13 (ZZZZ and AFIL as written).
	ADEP string
	// EOBT is the time of field 13 (HHMM) as written: the EOBT in FPL, CHG
	// and CNL, the revised EOBT in DLA, the actual time of departure in DEP
	// (Doc 4444) and, when given, in ARR. Empty when field 13 has no time.
	EOBT string
	// ADES is the destination aerodrome of field 16. For an ARR it is the
	// planned destination when field 16 is present (a diversion), else the
	// arrival aerodrome of field 17.
	ADES string
	// EOBD is the date of flight (DOF/yymmdd in field 18) as written; empty
	// when the message has no DOF/.
	EOBD string
	// ADARR and ATA are the arrival aerodrome and time (HHMM) of field 17 of
	// an ARR message; empty for other types.
	ADARR, ATA string
}

// Key is the composite flight key "ADEP/EOBD/EOBT/ARCID/ADES", e.g.
// "EDDM/181022/1304/DLH5KF/EDDH", the same as the ADEXP parser's. A missing
// part is left empty ("EDDM//1304/DLH5KF/EDDH" without DOF/).
func (m Message) Key() string {
	return m.ADEP + "/" + m.EOBD + "/" + m.EOBT + "/" + m.ARCID + "/" + m.ADES
}

// RecordKey is the Kafka record key for the raw log: the composite Key when
// the message names an aircraft (field 7), else its type (e.g. "LAM" for a
// logical acknowledgement, which refers to another message, not to a
// flight), as for ADEXP.
func (m Message) RecordKey() string {
	if m.ARCID == "" {
		return m.Type
	}
	return m.Key()
}

// Parser checks ICAO ATS messages. The zero value accepts the six flight-plan
// message types with full checks and other well-formed types as generic.
// A Parser has no mutable state and is safe for concurrent use.
type Parser struct {
	// KnownTypesOnly rejects message types other than FPL, CHG, CNL, DLA,
	// DEP and ARR with ats.unknown_type. Default false: they are accepted as
	// generic messages (Message.Generic), so a later parser can read them by
	// replaying the raw log.
	KnownTypesOnly bool
}

// Check validates one message and returns its record key (see
// Message.RecordKey) and producer timestamp, which is always zero: ICAO ATS
// messages carry no message time (see the package doc). It never modifies or
// retains raw.
func (p Parser) Check(raw []byte) (key string, ts time.Time, err error) {
	m, err := p.Parse(raw)
	if err != nil {
		return "", time.Time{}, err
	}
	return m.RecordKey(), time.Time{}, nil
}

// Parse checks one message: optional whitespace, '(', the fields separated by
// '-', ')', optional whitespace. Line breaks (LF or CRLF) and runs of spaces
// inside the parentheses are whitespace. It never modifies or retains raw.
func (p Parser) Parse(raw []byte) (Message, error) {
	var m Message
	if len(raw) == 0 {
		return m, syntaxErr("ats.empty", "empty message")
	}
	if len(raw) > MaxMessageBytes {
		return m, syntaxErr("ats.too_long", "message is %d bytes, more than the %d allowed", len(raw), MaxMessageBytes)
	}
	for i, c := range raw {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c > 0x7e {
			return m, syntaxErr("ats.binary", "byte %d is 0x%02x; ICAO ATS messages are printable ASCII text", i, c)
		}
	}
	body := trimSpace(raw)
	if len(body) == 0 {
		return m, syntaxErr("ats.empty", "message is only whitespace")
	}
	if body[0] != '(' {
		return m, syntaxErr("ats.no_parens", "message starts with %q, want '(': an ICAO ATS message is enclosed in parentheses", truncate(body))
	}
	end := bytes.IndexByte(body, ')')
	if end < 0 {
		return m, syntaxErr("ats.truncated", "message has no closing parenthesis: it is cut off after %q", tail(body))
	}
	if end != len(body)-1 {
		return m, syntaxErr("ats.no_parens", "text %q after the closing parenthesis: one record must hold exactly one message", truncate(body[end+1:]))
	}
	inner := body[1:end]
	if i := bytes.IndexByte(inner, '('); i >= 0 {
		return m, syntaxErr("ats.no_parens", "second '(' inside the message at %q: ICAO ATS messages do not nest parentheses", truncate(inner[i:]))
	}
	fields := bytes.Split(inner, []byte{'-'})
	for i := range fields {
		fields[i] = trimSpace(fields[i])
	}
	typ, err := parseField3(fields[0])
	if err != nil {
		return m, err
	}
	m.Type = typ
	switch typ {
	case "FPL":
		err = m.fpl(fields)
	case "CHG":
		err = m.chg(fields)
	case "CNL", "DLA", "DEP":
		err = m.cnlDlaDep(fields)
	case "ARR":
		err = m.arr(fields)
	default:
		if p.KnownTypesOnly {
			return m, syntaxErr("ats.unknown_type", "message type %q is not one of FPL, CHG, CNL, DLA, DEP, ARR", typ)
		}
		m.Generic = true
		err = m.generic(fields)
	}
	if err != nil {
		return Message{Type: m.Type}, err
	}
	return m, nil
}

// fpl checks 3-7-8-9-10-13-15-16-18.
func (m *Message) fpl(f [][]byte) error {
	if len(f) != 9 {
		return fieldCount(m.Type, len(f), "9 (3-7-8-9-10-13-15-16-18)")
	}
	if err := m.field7(f[1]); err != nil {
		return err
	}
	if err := checkField8(f[2]); err != nil {
		return err
	}
	if err := checkField9(f[3]); err != nil {
		return err
	}
	if err := checkField10(f[4]); err != nil {
		return err
	}
	if err := m.field13(f[5], true); err != nil {
		return err
	}
	if err := checkField15(f[6]); err != nil {
		return err
	}
	ades, err := parseField16(f[7], true)
	if err != nil {
		return err
	}
	m.ADES = ades
	m.EOBD, err = parseField18(f[8])
	return err
}

// chg checks 3-7-13-16-18-22...: field 18 (DOF/ or 0) is optional, as in
// messages from before the 2012 amendment, and at least one amendment is
// required.
func (m *Message) chg(f [][]byte) error {
	if len(f) < 5 {
		return fieldCount(m.Type, len(f), "at least 5 (3-7-13-16-[18]-22...)")
	}
	if err := m.identify(f[1], f[2], f[3]); err != nil {
		return err
	}
	rest := f[4:]
	if !isAmendment(rest[0]) {
		dof, err := parseField18(rest[0])
		if err != nil {
			return err
		}
		m.EOBD, rest = dof, rest[1:]
	}
	if len(rest) == 0 {
		return syntaxErr("ats.field_count", "CHG message has no field 22 (amendment): nothing to change")
	}
	for _, a := range rest {
		if err := checkField22(a); err != nil {
			return err
		}
	}
	return nil
}

// cnlDlaDep checks 3-7-13-16-18, field 18 (DOF/ or 0) optional.
func (m *Message) cnlDlaDep(f [][]byte) error {
	if len(f) != 4 && len(f) != 5 {
		return fieldCount(m.Type, len(f), "4 or 5 (3-7-13-16-[18])")
	}
	if err := m.identify(f[1], f[2], f[3]); err != nil {
		return err
	}
	if len(f) == 5 {
		dof, err := parseField18(f[4])
		m.EOBD = dof
		return err
	}
	return nil
}

// arr checks 3-7-13-17. Field 16 (the planned destination, for a diversion)
// may come before 17 and field 18 after it; a fifth field is told apart by
// its shape (field 18 is 0 or starts with an indicator such as DOF/).
func (m *Message) arr(f [][]byte) error {
	if len(f) < 4 || len(f) > 6 {
		return fieldCount(m.Type, len(f), "4 to 6 (3-7-13-[16]-17-[18])")
	}
	if err := m.field7(f[1]); err != nil {
		return err
	}
	if err := m.field13(f[2], false); err != nil {
		return err
	}
	var f16, f17, f18 []byte
	switch {
	case len(f) == 4:
		f17 = f[3]
	case len(f) == 6:
		f16, f17, f18 = f[3], f[4], f[5]
	case isField18(f[4]):
		f17, f18 = f[3], f[4]
	default:
		f16, f17 = f[3], f[4]
	}
	if f16 != nil {
		ades, err := parseField16(f16, false)
		if err != nil {
			return err
		}
		m.ADES = ades
	}
	if err := m.field17(f17); err != nil {
		return err
	}
	if m.ADES == "" {
		m.ADES = m.ADARR
	}
	if f18 != nil {
		dof, err := parseField18(f18)
		m.EOBD = dof
		return err
	}
	return nil
}

// generic reads a message of another type. Field 7, when there is more
// than field 3, must follow it, as in every ICAO message that concerns a
// flight. Field 13 is the first field after it shaped like an aerodrome with
// an optional time, field 16 the first one after that shaped like a
// destination; DOF/ is taken from any element that starts with DOF/ (outside
// amendments), and must then be a valid date.
func (m *Message) generic(f [][]byte) error {
	if len(f) == 1 {
		// Field 3 alone, e.g. a logical acknowledgement (LAM): it refers to
		// another message, not to a flight.
		return nil
	}
	if err := m.field7(f[1]); err != nil {
		return err
	}
	i13 := -1
	for i := 2; i < len(f); i++ {
		if ad, t, ok := splitField13(f[i]); ok {
			m.ADEP, m.EOBT, i13 = ad, t, i
			break
		}
	}
	if i13 >= 0 {
		for _, fld := range f[i13+1:] {
			if ades, err := parseField16(fld, false); err == nil {
				m.ADES = ades
				break
			}
		}
	}
	for _, fld := range f[2:] {
		if isAmendment(fld) {
			continue
		}
		for _, e := range bytes.Fields(fld) {
			if !bytes.HasPrefix(e, []byte("DOF/")) {
				continue
			}
			if !isDate(e[4:]) {
				return badField(18, "has %s, want a valid date yymmdd such as DOF/181022", truncate(e))
			}
			if m.EOBD != "" {
				return badField(18, "has DOF/ twice; the date of flight must be unambiguous")
			}
			m.EOBD = string(e[4:])
		}
	}
	return nil
}

// identify checks fields 7, 13 (time required) and 16 (destination, EET and
// alternates optional) as they identify the flight in CHG, CNL, DLA and DEP.
func (m *Message) identify(f7, f13, f16 []byte) error {
	if err := m.field7(f7); err != nil {
		return err
	}
	if err := m.field13(f13, true); err != nil {
		return err
	}
	ades, err := parseField16(f16, false)
	if err != nil {
		return err
	}
	m.ADES = ades
	return nil
}

func fieldCount(typ string, got int, want string) *SyntaxError {
	return syntaxErr("ats.field_count", "%s message has %d fields, want %s", typ, got, want)
}

// parseField3 reads the message type designator (3 letters) and the optional
// message number and reference data (each 1-4 letters, '/', 1-4 letters and
// 3 digits, e.g. "CHGA/B234A/B231").
func parseField3(b []byte) (string, error) {
	if len(b) < 3 || !isUpper(b[0]) || !isUpper(b[1]) || !isUpper(b[2]) {
		return "", syntaxErr("ats.type", "field 3 (message type) is %q, want 3 upper-case letters such as FPL", truncate(b))
	}
	rest := b[3:]
	for n := 0; len(rest) > 0; n++ {
		adv, ok := messageNumber(rest)
		if !ok || n == 2 {
			return "", syntaxErr("ats.type", "field 3 (message type) is %q: after the type designator want a message number and reference data like A/B001", truncate(b))
		}
		rest = rest[adv:]
	}
	return string(b[:3]), nil
}

// messageNumber matches 1-4 letters, '/', 1-4 letters, 3 digits at the start
// of b and returns its length.
func messageNumber(b []byte) (int, bool) {
	i := 0
	for i < len(b) && i < 5 && isUpper(b[i]) {
		i++
	}
	if i < 1 || i > 4 || i >= len(b) || b[i] != '/' {
		return 0, false
	}
	i++
	j := i
	for i < len(b) && isUpper(b[i]) {
		i++
	}
	if i-j < 1 || i-j > 4 || i+3 > len(b) || !allDigits(b[i:i+3]) {
		return 0, false
	}
	return i + 3, true
}

// field7 reads the aircraft identification (2-7 letters or digits) and the
// optional SSR mode and code ("/A" and 4 octal digits).
func (m *Message) field7(b []byte) error {
	id, ssr := b, []byte(nil)
	if i := bytes.IndexByte(b, '/'); i >= 0 {
		id, ssr = b[:i], b[i+1:]
	}
	if len(id) < 2 || len(id) > 7 || !allAlnum(id) {
		return badField(7, "is %q, want 2 to 7 upper-case letters or digits, optionally /A and a 4-digit SSR code", truncate(b))
	}
	if ssr != nil {
		if len(ssr) != 5 || !isUpper(ssr[0]) || !allOctal(ssr[1:]) {
			return badField(7, "has SSR mode and code %q, want a letter and 4 octal digits such as A4737", truncate(ssr))
		}
		m.SSR = string(ssr)
	}
	m.ARCID = string(id)
	return nil
}

// checkField8 checks flight rules (I, V, Y, Z) and type of flight (S, N, G,
// M, X; optional).
func checkField8(b []byte) error {
	ok := (len(b) == 1 || len(b) == 2) && bytes.IndexByte([]byte("IVYZ"), b[0]) >= 0
	if ok && len(b) == 2 {
		ok = bytes.IndexByte([]byte("SNGMX"), b[1]) >= 0
	}
	if !ok {
		return badField(8, "is %q, want flight rules I, V, Y or Z and optionally type of flight S, N, G, M or X", truncate(b))
	}
	return nil
}

// checkField9 checks the optional number of aircraft (1-2 digits), the type
// designator (2-4 characters starting with a letter, ZZZZ included), '/' and
// the wake turbulence category (L, M, H or J).
func checkField9(b []byte) error {
	i := 0
	for i < len(b) && i < 3 && isDigit(b[i]) {
		i++
	}
	slash := bytes.IndexByte(b, '/')
	typ := []byte(nil)
	if slash > i {
		typ = b[i:slash]
	}
	if i > 2 || slash < 0 || len(typ) < 2 || len(typ) > 4 || !isUpper(typ[0]) || !allAlnum(typ) ||
		slash != len(b)-2 || bytes.IndexByte([]byte("LMHJ"), b[len(b)-1]) < 0 {
		return badField(9, "is %q, want an aircraft type and wake turbulence category such as A320/M", truncate(b))
	}
	return nil
}

// checkField10 checks "equipment/surveillance", both non-empty letters and
// digits, e.g. "SDE3FGHIJ1RWY/LB1".
func checkField10(b []byte) error {
	i := bytes.IndexByte(b, '/')
	if i < 1 || i == len(b)-1 || !allAlnum(b[:i]) || !allAlnum(b[i+1:]) {
		return badField(10, "is %q, want equipment and surveillance codes such as SDFGY/S", truncate(b))
	}
	return nil
}

// field13 reads the departure aerodrome (4 letters) and time (HHMM).
func (m *Message) field13(b []byte, needTime bool) error {
	ad, t, ok := splitField13(b)
	if !ok || (needTime && t == "") {
		want := "4 letters and a time HHMM such as EDDM1304"
		if !needTime {
			want = "4 letters, optionally followed by a time HHMM"
		}
		return badField(13, "is %q, want %s", truncate(b), want)
	}
	m.ADEP, m.EOBT = ad, t
	return nil
}

// splitField13 matches an aerodrome with an optional valid time, "EDDM" or
// "EDDM1304".
func splitField13(b []byte) (aerodrome, hhmm string, ok bool) {
	if (len(b) != 4 && len(b) != 8) || !allUpper(b[:4]) {
		return "", "", false
	}
	if len(b) == 8 {
		if !isClock(b[4:]) {
			return "", "", false
		}
		return string(b[:4]), string(b[4:]), true
	}
	return string(b), "", true
}

// checkField15 checks the initial speed and level (e.g. N0450F350) and that
// the route elements after it are made of letters, digits and '/'.
func checkField15(b []byte) error {
	elems := bytes.Fields(b)
	if len(elems) == 0 {
		return badField(15, "is empty, want a speed and level such as N0450F350 followed by the route")
	}
	if !isSpeedLevel(elems[0]) {
		return badField(15, "starts with %q, want a speed and level such as N0450F350", truncate(elems[0]))
	}
	for _, e := range elems[1:] {
		for _, c := range e {
			if !isUpper(c) && !isDigit(c) && c != '/' {
				return badField(15, "has route element %q, want letters, digits and '/'", truncate(e))
			}
		}
	}
	return nil
}

// isSpeedLevel matches N/K + 4 digits or M + 3 digits, then F/A + 3 digits,
// S/M + 4 digits or VFR.
func isSpeedLevel(b []byte) bool {
	var n int
	switch {
	case len(b) > 0 && (b[0] == 'N' || b[0] == 'K'):
		n = 5
	case len(b) > 0 && b[0] == 'M':
		n = 4
	default:
		return false
	}
	if len(b) <= n || !allDigits(b[1:n]) {
		return false
	}
	lvl := b[n:]
	if string(lvl) == "VFR" {
		return true
	}
	switch lvl[0] {
	case 'F', 'A':
		return len(lvl) == 4 && allDigits(lvl[1:])
	case 'S', 'M':
		return len(lvl) == 5 && allDigits(lvl[1:])
	}
	return false
}

// parseField16 reads the destination (4 letters), the total EET (HHMM,
// required in FPL) and up to two alternates.
func parseField16(b []byte, needEET bool) (string, error) {
	elems := bytes.Fields(b)
	want := "a destination such as EDDH, optionally with the total EET and up to 2 alternates (EDDH0105 EDDV)"
	if needEET {
		want = "a destination, total EET and up to 2 alternates such as EDDH0105 EDDV"
	}
	if len(elems) == 0 || len(elems) > 3 {
		return "", badField(16, "is %q, want %s", truncate(b), want)
	}
	d := elems[0]
	if (len(d) != 4 && len(d) != 8) || !allUpper(d[:4]) || (len(d) == 8 && !isDuration(d[4:])) || (needEET && len(d) != 8) {
		return "", badField(16, "is %q, want %s", truncate(b), want)
	}
	for _, alt := range elems[1:] {
		if len(alt) != 4 || !allUpper(alt) {
			return "", badField(16, "has alternate %q, want 4 letters", truncate(alt))
		}
	}
	return string(d[:4]), nil
}

// field17 reads the arrival aerodrome and time, and for ZZZZ the name.
func (m *Message) field17(b []byte) error {
	elems := bytes.Fields(b)
	if len(elems) == 0 || len(elems[0]) != 8 || !allUpper(elems[0][:4]) || !isClock(elems[0][4:]) {
		return badField(17, "is %q, want 4 letters and a time HHMM such as EDDH1409", truncate(b))
	}
	if len(elems) > 1 && string(elems[0][:4]) != "ZZZZ" {
		return badField(17, "is %q: an aerodrome name may follow only ZZZZ", truncate(b))
	}
	m.ADARR, m.ATA = string(elems[0][:4]), string(elems[0][4:])
	return nil
}

// parseField18 checks "0" or a sequence of indicator/text elements (PBN/A1B1
// DOF/181022 RMK/TCAS) and returns the date of DOF/, empty when absent.
func parseField18(b []byte) (string, error) {
	if string(b) == "0" {
		return "", nil
	}
	elems := bytes.Fields(b)
	if len(elems) == 0 || indicatorLen(elems[0]) == 0 {
		return "", badField(18, "is %q, want 0 or indicators with text such as DOF/181022 RMK/TCAS", truncate(b))
	}
	dof := ""
	for i := 0; i < len(elems); {
		n := indicatorLen(elems[i])
		ind := elems[i][:n-1]
		text := [][]byte(nil)
		if len(elems[i]) > n {
			text = append(text, elems[i][n:])
		}
		i++
		for i < len(elems) && indicatorLen(elems[i]) == 0 {
			text = append(text, elems[i])
			i++
		}
		if len(text) == 0 {
			return "", badField(18, "has indicator %s/ without text", ind)
		}
		if string(ind) != "DOF" {
			continue
		}
		if dof != "" {
			return "", badField(18, "has DOF/ twice; the date of flight must be unambiguous")
		}
		if len(text) != 1 || !isDate(text[0]) {
			return "", badField(18, "has DOF/%s, want a valid date yymmdd such as DOF/181022", truncate(bytes.Join(text, []byte(" "))))
		}
		dof = string(text[0])
	}
	return dof, nil
}

// indicatorLen returns the length of a field 18 indicator with its '/' at the
// start of an element (2-6 letters then '/'), or 0.
func indicatorLen(e []byte) int {
	i := 0
	for i < len(e) && i < 7 && isUpper(e[i]) {
		i++
	}
	if i < 2 || i > 6 || i >= len(e) || e[i] != '/' {
		return 0
	}
	return i + 1
}

// isField18 tells field 18 from fields 16 and 17 by its shape.
func isField18(b []byte) bool {
	return string(b) == "0" || indicatorLen(b) > 0
}

// isAmendment tells field 22 (a field number, '/', the new content) apart.
func isAmendment(b []byte) bool {
	i := 0
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i >= 1 && i <= 2 && i < len(b) && b[i] == '/'
}

// checkField22 checks one amendment: the number of an FPL field, '/', and
// the new content of that field, checked like the field itself. A new DOF/
// does not change the key: CHG identifies the flight as it was.
func checkField22(b []byte) error {
	if !isAmendment(b) {
		return badField(22, "is %q, want a field number, '/' and the new content such as 8/IN", truncate(b))
	}
	i := bytes.IndexByte(b, '/')
	n, _ := strconv.Atoi(string(b[:i]))
	data := trimSpace(b[i+1:])
	if len(data) == 0 {
		return badField(22, "amends field %d with nothing", n)
	}
	var m Message
	switch n {
	case 7:
		return m.field7(data)
	case 8:
		return checkField8(data)
	case 9:
		return checkField9(data)
	case 10:
		return checkField10(data)
	case 13:
		return m.field13(data, true)
	case 15:
		return checkField15(data)
	case 16:
		_, err := parseField16(data, false)
		return err
	case 18:
		_, err := parseField18(data)
		return err
	case 19:
		return nil
	}
	return badField(22, "amends field %d; want one of 7, 8, 9, 10, 13, 15, 16, 18, 19", n)
}

// isClock matches a valid time of day HHMM.
func isClock(b []byte) bool {
	return len(b) == 4 && allDigits(b) && (b[0] < '2' || b[0] == '2' && b[1] <= '3') && b[2] <= '5'
}

// isDuration matches an elapsed time HHMM (hours 00-99).
func isDuration(b []byte) bool {
	return len(b) == 4 && allDigits(b) && b[2] <= '5'
}

// isDate matches a calendar date yymmdd (years 2000-2099).
func isDate(b []byte) bool {
	if len(b) != 6 || !allDigits(b) {
		return false
	}
	y := 2000 + int(b[0]-'0')*10 + int(b[1]-'0')
	mo := int(b[2]-'0')*10 + int(b[3]-'0')
	d := int(b[4]-'0')*10 + int(b[5]-'0')
	if mo < 1 || mo > 12 || d < 1 {
		return false
	}
	return d <= time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allUpper(b []byte) bool {
	for _, c := range b {
		if !isUpper(c) {
			return false
		}
	}
	return true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func allOctal(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}

func allAlnum(b []byte) bool {
	for _, c := range b {
		if !isUpper(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// trimSpace returns b without leading and trailing ASCII whitespace; the
// result shares b's memory and is only read.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// truncate keeps error messages short when a field is huge.
func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}

// tail shows the end of a cut-off message.
func tail(b []byte) string {
	if len(b) > 32 {
		return "..." + string(b[len(b)-32:])
	}
	return string(b)
}
