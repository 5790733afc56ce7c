// Package adexp checks the syntax of Eurocontrol ADEXP messages (the
// "-TITLE IFPL -ARCID ..." format of IFPS and OLDI) and extracts the two
// things the raw log needs: the key (the composite flight key
// ADEP/EOBD/EOBT/ARCID/ADES) and the producer timestamp (-ORIGINDT, else
// -FILTIM dated by -EOBD).
//
// The parser only reads its input: it never modifies the slice and never
// retains it (a Message holds strings copied from it). Bad input is normal
// input: anything that is not a well-formed message gets a *SyntaxError with a
// machine-readable code, so the adapter can send the raw bytes to the rejected
// topic with the reason. Nothing here panics on any input; the fuzz targets
// check that.
//
// Syntax as Contrail reads it: a message is a sequence of fields, each a
// hyphen at the start of the text or after white space, a keyword of
// upper-case letters and digits, white space or the end, then a value that
// runs to the next field. The first field is -TITLE. Lists are
// "-BEGIN NAME ... -END NAME" and nest. Structured fields (-REFDATA -SENDER
// -FAC DM ..., -PT -PTID X -ETO Y) are kept flat: the field with an empty value
// followed by its sub-fields, in order. Only the title and the key and time
// fields are checked for their value; everything else is kept verbatim for
// later stages (see docs/feeds-adexp.md).
//
// Split frames a stream (a file or a TCP feed) into messages for a
// bufio.Scanner; NewScanner sets it up with a large enough buffer.
//
//	var p adexp.Parser
//	key, ts, err := p.Check([]byte("-TITLE DLA -ARCID DLH5KF -ADEP EDDM -EOBT 1345 -ADES EDDH -EOBD 181022 -FILTIM 221250"))
//	// key == "EDDM/181022/1345/DLH5KF/EDDH", ts == 2018-10-22 12:50 UTC, err == nil
package adexp

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Format is the wire-format name recorded in envelopes.
const Format = "adexp"

// FormatVersion identifies this parser's rules in the envelope, so records
// checked by an older parser can be told apart after an upgrade.
const FormatVersion = "1"

// MaxMessageBytes bounds a message. Real ADEXP messages are a few kilobytes
// (an IFPL with its route points is about 1.3 KiB); anything longer is garbage
// or an attack and is rejected with code adexp.too_long rather than parsed.
const MaxMessageBytes = 64 << 10

// Reason codes, recorded with rejected records. docs/feeds-adexp.md has the table.
const (
	CodeEmpty        = "adexp.empty"         // no bytes, or only white space
	CodeTooLong      = "adexp.too_long"      // more than MaxMessageBytes
	CodeBinary       = "adexp.binary"        // a control byte, or bytes that are not UTF-8 text
	CodeNoTitle      = "adexp.no_title"      // does not start with -TITLE and a title
	CodeTruncated    = "adexp.truncated"     // carries a "[..]" cut marker
	CodeUnbalanced   = "adexp.unbalanced"    // -BEGIN/-END do not pair up
	CodeBadField     = "adexp.bad_field"     // a checked field has a malformed value
	CodeMissingField = "adexp.missing_field" // a field the title requires is absent
)

// SyntaxError says why a record is not a valid ADEXP message.
type SyntaxError struct {
	Code   string // machine-readable, one of the Code* constants, e.g. "adexp.bad_field"
	Reason string // human-readable, names the field or the byte offset
}

func (e *SyntaxError) Error() string { return e.Reason }

// ReasonCode is the machine-readable reason recorded with the rejected record.
func (e *SyntaxError) ReasonCode() string { return e.Code }

func syntaxErr(code, format string, args ...any) *SyntaxError {
	return &SyntaxError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Field is one field of a message: a keyword and its value, or a list.
//
// For a basic field Value is the text after the keyword up to the next field,
// without surrounding white space but otherwise verbatim (a multi-line -ROUTE
// keeps its line breaks). A structured field such as -REFDATA or -PT has an
// empty Value; its sub-fields follow it as siblings. For a list
// (-BEGIN Name ... -END Name) List is true and Fields holds its entries in
// order, lists nested inside included.
type Field struct {
	Name   string
	Value  string
	List   bool
	Fields []Field
}

// Key is the flight-plan channel's composite flight key, taken from the
// message's top-level fields. A component the message does not carry is
// empty. ADES falls back to -ADARR (actual aerodrome of arrival) when a
// message, typically an ARR, carries no -ADES.
type Key struct {
	ADEP   string // departure aerodrome, 4 letters
	EOBD   string // estimated off-block date YYMMDD
	EOBT   string // estimated off-block time HHMM
	ARCID  string // aircraft identification, 2-7 letters and digits
	ADES   string // destination aerodrome, 4 letters
	IFPLID string // IFPS flight-plan id (2 letters, 8 digits); not part of String
}

// String is the composite key "ADEP/EOBD/EOBT/ARCID/ADES", e.g.
// "EDDM/181022/1304/DLH5KF/EDDH", with empty components left empty
// ("EDDM///DLH5KF/EDDH" for an OLDI message without EOBD and EOBT). IFPLID is
// not part of it: most messages do not carry it, and a key that changed with
// its presence would split one flight across keys.
func (k Key) String() string {
	return k.ADEP + "/" + k.EOBD + "/" + k.EOBT + "/" + k.ARCID + "/" + k.ADES
}

// Message is what the raw log needs from one ADEXP message, plus its fields
// for later stages. It holds no reference to the parsed bytes.
type Message struct {
	Title  string  // e.g. "IFPL", "CHG", "ABI", "LAM"
	Fields []Field // top-level fields in order, -TITLE first
	Key    Key
	// Time is the producer timestamp (UTC): -ORIGINDT when present, else
	// -FILTIM dated by -EOBD. Zero when the message carries neither; callers
	// then fall back to the record's or the receipt time.
	Time time.Time
	// TimeField names the field Time came from: "ORIGINDT", "FILTIM" or "".
	TimeField string
}

// Get returns the value of the first top-level basic field called name.
// Fields inside lists are not searched.
func (m *Message) Get(name string) (string, bool) {
	for i := range m.Fields {
		if f := &m.Fields[i]; !f.List && f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// List returns the entries of the first top-level list called name, e.g.
// "RTEPTS" or "ADDR".
func (m *Message) List(name string) ([]Field, bool) {
	for i := range m.Fields {
		if f := &m.Fields[i]; f.List && f.Name == name {
			return f.Fields, true
		}
	}
	return nil, false
}

// RecordKey is the Kafka record key for the raw log: the composite Key when
// the message names an aircraft (-ARCID), else its title (e.g. "LAM" for a
// logical acknowledgement, which refers to another message, not to a flight).
func (m *Message) RecordKey() string {
	if m.Key.ARCID == "" {
		return m.Title
	}
	return m.Key.String()
}

// Parser checks ADEXP messages. The zero value is ready to use and it is safe
// for concurrent use: it has no state.
type Parser struct{}

// Check validates raw and returns its record key (see Message.RecordKey) and
// producer timestamp (zero when the message carries none). It has the
// signature the ingest adapter expects and, like Parse, never modifies or
// retains raw.
func (p Parser) Check(raw []byte) (key string, ts time.Time, err error) {
	m, err := p.Parse(raw)
	if err != nil {
		return "", time.Time{}, err
	}
	return m.RecordKey(), m.Time, nil
}

// Parse checks one message (a token from Split, or a record as received) and
// extracts its fields, key and producer timestamp. Checks, in order:
//
//   - adexp.empty: no bytes;
//   - adexp.too_long: more than MaxMessageBytes;
//   - adexp.binary: a control byte other than tab, CR and LF, or bytes that
//     are not valid UTF-8, or a C1 control character; ADEXP is text, and valid
//     UTF-8 in free-text fields is tolerated rather than rejected;
//   - adexp.empty: nothing but white space;
//   - adexp.no_title: the first thing after white space is not "-TITLE <title>";
//   - adexp.truncated: a "[..]" (or "[...]") cut marker anywhere;
//   - adexp.unbalanced: -BEGIN and -END do not pair up;
//   - adexp.bad_field: a malformed title, key or time field, or a second -TITLE;
//   - adexp.missing_field: a field the title requires is absent.
//
// It never modifies or retains raw.
func (p Parser) Parse(raw []byte) (Message, error) {
	var m Message
	if len(raw) == 0 {
		return m, syntaxErr(CodeEmpty, "empty message")
	}
	if len(raw) > MaxMessageBytes {
		return m, syntaxErr(CodeTooLong, "message is %d bytes, more than the %d allowed", len(raw), MaxMessageBytes)
	}
	if err := checkText(raw); err != nil {
		return m, err
	}
	// One copy: every string in the Message is a substring of s, so the
	// Message does not pin the caller's buffer.
	s := string(raw)
	first, nameEnd := findField(s, 0)
	if strings.TrimLeft(s[:first], spaces) != "" || first == len(s) || s[first+1:nameEnd] != "TITLE" {
		if strings.TrimLeft(s, spaces) == "" {
			return m, syntaxErr(CodeEmpty, "message is only white space")
		}
		return m, syntaxErr(CodeNoTitle, "message starts with %q, want -TITLE", clip(strings.TrimLeft(s, spaces)))
	}
	if at := cutMarker(s); at >= 0 {
		return m, syntaxErr(CodeTruncated, "message is cut at byte %d by a %q marker; a truncated message must not update a flight", at, s[at:at+len(cutMarkerText(s[at:]))])
	}
	fields, err := build(s, first)
	if err != nil {
		return m, err
	}
	m.Fields = fields
	m.Title = fields[0].Value
	if !isTitle(m.Title) {
		if m.Title == "" {
			return m, syntaxErr(CodeNoTitle, "-TITLE has no value")
		}
		return m, syntaxErr(CodeBadField, "-TITLE is %q, want 1-16 upper-case letters and digits starting with a letter", clip(m.Title))
	}
	if err := m.extract(); err != nil {
		return m, err
	}
	for _, alts := range requiredFields(m.Title) {
		if !m.hasAny(alts) {
			return m, syntaxErr(CodeMissingField, "%s message has no -%s", m.Title, strings.Join(alts, " or -"))
		}
	}
	return m, nil
}

// spaces is the white space that separates fields and lines.
const spaces = " \t\r\n"

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isKeyChar(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// checkText rejects bytes that cannot be in a text message.
func checkText(b []byte) *SyntaxError {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
				return syntaxErr(CodeBinary, "byte 0x%02x at offset %d; ADEXP is text", c, i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return syntaxErr(CodeBinary, "invalid UTF-8 byte 0x%02x at offset %d; ADEXP is text", c, i)
		}
		if r >= 0x80 && r <= 0x9f {
			return syntaxErr(CodeBinary, "C1 control character U+%04X at offset %d; ADEXP is text", r, i)
		}
		i += n
	}
	return nil
}

// findField returns the offset of the first field at or after i (its '-')
// and the end of its keyword, or len(s) twice when there is none. A field
// starts with a hyphen at the start or after white space, followed by one or
// more keyword characters and then white space or the end; any other hyphen
// is part of a value (-MSGTXT (ARR-ABC123-...)).
func findField(s string, i int) (at, nameEnd int) {
	for i < len(s) {
		k := strings.IndexByte(s[i:], '-')
		if k < 0 {
			break
		}
		i += k
		if i == 0 || isSpace(s[i-1]) {
			j := i + 1
			for j < len(s) && isKeyChar(s[j]) {
				j++
			}
			if j > i+1 && (j == len(s) || isSpace(s[j])) {
				return i, j
			}
		}
		i++
	}
	return len(s), len(s)
}

// fieldScanner walks the fields of s in order.
type fieldScanner struct {
	s           string
	at, nameEnd int // the next field; at == len(s) when done
}

func newFieldScanner(s string, first int) fieldScanner {
	fs := fieldScanner{s: s, at: first}
	_, fs.nameEnd = findField(s, first)
	return fs
}

// next returns the next field's keyword, its value with the surrounding
// white space (trimSpace removes it) and the offset of its hyphen.
func (fs *fieldScanner) next() (name, rawValue string, at int, ok bool) {
	if fs.at >= len(fs.s) {
		return "", "", 0, false
	}
	at, name = fs.at, fs.s[fs.at+1:fs.nameEnd]
	nextAt, nextEnd := findField(fs.s, fs.nameEnd)
	rawValue = fs.s[fs.nameEnd:nextAt]
	fs.at, fs.nameEnd = nextAt, nextEnd
	return name, rawValue, at, true
}

// trimSpace removes leading and trailing white space (spaces).
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// listName checks the value of -BEGIN or -END: exactly one keyword.
func listName(kw, value string, at int) (string, *SyntaxError) {
	value = trimSpace(value)
	if value == "" {
		return "", syntaxErr(CodeUnbalanced, "-%s at byte %d has no list name", kw, at)
	}
	for i := 0; i < len(value); i++ {
		if !isKeyChar(value[i]) {
			return "", syntaxErr(CodeUnbalanced, "-%s at byte %d names %q, want one keyword", kw, at, clip(value))
		}
	}
	return value, nil
}

// build turns the fields of s into the Field tree. It makes two passes: the
// first checks that lists pair up and counts the entries of each level, the
// second fills one exactly-sized array, so a message costs one allocation
// for all its fields however deep its lists nest.
func build(s string, first int) ([]Field, error) {
	// Pass 1. counts[0] is the top level, counts[k] the k-th list opened.
	var countsBuf [16]int
	counts := append(countsBuf[:0], 0)
	type open struct {
		name  string
		at    int
		index int // into counts
	}
	var stackBuf [8]open
	stack := stackBuf[:0]
	total := 0
	titles := 0
	fs := newFieldScanner(s, first)
	for {
		name, value, at, ok := fs.next()
		if !ok {
			break
		}
		level := 0
		if len(stack) > 0 {
			level = stack[len(stack)-1].index
		}
		switch name {
		case "BEGIN":
			ln, err := listName(name, value, at)
			if err != nil {
				return nil, err
			}
			counts[level]++
			total++
			stack = append(stack, open{ln, at, len(counts)})
			counts = append(counts, 0)
		case "END":
			ln, err := listName(name, value, at)
			if err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				return nil, syntaxErr(CodeUnbalanced, "-END %s at byte %d closes no list", ln, at)
			}
			if top := stack[len(stack)-1]; top.name != ln {
				return nil, syntaxErr(CodeUnbalanced, "-END %s at byte %d, but the list open is %s (byte %d)", ln, at, top.name, top.at)
			}
			stack = stack[:len(stack)-1]
		default:
			if name == "TITLE" {
				if titles++; titles > 1 {
					return nil, syntaxErr(CodeBadField, "second -TITLE at byte %d: two messages run together, want one per record", at)
				}
			}
			counts[level]++
			total++
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, syntaxErr(CodeUnbalanced, "list %s opened at byte %d is not closed (no -END %s)", top.name, top.at, top.name)
	}

	// Pass 2. Each level's entries get a contiguous block of all.
	all := make([]Field, total)
	type frame struct {
		block []Field
		fill  int
	}
	var framesBuf [8]frame
	frames := append(framesBuf[:0], frame{block: all[:counts[0]:counts[0]]})
	next, list := counts[0], 0
	fs = newFieldScanner(s, first)
	for {
		name, value, _, ok := fs.next()
		if !ok {
			break
		}
		cur := &frames[len(frames)-1]
		switch name {
		case "BEGIN":
			list++
			n := counts[list]
			block := all[next : next+n : next+n]
			next += n
			cur.block[cur.fill] = Field{Name: trimSpace(value), List: true, Fields: block}
			cur.fill++
			frames = append(frames, frame{block: block})
		case "END":
			frames = frames[:len(frames)-1]
		default:
			cur.block[cur.fill] = Field{Name: name, Value: trimSpace(value)}
			cur.fill++
		}
	}
	return all[:counts[0]:counts[0]], nil
}

// cutMarker returns the offset of the first "[..]" or "[...]" in s, or -1.
// Dumps and logs that shorten long messages end them with such a marker.
func cutMarker(s string) int {
	for off := 0; ; {
		k := strings.Index(s[off:], "[..")
		if k < 0 {
			return -1
		}
		at := off + k
		if cutMarkerText(s[at:]) != "" {
			return at
		}
		off = at + 1
	}
}

func cutMarkerText(s string) string {
	switch {
	case strings.HasPrefix(s, "[..]"):
		return "[..]"
	case strings.HasPrefix(s, "[...]"):
		return "[...]"
	}
	return ""
}

// requiredFields lists, per title, the fields a message must carry; each
// entry is a set of alternatives. The sets follow the ICAO messages the
// titles mirror (Doc 4444 fields 7, 13, 16, 17): a plan names its flight in
// full; a change, cancellation or delay must identify the plan it applies to;
// a departure carries the actual time instead of EOBT; an arrival names the
// aerodrome it arrived at, which replaces the destination. Every other title
// is accepted as a generic message.
func requiredFields(title string) [][]string {
	switch title {
	case "IFPL":
		return [][]string{{"ARCID"}, {"ADEP"}, {"ADES"}, {"EOBT"}, {"EOBD"}}
	case "CHG", "CNL", "DLA":
		return [][]string{{"ARCID"}, {"ADEP"}, {"ADES"}, {"EOBT"}}
	case "DEP":
		return [][]string{{"ARCID"}, {"ADEP"}, {"ADES"}}
	case "ARR":
		return [][]string{{"ARCID"}, {"ADEP"}, {"ADES", "ADARR"}}
	}
	return nil
}

func (m *Message) hasAny(names []string) bool {
	for _, n := range names {
		if _, ok := m.Get(n); ok {
			return true
		}
	}
	return false
}

// extract checks the top-level key and time fields that are present (the
// first of each; later repeats are left alone) and fills Key and Time.
func (m *Message) extract() error {
	var adarr, filtim, origindt string
	var hasFiltim, hasOrigindt bool
	seen := 0
	const (
		sARCID = 1 << iota
		sADEP
		sADES
		sEOBT
		sEOBD
		sIFPLID
		sADARR
		sFILTIM
		sORIGINDT
	)
	for i := range m.Fields {
		f := &m.Fields[i]
		if f.List {
			continue
		}
		var bit int
		var check func(string) bool
		var want string
		var dst *string
		switch f.Name {
		case "ARCID":
			bit, check, want, dst = sARCID, isARCID, "2-7 upper-case letters and digits", &m.Key.ARCID
		case "ADEP":
			bit, check, want, dst = sADEP, isAerodrome, "4 upper-case letters", &m.Key.ADEP
		case "ADES":
			bit, check, want, dst = sADES, isAerodrome, "4 upper-case letters", &m.Key.ADES
		case "ADARR":
			bit, check, want, dst = sADARR, isAerodrome, "4 upper-case letters", &adarr
		case "EOBT":
			bit, check, want, dst = sEOBT, isHHMM, "a time HHMM", &m.Key.EOBT
		case "EOBD":
			bit, check, want, dst = sEOBD, isYYMMDD, "a date YYMMDD", &m.Key.EOBD
		case "IFPLID":
			bit, check, want, dst = sIFPLID, isIFPLID, "2 upper-case letters and 8 digits", &m.Key.IFPLID
		case "FILTIM":
			bit, check, want, dst = sFILTIM, isDDHHMM, "a day and time DDHHMM", &filtim
			hasFiltim = true
		case "ORIGINDT":
			bit, check, want, dst = sORIGINDT, isOriginDT, "a date and time YYMMDDHHMM", &origindt
			hasOrigindt = true
		default:
			continue
		}
		if seen&bit != 0 {
			continue
		}
		seen |= bit
		if !check(f.Value) {
			return syntaxErr(CodeBadField, "-%s is %q, want %s", f.Name, clip(f.Value), want)
		}
		*dst = f.Value
	}
	if m.Key.ADES == "" {
		m.Key.ADES = adarr
	}
	switch {
	case hasOrigindt:
		m.Time, m.TimeField = originTime(origindt), "ORIGINDT"
	case hasFiltim && m.Key.EOBD != "":
		m.Time, m.TimeField = filingTime(filtim, m.Key.EOBD), "FILTIM"
	}
	return nil
}

func isTitle(s string) bool {
	if len(s) < 1 || len(s) > 16 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	return allKeyChars(s)
}

func allKeyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isKeyChar(s[i]) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isARCID(s string) bool { return len(s) >= 2 && len(s) <= 7 && allKeyChars(s) }

func isAerodrome(s string) bool { return len(s) == 4 && allLetters(s) }

func isIFPLID(s string) bool { return len(s) == 10 && allLetters(s[:2]) && allDigits(s[2:]) }

// num reads the two digits at s[i:i+2]; the caller has checked they are digits.
func num(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

func isHHMM(s string) bool {
	return len(s) == 4 && allDigits(s) && num(s, 0) <= 23 && num(s, 2) <= 59
}

// isYYMMDD accepts a calendar date in 2000-2099.
func isYYMMDD(s string) bool {
	return len(s) == 6 && allDigits(s) && validDate(2000+num(s, 0), num(s, 2), num(s, 4))
}

func validDate(y, mo, d int) bool {
	return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, time.Month(mo))
}

func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func isDDHHMM(s string) bool {
	return len(s) == 6 && allDigits(s) && num(s, 0) >= 1 && num(s, 0) <= 31 && isHHMM(s[2:])
}

// isOriginDT accepts YYMMDDHHMM, the ADEXP datetime, and YYMMDDHHMMSS.
func isOriginDT(s string) bool {
	if (len(s) != 10 && len(s) != 12) || !allDigits(s) || !isYYMMDD(s[:6]) || !isHHMM(s[6:10]) {
		return false
	}
	return len(s) == 10 || num(s, 10) <= 59
}

func originTime(s string) time.Time {
	sec := 0
	if len(s) == 12 {
		sec = num(s, 10)
	}
	return time.Date(2000+num(s, 0), time.Month(num(s, 2)), num(s, 4), num(s, 6), num(s, 8), sec, 0, time.UTC)
}

// filingTime dates a filing time DDHHMM by the flight's EOBD: of the dates
// with that day of month in the month of EOBD, the month before and the month
// after, the one nearest EOBD. A plan is filed hours to days before its
// off-block time, sometimes minutes after it, so the nearest match is the
// right one across month and year ends (FILTIM 312350 with EOBD 190101 is
// 2018-12-31 23:50).
func filingTime(filtim, eobd string) time.Time {
	ref := time.Date(2000+num(eobd, 0), time.Month(num(eobd, 2)), num(eobd, 4), 0, 0, 0, 0, time.UTC)
	day, hh, mm := num(filtim, 0), num(filtim, 2), num(filtim, 4)
	var best time.Time
	var bestDist time.Duration
	for _, dm := range []int{-1, 0, 1} {
		first := time.Date(ref.Year(), ref.Month()+time.Month(dm), 1, 0, 0, 0, 0, time.UTC)
		if day > daysIn(first.Year(), first.Month()) {
			continue
		}
		t := time.Date(first.Year(), first.Month(), day, hh, mm, 0, 0, time.UTC)
		dist := t.Sub(ref)
		if dist < 0 {
			dist = -dist
		}
		if best.IsZero() || dist < bestDist {
			best, bestDist = t, dist
		}
	}
	return best
}

// clip keeps error messages short when a value is huge.
func clip(s string) string {
	if len(s) > 32 {
		s = s[:32]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s + "..."
	}
	return s
}
