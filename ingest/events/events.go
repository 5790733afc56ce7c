// Package events checks the syntax of the JSON system events other systems
// send to Contrail — conflict alerts, trajectory predictions and route
// amendment requests — and extracts the two things the raw log needs: the key
// (the referenced flight's identifier) and the producer timestamp (the
// required "ts" field).
//
// A record is one JSON object (JSON Lines framing: the caller splits the
// stream into lines and drops the line terminator). Fields Contrail does not
// read are allowed and stay in the raw bytes; duplicate object keys are not,
// anywhere in the document, because JSON readers disagree on which duplicate
// wins. docs/feeds-events.md documents every field.
//
// The parser never modifies or retains the record; it only reads it. A record
// that fails the check gets a *SyntaxError with a machine-readable code, so
// the adapter can send it to the rejected topic with its reason.
//
//	var p events.Parser
//	key, ts, err := p.Check([]byte(`{"type":"route_amendment_request","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF","new_route":"N0450F350 INPUD Y102 UPALA"}`))
//	// key == "DLH5KF", ts == 2018-10-22 13:20:00 UTC, err == nil
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatVersion identifies this parser's rules in the envelope, so records
// checked by an older parser can be told apart after an upgrade.
const FormatVersion = "1"

// Format is the wire-format name recorded in envelopes.
const Format = "contrail-events-json"

// MaxMessageBytes bounds one record. A trajectory prediction of a few
// thousand points fits; anything longer is garbage or an attack and is
// rejected rather than parsed.
const MaxMessageBytes = 256 << 10

// SyntaxError says why a record is not a valid system event.
type SyntaxError struct {
	Code   string // machine-readable, e.g. "events.missing_field"
	Reason string // human-readable, names the field
}

func (e *SyntaxError) Error() string { return e.Reason }

// ReasonCode is the machine-readable reason recorded with the rejected record.
func (e *SyntaxError) ReasonCode() string { return e.Code }

func syntaxErr(code, format string, args ...any) *SyntaxError {
	return &SyntaxError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Type is the kind of a system event, the value of its "type" field.
type Type string

// The event types Contrail accepts.
const (
	ConflictAlert         Type = "conflict_alert"
	TrajectoryPrediction  Type = "trajectory_prediction"
	RouteAmendmentRequest Type = "route_amendment_request"
)

// Flight is a reference to one flight as an event names it.
type Flight struct {
	Callsign string // e.g. "DLH5KF", 2-8 upper-case letters and digits
	ICAO24   string // 24-bit address, 6 upper-case hex digits; empty when not given
	GUFI     string // Contrail's flight identifier; empty when not given
}

// ID is the flight's identifier in the record key: the GUFI when given, as
// it names one flight unambiguously, else the callsign.
func (f Flight) ID() string {
	if f.GUFI != "" {
		return f.GUFI
	}
	return f.Callsign
}

// Message is what the raw log needs from one event. Everything else stays in
// the raw bytes for later stages. It holds no reference to the input.
type Message struct {
	Type Type
	// TS is the producer timestamp, the "ts" field, in UTC.
	TS time.Time
	// ID is the producer's optional event id ("id"); empty when not given.
	ID string
	// Flights are the referenced flights: two for a conflict alert, in
	// document order, one otherwise.
	Flights []Flight
}

// Key is the record key: the referenced flight's ID, and for a conflict
// alert both flights' IDs sorted and joined with "+" (e.g.
// "AFR1234+DLH5KF"), so the same pair gets the same key whichever flight the
// producer lists first.
func (m Message) Key() string {
	switch len(m.Flights) {
	case 0:
		return ""
	case 1:
		return m.Flights[0].ID()
	}
	ids := make([]string, len(m.Flights))
	for i, f := range m.Flights {
		ids[i] = f.ID()
	}
	slices.Sort(ids)
	return strings.Join(ids, "+")
}

// Parser checks system events. The zero value is ready to use; it has no
// state and is safe for concurrent use.
type Parser struct{}

// Check validates one record and returns its key and producer timestamp. It
// never modifies or retains raw.
func (p Parser) Check(raw []byte) (key string, ts time.Time, err error) {
	m, err := p.Parse(raw)
	if err != nil {
		return "", time.Time{}, err
	}
	return m.Key(), m.TS, nil
}

// Parse checks one record: a single JSON object, optionally surrounded by
// JSON whitespace (a CR left over from CRLF framing included). It never
// modifies or retains raw.
func (p Parser) Parse(raw []byte) (Message, error) {
	if len(raw) == 0 {
		return Message{}, syntaxErr("events.empty", "empty record")
	}
	if len(raw) > MaxMessageBytes {
		return Message{}, syntaxErr("events.too_long", "record is %d bytes, more than the %d allowed", len(raw), MaxMessageBytes)
	}
	if len(bytes.Trim(raw, " \t\r\n")) == 0 {
		return Message{}, syntaxErr("events.empty", "record is only whitespace")
	}
	if !utf8.Valid(raw) {
		off := 0
		for off < len(raw) {
			r, n := utf8.DecodeRune(raw[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return Message{}, syntaxErr("events.not_json", "not JSON: invalid UTF-8 at byte %d", off)
	}
	doc, err := decode(raw)
	if err != nil {
		return Message{}, err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return Message{}, syntaxErr("events.not_object", "record is %s, want a JSON object", kind(doc))
	}
	m, err := check(obj)
	if err != nil {
		return Message{}, err
	}
	return m, nil
}

// errDuplicate reports a repeated object key; path names the object.
type errDuplicate struct{ key, path string }

func (e *errDuplicate) Error() string { return "duplicate key" }

// decode reads exactly one JSON value into maps, slices, strings,
// json.Numbers, bools and nils, rejecting duplicate keys.
func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readValue(dec, "")
	if err == nil {
		_, err = dec.Token()
		switch {
		case err == io.EOF:
			return v, nil
		case err == nil:
			e := notJSON(raw, errors.New("a second value follows"), dec.InputOffset())
			e.Reason += "; one record holds one JSON object"
			return nil, e
		}
	}
	var dup *errDuplicate
	if errors.As(err, &dup) && json.Valid(raw) {
		where := "the top-level object"
		if dup.path != "" {
			where = strconv.Quote(dup.path)
		}
		return nil, syntaxErr("events.duplicate_key", "key %q appears twice in %s; JSON readers disagree on which one wins", truncate(dup.key), where)
	}
	return nil, notJSON(raw, err, dec.InputOffset())
}

// notJSON describes why raw is not one JSON value. The streaming decoder's
// offsets depend on where it noticed the error, so the position comes from
// json.Unmarshal's validation pass instead: the 0-based index of the first
// offending byte, or the end of the input when it is cut off.
func notJSON(raw []byte, decErr error, decOffset int64) *SyntaxError {
	var v json.RawMessage
	var se *json.SyntaxError
	if err := json.Unmarshal(raw, &v); errors.As(err, &se) {
		if se.Offset >= int64(len(raw)) && strings.HasPrefix(se.Error(), "unexpected end") {
			return syntaxErr("events.not_json", "not JSON: unexpected end of input at byte %d", len(raw))
		}
		return syntaxErr("events.not_json", "not JSON: %s at byte %d", se.Error(), se.Offset-1)
	}
	return syntaxErr("events.not_json", "not JSON: %v near byte %d", decErr, decOffset)
}

func readValue(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, fmt.Errorf("object key is %v, want a string", kt)
			}
			if _, dup := obj[k]; dup {
				return nil, &errDuplicate{key: k, path: path}
			}
			v, err := readValue(dec, joinPath(path, k))
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, err
		}
		return obj, nil
	case '[':
		arr := []any{}
		for i := 0; dec.More(); i++ {
			v, err := readValue(dec, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, err
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// check validates the fields Contrail reads. Type comes first, so a document
// that is not a system event at all (say a dump1090 aircraft.json) is
// rejected for what it is: events.type, missing type.
func check(obj map[string]any) (Message, error) {
	var m Message
	tv, ok := obj["type"]
	if !ok || tv == nil {
		return m, syntaxErr("events.type", "missing type: a system event needs \"type\": %q, %q or %q", ConflictAlert, TrajectoryPrediction, RouteAmendmentRequest)
	}
	typ, ok := tv.(string)
	if !ok {
		return m, syntaxErr("events.type", "type is %s, want a string: %q, %q or %q", kind(tv), ConflictAlert, TrajectoryPrediction, RouteAmendmentRequest)
	}
	m.Type = Type(typ)
	switch m.Type {
	case ConflictAlert, TrajectoryPrediction, RouteAmendmentRequest:
	default:
		return Message{}, syntaxErr("events.type", "unknown type %q, want %q, %q or %q", truncate(typ), ConflictAlert, TrajectoryPrediction, RouteAmendmentRequest)
	}
	v, ok := obj["ts"]
	if !ok || v == nil {
		return Message{}, syntaxErr("events.ts", "missing ts: a system event needs its producer timestamp \"ts\" (RFC 3339 with offset, or integer epoch milliseconds)")
	}
	t, why := parseTime(v)
	if why != "" {
		return Message{}, syntaxErr("events.ts", "ts %s", why)
	}
	m.TS = t
	f := fields{obj: obj}
	if id, ok := f.optString("id"); ok {
		if id == "" {
			return Message{}, badField("id", "is empty; leave it out or give the producer's event id")
		}
		m.ID = id
	}
	if f.err == nil {
		switch m.Type {
		case ConflictAlert:
			m.Flights = f.conflictAlert()
		case TrajectoryPrediction:
			m.Flights = f.trajectoryPrediction()
		case RouteAmendmentRequest:
			m.Flights = f.routeAmendmentRequest()
		}
	}
	if f.err != nil {
		return Message{}, f.err
	}
	return m, nil
}

// fields reads one JSON object and keeps the first error, so the per-type
// checks read top to bottom.
type fields struct {
	obj  map[string]any
	path string // of obj, e.g. "flights[1]"; empty at the top level
	err  error
}

func (f *fields) name(k string) string { return joinPath(f.path, k) }

func (f *fields) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

// get returns the field's value; a missing or null field is absent.
func (f *fields) get(k string) (any, bool) {
	v, ok := f.obj[k]
	return v, ok && v != nil
}

func (f *fields) require(k string) (any, bool) {
	v, ok := f.get(k)
	if !ok && f.err == nil {
		f.fail(syntaxErr("events.missing_field", "missing field %q", f.name(k)))
	}
	return v, ok && f.err == nil
}

func (f *fields) optString(k string) (string, bool) {
	v, ok := f.get(k)
	if !ok || f.err != nil {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		f.fail(badField(f.name(k), "is %s, want a string", kind(v)))
		return "", false
	}
	return s, true
}

func (f *fields) reqString(k string) (string, bool) {
	if _, ok := f.require(k); !ok {
		return "", false
	}
	return f.optString(k)
}

// number reads a required (req) or optional number within [lo, hi].
func (f *fields) number(k string, req bool, lo, hi float64, unit string) (float64, bool) {
	var v any
	var ok bool
	if req {
		v, ok = f.require(k)
	} else {
		v, ok = f.get(k)
	}
	if !ok || f.err != nil {
		return 0, false
	}
	n, isNum := v.(json.Number)
	if !isNum {
		f.fail(badField(f.name(k), "is %s, want a number", kind(v)))
		return 0, false
	}
	x, err := strconv.ParseFloat(string(n), 64)
	if err != nil || x < lo || x > hi {
		f.fail(badField(f.name(k), "is %s, want %s from %g to %g", truncate(string(n)), unit, lo, hi))
		return 0, false
	}
	return x, true
}

// timestamp reads a required or optional timestamp other than the top-level ts.
func (f *fields) timestamp(k string, req bool) (time.Time, bool) {
	var v any
	var ok bool
	if req {
		v, ok = f.require(k)
	} else {
		v, ok = f.get(k)
	}
	if !ok || f.err != nil {
		return time.Time{}, false
	}
	t, why := parseTime(v)
	if why != "" {
		f.fail(badField(f.name(k), "%s", why))
		return time.Time{}, false
	}
	return t, true
}

// flight reads callsign, icao24 and gufi of the object f.
func (f *fields) flight() Flight {
	var fl Flight
	if cs, ok := f.reqString("callsign"); ok {
		if !isCallsign(cs) {
			f.fail(badField(f.name("callsign"), "is %q, want 2 to 8 upper-case letters and digits without padding", truncate(cs)))
		}
		fl.Callsign = cs
	}
	if a, ok := f.optString("icao24"); ok {
		if len(a) != 6 || !isHex(a) {
			f.fail(badField(f.name("icao24"), "is %q, want 6 hex digits", truncate(a)))
		}
		fl.ICAO24 = strings.ToUpper(a)
	}
	if g, ok := f.optString("gufi"); ok {
		if !isGUFI(g) {
			f.fail(badField(f.name("gufi"), "is %q, want 1 to 128 printable ASCII characters without spaces or '+'", truncate(g)))
		}
		fl.GUFI = g
	}
	return fl
}

// conflictAlert checks flights (exactly 2, different), severity, and the
// optional cpa_ts, min_separation_nm and min_vertical_separation_ft.
func (f *fields) conflictAlert() []Flight {
	v, ok := f.require("flights")
	if !ok {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		f.fail(badField("flights", "is %s, want an array of 2 flights", kind(v)))
		return nil
	}
	if len(arr) != 2 {
		f.fail(badField("flights", "has %d entries, want exactly 2", len(arr)))
		return nil
	}
	flights := make([]Flight, 2)
	for i, e := range arr {
		path := fmt.Sprintf("flights[%d]", i)
		o, isObj := e.(map[string]any)
		if !isObj {
			f.fail(badField(path, "is %s, want an object with callsign, icao24, gufi", kind(e)))
			return nil
		}
		sub := fields{obj: o, path: path}
		flights[i] = sub.flight()
		if sub.err != nil {
			f.fail(sub.err)
			return nil
		}
	}
	if flights[0].ID() == flights[1].ID() {
		f.fail(badField("flights", "names %q twice; a conflict needs two different flights", flights[0].ID()))
		return nil
	}
	if s, ok := f.reqString("severity"); ok && s != "advisory" && s != "caution" && s != "warning" {
		f.fail(badField("severity", "is %q, want \"advisory\", \"caution\" or \"warning\"", truncate(s)))
	}
	f.timestamp("cpa_ts", false)
	f.number("min_separation_nm", false, 0, 1000, "nautical miles")
	f.number("min_vertical_separation_ft", false, 0, 100000, "feet")
	return flights
}

// trajectoryPrediction checks the flight and its points: at least one, each
// with ts, lat, lon and fl, in strictly increasing time order.
func (f *fields) trajectoryPrediction() []Flight {
	fl := f.flight()
	v, ok := f.require("points")
	if !ok {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		f.fail(badField("points", "is %s, want an array of points", kind(v)))
		return nil
	}
	if len(arr) == 0 {
		f.fail(badField("points", "is empty, want at least one point"))
		return nil
	}
	var prev time.Time
	for i, e := range arr {
		path := fmt.Sprintf("points[%d]", i)
		o, isObj := e.(map[string]any)
		if !isObj {
			f.fail(badField(path, "is %s, want an object with ts, lat, lon, fl", kind(e)))
			return nil
		}
		p := fields{obj: o, path: path}
		t, _ := p.timestamp("ts", true)
		p.number("lat", true, -90, 90, "degrees")
		p.number("lon", true, -180, 180, "degrees")
		p.number("fl", true, -20, 1000, "a flight level (hundreds of feet)")
		if p.err != nil {
			f.fail(p.err)
			return nil
		}
		if i > 0 && !t.After(prev) {
			f.fail(badField(path+".ts", "is %s, not after the previous point's %s; points must be in time order", t.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano)))
			return nil
		}
		prev = t
	}
	return []Flight{fl}
}

// routeAmendmentRequest checks the flight, new_route and the optional
// new_destination and new_star.
func (f *fields) routeAmendmentRequest() []Flight {
	fl := f.flight()
	if r, ok := f.reqString("new_route"); ok && !isRoute(r) {
		f.fail(badField("new_route", "is %q, want an ICAO field 15 route: upper-case letters, digits, '/' and single spaces", truncate(r)))
	}
	if d, ok := f.optString("new_destination"); ok && (len(d) != 4 || !isUpper(d)) {
		f.fail(badField("new_destination", "is %q, want a 4-letter ICAO location indicator", truncate(d)))
	}
	if s, ok := f.optString("new_star"); ok && (len(s) < 2 || len(s) > 7 || s[0] < 'A' || s[0] > 'Z' || !isAlnum(s)) {
		f.fail(badField("new_star", "is %q, want a STAR designator of 2 to 7 upper-case letters and digits", truncate(s)))
	}
	return []Flight{fl}
}

func badField(name, format string, args ...any) *SyntaxError {
	return &SyntaxError{Code: "events.bad_field", Reason: "field " + strconv.Quote(name) + " " + fmt.Sprintf(format, args...)}
}

// Bounds of a plausible timestamp. Integer values below minEpochMillis are
// epoch seconds sent by mistake (1.6e9 ms is 19 January 1970).
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC) // exclusive

	minEpochMillis = int64(1e11) // 1973-03-03T09:46:40Z
)

// parseTime reads an RFC 3339 string with a UTC offset or integer epoch
// milliseconds. It returns the time in UTC, or why the value is not one.
func parseTime(v any) (time.Time, string) {
	var t time.Time
	switch x := v.(type) {
	case string:
		var err error
		t, err = time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Sprintf("is %q, want RFC 3339 with an offset such as 2018-10-22T13:04:00Z, or integer epoch milliseconds", truncate(x))
		}
	case json.Number:
		ms, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Sprintf("is %s, want integer epoch milliseconds (or an RFC 3339 string)", truncate(string(x)))
		}
		if ms >= 0 && ms < minEpochMillis {
			return time.Time{}, fmt.Sprintf("is %d: epoch milliseconds before 1973 are epoch seconds sent by mistake; want milliseconds", ms)
		}
		t = time.UnixMilli(ms)
	default:
		return time.Time{}, fmt.Sprintf("is %s, want an RFC 3339 string or integer epoch milliseconds", kind(v))
	}
	t = t.UTC()
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, fmt.Sprintf("is %s, want a time from 1970 to 2100", t.Format(time.RFC3339Nano))
	}
	return t, ""
}

// kind names a decoded JSON value's type for error messages.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isCallsign(s string) bool { return len(s) >= 2 && len(s) <= 8 && isAlnum(s) }

func isGUFI(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '+' {
			return false
		}
	}
	return true
}

// isRoute accepts elements of upper-case letters, digits and '/', separated
// by single spaces.
func isRoute(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == ' ') {
			return false
		}
	}
	return true
}

// truncate keeps error messages short when a value is huge.
func truncate(s string) string {
	if len(s) > 32 {
		s = s[:32]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s + "..."
	}
	return s
}
