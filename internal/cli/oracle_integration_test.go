package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
	"github.com/contrail-atm/contrail/sinks/clickhouse/cookbook"
)

// This file holds an oracle for the flight picture that shares no code with
// ingest/ or processors/: it splits the raw SBS lines itself and applies the
// rule of ARCHITECTURE.md §1 (per aircraft and per aspect, the value of the
// line with the newest generated time wins, equal times broken by event id)
// to every value a line carries. The pipeline's aircraft and flights views
// must agree with it, on the real capture and on reorderings of it.

// oracleValue is one value with the stamp of the line it came from.
type oracleValue struct {
	ts  time.Time
	id  string
	val string
}

func (v oracleValue) newer(ts time.Time, id string) bool {
	if v.id == "" {
		return true
	}
	if !ts.Equal(v.ts) {
		return ts.After(v.ts)
	}
	return id > v.id
}

// oracleAircraft is what the oracle says of one aircraft: per field, the
// newest value rendered as text ("" when never heard).
type oracleAircraft struct {
	fields              map[string]oracleValue
	firstSeen, lastSeen time.Time
}

// The fields the oracle computes, as the column names of the aircraft and
// flights tables.
var oracleFields = []string{"callsign", "position", "altitude_ft", "squawk", "ground_speed_kt", "track_deg", "vertical_rate_fpm"}

// sbsOracle computes the newest value of every field per aircraft from the
// lines of a file named base. Lines that fail the documented checks (fewer
// than 22 fields, an unreadable generated time, a value outside its
// documented range) carry nothing.
func sbsOracle(base string, lines []string) map[string]*oracleAircraft {
	out := map[string]*oracleAircraft{}
	for i, line := range lines {
		f := strings.Split(line, ",")
		if len(f) < 22 || f[0] != "MSG" {
			continue
		}
		ts, err := time.Parse("2006/01/02 15:04:05.000", f[6]+" "+f[7])
		if err != nil {
			continue
		}
		h := sha256.Sum256([]byte("sbs\x00file:" + base + ":" + strconv.Itoa(i+1) + "\x00" + line))
		id := hex.EncodeToString(h[:16])
		num := func(s string) (float64, bool) {
			v, err := strconv.ParseFloat(s, 64)
			return v, err == nil
		}
		// The plausibility bounds of docs: altitude -2000..60000 ft, ground
		// speed up to Mach 3, track 0..360, vertical rate ±30000 fpm,
		// coordinates on the globe, callsigns of at most 8 characters.
		set := map[string]string{}
		if cs := strings.TrimSpace(f[10]); cs != "" {
			if len(cs) > 8 {
				continue
			}
			set["callsign"] = cs
		}
		if a, ok := num(f[11]); ok {
			if a < -2000 || a > 60000 {
				continue
			}
			set["altitude_ft"] = strconv.Itoa(int(a))
		}
		if g, ok := num(f[12]); ok {
			if g < 0 || g > 1000*1.943844 {
				continue
			}
			set["ground_speed_kt"] = fmtFloat(g)
		}
		if tr, ok := num(f[13]); ok {
			if tr < 0 || tr > 360 {
				continue
			}
			set["track_deg"] = fmtFloat(tr)
		}
		lat, okLat := num(f[14])
		lon, okLon := num(f[15])
		if okLat && okLon {
			if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
				continue
			}
			set["position"] = fmtFloat(lat) + " " + fmtFloat(lon)
		}
		if vr, ok := num(f[16]); ok {
			if vr < -30000 || vr > 30000 {
				continue
			}
			set["vertical_rate_fpm"] = strconv.Itoa(int(vr))
		}
		if f[17] != "" {
			set["squawk"] = f[17]
		}
		icao := strings.ToUpper(f[4])
		a := out[icao]
		if a == nil {
			a = &oracleAircraft{fields: map[string]oracleValue{}, firstSeen: ts, lastSeen: ts}
			out[icao] = a
		}
		if ts.Before(a.firstSeen) {
			a.firstSeen = ts
		}
		if ts.After(a.lastSeen) {
			a.lastSeen = ts
		}
		for k, v := range set {
			if a.fields[k].newer(ts, id) {
				a.fields[k] = oracleValue{ts: ts, id: id, val: v}
			}
		}
	}
	return out
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 5, 64) }

// viewRow reads the oracle's fields from one row of the aircraft or flights
// table, rendered as the oracle renders them.
type viewRow struct {
	key       string
	icao      string
	fields    map[string]string
	firstSeen time.Time
	lastSeen  time.Time
}

func queryPicture(t *testing.T, conn *clickhouse.Conn, table string) []viewRow {
	t.Helper()
	first, last := "first_seen, last_seen", ""
	key := "icao24"
	if table == "flights" {
		first, key = "toDateTime(0), toDateTime(0)", "gufi"
	}
	q := fmt.Sprintf(`SELECT %s, icao24, callsign, lat, lon, altitude_ft, squawk, ground_speed_kt, track_deg, vertical_rate_fpm, %s%s
		FROM %s.%s FINAL ORDER BY %s`, key, first, last, conn.Database, table, key)
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("query %s: %v", table, err)
	}
	defer rows.Close()
	var out []viewRow
	for rows.Next() {
		var (
			k, icao, cs, sq  string
			lat, lon, gs, tr *float64
			alt, vr          *int32
			fs, ls           time.Time
		)
		if err := rows.Scan(&k, &icao, &cs, &lat, &lon, &alt, &sq, &gs, &tr, &vr, &fs, &ls); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		r := viewRow{key: k, icao: icao, fields: map[string]string{}, firstSeen: fs, lastSeen: ls}
		r.fields["callsign"], r.fields["squawk"] = cs, sq
		if lat != nil && lon != nil {
			r.fields["position"] = fmtFloat(*lat) + " " + fmtFloat(*lon)
		}
		if alt != nil {
			r.fields["altitude_ft"] = strconv.Itoa(int(*alt))
		}
		if gs != nil {
			r.fields["ground_speed_kt"] = fmtFloat(*gs)
		}
		if tr != nil {
			r.fields["track_deg"] = fmtFloat(*tr)
		}
		if vr != nil {
			r.fields["vertical_rate_fpm"] = strconv.Itoa(int(*vr))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// comparePicture reports every field of the view that differs from the
// oracle and returns how many values it compared.
func comparePicture(t *testing.T, label, table string, oracle map[string]*oracleAircraft, rows []viewRow, onlyOne bool) int {
	t.Helper()
	per := map[string][]viewRow{}
	for _, r := range rows {
		per[r.icao] = append(per[r.icao], r)
	}
	compared, differ := 0, 0
	for icao, want := range oracle {
		got := per[icao]
		if onlyOne {
			if len(got) != 1 {
				continue // several legs (or none: never identified)
			}
		} else if len(got) != 1 {
			t.Errorf("%s: %s has %d rows for aircraft %s, want 1", label, table, len(got), icao)
			continue
		}
		for _, f := range oracleFields {
			if table == "flights" && want.fields["callsign"].val == "" {
				continue
			}
			w, g := want.fields[f].val, got[0].fields[f]
			compared++
			if w != g {
				differ++
				if differ <= 20 {
					t.Errorf("%s: %s of %s is %q in %s, the oracle says %q (line %s at %s)", label, f, icao, g, table, w,
						want.fields[f].id, want.fields[f].ts.Format(time.RFC3339Nano))
				}
			}
		}
		if table == "aircraft" {
			compared += 2
			// Seconds: 18.16's DateTime has no milliseconds (26.x's DateTime64 has).
			if !got[0].firstSeen.Truncate(time.Second).Equal(want.firstSeen.Truncate(time.Second)) ||
				!got[0].lastSeen.Truncate(time.Second).Equal(want.lastSeen.Truncate(time.Second)) {
				t.Errorf("%s: aircraft %s seen %v..%v, the oracle says %v..%v", label, icao, got[0].firstSeen, got[0].lastSeen, want.firstSeen, want.lastSeen)
			}
		}
	}
	if !onlyOne {
		for icao := range per {
			if oracle[icao] == nil {
				t.Errorf("%s: %s has aircraft %s the oracle never heard", label, table, icao)
			}
		}
	}
	if differ > 20 {
		t.Errorf("%s: %d values of %s differ from the oracle", label, differ, table)
	}
	return compared
}

// historySet is the valid position history of a run, without identifiers
// that depend on arrival order (GUFIs, event ids): one line per position.
func historySet(t *testing.T, conn *clickhouse.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var icao string
		var ms int64
		var lat, lon float64
		var alt *int32
		if err := rows.Scan(&icao, &ms, &lat, &lon, &alt); err != nil {
			t.Fatal(err)
		}
		a := "-"
		if alt != nil {
			a = strconv.Itoa(int(*alt))
		}
		out = append(out, fmt.Sprintf("%s %d %s %s %s", icao, ms, fmtFloat(lat), fmtFloat(lon), a))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// reorderings of the capture: the original, three seeded shuffles and blocks
// of 500 lines in reverse order.
func reorderings(lines []string) map[string][]string {
	out := map[string][]string{"original": lines}
	for _, seed := range []uint64{1, 2, 3} {
		p := slices.Clone(lines)
		r := rand.New(rand.NewPCG(seed, seed))
		r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		out[fmt.Sprintf("shuffle-%d", seed)] = p
	}
	var rev []string
	for end := len(lines); end > 0; end -= 500 {
		rev = append(rev, lines[max(0, end-500):end]...)
	}
	out["blocks-reversed"] = rev
	return out
}

// TestIntegrationOracleSBS runs the real SBS capture and four reorderings of
// it through real Kafka and ClickHouse and checks, for each, that aircraft
// FINAL equals the oracle for every aircraft, that flights FINAL does for
// every aircraft with one flight, and that the valid position histories are
// the same whatever the order. Then the original is ingested a second time
// into the same pipeline: the verdicts and every view stay as they were.
func TestIntegrationOracleSBS(t *testing.T) {
	sample := infratest.SharedData(t, "sbs/coniferconifer-20220108-part1.sbs")
	lines := fileLines(t, sample)
	dir := t.TempDir()
	var aircraftHist, flightHist []string
	var first string
	names := []string{"original", "shuffle-1", "shuffle-2", "shuffle-3", "blocks-reversed"}
	inputs := reorderings(lines)
	for _, name := range names {
		ordered := inputs[name]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name, filepath.Base(sample))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(strings.Join(ordered, "\r\n")+"\r\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tt := newTarget(t)
			if code, stdout, stderr := contrail(t, append([]string{"run"}, tt.args("--input", "sbs:"+path, "--once")...)...); code != 0 {
				t.Fatalf("contrail run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			conn := openCH(t, tt.ch, tt.name)
			oracle := sbsOracle(filepath.Base(sample), ordered)
			n := comparePicture(t, name, "aircraft", oracle, queryPicture(t, conn, "aircraft"), false)
			m := comparePicture(t, name, "flights", oracle, queryPicture(t, conn, "flights"), true)
			t.Logf("%s: %d aircraft, %d values of aircraft and %d of flights compared with the oracle", name, len(oracle), n, m)
			if n == 0 || m == 0 {
				t.Fatal("nothing compared: the test cannot fail")
			}
			ah := historySet(t, conn, "SELECT icao24, ts_ms, lat, lon, altitude_ft FROM "+tt.name+".aircraft_positions FINAL WHERE revoked = 0")
			fh := historySet(t, conn, "SELECT icao24, ts_ms, lat, lon, altitude_ft FROM "+tt.name+".positions_valid")
			if name == "original" {
				aircraftHist, flightHist, first = ah, fh, name
				if len(ah) == 0 || len(fh) == 0 {
					t.Fatalf("empty histories: aircraft %d, flights %d", len(ah), len(fh))
				}
				reingest(t, tt, path)
				return
			}
			if aircraftHist == nil {
				t.Skip("the original run failed; nothing to compare the history with")
			}
			diffHistory(t, name+" vs "+first+": aircraft_positions", ah, aircraftHist)
			diffHistory(t, name+" vs "+first+": positions_valid", fh, flightHist)
		})
	}
}

func diffHistory(t *testing.T, label string, got, want []string) {
	t.Helper()
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	var missing, extra []string
	for s := range w {
		if !g[s] {
			missing = append(missing, s)
		}
	}
	for s := range g {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	if len(missing)+len(extra) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		t.Errorf("%s: %d positions missing, %d extra (of %d); first missing %v, first extra %v", label, len(missing), len(extra), len(want),
			missing[:min(5, len(missing))], extra[:min(5, len(extra))])
	}
}

// reingest runs the same file through the same pipeline again and checks
// that verdicts and views are what the single ingestion left.
func reingest(t *testing.T, tt testTarget, path string) {
	t.Helper()
	conn := openCH(t, tt.ch, tt.name)
	queries := map[string]string{
		"event_outcomes": "SELECT event_id, step, outcome, reason, lateness_ms FROM {db}.event_outcomes FINAL",
		"aircraft":       "SELECT icao24, callsign, lat, lon, altitude_ft, squawk, ground_speed_kt, track_deg, vertical_rate_fpm, on_ground, first_seen, last_seen, messages FROM {db}.aircraft FINAL",
		"flights": "SELECT gufi, callsign, icao24, lifecycle, lat, lon, altitude_ft, ground_speed_kt, track_deg, vertical_rate_fpm, on_ground, squawk, " +
			"aspects, aspect_ts_ms, event_count FROM {db}.flights FINAL",
		"flight_events":      "SELECT event_id, gufi, type FROM {db}.flight_events FINAL",
		"positions":          "SELECT gufi, ts_ms, icao24, lat, lon, altitude_ft, on_ground, event_id FROM {db}.positions FINAL",
		"aircraft_positions": "SELECT icao24, ts_ms, event_id, lat, lon, revoked FROM {db}.aircraft_positions FINAL",
		"stale rate":         "SELECT countIf(outcome = 'stale') / count() FROM {db}.event_outcomes FINAL",
	}
	// The cookbook's answers too, but those that depend on processing time.
	qs, err := cookbook.Queries()
	if err != nil {
		t.Fatal(err)
	}
	cooked := 0
	for _, q := range qs {
		if len(q.Volatile) == 0 {
			queries["cookbook "+q.Name], cooked = q.SQL, cooked+1
		}
	}
	if cooked == 0 {
		t.Fatal("no cookbook query without volatile columns")
	}
	// The cookbook's queries name tables without database.
	raw, err := ch.Open(&ch.Options{Addr: []string{tt.ch}, Auth: ch.Auth{Database: tt.name, Username: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	inDB := &clickhouse.Conn{Conn: raw, Database: tt.name}
	connFor := func(name string) *clickhouse.Conn {
		if strings.HasPrefix(name, "cookbook ") {
			return inDB
		}
		return conn
	}
	before := map[string][]string{}
	for name, q := range queries {
		before[name] = dump(t, connFor(name), strings.ReplaceAll(q, "{db}", tt.name))
	}
	if code, stdout, stderr := contrail(t, append([]string{"run"}, tt.args("--input", "sbs:"+path, "--once")...)...); code != 0 {
		t.Fatalf("second contrail run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for name, q := range queries {
		after := dump(t, connFor(name), strings.ReplaceAll(q, "{db}", tt.name))
		if !slices.Equal(after, before[name]) {
			diffHistory(t, "second ingestion: "+name, after, before[name])
		}
	}
}

// dump returns every row of q as text, sorted.
func dump(t *testing.T, conn *clickhouse.Conn, q string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols := rows.ColumnTypes()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = newScanValue(c.ScanType())
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(deref(v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// newScanValue is a pointer to a new value of the column's scan type.
func newScanValue(t reflect.Type) any { return reflect.New(t).Interface() }

// deref is the value v points to, NULL pointers as "NULL".
func deref(v any) any {
	r := reflect.ValueOf(v).Elem()
	for r.Kind() == reflect.Pointer {
		if r.IsNil() {
			return "NULL"
		}
		r = r.Elem()
	}
	if f, ok := r.Interface().(float64); ok {
		return fmtFloat(f)
	}
	return r.Interface()
}
