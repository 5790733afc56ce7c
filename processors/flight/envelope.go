package flight

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/contrail-atm/contrail/ingest/adexp"
	"github.com/contrail-atm/contrail/ingest/ats"
	"github.com/contrail-atm/contrail/ingest/events"
	"github.com/contrail-atm/contrail/schemas"
)

// ParseError says why an envelope cannot be read by the flight step. Code
// is machine-readable: the parser's own code (e.g. "adexp.bad_field") when
// the raw bytes fail the feed's syntax check, else one of the Code*
// constants.
type ParseError struct {
	Code   string
	Reason string
	Err    error // the parser's error, when there is one
}

func (e *ParseError) Error() string { return e.Reason }

// Unwrap returns the parser's error.
func (e *ParseError) Unwrap() error { return e.Err }

// ReasonCode is the machine-readable reason.
func (e *ParseError) ReasonCode() string { return e.Code }

// Codes of ParseError besides the parsers' own.
const (
	CodeFeed        = "flight.feed"         // not a plan (adexp, ats) or json envelope
	CodeTitle       = "flight.title"        // a message type the flight step does not read (ABI, LAM, ...)
	CodeNoCallsign  = "flight.no_callsign"  // the message names no aircraft
	CodeNoTimestamp = "flight.no_timestamp" // the envelope has no producer timestamp
)

func parseErr(code string, err error, format string, args ...any) *ParseError {
	return &ParseError{Code: code, Reason: fmt.Sprintf(format, args...), Err: err}
}

type reasonCoder interface{ ReasonCode() string }

func syntaxErr(feed string, err error) *ParseError {
	code := feed + ".syntax"
	if rc, ok := err.(reasonCoder); ok {
		code = rc.ReasonCode()
	}
	return parseErr(code, err, "parse %s record: %v", feed, err)
}

// Key returns the repartitioning key of a plan or json envelope: the
// callsign (ARCID). A conflict alert names two flights and is keyed by the
// first one's callsign: the alert is raised on that flight, naming the other
// by its GUFI when the producer gives it.
func Key(env *schemas.Envelope) (string, error) {
	switch env.Feed {
	case "adexp":
		m, err := adexp.Parser{}.Parse(env.Raw)
		if err != nil {
			return "", syntaxErr("adexp", err)
		}
		if m.Key.ARCID == "" {
			return "", parseErr(CodeNoCallsign, nil, "ADEXP %s message has no -ARCID", m.Title)
		}
		return m.Key.ARCID, nil
	case "ats":
		m, err := ats.Parser{}.Parse(env.Raw)
		if err != nil {
			return "", syntaxErr("ats", err)
		}
		if m.ARCID == "" {
			return "", parseErr(CodeNoCallsign, nil, "ATS %s message has no field 7", m.Type)
		}
		return m.ARCID, nil
	case "json":
		m, err := events.Parser{}.Parse(env.Raw)
		if err != nil {
			return "", syntaxErr("events", err)
		}
		if len(m.Flights) == 0 || m.Flights[0].Callsign == "" {
			return "", parseErr(CodeNoCallsign, nil, "%s event names no callsign", m.Type)
		}
		return m.Flights[0].Callsign, nil
	}
	return "", parseErr(CodeFeed, nil, "feed %q is not read by the flight step (want adexp, ats or json; SBS arrives as TrackMsg)", env.Feed)
}

// FromEnvelope parses a plan (adexp, ats) or system-event (json) envelope
// into an Input. It re-parses the raw bytes, so an improved parser recovers
// what older code ignored on replay. Errors are *ParseError; it never
// panics.
func FromEnvelope(env *schemas.Envelope) (Input, error) {
	in := Input{EventID: env.ID, Feed: env.Feed, TS: env.ProducerTS.UTC()}
	if env.ProducerTS.IsZero() {
		return in, parseErr(CodeNoTimestamp, nil, "envelope %s has no producer timestamp", env.ID)
	}
	var err error
	switch env.Feed {
	case "adexp":
		in.Plan, err = fromADEXP(env.Raw, in.TS)
	case "ats":
		in.Plan, err = fromATS(env.Raw, in.TS)
	case "json":
		in.Plan, in.Alert, err = fromJSON(env.Raw, env.ID)
	default:
		err = parseErr(CodeFeed, nil, "feed %q is not read by the flight step (want adexp, ats or json; SBS arrives as TrackMsg)", env.Feed)
	}
	return in, err
}

func titleOf(s string) Title {
	switch s {
	case "IFPL", "FPL":
		return TitleIFPL
	case "CHG":
		return TitleCHG
	case "CNL":
		return TitleCNL
	case "DLA":
		return TitleDLA
	case "DEP":
		return TitleDEP
	case "ARR":
		return TitleARR
	}
	return TitleNone
}

// clock parses HHMM; ok is false for anything else.
func clock(s string) (h, m int, ok bool) {
	if len(s) != 4 {
		return 0, 0, false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, false
		}
	}
	h, m = int(s[0]-'0')*10+int(s[1]-'0'), int(s[2]-'0')*10+int(s[3]-'0')
	return h, m, h < 24 && m < 60
}

// dated gives the time hhmm on date yymmdd, or, without a date, the time
// with that clock reading nearest to ref. Zero when hhmm is not a time.
func dated(hhmm, yymmdd string, ref time.Time) time.Time {
	h, m, ok := clock(hhmm)
	if !ok {
		return time.Time{}
	}
	if len(yymmdd) == 6 {
		if d, err := time.Parse("060102", yymmdd); err == nil {
			return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, time.UTC)
		}
	}
	ref = ref.UTC()
	t := time.Date(ref.Year(), ref.Month(), ref.Day(), h, m, 0, 0, time.UTC)
	switch d := t.Sub(ref); {
	case d > 12*time.Hour:
		t = t.AddDate(0, 0, -1)
	case d < -12*time.Hour:
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// levelOf returns the level of an ICAO speed/level group such as N0450F350
// (F350), the first element of a route; "" when the route has none.
func levelOf(route string) string {
	f := strings.Fields(route)
	if len(f) == 0 {
		return ""
	}
	e := f[0]
	for _, n := range []int{5, 4} { // N/K + 4 digits, M + 3 digits
		if len(e) > n && strings.ContainsRune("NKM", rune(e[0])) {
			lvl := e[n:]
			if lvl == "VFR" || (len(lvl) >= 4 && strings.ContainsRune("FASM", rune(lvl[0]))) {
				if (e[0] == 'M') == (n == 4) {
					return lvl
				}
			}
		}
	}
	return ""
}

// starOf guesses the STAR of an ICAO route: its last element when shaped
// like a STAR designator (2-5 letters, a digit, a letter, e.g. HLZ1A).
// ICAO ATS messages have no STAR field.
func starOf(route string) string {
	f := strings.Fields(route)
	if len(f) == 0 {
		return ""
	}
	e := f[len(f)-1]
	n := len(e)
	if n < 4 || n > 7 || e[n-1] < 'A' || e[n-1] > 'Z' || e[n-2] < '0' || e[n-2] > '9' {
		return ""
	}
	for i := 0; i < n-2; i++ {
		if e[i] < 'A' || e[i] > 'Z' {
			return ""
		}
	}
	return e
}

func fromADEXP(raw []byte, ts time.Time) (*PlanMsg, error) {
	m, err := adexp.Parser{}.Parse(raw)
	if err != nil {
		return nil, syntaxErr("adexp", err)
	}
	t := titleOf(m.Title)
	if t == TitleNone || m.Title == "FPL" {
		return nil, parseErr(CodeTitle, nil, "ADEXP title %s is not read by the flight step (want IFPL, CHG, CNL, DLA, DEP, ARR)", m.Title)
	}
	get := func(name string) string { v, _ := m.Get(name); return strings.Join(strings.Fields(v), " ") }
	p := &PlanMsg{Title: t, ARCID: m.Key.ARCID, IFPLID: m.Key.IFPLID, ADEP: m.Key.ADEP, ADES: m.Key.ADES,
		EOBT: dated(m.Key.EOBT, m.Key.EOBD, ts), AircraftType: get("ARCTYP"), Route: get("ROUTE"),
		CruiseLevel: get("RFL"), STAR: get("STAR"), NewADEP: get("NEWADEP"), NewADES: get("NEWADES")}
	if t == TitleARR {
		p.ADARR = get("ADARR")
		if p.ADARR == "" {
			p.ADARR = p.ADES
		}
		if ades, ok := m.Get("ADES"); !ok || ades == "" {
			p.ADES = "" // the key's ADES fell back to ADARR
		}
		p.ATA = dated(get("ATA"), "", ts)
	}
	if t == TitleDEP {
		p.ATD = dated(get("ATD"), "", ts)
	}
	return p, nil
}

// atsFields splits the text between the parentheses of a checked message
// into its fields.
func atsFields(raw []byte) []string {
	b := bytes.TrimSpace(raw)
	b = bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("(")), []byte(")"))
	parts := strings.Split(string(b), "-")
	for i := range parts {
		parts[i] = strings.Join(strings.Fields(parts[i]), " ")
	}
	return parts
}

// aircraftType reads the type designator of field 9 ("2A320/M" -> A320).
func aircraftType(f9 string) string {
	s, _, _ := strings.Cut(f9, "/")
	return strings.TrimLeft(s, "0123456789")
}

func fromATS(raw []byte, ts time.Time) (*PlanMsg, error) {
	m, err := ats.Parser{}.Parse(raw)
	if err != nil {
		return nil, syntaxErr("ats", err)
	}
	t := titleOf(m.Type)
	if t == TitleNone || m.Type == "IFPL" {
		return nil, parseErr(CodeTitle, nil, "ATS message type %s is not read by the flight step (want FPL, CHG, CNL, DLA, DEP, ARR)", m.Type)
	}
	p := &PlanMsg{Title: t, ARCID: m.ARCID, ADEP: m.ADEP, ADES: m.ADES}
	f := atsFields(raw)
	switch t {
	case TitleIFPL:
		p.EOBT = dated(m.EOBT, m.EOBD, ts)
		p.AircraftType = aircraftType(f[3])
		p.Route = f[6]
		p.CruiseLevel, p.STAR = levelOf(p.Route), starOf(p.Route)
	case TitleCHG:
		p.EOBT = dated(m.EOBT, m.EOBD, ts)
		for _, a := range f[4:] {
			num, val, ok := strings.Cut(a, "/")
			if !ok {
				continue
			}
			switch num {
			case "9":
				p.AircraftType = aircraftType(val)
			case "13":
				if len(val) >= 4 {
					p.NewADEP = val[:4]
				}
			case "15":
				p.Route = val
				p.CruiseLevel, p.STAR = levelOf(val), starOf(val)
			case "16":
				if len(val) >= 4 {
					p.NewADES = val[:4]
				}
			}
		}
	case TitleCNL, TitleDLA:
		p.EOBT = dated(m.EOBT, m.EOBD, ts)
	case TitleDEP:
		p.ATD = dated(m.EOBT, "", ts) // field 13 of a DEP carries the ATD
	case TitleARR:
		if m.EOBT != "" {
			p.EOBT = dated(m.EOBT, m.EOBD, ts)
		}
		p.ADARR = m.ADARR
		p.ATA = dated(m.ATA, "", ts)
	}
	return p, nil
}

// jsonEvent holds the fields of a system event the flight step reads
// beyond what events.Message carries.
type jsonEvent struct {
	Severity        string   `json:"severity"`
	NewRoute        string   `json:"new_route"`
	NewDestination  string   `json:"new_destination"`
	NewSTAR         string   `json:"new_star"`
	MinSeparationNM *float64 `json:"min_separation_nm"`
	Points          []struct {
		TS json.RawMessage `json:"ts"`
	} `json:"points"`
}

func fromJSON(raw []byte, envID string) (*PlanMsg, *AlertMsg, error) {
	m, err := events.Parser{}.Parse(raw)
	if err != nil {
		return nil, nil, syntaxErr("events", err)
	}
	var x jsonEvent
	if err := json.Unmarshal(raw, &x); err != nil {
		// Parse accepted it, so this is a field of an unexpected type
		// that Parse does not check.
		return nil, nil, parseErr("events.bad_field", err, "read %s event: %v", m.Type, err)
	}
	if len(m.Flights) == 0 || m.Flights[0].Callsign == "" {
		return nil, nil, parseErr(CodeNoCallsign, nil, "%s event names no callsign", m.Type)
	}
	fl := m.Flights[0]
	id := m.ID
	if id == "" {
		id = envID
	}
	switch m.Type {
	case events.RouteAmendmentRequest:
		return &PlanMsg{Title: TitleCHG, GUFI: fl.GUFI, ARCID: fl.Callsign, Route: x.NewRoute,
			CruiseLevel: levelOf(x.NewRoute), NewADES: x.NewDestination, STAR: x.NewSTAR}, nil, nil
	case events.ConflictAlert:
		a := &AlertMsg{Kind: string(m.Type), AlertID: id, Callsign: fl.Callsign, GUFI: fl.GUFI, ICAO24: fl.ICAO24,
			Severity: x.Severity}
		if len(m.Flights) > 1 {
			a.OtherCallsign, a.OtherGUFI = m.Flights[1].Callsign, m.Flights[1].GUFI
		}
		if x.MinSeparationNM != nil {
			a.Detail = fmt.Sprintf(", predicted minimum separation %.1f NM", *x.MinSeparationNM)
		}
		a.Message = fmt.Sprintf("%s conflict with %s%s", x.Severity, a.OtherCallsign, a.Detail)
		return nil, a, nil
	default:
		return nil, &AlertMsg{Kind: string(m.Type), AlertID: id, Callsign: fl.Callsign, GUFI: fl.GUFI, ICAO24: fl.ICAO24,
			Message: fmt.Sprintf("trajectory prediction with %d points", len(x.Points))}, nil
	}
}
