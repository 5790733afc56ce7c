package flight_test

import (
	"errors"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/schemas"
)

const (
	adexpIFPL = "-TITLE IFPL -ARCID DLH5KF -IFPLID AA12345678 -ADEP EDDM -ADES EDDH -ARCTYP A320 -EOBD 260101 -EOBT 0700 -FILTIM 010600 -RFL F350 -ROUTE N0450F350 DCT 5012N01005E DCT -STAR HLZ1A"
	atsFPL    = "(FPL-DLH5KF-IS\n-A320/M-SDE3FGHIJ1RWY/LB1\n-EDDM0700\n-N0450F350 DCT 5012N01005E DCT\n-EDDH0105\n-DOF/260101 RMK/TEST)"
)

func env(id, feed, raw string, min float64) *schemas.Envelope {
	return &schemas.Envelope{ID: id, Feed: feed, ProducerTS: at(min), Raw: []byte(raw)}
}

func TestFromEnvelope(t *testing.T) {
	tests := []struct {
		name, feed, raw string
		check           func(t *testing.T, in flight.Input)
	}{
		{"adexp IFPL", "adexp", adexpIFPL, func(t *testing.T, in flight.Input) {
			p := in.Plan
			if p.Title != flight.TitleIFPL || p.ARCID != cs || p.IFPLID != "AA12345678" || p.ADEP != "EDDM" || p.ADES != "EDDH" ||
				!p.EOBT.Equal(at(60)) || p.AircraftType != "A320" || p.CruiseLevel != "F350" || p.Route != "N0450F350 DCT 5012N01005E DCT" || p.STAR != "HLZ1A" {
				t.Errorf("%+v", p)
			}
		}},
		{"ats FPL", "ats", atsFPL, func(t *testing.T, in flight.Input) {
			p := in.Plan
			if p.Title != flight.TitleIFPL || p.ARCID != cs || p.IFPLID != "" || p.ADEP != "EDDM" || p.ADES != "EDDH" ||
				!p.EOBT.Equal(at(60)) || p.AircraftType != "A320" || p.CruiseLevel != "F350" || p.Route != "N0450F350 DCT 5012N01005E DCT" {
				t.Errorf("%+v", p)
			}
		}},
		{"ats CHG", "ats", "(CHG-DLH5KF-EDDM0700-EDDH-DOF/260101-15/N0450F370 DCT HLZ1A-16/EDDV)", func(t *testing.T, in flight.Input) {
			p := in.Plan
			if p.Title != flight.TitleCHG || p.CruiseLevel != "F370" || p.STAR != "HLZ1A" || p.NewADES != "EDDV" || !p.EOBT.Equal(at(60)) {
				t.Errorf("%+v", p)
			}
		}},
		{"ats DLA", "ats", "(DLA-DLH5KF-EDDM0745-EDDH-DOF/260101)", func(t *testing.T, in flight.Input) {
			if p := in.Plan; p.Title != flight.TitleDLA || !p.EOBT.Equal(at(105)) {
				t.Errorf("%+v", p)
			}
		}},
		{"ats DEP without DOF", "ats", "(DEP-DLH5KF-EDDM0712-EDDH)", func(t *testing.T, in flight.Input) {
			if p := in.Plan; p.Title != flight.TitleDEP || !p.ATD.Equal(at(72)) || !p.EOBT.IsZero() {
				t.Errorf("%+v", p)
			}
		}},
		{"ats ARR", "ats", "(ARR-DLH5KF-EDDM0700-EDDH0815)", func(t *testing.T, in flight.Input) {
			if p := in.Plan; p.Title != flight.TitleARR || !p.ATA.Equal(at(135)) || p.ADARR != "EDDH" {
				t.Errorf("%+v", p)
			}
		}},
		{"adexp ARR", "adexp", "-TITLE ARR -ARCID DLH5KF -ADEP EDDM -ADARR EDDH -ATA 0815 -EOBD 260101", func(t *testing.T, in flight.Input) {
			if p := in.Plan; p.Title != flight.TitleARR || !p.ATA.Equal(at(135)) || p.ADARR != "EDDH" || p.ADES != "" {
				t.Errorf("%+v", p)
			}
		}},
		{"json conflict alert", "json", `{"type":"conflict_alert","ts":"2026-01-01T07:20:00Z","id":"stca-1","flights":[{"callsign":"DLH5KF"},{"callsign":"AFR1234","gufi":"AFR1234-0000000000000001"}],"severity":"warning","min_separation_nm":2.1}`,
			func(t *testing.T, in flight.Input) {
				a := in.Alert
				if a == nil || a.Kind != "conflict_alert" || a.AlertID != "stca-1" || a.Callsign != cs || a.OtherGUFI != "AFR1234-0000000000000001" || a.Message == "" {
					t.Errorf("%+v", a)
				}
			}},
		{"json route amendment", "json", `{"type":"route_amendment_request","ts":"2026-01-01T07:20:00Z","callsign":"DLH5KF","new_route":"N0450F350 DCT","new_destination":"EDDV","new_star":"DLE1A"}`,
			func(t *testing.T, in flight.Input) {
				if p := in.Plan; p == nil || p.Title != flight.TitleCHG || p.NewADES != "EDDV" || p.STAR != "DLE1A" || p.ADEP != "" {
					t.Errorf("%+v", p)
				}
			}},
		{"json trajectory", "json", `{"type":"trajectory_prediction","ts":"2026-01-01T07:20:00Z","callsign":"DLH5KF","points":[{"ts":"2026-01-01T07:21:00Z","lat":50,"lon":10,"fl":350}]}`,
			func(t *testing.T, in flight.Input) {
				if a := in.Alert; a == nil || a.Kind != "trajectory_prediction" || a.AlertID != "e" {
					t.Errorf("%+v", a)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := flight.FromEnvelope(env("e", tc.feed, tc.raw, 0))
			if err != nil {
				t.Fatal(err)
			}
			if in.EventID != "e" || in.Feed != tc.feed || !in.TS.Equal(at(0)) {
				t.Errorf("header %+v", in)
			}
			tc.check(t, in)
			if k, err := flight.Key(env("e", tc.feed, tc.raw, 0)); err != nil || k != cs {
				t.Errorf("Key = %q, %v", k, err)
			}
		})
	}
}

func TestFromEnvelopeErrors(t *testing.T) {
	tests := []struct{ name, feed, raw, code string }{
		{"sbs", "sbs", "MSG,3,", flight.CodeFeed},
		{"adexp generic title", "adexp", "-TITLE LAM -ARCID DLH5KF", flight.CodeTitle},
		{"adexp garbage", "adexp", "hello", "adexp.no_title"},
		{"ats garbage", "ats", "(FPL-", "ats.truncated"},
		{"json garbage", "json", "{", "events.not_json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flight.FromEnvelope(env("e", tc.feed, tc.raw, 0))
			var pe *flight.ParseError
			if !errors.As(err, &pe) || pe.Code != tc.code {
				t.Errorf("error %v, want code %s", err, tc.code)
			}
		})
	}
	if _, err := flight.FromEnvelope(&schemas.Envelope{ID: "e", Feed: "adexp", Raw: []byte(adexpIFPL)}); err == nil {
		t.Error("no producer timestamp accepted")
	}
}

func FuzzFromEnvelope(f *testing.F) {
	for _, s := range []struct{ feed, raw string }{{"adexp", adexpIFPL}, {"ats", atsFPL}, {"ats", "(CHG-DLH5KF-EDDM0700-EDDH-DOF/260101-15/N0450F370 DCT HLZ1A-16/EDDV)"},
		{"ats", "(ARR-DLH5KF-EDDM0700-EDDH0815)"}, {"json", `{"type":"conflict_alert","ts":1767252000000,"flights":[{"callsign":"A1"},{"callsign":"B2"}],"severity":"caution"}`}} {
		f.Add(s.feed, []byte(s.raw))
	}
	s, err := flight.New(flight.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, feed string, raw []byte) {
		e := &schemas.Envelope{ID: "fuzz", Feed: feed, ProducerTS: time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC), Raw: raw}
		in, err := flight.FromEnvelope(e)
		key, kerr := flight.Key(e)
		if err != nil {
			var pe *flight.ParseError
			if !errors.As(err, &pe) || pe.Code == "" {
				t.Fatalf("error %v is not a *ParseError with a code", err)
			}
			return
		}
		if kerr != nil && (in.Plan != nil && in.Plan.ARCID != "") {
			t.Fatalf("FromEnvelope read it but Key: %v", kerr)
		}
		// Whatever parses is safe to apply.
		if _, _, _, err := s.Apply(flight.State{Callsign: key}, in, nil); err != nil && kerr == nil {
			t.Fatalf("apply: %v", err)
		}
	})
}

// TestGUFITwoChannels: the ADEXP and the ICAO plan of one flight (one with
// IFPLID, one without, different event ids) and its track converge to one
// GUFI, whatever comes first; a second leg gets its own.
func TestGUFITwoChannels(t *testing.T) {
	s := newStep(t, flight.Config{})
	a, err := flight.FromEnvelope(env("adexp-1", "adexp", adexpIFPL, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := flight.FromEnvelope(env("ats-1", "ats", atsFPL, 0))
	if err != nil {
		t.Fatal(err)
	}
	track := pos("trk-1", 75, 48.3, 11.8)
	leg2 := planMsg("leg2", 200, flight.TitleIFPL, func(m *flight.PlanMsg) { m.ADEP, m.ADES, m.EOBT = "EDDH", "EDDM", at(300) })
	track2 := pos("trk-2", 310, 53.6, 10.0)
	for _, order := range [][]flight.Input{{a, b, track, leg2, track2}, {b, a, track, track2, leg2}, {track, b, a, leg2, track2}, {track, track2, leg2, a, b}} {
		st, steps := run(t, s, flight.State{}, order...)
		gufi := map[string]string{}
		for _, s := range steps {
			gufi[s.in.EventID] = s.res.GUFI
		}
		if gufi["adexp-1"] == "" || gufi["adexp-1"] != gufi["ats-1"] || gufi["ats-1"] != gufi["trk-1"] {
			t.Errorf("order %s: one flight got GUFIs %v", order[0].EventID, gufi)
		}
		if gufi["leg2"] != gufi["trk-2"] || gufi["leg2"] == gufi["trk-1"] {
			t.Errorf("order %s: second leg GUFIs %v", order[0].EventID, gufi)
		}
		if len(st.Flights) != 2 {
			t.Fatalf("order %s: %d flights", order[0].EventID, len(st.Flights))
		}
		fs, _ := st.Snapshot(gufi["ats-1"])
		if fs.IFPLID != "AA12345678" || fs.ICAO24 != "3C6589" || fs.STAR != "HLZ1A" {
			t.Errorf("order %s: %+v", order[0].EventID, fs)
		}
	}
}

// TestGUFIPlanAfterTrack: a plan arriving after the track of its flight
// attaches to the track-only flight; its GUFI (derived from the first track
// evidence) is kept, and the anchor never changes.
func TestGUFIPlanAfterTrack(t *testing.T) {
	s := newStep(t, flight.Config{})
	st, steps := run(t, s, flight.State{}, pos("trk-1", 75, 48.3, 11.8))
	g, anchor := steps[0].res.GUFI, st.Flights[0].Anchor
	st, steps = run(t, s, st, ifpl("p", 0), planMsg("c", 10, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = "F370" }))
	if steps[0].res.GUFI != g || steps[1].res.GUFI != g || st.Flights[0].Anchor != anchor || len(st.Flights) != 1 {
		t.Errorf("GUFI %s -> %s, %s; anchor %s -> %s", g, steps[0].res.GUFI, steps[1].res.GUFI, anchor, st.Flights[0].Anchor)
	}
	if fs := only(t, st); fs.CruiseLevel != "F370" || fs.Lifecycle != schemas.LifecycleAirborne || fs.ADES != "EDDH" {
		t.Errorf("%+v", fs)
	}
	// A plan-first flight's GUFI depends only on the composite key: the
	// same plan on another day of processing gives the same GUFI.
	st1, s1 := run(t, s, flight.State{}, ifpl("p", 0))
	st2, s2 := run(t, s, flight.State{}, ifpl("other-id", 5))
	if s1[0].res.GUFI != s2[0].res.GUFI || st1.Flights[0].Anchor != st2.Flights[0].Anchor {
		t.Errorf("plan GUFIs %s %s", s1[0].res.GUFI, s2[0].res.GUFI)
	}
}
