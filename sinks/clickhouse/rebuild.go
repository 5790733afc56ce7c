package clickhouse

// Rebuilding the views from the log (ARCHITECTURE.md §5: "Views can be
// rebuilt from the log into fresh tables and swapped in"). The Kafka side
// (consuming the topics with a Writer into the shadow) is the caller's; this
// file owns the ClickHouse side:
//
//   - CreateShadow creates a shadow DATABASE <db>_rebuild holding every
//     object of the migrations, rendered by the same render(tmpl, dialect, db)
//     as Migrate with the shadow's name. Its materialized views therefore read
//     and write the shadow's tables, so the aggregates are rebuilt along with
//     the tables they aggregate.
//   - KeyCounter computes, from the records read from the log, how many
//     distinct rows (by each table's deduplication key) every base table must
//     hold; DistinctCounts reads the same figure from a database, and Verify
//     compares them.
//   - Swap moves the shadow's tables into <db> and the old ones to
//     <db>_old_<timestamp>.
//
// Swap and the materialized views. Legacy servers (18.x-20.x, Ordinary
// databases) and Modern servers whose databases are not Atomic swap with one
// statement, RENAME TABLE db.t TO old.t, shadow.t TO db.t, ..., over the base
// tables only (the tables that hold rows, MV targets included). ClickHouse
// holds its global context lock for a multi-table RENAME, so a client sees
// either all old or all new tables, never a missing one. The materialized and
// plain views of <db> stay where they are: on these servers a view names its
// source and target tables by name (the dependency of an MV on its source is
// keyed by database and table name, and an MV resolves its TO table by name
// on every insert), so after the swap they read and write the new tables.
// The shadow's views, now pointing at nothing, are dropped with the shadow
// database.
//
// On Modern servers where both databases are Atomic, tables and views are
// identified by UUID, so a view would follow its old tables into the old
// database. There every base table and every materialized view is exchanged
// pairwise with EXCHANGE TABLES (each exchange is atomic, the set is not), so
// <db>'s views are the shadow's, wired to the shadow's (now <db>'s) tables by
// UUID, and the shadow database, then holding the old objects, is renamed to
// the old name. This path is untested against a server: CI has 18.16.
import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/schemas"
)

// Kinds of schema objects.
const (
	kindTable   = "TABLE"
	kindView    = "VIEW"
	kindMatView = "MATERIALIZED VIEW"
)

var createdKindRE = regexp.MustCompile(`^CREATE (TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS \{db\}\.([A-Za-z_][A-Za-z0-9_]*)`)

type schemaObject struct{ name, kind string }

// schemaObjects are the objects of ViewTables with their kinds, in creation
// order.
func schemaObjects() []schemaObject {
	var out []schemaObject
	for _, m := range Migrations {
		for _, s := range m.Statements {
			if g := createdKindRE.FindStringSubmatch(s); g != nil &&
				!slices.ContainsFunc(out, func(o schemaObject) bool { return o.name == g[2] }) {
				out = append(out, schemaObject{name: g[2], kind: g[1]}) // a view replaced later is listed once
			}
		}
	}
	return out
}

// BaseTables are the tables of ViewTables that hold rows (materialized views'
// targets included), in creation order: what a rebuild refills and swaps.
func BaseTables() []string {
	var out []string
	for _, o := range schemaObjects() {
		if o.kind == kindTable {
			out = append(out, o.name)
		}
	}
	return out
}

func objectsOf(kind string) []string {
	var out []string
	for _, o := range schemaObjects() {
		if o.kind == kind {
			out = append(out, o.name)
		}
	}
	return out
}

// ShadowDatabase is the database a rebuild of db fills.
func ShadowDatabase(db string) string { return db + "_rebuild" }

// In returns a Conn on database db sharing c's connection pool, so a Writer
// built on it inserts into db.
func (c *Conn) In(db string) *Conn {
	cc := *c
	cc.Database = db
	return &cc
}

// ErrSchemaOutdated is returned by CreateShadow when c's database is not at
// the latest schema version: the swap would replace tables of another shape.
var ErrSchemaOutdated = fmt.Errorf("database schema is not at this binary's version")

// CreateShadow drops any shadow database left by an earlier rebuild and
// creates a fresh one holding every object of the migrations.
func CreateShadow(ctx context.Context, c *Conn, shadow string) error {
	if !identRE.MatchString(shadow) || shadow == c.Database {
		return fmt.Errorf("shadow database name %q is not a plain identifier other than %s", shadow, c.Database)
	}
	cur, err := CurrentVersion(ctx, c)
	if err != nil {
		return err
	}
	if latest := LatestVersion(); cur != latest {
		return fmt.Errorf("%w: %s is at version %d, this contrail's is %d; run 'contrail migrate' first", ErrSchemaOutdated, c.Database, cur, latest)
	}
	if err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+shadow); err != nil {
		return fmt.Errorf("drop leftover shadow database %s: %w", shadow, err)
	}
	if err := c.Exec(ctx, "CREATE DATABASE "+shadow); err != nil {
		return fmt.Errorf("create shadow database %s: %w", shadow, err)
	}
	for _, m := range Migrations {
		for _, s := range m.Statements {
			stmt := render(s, c.Dialect, shadow)
			if stmt == "" {
				continue // not for this dialect
			}
			if err := c.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("create shadow objects of migration %s in %s: %w", m, shadow, err)
			}
		}
	}
	return nil
}

// tableKey is the deduplication key of a writer table: its SQL columns and
// the indexes of the same columns in the writer's rows (see tables.go).
type tableKey struct {
	sql  string
	cols []int
}

// verifiedKeys are the keys by which Verify counts rows. positions is keyed
// by ts_ms rather than (ts, ts_ms): ts is ts_ms truncated.
var verifiedKeys = map[string]tableKey{
	"raw_events":          {"feed, event_id", []int{1, 0}},
	"rejected":            {"feed, id", []int{1, 0}},
	"flight_events":       {"gufi, event_id", []int{1, 0}},
	"positions":           {"gufi, ts_ms, icao24", []int{0, 2, 3}},
	"flights":             {"gufi", []int{0}},
	"event_outcomes":      {"feed, event_id, step", []int{1, 0, 2}},
	"aircraft":            {"icao24", []int{0}},
	"aircraft_positions":  {"icao24, ts_ms, event_id", []int{0, 2, 3}},
	"aspect_outcomes":     {"feed, event_id, step, aspect", []int{1, 0, 2, 3}},
	"aircraft_velocities": {"icao24, ts_ms, event_id", []int{0, 2, 3}},
}

// VerifiedTables are the tables Verify checks, in the writer's order.
func VerifiedTables() []string {
	var out []string
	for _, t := range newTables() {
		out = append(out, t.name)
	}
	return out
}

// KeyCounter counts the distinct rows each writer table gets from a set of
// records, routing and decoding them exactly as the Writer does (it is a
// Writer that never inserts). It holds every key in memory. Not safe for
// concurrent use.
type KeyCounter struct {
	w    *Writer
	keys map[string]map[string]struct{}
}

// NewKeyCounter builds a counter for a Writer with the same rejected topic
// and options that writes to a server of dialect d.
func NewKeyCounter(reg *schemas.Registry, rejectedTopic string, opts WriterOptions, d Dialect) *KeyCounter {
	w := NewWriter(&Conn{Dialect: d}, nil, reg, rejectedTopic, opts, slog.New(slog.DiscardHandler), nil)
	k := &KeyCounter{w: w, keys: map[string]map[string]struct{}{}}
	for _, t := range w.tables {
		k.keys[t.name] = map[string]struct{}{}
	}
	return k
}

// Add counts the records of fetches.
func (k *KeyCounter) Add(ctx context.Context, fetches kgo.Fetches) {
	k.w.add(ctx, fetches)
	var b strings.Builder
	for _, t := range k.w.tables {
		key := verifiedKeys[t.name]
		for _, r := range t.rows {
			b.Reset()
			for i, c := range key.cols {
				if i > 0 {
					b.WriteByte(0)
				}
				fmt.Fprint(&b, r[c])
			}
			k.keys[t.name][b.String()] = struct{}{}
		}
		t.reset()
	}
}

// Counts is the number of distinct rows per table.
func (k *KeyCounter) Counts() map[string]uint64 {
	out := make(map[string]uint64, len(k.keys))
	for t, s := range k.keys {
		out[t] = uint64(len(s))
	}
	return out
}

// DistinctCounts reads the number of distinct rows (by deduplication key) of
// each verified table of database db, whether or not merges have run.
func DistinctCounts(ctx context.Context, c *Conn, db string) (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, t := range VerifiedTables() {
		var n uint64
		q := "SELECT uniqExact(" + verifiedKeys[t].sql + ") FROM " + db + "." + t
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
			return nil, fmt.Errorf("count rows of %s.%s: %w", db, t, err)
		}
		out[t] = n
	}
	return out, nil
}

// TableCheck is one line of a rebuild's verification.
type TableCheck struct {
	Table    string `json:"table"`
	Expected uint64 `json:"expected"` // distinct rows the records read from the log make
	Rebuilt  uint64 `json:"rebuilt"`  // distinct rows in the shadow table
	Current  uint64 `json:"current"`  // distinct rows in the table being replaced (for information)
	OK       bool   `json:"ok"`       // Rebuilt == Expected
}

// Verify compares, per verified table, the rebuilt counts with the expected
// ones; ok is whether all agree. current is informational (the live table
// may trail or lead the log).
func Verify(expected, rebuilt, current map[string]uint64) (checks []TableCheck, ok bool) {
	ok = true
	for _, t := range VerifiedTables() {
		c := TableCheck{Table: t, Expected: expected[t], Rebuilt: rebuilt[t], Current: current[t]}
		c.OK = c.Expected == c.Rebuilt
		ok = ok && c.OK
		checks = append(checks, c)
	}
	return checks, ok
}

// FormatChecks prints checks as an aligned table.
func FormatChecks(w io.Writer, checks []TableCheck) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\texpected (log)\trebuilt\tcurrent\t\t")
	for _, c := range checks {
		verdict := "ok"
		if !c.OK {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", c.Table, c.Expected, c.Rebuilt, c.Current, verdict)
	}
	tw.Flush()
}

// SwapResult says what Swap did.
type SwapResult struct {
	Method      string   // "rename" or "exchange"
	OldDatabase string   // where the replaced tables went
	Tables      []string // the base tables swapped
}

// Swap puts the shadow database's tables in place of c.Database's and moves
// the replaced ones to the database old (created; it must not exist), as the
// file comment describes. The shadow database is gone afterwards.
func Swap(ctx context.Context, c *Conn, shadow, old string) (SwapResult, error) {
	db := c.Database
	res := SwapResult{Method: "rename", OldDatabase: old, Tables: BaseTables()}
	for _, n := range []string{shadow, old} {
		if !identRE.MatchString(n) || n == db {
			return res, fmt.Errorf("database name %q is not a plain identifier other than %s", n, db)
		}
	}
	if c.Dialect == Modern {
		a, err := atomic(ctx, c, db)
		if err != nil {
			return res, err
		}
		b, err := atomic(ctx, c, shadow)
		if err != nil {
			return res, err
		}
		if a && b {
			res.Method = "exchange"
		}
	}
	if res.Method == "exchange" {
		return res, exchange(ctx, c, shadow, old)
	}
	if err := c.Exec(ctx, "CREATE DATABASE "+old); err != nil {
		return res, fmt.Errorf("create database %s for the replaced tables: %w", old, err)
	}
	var parts []string
	for _, t := range res.Tables {
		parts = append(parts, fmt.Sprintf("%s.%s TO %s.%s", db, t, old, t), fmt.Sprintf("%s.%s TO %s.%s", shadow, t, db, t))
	}
	if err := c.Exec(ctx, "RENAME TABLE "+strings.Join(parts, ", ")); err != nil {
		return res, fmt.Errorf("swap tables of %s and %s (RENAME TABLE): %w", db, shadow, err)
	}
	// Only the shadow's views (reading tables that have left) remain.
	if err := c.Exec(ctx, "DROP DATABASE "+shadow); err != nil {
		return res, fmt.Errorf("drop shadow database %s after the swap: %w", shadow, err)
	}
	return res, nil
}

func exchange(ctx context.Context, c *Conn, shadow, old string) error {
	db := c.Database
	objs := append(BaseTables(), objectsOf(kindMatView)...)
	for _, t := range objs {
		if err := c.Exec(ctx, fmt.Sprintf("EXCHANGE TABLES %s.%s AND %s.%s", db, t, shadow, t)); err != nil {
			return fmt.Errorf("swap %s.%s and %s.%s (EXCHANGE TABLES): %w", db, t, shadow, t, err)
		}
	}
	if err := c.Exec(ctx, fmt.Sprintf("RENAME DATABASE %s TO %s", shadow, old)); err != nil {
		return fmt.Errorf("rename %s (now holding the replaced tables) to %s: %w", shadow, old, err)
	}
	return nil
}

// atomic reports whether database db has the Atomic engine.
func atomic(ctx context.Context, c *Conn, db string) (bool, error) {
	var engine string
	if err := c.QueryRow(ctx, "SELECT engine FROM system.databases WHERE name = '"+db+"'").Scan(&engine); err != nil {
		return false, fmt.Errorf("read engine of database %s: %w", db, err)
	}
	return engine == "Atomic", nil
}

// Exists reports whether database db exists.
func Exists(ctx context.Context, c *Conn, db string) (bool, error) {
	var n uint64
	if err := c.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = '"+db+"'").Scan(&n); err != nil {
		return false, fmt.Errorf("look up database %s: %w", db, err)
	}
	return n > 0, nil
}
