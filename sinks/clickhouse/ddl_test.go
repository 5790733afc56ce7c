package clickhouse_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
				if !strings.HasPrefix(s, "CREATE TABLE IF NOT EXISTS atm_test.") {
					t.Errorf("statement %d is not an idempotent CREATE in the given database:\n%s", i, s)
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
