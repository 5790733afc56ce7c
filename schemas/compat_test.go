package schemas_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

var update = flag.Bool("update", false, "add new schema versions to testdata/fingerprints.golden (existing entries are never rewritten)")

// samples are typed values of each schema, in the Go form of the latest
// version; the evolution check expresses them in every version.
func samples() map[string][]schemas.Value {
	var events []schemas.Value
	for _, e := range eventCases() {
		events = append(events, e)
	}
	var envs, rejs []schemas.Value
	for _, tc := range rawCases {
		e := sampleEnvelope()
		e.Raw = tc.raw
		envs = append(envs, e)
		rejs = append(rejs, &schemas.Rejected{ID: "x", Feed: "sbs", ReasonCode: "sbs.binary", Reason: "r", IngestTS: t0, Raw: tc.raw})
	}
	full := &schemas.FlightState{GUFI: "g", Callsign: "DLH4AB", Lifecycle: schemas.LifecycleLanded, LastPosition: &pos,
		AspectTS: map[string]time.Time{"plan": t0}, Covers: []schemas.LogPosition{{Topic: "t", Partition: 1, Offset: 2}}, UpdatedTS: t0}
	lat, lon, gs, alt, no := 48.1, 11.5, 431.5, int32(-1200), false
	withKinematics := &schemas.FlightState{GUFI: "g", AltitudeFt: &alt, GroundSpeedKt: &gs, TrackDeg: &gs, VerticalRateFpm: &alt, OnGround: &no, UpdatedTS: t0}
	return map[string][]schemas.Value{
		schemas.EnvelopeSchema:    envs,
		schemas.RejectedSchema:    rejs,
		schemas.DomainEventSchema: events,
		schemas.FlightStateSchema: {full, &schemas.FlightState{}, withKinematics},
		schemas.AircraftStateSchema: {
			&schemas.AircraftState{ICAO24: "4CA1B2", FirstSeen: t0, LastSeen: t0, UpdatedTS: t0, Messages: 1},
			&schemas.AircraftState{ICAO24: "4CA1B2", Callsign: "DLH4AB", PositionTS: t0, Lat: &lat, Lon: &lon, AltitudeFt: &alt,
				GroundSpeedKt: &gs, TrackDeg: &gs, VerticalRateFpm: &alt, Squawk: "7700", OnGround: &no,
				AspectTS: map[string]time.Time{"identity": t0, "altitude": t0}, FirstSeen: t0, LastSeen: t0, Messages: 9, UpdatedTS: t0},
		},
		schemas.TrackEventSchema: {
			&schemas.TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "DLH4AB", TS: t0, Position: &pos},
			&schemas.TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "DLH4AB", TS: t0, Squawk: "7700", Revoked: true},
			&schemas.TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "DLH4AB", TS: t0, AltitudeFt: &alt, GroundSpeedKt: &gs, TrackDeg: &gs, VerticalRateFpm: &alt},
		},
		schemas.OutcomeSchema: {
			&schemas.Outcome{EventID: "e", Feed: "sbs", Step: "track", Outcome: schemas.OutcomeStale, Reason: "position", ProducerTS: t0, Lateness: time.Second, ProcessedTS: t0},
			&schemas.Outcome{EventID: "e", Feed: "adexp", Step: "flight", Outcome: schemas.OutcomeApplied, GUFI: "g", ProducerTS: t0, ProcessedTS: t0},
			&schemas.Outcome{EventID: "e", Feed: "sbs", Step: "track", Outcome: schemas.OutcomeStale, Reason: "altitude", ProducerTS: t0, ProcessedTS: t0,
				Aspects: []schemas.AspectOutcome{{Aspect: "altitude", Outcome: "stale", Lateness: time.Second}, {Aspect: "position", Outcome: "discarded", Reason: "too_late"}}},
		},
	}
}

// natives returns the goavro native form of each sample, in the latest
// version of its schema in reg.
func natives(t testing.TB, reg *schemas.Registry, vs []schemas.Value) []any {
	t.Helper()
	var out []any
	for _, v := range vs {
		b, err := reg.Encode(nil, v)
		if err != nil {
			t.Fatalf("encode sample %T: %v", v, err)
		}
		n, err := reg.Latest(v.SchemaName()).DecodeBinary(b[10:])
		if err != nil {
			t.Fatalf("decode sample %T: %v", v, err)
		}
		out = append(out, n)
	}
	return out
}

// evolutionProblems is the release gate: for every ordered pair of distinct
// versions (so old writer -> new reader and new writer -> old reader), the
// static check must pass, and every sample, expressed in the writer version,
// must go through real bytes and the resolver into a value the reader's codec
// accepts. base is the schema the samples are native to.
func evolutionProblems(versions []*schemas.Schema, base *schemas.Schema, samples []any) []string {
	var problems []string
	for _, w := range versions {
		for _, r := range versions {
			if w == r {
				continue
			}
			if err := schemas.Compatible(w, r); err != nil {
				problems = append(problems, "static: "+err.Error())
			}
			for i, x := range samples {
				nw, err := schemas.Resolve(base, w, x)
				if err != nil {
					problems = append(problems, fmt.Sprintf("sample %d cannot be written as %s: %v", i, w, err))
					continue
				}
				b, err := w.AppendBinary(nil, nw)
				if err != nil {
					problems = append(problems, fmt.Sprintf("sample %d: %v", i, err))
					continue
				}
				d, err := w.DecodeBinary(b)
				if err == nil {
					var got any
					if got, err = schemas.Resolve(w, r, d); err == nil {
						_, err = r.AppendBinary(nil, got)
					}
				}
				if err != nil {
					problems = append(problems, fmt.Sprintf("round trip %s -> %s, sample %d: %v", w, r, i, err))
				}
			}
		}
	}
	return problems
}

// TestEvolution checks every schema's versions kept in the repo, and the
// test-only envelope v2 under testdata/evolution, against each other.
func TestEvolution(t *testing.T) {
	for name, reg := range map[string]*schemas.Registry{
		"released":               registry(t),
		"with testdata versions": registryWith(t, "testdata/evolution"),
	} {
		t.Run(name, func(t *testing.T) {
			all := samples()
			if got, want := reg.Names(), []string{"aircraft_state", "domain_event", "envelope", "flight_state", "outcome", "rejected", "track_event"}; !reflect.DeepEqual(got, want) {
				t.Errorf("schema names %v, want %v (add samples for a new schema)", got, want)
			}
			for _, n := range reg.Names() {
				vs := reg.Versions(n)
				if len(all[n]) == 0 {
					t.Errorf("no samples for schema %s", n)
				}
				ns := natives(t, reg, all[n])
				for _, p := range evolutionProblems(vs, reg.Latest(n), ns) {
					t.Errorf("%s: %s", n, p)
				}
				// The resolver is the identity between two parses of the
				// same text (distinct schemas, so Resolve walks the whole tree).
				latest := reg.Latest(n)
				twin, err := schemas.ParseSchema(latest.Name, latest.Version, latest.Text)
				if err != nil {
					t.Fatal(err)
				}
				if err := schemas.Compatible(latest, twin); err != nil {
					t.Errorf("%s is not compatible with itself: %v", latest, err)
				}
				for i, x := range ns {
					if got, err := schemas.Resolve(latest, twin, x); err != nil || !reflect.DeepEqual(got, x) {
						t.Errorf("%s sample %d resolved onto itself: %v\n got  %#v\n want %#v", latest, i, err, got, x)
					}
				}
			}
		})
	}
	if n := len(registryWith(t, "testdata/evolution").Versions(schemas.EnvelopeSchema)); n < 2 {
		t.Errorf("testdata registry has %d envelope versions, want at least 2 so the check compares something", n)
	}
}

// TestEvolutionCatchesIncompatibleEdits proves the gate above fails for the
// classic breaking edits of a released schema. Each file under
// testdata/incompatible is envelope v1 with one such edit; all of them
// compile, so only the resolution rules can catch them.
func TestEvolutionCatchesIncompatibleEdits(t *testing.T) {
	reg := registry(t)
	v1 := reg.Versions(schemas.EnvelopeSchema)[0]
	tests := []struct {
		file     string
		backward string // problem when v1 writes and the edit reads; "" if none
		forward  string // problem when the edit writes and v1 reads
	}{
		{"new_field_without_default", "Envelope.trace_id: reader field has no default", ""},
		{"enum_symbol_removed", "writer enum symbol RECEIPT is not a reader symbol", ""},
		{"enum_symbol_added", "", "writer enum symbol ESTIMATED is not a reader symbol"},
		{"type_changed", "Envelope.key: writer string cannot be read as int", "Envelope.key: writer int cannot be read as string"},
		{"field_removed", "", "Envelope.adapter: reader field has no default"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("testdata/incompatible", "envelope."+tt.file+".avsc"))
			if err != nil {
				t.Fatal(err)
			}
			bad, err := schemas.ParseSchema(schemas.EnvelopeSchema, 2, string(text))
			if err != nil {
				t.Fatalf("edit does not compile, so it tests nothing: %v", err)
			}
			check := func(w, r *schemas.Schema, want string) {
				err := schemas.Compatible(w, r)
				if want == "" {
					if err != nil {
						t.Errorf("Compatible(%s, %s) = %v, want nil", w, r, err)
					}
					return
				}
				if !errors.Is(err, schemas.ErrIncompatible) || !strings.Contains(err.Error(), want) {
					t.Errorf("Compatible(%s, %s) = %v, want an error containing %q", w, r, err, want)
				}
			}
			check(v1, bad, tt.backward)
			check(bad, v1, tt.forward)
			problems := evolutionProblems([]*schemas.Schema{v1, bad}, v1, natives(t, reg, samples()[schemas.EnvelopeSchema]))
			if len(problems) == 0 {
				t.Errorf("evolution check passed an incompatible edit")
			}
		})
	}
}

// TestEnvelopeV2Typed runs the Go types through the test-only v2: a binary
// embedding v1 and v2 reads records of both, and a v2 record projected onto
// v1 keeps every v1 field.
func TestEnvelopeV2Typed(t *testing.T) {
	old, newer := registry(t), registryWith(t, "testdata/evolution")
	in := sampleEnvelope()
	b1, err := old.EncodeEnvelope(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newer.DecodeEnvelope(b1)
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Errorf("v1 record read by v2 binary: %+v, %v", got, err)
	}
	b2, err := newer.EncodeEnvelope(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b1[2:10], b2[2:10]) {
		t.Fatal("v1 and v2 records carry the same fingerprint")
	}
	native, err := newer.DecodeAs(b2, newer.Versions(schemas.EnvelopeSchema)[0])
	if err != nil {
		t.Fatalf("v2 record projected onto v1: %v", err)
	}
	reenc, err := old.Latest(schemas.EnvelopeSchema).AppendSingle(nil, native)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := old.DecodeEnvelope(reenc); err != nil || !reflect.DeepEqual(got, in) {
		t.Errorf("v2 -> v1 projection: %+v, %v", got, err)
	}
}

// TestNewEventTypeReadByOldReader shows why DomainEvent has one optional
// field per type and an enum default: an event of a type added in a later
// version reaches an old reader as type UNKNOWN without payload, not as an
// error.
func TestNewEventTypeReadByOldReader(t *testing.T) {
	old, newer := registry(t), registryWith(t, "testdata/evolution")
	v1, v2 := old.Latest(schemas.DomainEventSchema), newer.Latest(schemas.DomainEventSchema)
	if v2.Version != 3 {
		t.Fatalf("testdata registry has domain_event v%d, want the test-only v3", v2.Version)
	}
	b, err := newer.EncodeEvent(nil, eventCases()[0])
	if err != nil {
		t.Fatal(err)
	}
	native, err := v2.DecodeBinary(b[10:])
	if err != nil {
		t.Fatal(err)
	}
	m := native.(map[string]any)
	m["type"], m["flight_planned"] = "ROUTE_AMENDED", nil
	m["route_amended"] = map[string]any{"io.contrail.flight.RouteAmended": map[string]any{"route": "DCT"}}
	if err := schemas.Compatible(v2, v1); err != nil {
		t.Fatalf("Compatible(v2, v1) = %v", err)
	}
	resolved, err := schemas.Resolve(v2, v1, m)
	if err != nil {
		t.Fatalf("Resolve(v2 -> v1): %v", err)
	}
	enc, err := v1.AppendSingle(nil, resolved)
	if err != nil {
		t.Fatal(err)
	}
	got, err := old.DecodeEvent(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != schemas.EventUnknown || got.EventID != "ev1" || got.GUFI != "gufi-1" || got.Validate() == nil {
		t.Errorf("old reader got %+v, want type UNKNOWN with the header and no payload", got)
	}
}

// TestFingerprintsGolden pins every released version: its CRC-64-AVRO
// fingerprint (what single-object records carry) and the SHA-256 of its text
// (defaults, aliases and docs, which the canonical form drops). A released
// .avsc is never edited or deleted; evolve by adding <name>.v<N+1>.avsc. With
// -update, new versions are appended; a changed or missing entry still fails.
func TestFingerprintsGolden(t *testing.T) {
	const golden = "testdata/fingerprints.golden"
	reg := registry(t)
	var lines []string
	current := map[string]string{}
	for _, n := range reg.Names() {
		for _, s := range reg.Versions(n) {
			id := fmt.Sprintf("%s v%d", s.Name, s.Version)
			current[id] = fmt.Sprintf("%s %016x sha256:%x", id, s.Fingerprint, sha256.Sum256([]byte(s.Text)))
			lines = append(lines, current[id])
		}
	}
	want := map[string]string{}
	if f, err := os.Open(golden); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := sc.Text()
			if f := strings.Fields(l); len(f) == 4 && !strings.HasPrefix(l, "#") {
				want[f[0]+" "+f[1]] = l
			}
		}
		f.Close()
	} else if !*update {
		t.Fatalf("%v (run go test ./schemas -run TestFingerprintsGolden -update)", err)
	}
	for id, w := range want {
		switch got, ok := current[id]; {
		case !ok:
			t.Errorf("released schema %s was deleted; released versions stay in the repo", id)
		case got != w:
			t.Errorf("released schema %s changed:\n got  %s\n want %s\nadd a new version instead of editing a released one", id, got, w)
		}
	}
	var added []string
	for _, l := range lines {
		f := strings.Fields(l)
		if _, ok := want[f[0]+" "+f[1]]; !ok {
			added = append(added, l)
		}
	}
	if len(added) == 0 {
		return
	}
	if !*update {
		t.Errorf("versions not in %s: %v (run go test ./schemas -run TestFingerprintsGolden -update once they are final)", golden, added)
		return
	}
	if t.Failed() {
		return
	}
	out := "# schema version CRC-64-AVRO-fingerprint sha256-of-file; append-only, see docs/schemas.md\n" + strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}
