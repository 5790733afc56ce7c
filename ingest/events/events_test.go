package events_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/ingest/events"
)

// Complete example documents, the same as in docs/feeds-events.md.
const (
	docConflict = `{"type":"conflict_alert","ts":"2018-10-22T13:21:05.250Z","id":"stca-4711",` +
		`"flights":[{"callsign":"DLH5KF","icao24":"3c6589"},{"callsign":"AFR1234","icao24":"39856C"}],` +
		`"severity":"warning","cpa_ts":"2018-10-22T13:22:40Z","min_separation_nm":2.1,"min_vertical_separation_ft":400,` +
		`"source":"STCA Munich"}`
	docTrajectory = `{"type":"trajectory_prediction","ts":1540214400000,"callsign":"DLH5KF","icao24":"3C6589",` +
		`"points":[{"ts":"2018-10-22T13:20:00Z","lat":48.3538,"lon":11.7861,"fl":0},` +
		`{"ts":"2018-10-22T13:30:00Z","lat":49.2144,"lon":11.2214,"fl":140},` +
		`{"ts":1540215900000,"lat":51.2,"lon":10.9,"fl":350}],"model":"BADA 4.2"}`
	docAmendment = `{"type":"route_amendment_request","ts":"2018-10-22T15:20:00+02:00",` +
		`"callsign":"DLH5KF","gufi":"8f2c6e1a-5b1d-4c55-9a0e-1f6c2d7b9e01",` +
		`"new_route":"N0450F350 INPUD2N INPUD Y102 UPALA M726 LASTO","new_destination":"EDDV","new_star":"HLZ1A",` +
		`"reason":"weather at EDDH"}`
)

var (
	ts1320 = time.Date(2018, 10, 22, 13, 20, 0, 0, time.UTC)
	gufi   = "8f2c6e1a-5b1d-4c55-9a0e-1f6c2d7b9e01"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		typ     events.Type
		ts      time.Time
		id      string
		flights []events.Flight
		key     string
	}{
		{"conflict alert", docConflict, events.ConflictAlert,
			time.Date(2018, 10, 22, 13, 21, 5, 250e6, time.UTC), "stca-4711",
			[]events.Flight{{Callsign: "DLH5KF", ICAO24: "3C6589"}, {Callsign: "AFR1234", ICAO24: "39856C"}},
			"AFR1234+DLH5KF"},
		{"conflict alert with flights swapped has the same key",
			`{"type":"conflict_alert","ts":"2018-10-22T13:21:05.250Z","flights":[{"callsign":"AFR1234"},{"callsign":"DLH5KF"}],"severity":"caution"}`,
			events.ConflictAlert, time.Date(2018, 10, 22, 13, 21, 5, 250e6, time.UTC), "",
			[]events.Flight{{Callsign: "AFR1234"}, {Callsign: "DLH5KF"}}, "AFR1234+DLH5KF"},
		{"conflict alert keyed by GUFI where given",
			`{"type":"conflict_alert","ts":1540214400000,"flights":[{"callsign":"DLH5KF","gufi":"` + gufi + `"},{"callsign":"AFR1234","icao24":null}],"severity":"advisory","cpa_ts":null}`,
			events.ConflictAlert, ts1320, "",
			[]events.Flight{{Callsign: "DLH5KF", GUFI: gufi}, {Callsign: "AFR1234"}}, gufi + "+AFR1234"},
		{"conflict alert between two callsigns of the same GUFI-less pair, minimal",
			`{"flights":[{"callsign":"N123AB"},{"callsign":"N123AC"}],"severity":"warning","ts":"2100-12-31T23:59:59.999999999Z","type":"conflict_alert"}`,
			events.ConflictAlert, time.Date(2100, 12, 31, 23, 59, 59, 999999999, time.UTC), "",
			[]events.Flight{{Callsign: "N123AB"}, {Callsign: "N123AC"}}, "N123AB+N123AC"},
		{"trajectory prediction with epoch milliseconds", docTrajectory, events.TrajectoryPrediction, ts1320, "",
			[]events.Flight{{Callsign: "DLH5KF", ICAO24: "3C6589"}}, "DLH5KF"},
		{"trajectory prediction with one point and negative level",
			`{"type":"trajectory_prediction","ts":"2018-10-22T13:20:00Z","callsign":"ISR001","points":[{"ts":"2018-10-22T13:20:00Z","lat":-90,"lon":-180,"fl":-12.5}]}`,
			events.TrajectoryPrediction, ts1320, "", []events.Flight{{Callsign: "ISR001"}}, "ISR001"},
		{"route amendment request keyed by GUFI, ts with offset", docAmendment, events.RouteAmendmentRequest, ts1320, "",
			[]events.Flight{{Callsign: "DLH5KF", GUFI: gufi}}, gufi},
		{"route amendment request, route only",
			`{"type":"route_amendment_request","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF","new_route":"DCT"}`,
			events.RouteAmendmentRequest, ts1320, "", []events.Flight{{Callsign: "DLH5KF"}}, "DLH5KF"},
		{"unknown fields of every kind are ignored",
			`{"type":"route_amendment_request","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF","new_route":"DCT",` +
				`"x":{"nested":[1,2,{"deep":null}],"s":"ü €"},"y":[],"z":-1.5e300,"w":false,"v":null,"u":"\u0000"}`,
			events.RouteAmendmentRequest, ts1320, "", []events.Flight{{Callsign: "DLH5KF"}}, "DLH5KF"},
		{"pretty-printed over several lines with CRLF",
			"{\r\n  \"type\": \"route_amendment_request\",\r\n  \"ts\": \"2018-10-22T13:20:00Z\",\r\n  \"callsign\": \"DLH5KF\",\r\n  \"new_route\": \"DCT\"\r\n}\r\n",
			events.RouteAmendmentRequest, ts1320, "", []events.Flight{{Callsign: "DLH5KF"}}, "DLH5KF"},
		{"leftover CR of CRLF framing", docAmendment + "\r", events.RouteAmendmentRequest, ts1320, "",
			[]events.Flight{{Callsign: "DLH5KF", GUFI: gufi}}, gufi},
		{"ts at the start of 1973 in milliseconds",
			`{"type":"route_amendment_request","ts":100000000000,"callsign":"DLH5KF","new_route":"DCT"}`,
			events.RouteAmendmentRequest, time.Date(1973, 3, 3, 9, 46, 40, 0, time.UTC), "", []events.Flight{{Callsign: "DLH5KF"}}, "DLH5KF"},
		{"ts at the start of 1970 as RFC 3339",
			`{"type":"route_amendment_request","ts":"1969-12-31T23:30:00-01:00","callsign":"DLH5KF","new_route":"DCT"}`,
			events.RouteAmendmentRequest, time.Date(1970, 1, 1, 0, 30, 0, 0, time.UTC), "", []events.Flight{{Callsign: "DLH5KF"}}, "DLH5KF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.doc)
			orig := bytes.Clone(in)
			m, err := events.Parser{}.Parse(in)
			if err != nil {
				t.Fatalf("Parse(%s) error: %v", tt.doc, err)
			}
			if !bytes.Equal(in, orig) {
				t.Fatalf("Parse modified its input")
			}
			if m.Type != tt.typ || m.ID != tt.id {
				t.Errorf("type %q id %q, want %q %q", m.Type, m.ID, tt.typ, tt.id)
			}
			if !m.TS.Equal(tt.ts) || m.TS.Location() != time.UTC {
				t.Errorf("TS = %v, want %v in UTC", m.TS, tt.ts)
			}
			if len(m.Flights) != len(tt.flights) {
				t.Fatalf("flights %+v, want %+v", m.Flights, tt.flights)
			}
			for i := range m.Flights {
				if m.Flights[i] != tt.flights[i] {
					t.Errorf("flight %d = %+v, want %+v", i, m.Flights[i], tt.flights[i])
				}
			}
			if m.Key() != tt.key {
				t.Errorf("Key() = %q, want %q", m.Key(), tt.key)
			}
			key, ts, err := events.Parser{}.Check(in)
			if err != nil || key != tt.key || !ts.Equal(tt.ts) {
				t.Errorf("Check = %q, %v, %v; want %q, %v, nil", key, ts, err, tt.key, tt.ts)
			}
		})
	}
}

// amend returns a valid route amendment request with extra fields appended.
func amend(extra string) string {
	return `{"type":"route_amendment_request","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF","new_route":"DCT"` + extra + `}`
}

// conflict returns a conflict alert with the given flights and extra fields.
func conflict(flights, extra string) string {
	return `{"type":"conflict_alert","ts":"2018-10-22T13:21:05Z","flights":` + flights + `,"severity":"warning"` + extra + `}`
}

// trajectory returns a trajectory prediction with the given points.
func trajectory(points string) string {
	return `{"type":"trajectory_prediction","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF","points":` + points + `}`
}

const twoFlights = `[{"callsign":"DLH5KF"},{"callsign":"AFR1234"}]`

// padded returns a valid document of exactly n bytes.
func padded(t testing.TB, n int) string {
	base := amend(`,"pad":""`)
	if n < len(base) {
		t.Fatalf("cannot pad to %d bytes", n)
	}
	return amend(`,"pad":"` + strings.Repeat("x", n-len(base)) + `"`)
}

func TestParseLengthLimit(t *testing.T) {
	if _, err := (events.Parser{}).Parse([]byte(padded(t, events.MaxMessageBytes))); err != nil {
		t.Errorf("a valid record of exactly MaxMessageBytes (%d) bytes: %v, want no error", events.MaxMessageBytes, err)
	}
	_, err := (events.Parser{}).Parse([]byte(padded(t, events.MaxMessageBytes+1)))
	var se *events.SyntaxError
	if !errors.As(err, &se) || se.Code != "events.too_long" {
		t.Errorf("a record of MaxMessageBytes+1 bytes: error %v, want code events.too_long", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		code   string
		reason string // a substring the reason must contain
	}{
		{"empty", "", "events.empty", "empty"},
		{"only whitespace", " \r\n\t", "events.empty", "whitespace"},
		{"too long", `{"type":"` + strings.Repeat("x", events.MaxMessageBytes) + `"}`, "events.too_long", "more than"},
		{"truncated object", `{"type":"conflict_alert","ts":`, "events.not_json", "unexpected end of input at byte 30"},
		{"truncated string", `{"type":"confl`, "events.not_json", "not JSON"},
		{"missing value", `{"type":}`, "events.not_json", "at byte 8"},
		{"trailing comma", `{"type":"conflict_alert",}`, "events.not_json", "not JSON"},
		{"single quotes", `{'type':'conflict_alert'}`, "events.not_json", "at byte 1"},
		{"NaN", `{"type":"conflict_alert","ts":NaN}`, "events.not_json", "not JSON"},
		{"plain text", "hello", "events.not_json", "at byte"},
		{"SBS line", "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0", "events.not_json", "not JSON"},
		{"NUL byte", "{\"type\":\x00}", "events.not_json", "invalid character '\\x00' looking for beginning of value at byte 8"},
		{"control character in a string", "{\"type\":\"a\x01b\"}", "events.not_json", "not JSON"},
		{"invalid UTF-8 with its offset", "{\"type\":\"conflict_alert\",\"x\":\"\xc3\x28\"}", "events.not_json", "invalid UTF-8 at byte 30"},
		{"0xff byte", "\xff{}", "events.not_json", "invalid UTF-8 at byte 0"},
		{"UTF-8 byte order mark", "\xef\xbb\xbf" + docConflict, "events.not_json", "not JSON"},
		{"two objects on one line", docConflict + docConflict, "events.not_json", "after top-level value at byte 300; one record holds one JSON object"},
		{"garbage after the object", docConflict + " x", "events.not_json", "not JSON"},
		{"extra closing brace", docConflict + "}", "events.not_json", "not JSON"},
		{"array", `[` + docConflict + `]`, "events.not_object", "an array"},
		{"string", `"conflict_alert"`, "events.not_object", "a string"},
		{"number", `42`, "events.not_object", "a number"},
		{"null", `null`, "events.not_object", "null"},
		{"boolean", `true`, "events.not_object", "a boolean"},
		{"missing type", `{"ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF","new_route":"DCT"}`, "events.type", "missing type"},
		{"null type", `{"type":null,"ts":"2018-10-22T13:20:00Z"}`, "events.type", "missing type"},
		{"numeric type", `{"type":1,"ts":"2018-10-22T13:20:00Z"}`, "events.type", "a number"},
		{"unknown type", `{"type":"weather_update","ts":"2018-10-22T13:20:00Z"}`, "events.type", "unknown type \"weather_update\""},
		{"type in another case", `{"type":"Conflict_Alert","ts":"2018-10-22T13:20:00Z"}`, "events.type", "unknown type"},
		{"empty type", `{"type":"","ts":"2018-10-22T13:20:00Z"}`, "events.type", "unknown type"},
		{"empty object", `{}`, "events.type", "missing type"},
		{"missing ts", `{"type":"route_amendment_request","callsign":"DLH5KF","new_route":"DCT"}`, "events.ts", "missing ts"},
		{"null ts", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `null`, 1), "events.ts", "missing ts"},
		{"boolean ts", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `true`, 1), "events.ts", "a boolean"},
		{"ts without offset", strings.Replace(amend(""), `13:20:00Z`, `13:20:00`, 1), "events.ts", "RFC 3339"},
		{"ts with a space", strings.Replace(amend(""), `2018-10-22T13:20:00Z`, `2018-10-22 13:20:00Z`, 1), "events.ts", "RFC 3339"},
		{"ts month 13", strings.Replace(amend(""), `2018-10-22`, `2018-13-22`, 1), "events.ts", "RFC 3339"},
		{"ts February 30", strings.Replace(amend(""), `2018-10-22`, `2018-02-30`, 1), "events.ts", "RFC 3339"},
		{"ts hour 24", strings.Replace(amend(""), `13:20:00Z`, `24:00:00Z`, 1), "events.ts", "RFC 3339"},
		{"ts year 1969", strings.Replace(amend(""), `2018-10-22T13:20:00Z`, `1969-12-31T23:59:59Z`, 1), "events.ts", "from 1970 to 2100"},
		{"ts year 2101", strings.Replace(amend(""), `2018-10-22T13:20:00Z`, `2101-01-01T00:00:00Z`, 1), "events.ts", "from 1970 to 2100"},
		{"ts year 0001", strings.Replace(amend(""), `2018-10-22T13:20:00Z`, `0001-01-01T00:00:00Z`, 1), "events.ts", "from 1970 to 2100"},
		{"ts in epoch seconds", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `1540214400`, 1), "events.ts", "epoch seconds"},
		{"ts zero", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `0`, 1), "events.ts", "epoch seconds"},
		{"ts negative milliseconds", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `-1540214400000`, 1), "events.ts", "from 1970 to 2100"},
		{"ts milliseconds in year 2500", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `16725225600000`, 1), "events.ts", "from 1970 to 2100"},
		{"ts milliseconds beyond int64", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `99999999999999999999`, 1), "events.ts", "integer epoch milliseconds"},
		{"ts fractional milliseconds", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `1540214400000.5`, 1), "events.ts", "integer epoch milliseconds"},
		{"ts exponent", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `1.5402144e12`, 1), "events.ts", "integer epoch milliseconds"},
		{"ts object", strings.Replace(amend(""), `"2018-10-22T13:20:00Z"`, `{"ms":1540214400000}`, 1), "events.ts", "an object"},
		{"duplicate type", `{"type":"conflict_alert","type":"route_amendment_request","ts":"2018-10-22T13:20:00Z"}`, "events.duplicate_key", `"type" appears twice in the top-level object`},
		{"duplicate ts", amend(`,"ts":"2018-10-22T13:21:00Z"`), "events.duplicate_key", `"ts"`},
		{"duplicate callsign in a flight", conflict(`[{"callsign":"DLH5KF","callsign":"DLH5KG"},{"callsign":"AFR1234"}]`, ""), "events.duplicate_key", `in "flights[0]"`},
		{"duplicate key inside an unknown field", amend(`,"extra":{"a":[{"b":1,"b":2}]}`), "events.duplicate_key", `in "extra.a[0]"`},
		{"duplicate key before a syntax error", `{"type":"a","type":"b",}`, "events.not_json", "at byte 23"},
		{"id empty", amend(`,"id":""`), "events.bad_field", `"id"`},
		{"id number", amend(`,"id":17`), "events.bad_field", `"id" is a number`},
		{"conflict without flights", `{"type":"conflict_alert","ts":"2018-10-22T13:21:05Z","severity":"warning"}`, "events.missing_field", `"flights"`},
		{"conflict flights null", conflict(`null`, ""), "events.missing_field", `"flights"`},
		{"conflict flights object", conflict(`{"callsign":"DLH5KF"}`, ""), "events.bad_field", `"flights" is an object`},
		{"conflict with one flight", conflict(`[{"callsign":"DLH5KF"}]`, ""), "events.bad_field", "has 1 entries, want exactly 2"},
		{"conflict with three flights", conflict(`[{"callsign":"DLH5KF"},{"callsign":"AFR1234"},{"callsign":"BAW1"}]`, ""), "events.bad_field", "has 3 entries"},
		{"conflict flight is a string", conflict(`["DLH5KF",{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0]" is a string`},
		{"conflict flight without callsign", conflict(`[{"callsign":"DLH5KF"},{"icao24":"39856C"}]`, ""), "events.missing_field", `"flights[1].callsign"`},
		{"conflict flight callsign null", conflict(`[{"callsign":"DLH5KF"},{"callsign":null}]`, ""), "events.missing_field", `"flights[1].callsign"`},
		{"conflict flight callsign lower case", conflict(`[{"callsign":"dlh5kf"},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0].callsign"`},
		{"conflict flight callsign padded", conflict(`[{"callsign":"RXA4362 "},{"callsign":"AFR1234"}]`, ""), "events.bad_field", "without padding"},
		{"conflict flight callsign too long", conflict(`[{"callsign":"DLH5KFXYZ"},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0].callsign"`},
		{"conflict flight callsign number", conflict(`[{"callsign":1234},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `is a number`},
		{"conflict flight icao24 short", conflict(`[{"callsign":"DLH5KF","icao24":"3C658"},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0].icao24"`},
		{"conflict flight icao24 not hex", conflict(`[{"callsign":"DLH5KF","icao24":"3C658G"},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0].icao24"`},
		{"conflict flight gufi with plus", conflict(`[{"callsign":"DLH5KF","gufi":"a+b"},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0].gufi"`},
		{"conflict flight gufi empty", conflict(`[{"callsign":"DLH5KF","gufi":""},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0].gufi"`},
		{"conflict flight gufi with space", conflict(`[{"callsign":"DLH5KF","gufi":"a b"},{"callsign":"AFR1234"}]`, ""), "events.bad_field", `"flights[0].gufi"`},
		{"conflict with the same flight twice", conflict(`[{"callsign":"DLH5KF"},{"callsign":"DLH5KF","icao24":"3C6589"}]`, ""), "events.bad_field", "twice"},
		{"conflict with the same GUFI twice", conflict(`[{"callsign":"DLH5KF","gufi":"g1"},{"callsign":"AFR1234","gufi":"g1"}]`, ""), "events.bad_field", "twice"},
		{"conflict without severity", `{"type":"conflict_alert","ts":"2018-10-22T13:21:05Z","flights":` + twoFlights + `}`, "events.missing_field", `"severity"`},
		{"conflict unknown severity", strings.Replace(conflict(twoFlights, ""), `"warning"`, `"critical"`, 1), "events.bad_field", `"severity" is "critical"`},
		{"conflict severity number", strings.Replace(conflict(twoFlights, ""), `"warning"`, `3`, 1), "events.bad_field", `"severity" is a number`},
		{"conflict cpa_ts invalid", conflict(twoFlights, `,"cpa_ts":"soon"`), "events.bad_field", `"cpa_ts"`},
		{"conflict cpa_ts absurd", conflict(twoFlights, `,"cpa_ts":"2200-01-01T00:00:00Z"`), "events.bad_field", "from 1970 to 2100"},
		{"conflict negative separation", conflict(twoFlights, `,"min_separation_nm":-0.5`), "events.bad_field", `"min_separation_nm" is -0.5`},
		{"conflict absurd separation", conflict(twoFlights, `,"min_separation_nm":1e6`), "events.bad_field", `"min_separation_nm"`},
		{"conflict separation as string", conflict(twoFlights, `,"min_separation_nm":"2.1"`), "events.bad_field", "is a string, want a number"},
		{"conflict negative vertical separation", conflict(twoFlights, `,"min_vertical_separation_ft":-400`), "events.bad_field", `"min_vertical_separation_ft"`},
		{"trajectory without callsign", `{"type":"trajectory_prediction","ts":"2018-10-22T13:20:00Z","points":[]}`, "events.missing_field", `"callsign"`},
		{"trajectory without points", `{"type":"trajectory_prediction","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF"}`, "events.missing_field", `"points"`},
		{"trajectory points empty", trajectory(`[]`), "events.bad_field", "at least one point"},
		{"trajectory points object", trajectory(`{}`), "events.bad_field", `"points" is an object`},
		{"trajectory point is a number", trajectory(`[1]`), "events.bad_field", `"points[0]" is a number`},
		{"trajectory point without lat", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lon":11.7,"fl":0}]`), "events.missing_field", `"points[0].lat"`},
		{"trajectory point without ts", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":48.3,"lon":11.7,"fl":0},{"lat":48.3,"lon":11.7,"fl":10}]`), "events.missing_field", `"points[1].ts"`},
		{"trajectory point without fl", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":48.3,"lon":11.7}]`), "events.missing_field", `"points[0].fl"`},
		{"trajectory lat 91", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":91,"lon":11.7,"fl":0}]`), "events.bad_field", `"points[0].lat" is 91, want degrees from -90 to 90`},
		{"trajectory lat -90.0001", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":-90.0001,"lon":11.7,"fl":0}]`), "events.bad_field", `"points[0].lat"`},
		{"trajectory lon 180.5", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":48.3,"lon":180.5,"fl":0}]`), "events.bad_field", `"points[0].lon"`},
		{"trajectory lon -181", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":48.3,"lon":-181,"fl":0}]`), "events.bad_field", `"points[0].lon"`},
		{"trajectory fl 1001", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":48.3,"lon":11.7,"fl":1001}]`), "events.bad_field", `"points[0].fl"`},
		{"trajectory lat as string", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":"48.3","lon":11.7,"fl":0}]`), "events.bad_field", "is a string, want a number"},
		{"trajectory point ts absurd", trajectory(`[{"ts":"1900-01-01T00:00:00Z","lat":48.3,"lon":11.7,"fl":0}]`), "events.bad_field", `"points[0].ts"`},
		{"trajectory point ts in seconds", trajectory(`[{"ts":1540214400,"lat":48.3,"lon":11.7,"fl":0}]`), "events.bad_field", "epoch seconds"},
		{"trajectory points out of order", trajectory(`[{"ts":"2018-10-22T13:30:00Z","lat":48.3,"lon":11.7,"fl":0},{"ts":"2018-10-22T13:20:00Z","lat":48.4,"lon":11.7,"fl":10}]`), "events.bad_field", "time order"},
		{"trajectory points at the same time", trajectory(`[{"ts":"2018-10-22T13:20:00Z","lat":48.3,"lon":11.7,"fl":0},{"ts":1540214400000,"lat":48.4,"lon":11.7,"fl":10}]`), "events.bad_field", `"points[1].ts"`},
		{"amendment without callsign", `{"type":"route_amendment_request","ts":"2018-10-22T13:20:00Z","new_route":"DCT"}`, "events.missing_field", `"callsign"`},
		{"amendment without new_route", `{"type":"route_amendment_request","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF"}`, "events.missing_field", `"new_route"`},
		{"amendment empty route", strings.Replace(amend(""), `"DCT"`, `""`, 1), "events.bad_field", `"new_route"`},
		{"amendment lower-case route", strings.Replace(amend(""), `"DCT"`, `"dct"`, 1), "events.bad_field", `"new_route"`},
		{"amendment route with double space", strings.Replace(amend(""), `"DCT"`, `"INPUD  Y102"`, 1), "events.bad_field", `"new_route"`},
		{"amendment route with newline", strings.Replace(amend(""), `"DCT"`, `"INPUD\nY102"`, 1), "events.bad_field", `"new_route"`},
		{"amendment route array", strings.Replace(amend(""), `"DCT"`, `["INPUD","Y102"]`, 1), "events.bad_field", "is an array"},
		{"amendment destination 3 letters", amend(`,"new_destination":"EDV"`), "events.bad_field", `"new_destination"`},
		{"amendment destination lower case", amend(`,"new_destination":"eddv"`), "events.bad_field", `"new_destination"`},
		{"amendment STAR too long", amend(`,"new_star":"HLZ1ABCD"`), "events.bad_field", `"new_star"`},
		{"amendment STAR starting with a digit", amend(`,"new_star":"1HLZ"`), "events.bad_field", `"new_star"`},
		{"amendment callsign with GUFI but invalid icao24", amend(`,"gufi":"g1","icao24":"xyz"`), "events.bad_field", `"icao24"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.doc)
			if tt.doc == "" {
				in = nil
			}
			orig := bytes.Clone(in)
			m, err := events.Parser{}.Parse(in)
			if !bytes.Equal(in, orig) {
				t.Fatalf("Parse modified its input")
			}
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, no error; want %s", truncate(tt.doc), m, tt.code)
			}
			var se *events.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%s) error %T %v, want *events.SyntaxError", truncate(tt.doc), err, err)
			}
			if se.Code != tt.code {
				t.Errorf("Parse(%s) code = %q (%s), want %q", truncate(tt.doc), se.Code, se.Reason, tt.code)
			}
			if se.Error() != se.Reason || se.ReasonCode() != se.Code {
				t.Errorf("Error() = %q, ReasonCode() = %q; want the reason %q and the code %q", se.Error(), se.ReasonCode(), se.Reason, se.Code)
			}
			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", se.Reason, tt.reason)
			}
			if len(se.Reason) > 300 {
				t.Errorf("reason is %d bytes, want it short even for huge input: %q", len(se.Reason), truncate(se.Reason))
			}
			key, ts, err := events.Parser{}.Check(in)
			if err == nil || key != "" || !ts.IsZero() {
				t.Errorf("Check = %q, %v, %v; want no key, zero time and the error", key, ts, err)
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func sampleFile() string {
	return filepath.Join("..", "..", "..", "shared", "data", "json", "dump1090fa-aircraft.json")
}

// TestParseRejectsDump1090Aircraft feeds a dump1090-fa aircraft.json snapshot,
// a valid JSON object that is not a system event, to the parser: as one
// record, and line by line as a JSON Lines reader would split it.
func TestParseRejectsDump1090Aircraft(t *testing.T) {
	b, err := os.ReadFile(sampleFile())
	if err != nil {
		t.Skipf("sample JSON not found at %s (%v); it lives in the shared data directory outside the repository", sampleFile(), err)
	}
	if !json.Valid(b) {
		t.Fatalf("%s is not valid JSON: the test data changed", sampleFile())
	}
	t.Run("whole file", func(t *testing.T) {
		orig := bytes.Clone(b)
		_, err := events.Parser{}.Parse(b)
		var se *events.SyntaxError
		if !errors.As(err, &se) || se.Code != "events.type" || !strings.Contains(se.Reason, "missing type") {
			t.Errorf("Parse(aircraft.json) error %v, want events.type: missing type", err)
		}
		if !bytes.Equal(b, orig) {
			t.Errorf("Parse modified its input")
		}
	})
	t.Run("line by line", func(t *testing.T) {
		sc := bufio.NewScanner(bytes.NewReader(b))
		n := 0
		for sc.Scan() {
			n++
			line := sc.Bytes()
			_, err := events.Parser{}.Parse(line)
			var se *events.SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("line %d %q: error %v, want a *events.SyntaxError", n, line, err)
				continue
			}
			// Line 5 is the second aircraft, a complete object of its own.
			want := "events.not_json"
			if n == 5 {
				want = "events.type"
			}
			if se.Code != want {
				t.Errorf("line %d %q: code %s (%s), want %s", n, line, se.Code, se.Reason, want)
			}
		}
		if n != 7 {
			t.Errorf("%d lines, want 7", n)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		docConflict, docTrajectory, docAmendment, docAmendment + "\r",
		conflict(`[{"callsign":"DLH5KF","gufi":"g1"},{"callsign":"AFR1234","gufi":"g1"}]`, ""),
		trajectory(`[{"ts":"2018-10-22T13:30:00Z","lat":48.3,"lon":11.7,"fl":0},{"ts":"2018-10-22T13:20:00Z","lat":48.4,"lon":11.7,"fl":10}]`),
		amend(`,"extra":{"a":[{"b":1,"b":2}]}`),
		amend(`,"ts":1`),
		`{"type":"conflict_alert","type":"route_amendment_request"}`,
		`{"ts":1540214400000}`,
		"", " ", "{", "}", "[]", "null", `"x"`, "{}{}", "{} x", "[[[[[[[[[[",
		"{\"type\":\"\xc3\x28\"}",
		"\xef\xbb\xbf{}",
		`{"type":"route_amendment_request","ts":"2018-10-22T13:20:00Z","callsign":"DLH5KF","new_route":"DCT","n":1e999}`,
	} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(sampleFile()); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		orig := bytes.Clone(raw)
		m, err := events.Parser{}.Parse(raw)
		if !bytes.Equal(raw, orig) {
			t.Fatalf("Parse modified its input: %q became %q", orig, raw)
		}
		key, ts, cerr := events.Parser{}.Check(raw)
		if err != nil {
			var se *events.SyntaxError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Code, "events.") || se.Reason == "" {
				t.Fatalf("Parse(%q) error %#v, want a *events.SyntaxError with an events. code and a reason", raw, err)
			}
			if cerr == nil || cerr.Error() != err.Error() || key != "" || !ts.IsZero() {
				t.Fatalf("Check(%q) = %q, %v, %v; Parse said %v", raw, key, ts, cerr, err)
			}
			return
		}
		if !json.Valid(raw) || len(raw) > events.MaxMessageBytes {
			t.Fatalf("Parse accepted %q, which is not a valid JSON document within the size limit", raw)
		}
		if cerr != nil || key != m.Key() || !ts.Equal(m.TS) {
			t.Fatalf("Check(%q) = %q, %v, %v; Parse gave %q, %v", raw, key, ts, cerr, m.Key(), m.TS)
		}
		if key == "" || m.TS.Year() < 1970 || m.TS.Year() > 2100 {
			t.Fatalf("Parse(%q) accepted key %q, ts %v", raw, key, m.TS)
		}
		want := 1
		if m.Type == events.ConflictAlert {
			want = 2
		}
		if len(m.Flights) != want {
			t.Fatalf("Parse(%q) %s with %d flights", raw, m.Type, len(m.Flights))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	docs := [][]byte{[]byte(docConflict), []byte(docTrajectory), []byte(docAmendment)}
	var n int
	for _, d := range docs {
		n += len(d)
	}
	b.SetBytes(int64(n / len(docs)))
	b.ReportAllocs()
	var p events.Parser
	i := 0
	for b.Loop() {
		if _, err := p.Parse(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestDocExamples keeps docs/feeds-events.md honest: its example documents
// are the ones tested above, and each one is accepted.
func TestDocExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "feeds-events.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(b), "```json\n")[1:] {
		end := strings.Index(part, "\n```")
		if end < 0 {
			t.Fatalf("unterminated json block in docs/feeds-events.md")
		}
		blocks = append(blocks, part[:end])
	}
	want := []string{docConflict, docTrajectory, docAmendment}
	if len(blocks) != len(want) {
		t.Fatalf("docs have %d json examples, want %d", len(blocks), len(want))
	}
	for i, doc := range blocks {
		if doc != want[i] {
			t.Errorf("docs example %d differs from the tested document:\n docs %s\n test %s", i+1, doc, want[i])
		}
		if _, _, err := (events.Parser{}).Check([]byte(doc)); err != nil {
			t.Errorf("docs example %d: %v", i+1, err)
		}
	}
}
