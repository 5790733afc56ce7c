package clickhouse_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/schemas"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// TestDDLGolden pins the exact DDL of each dialect: a change to a released
// table is a migration, and the diff shows up in review. Run with -update
// after an intended change.
func TestDDLGolden(t *testing.T) {
	tests := []struct {
		dialect clickhouse.Dialect
		golden  string
	}{
		{clickhouse.Legacy, "ddl_legacy.golden.sql"},
		{clickhouse.Modern, "ddl_modern.golden.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect.String(), func(t *testing.T) {
			got := strings.Join(clickhouse.DDL(tt.dialect, "contrail"), ";\n\n") + ";\n"
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run 'go test ./sinks/clickhouse -run TestDDLGolden -update' to create it)", err)
			}
			if got != string(want) {
				t.Errorf("DDL(%s) differs from %s (rerun with -update if intended):\n--- got\n%s\n--- want\n%s", tt.dialect, path, got, want)
			}
		})
	}
}

// TestDDLDialects checks what each server generation accepts: ClickHouse
// 18.16 rejects DateTime64, LowCardinality, column codecs and TTL.
func TestDDLDialects(t *testing.T) {
	legacyForbidden := []string{"DateTime64", "LowCardinality", "CODEC", "TTL"}
	tests := []struct {
		dialect   clickhouse.Dialect
		forbidden []string
		required  []string
	}{
		{clickhouse.Legacy, legacyForbidden, []string{"DateTime", "ReplacingMergeTree"}},
		{clickhouse.Modern, nil, []string{"DateTime64(3, 'UTC')", "LowCardinality(String)", "CODEC(ZSTD"}},
	}
	placeholder := regexp.MustCompile(`\{[a-z]+\}`)
	for _, tt := range tests {
		t.Run(tt.dialect.String(), func(t *testing.T) {
			stmts := clickhouse.DDL(tt.dialect, "atm_test")
			if len(stmts) < 2 {
				t.Fatalf("DDL has %d statements, want the migrations table and at least one migration", len(stmts))
			}
			all := strings.Join(stmts, "\n")
			for _, f := range tt.forbidden {
				if strings.Contains(strings.ToUpper(all), strings.ToUpper(f)) {
					t.Errorf("%s DDL contains %s", tt.dialect, f)
				}
			}
			for _, r := range tt.required {
				if !strings.Contains(all, r) {
					t.Errorf("%s DDL lacks %s", tt.dialect, r)
				}
			}
			if p := placeholder.FindString(all); p != "" {
				t.Errorf("%s DDL has an unrendered placeholder %s", tt.dialect, p)
			}
			for i, s := range stmts {
				if !strings.HasPrefix(s, "CREATE TABLE IF NOT EXISTS atm_test.") &&
					!strings.HasPrefix(s, "CREATE MATERIALIZED VIEW IF NOT EXISTS atm_test.") &&
					!strings.HasPrefix(s, "CREATE VIEW IF NOT EXISTS atm_test.") &&
					!strings.HasPrefix(s, "DROP TABLE IF EXISTS atm_test.") && // a view replaced by a later migration
					!strings.HasPrefix(s, "ALTER TABLE atm_test.event_outcomes ") { // idempotent: ADD COLUMN IF NOT EXISTS, MODIFY TTL
					t.Errorf("statement %d is not an idempotent CREATE (or DROP IF EXISTS) in the given database:\n%s", i, s)
				}
				if strings.Contains(s, "contrail.") {
					t.Errorf("statement %d names the default database instead of atm_test:\n%s", i, s)
				}
			}
			if !strings.Contains(stmts[0], "schema_migrations") {
				t.Errorf("first statement is not the migrations table:\n%s", stmts[0])
			}
		})
	}
}

func TestDialectFor(t *testing.T) {
	tests := []struct {
		major uint64
		want  clickhouse.Dialect
	}{
		{18, clickhouse.Legacy},
		{19, clickhouse.Legacy},
		{20, clickhouse.Legacy},
		{21, clickhouse.Modern},
		{24, clickhouse.Modern},
		{25, clickhouse.Modern},
	}
	for _, tt := range tests {
		if got := clickhouse.DialectFor(tt.major); got != tt.want {
			t.Errorf("DialectFor(%d) = %s, want %s", tt.major, got, tt.want)
		}
	}
	if clickhouse.Legacy.String() != "legacy" || clickhouse.Modern.String() != "modern" {
		t.Errorf("dialect names %q, %q; want legacy, modern", clickhouse.Legacy, clickhouse.Modern)
	}
}

func TestLatestVersion(t *testing.T) {
	if got, want := clickhouse.LatestVersion(), clickhouse.Migrations[len(clickhouse.Migrations)-1].Version; got != want {
		t.Errorf("LatestVersion() = %d, want %d", got, want)
	}
	// Migrate skips every migration at or below the recorded version, so
	// versions must strictly increase in slice order.
	var prev uint32
	for _, m := range clickhouse.Migrations {
		if m.Version <= prev {
			t.Errorf("migration %s follows version %d; versions must strictly increase", m, prev)
		}
		prev = m.Version
	}
}

// TestViewTables pins the objects the migrations create, in creation order:
// every view after the tables it reads and writes.
func TestViewTables(t *testing.T) {
	want := []string{
		"raw_events",
		"flights", "positions", "flight_events", "revoked_positions", "event_outcomes", "rejected",
		"movements_hourly", "outcomes_hourly", "airborne_minutely",
		"revoked_positions_mv", "positions_valid", "movements_hourly_mv", "outcomes_hourly_mv", "rejects_hourly_mv", "airborne_minutely_mv", "aircraft", "aircraft_positions", "aircraft_velocities", "aspect_outcomes",
	}
	if got := clickhouse.ViewTables(); !slices.Equal(got, want) {
		t.Errorf("ViewTables() = %q\nwant %q", got, want)
	}
	created := map[string]bool{}
	for _, s := range clickhouse.DDL(clickhouse.Legacy, "db") {
		for _, name := range clickhouse.ViewTables() {
			if strings.Contains(s, "EXISTS db."+name+" ") {
				created[name] = true
				continue
			}
			if strings.Contains(s, "db."+name+" ") || strings.Contains(s, "db."+name+"\n") || strings.HasSuffix(s, "db."+name+")") {
				if !created[name] {
					t.Errorf("a statement uses db.%s before it is created:\n%s", name, s)
				}
			}
		}
	}
}

func TestFlightVersion(t *testing.T) {
	at := func(sec int64) time.Time { return time.Unix(sec, 0) }
	tests := []struct {
		name         string
		older, newer schemas.FlightState
	}{
		{"newer aspect", schemas.FlightState{AspectTS: map[string]time.Time{"plan": at(100)}, EventCount: 9},
			schemas.FlightState{AspectTS: map[string]time.Time{"plan": at(100), "position": at(101)}, EventCount: 2}},
		{"late update to an older aspect", schemas.FlightState{AspectTS: map[string]time.Time{"plan": at(50), "position": at(101)}, EventCount: 7},
			schemas.FlightState{AspectTS: map[string]time.Time{"plan": at(60), "position": at(101)}, EventCount: 8}},
		{"millisecond apart", schemas.FlightState{AspectTS: map[string]time.Time{"position": time.UnixMilli(1700000000000)}, EventCount: 1 << 30},
			schemas.FlightState{AspectTS: map[string]time.Time{"position": time.UnixMilli(1700000000001)}}},
		{"no aspects before any", schemas.FlightState{AspectTS: map[string]time.Time{"status": at(-5)}},
			schemas.FlightState{EventCount: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if o, n := clickhouse.FlightVersion(&tt.older), clickhouse.FlightVersion(&tt.newer); o >= n {
				t.Errorf("version %d of the older state is not below %d of the newer", o, n)
			}
		})
	}
	far := schemas.FlightState{AspectTS: map[string]time.Time{"position": time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)}, EventCount: 1<<20 - 1}
	if v := clickhouse.FlightVersion(&far); v>>20 != uint64(far.AspectTS["position"].UnixMilli()) || v&(1<<20-1) != 1<<20-1 {
		t.Errorf("FlightVersion overflows for the year 2500: %d", v)
	}
}
