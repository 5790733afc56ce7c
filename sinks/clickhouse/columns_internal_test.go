package clickhouse

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

// TestInsertColumnsMatchDDL checks that every INSERT column list names
// exactly the columns of its table, in DDL order, so an INSERT never relies
// on a column default and a new column cannot be forgotten.
func TestInsertColumnsMatchDDL(t *testing.T) {
	colRE := regexp.MustCompile(`(?m)^    ([a-z_0-9]+) `)
	ddl := map[string]string{}
	for _, m := range Migrations {
		for _, s := range m.Statements {
			if g := createdRE.FindStringSubmatch(s); g != nil {
				ddl[g[1]] = s
			}
		}
	}
	for _, tb := range newTables() {
		t.Run(tb.name, func(t *testing.T) {
			s, ok := ddl[tb.name]
			if !ok {
				t.Fatalf("no migration creates %s", tb.name)
			}
			var want []string
			for _, g := range colRE.FindAllStringSubmatch(s[:strings.Index(s, ") ENGINE")], -1) {
				want = append(want, g[1])
			}
			if got := strings.Join(want, ", "); got != tb.columns {
				t.Errorf("INSERT columns of %s:\n got %s\nwant %s", tb.name, tb.columns, got)
			}
		})
	}
}

func TestTopicsValidate(t *testing.T) {
	tests := []struct {
		name    string
		topics  Topics
		wantErr bool
	}{
		{"none", Topics{}, false},
		{"all distinct", Topics{Events: "e", State: "s", Outcomes: "o"}, false},
		{"events is the rejected topic", Topics{Events: "r"}, true},
		{"state twice", Topics{State: "s", Outcomes: "s"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.topics.validate("r"); (err != nil) != tt.wantErr {
				t.Errorf("validate = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestChunks: a table's batch splits into at most n parts, covering every
// row once, with all rows of one key (the first column) in one part in the
// order they were read, the same way on every call (a retry must re-send
// exactly the chunks not yet acknowledged).
func TestChunks(t *testing.T) {
	for _, tc := range []struct{ rows, n, want int }{
		{0, 2, 0}, {1, 2, 1}, {chunkRows, 2, 1}, {2*chunkRows - 1, 2, 1}, {2 * chunkRows, 2, 2}, {10 * chunkRows, 2, 2}, {10 * chunkRows, 4, 4},
	} {
		tr := &tableRows{rows: make([][]any, tc.rows)}
		for i := range tr.rows {
			tr.rows[i] = []any{fmt.Sprintf("k%d", i%97), i} // 97 keys, each many times
		}
		got := tr.chunks(tc.n)
		if len(got) != tc.want || len(tr.sent) != tc.want {
			t.Errorf("%d rows in at most %d: %d chunks (%d flags), want %d", tc.rows, tc.n, len(got), len(tr.sent), tc.want)
		}
		seen, chunkOf, last := 0, map[string]int{}, map[string]int{}
		for ci, c := range got {
			for _, r := range c {
				k, i := r[0].(string), r[1].(int)
				if prev, ok := chunkOf[k]; ok && prev != ci {
					t.Fatalf("%d rows: key %s in chunks %d and %d", tc.rows, k, prev, ci)
				}
				if prev, ok := last[k]; ok && prev > i {
					t.Fatalf("%d rows: key %s out of read order (%d after %d)", tc.rows, k, i, prev)
				}
				chunkOf[k], last[k] = ci, i
				seen++
			}
		}
		if seen != tc.rows {
			t.Errorf("%d rows: chunks cover %d", tc.rows, seen)
		}
		if tc.want == 0 {
			continue
		}
		tr.sent[0] = true
		if again := tr.chunks(tc.n); len(again) != len(got) || !tr.sent[0] || len(again[0]) != len(got[0]) {
			t.Errorf("%d rows: a second call changed the chunks or forgot what was sent", tc.rows)
		}
	}
}

// TestPositionPayloadJSON: the hand-written payload JSON of a position
// event is exactly what encoding/json writes.
func TestPositionPayloadJSON(t *testing.T) {
	alt, vr := int32(35000), int32(-64)
	gs, trk, tiny, huge := 451.25, 0.0, 1e-9, 3e22
	yes := true
	for _, p := range []schemas.Position{
		{TS: time.Date(2026, 1, 1, 12, 0, 0, 123_000_000, time.UTC), ICAO24: "4ca1b2", Lat: 53.42, Lon: -6.27,
			AltitudeFt: &alt, GroundSpeedKt: &gs, TrackDeg: &trk, VerticalRateFpm: &vr, OnGround: &yes},
		{TS: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), ICAO24: "a<b>\\\"&\x01é", Lat: tiny, Lon: huge},
		{ICAO24: "", Lat: -0.000001, Lon: 180, GroundSpeedKt: &tiny},
	} {
		want, err := json.Marshal(&schemas.PositionReported{Position: p})
		if err != nil {
			t.Fatal(err)
		}
		if got := positionPayloadJSON(nil, &p); string(got) != string(want) {
			t.Errorf("payload of %+v:\n got %s\nwant %s", p, got, want)
		}
	}
}
