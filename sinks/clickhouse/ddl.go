package clickhouse

import (
	"fmt"
	"regexp"
	"strings"
)

// types maps the logical column types used in DDL templates to each dialect.
// Templates write {ts} for a millisecond timestamp, {lc} for a low-cardinality
// string, {blob} for a large compressible string, {tsseq} for a timestamp
// column that mostly increases along the sort key (delta-coded when the
// server can) and {coord} for a slowly changing float such as a latitude.
var types = map[Dialect]map[string]string{
	Legacy: {
		"{ts}":    "DateTime",
		"{lc}":    "String",
		"{blob}":  "String",
		"{tsseq}": "DateTime",
		"{coord}": "Float64",
	},
	Modern: {
		"{ts}":    "DateTime64(3, 'UTC')",
		"{lc}":    "LowCardinality(String)",
		"{blob}":  "String CODEC(ZSTD(3))",
		"{tsseq}": "DateTime64(3, 'UTC') CODEC(Delta, ZSTD)",
		"{coord}": "Float64 CODEC(Gorilla)",
	},
}

// ttlRE matches a {ttl EXPR} placeholder: a table TTL on servers that have
// TTL (Modern), nothing on Legacy.
var ttlRE = regexp.MustCompile(`\{ttl ([^}]*)\}`)

// modernOnly starts a statement that runs on Modern servers only; on
// Legacy it renders to nothing and is skipped.
const modernOnly = "{modern}"

// render substitutes the database name and the dialect's types into tmpl.
// Lines left empty by a placeholder that renders to nothing are dropped; a
// statement for Modern servers only (modernOnly) renders to "" on Legacy.
func render(tmpl string, d Dialect, db string) string {
	if t, ok := strings.CutPrefix(tmpl, modernOnly); ok {
		if d != Modern {
			return ""
		}
		tmpl = t
	}
	s := strings.ReplaceAll(tmpl, "{db}", db)
	for k, v := range types[d] {
		s = strings.ReplaceAll(s, k, v)
	}
	ttl := ""
	if d == Modern {
		ttl = "TTL $1"
	}
	lines := strings.Split(ttlRE.ReplaceAllString(s, ttl), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// migrationsTable records applied migrations; it is created before any
// migration runs and never changes shape.
const migrationsTable = `CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
    version UInt32,
    name String,
    dialect String,
    applied_at DateTime
) ENGINE = MergeTree() ORDER BY version`

// rawEventsTable keeps every envelope and every rejected record read from the
// raw and rejected topics, with its outcome, for data-quality SQL.
//
// It deduplicates by (feed, event_id): event ids are derived from feed, origin
// and raw bytes, so a retried insert, a replayed topic or a re-ingested file
// collapses to one row after merges (query with FINAL, or count(DISTINCT
// event_id), for exact counts before a merge). producer_ts_ms keeps the exact
// millisecond in both dialects; producer_ts is for readable SQL.
const rawEventsTable = `CREATE TABLE IF NOT EXISTS {db}.raw_events (
    event_id String,
    feed {lc},
    format {lc},
    format_version {lc},
    key String,
    producer_ts {ts},
    producer_ts_ms Int64,
    producer_ts_source {lc},
    ingest_ts {ts},
    adapter {lc},
    origin String,
    raw {blob},
    outcome {lc},
    reason_code {lc},
    reason String,
    topic {lc},
    partition UInt32,
    offset UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(producer_ts)
ORDER BY (feed, event_id)`

// Migration is one versioned schema step. Statements must be idempotent
// (IF NOT EXISTS and the like), because a crash between the DDL and the
// bookkeeping insert re-runs the step.
type Migration struct {
	Version    uint32
	Name       string
	Statements []string // templates, see render
}

// Migrations are all schema steps this binary knows, in order. Append only:
// a released migration is never edited.
var Migrations = []Migration{
	{Version: 1, Name: "raw_events", Statements: []string{rawEventsTable}},
	{Version: 2, Name: "views", Statements: viewStatements},
	{Version: 3, Name: "aircraft", Statements: aircraftStatements},
}

// DDL renders every statement Migrate would run for dialect d, migrations
// table first. Used by golden tests and `contrail migrate --print`.
func DDL(d Dialect, db string) []string {
	out := []string{render(migrationsTable, d, db)}
	for _, m := range Migrations {
		for _, s := range m.Statements {
			if r := render(s, d, db); r != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// LatestVersion is the newest schema version this binary knows.
func LatestVersion() uint32 { return Migrations[len(Migrations)-1].Version }

func (m Migration) String() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }
