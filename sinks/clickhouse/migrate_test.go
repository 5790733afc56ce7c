package clickhouse_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// openFresh connects to the real server with a database of the test's own,
// dropped at the end.
func openFresh(t *testing.T) *clickhouse.Conn {
	t.Helper()
	addr := infratest.ClickHouse(t)
	db := infratest.Name(t, "it")
	conn, err := clickhouse.Open(context.Background(), clickhouse.Config{Addr: addr, Database: db}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	return conn
}

// TestIntegrationMigrate runs every migration on the real server (18.16
// locally and in CI: the dialect it detects), checks that each object of
// ViewTables exists with the expected engine and the latest version is
// recorded, and that a second run applies nothing.
func TestIntegrationMigrate(t *testing.T) {
	conn := openFresh(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	res, err := clickhouse.Migrate(ctx, conn, log)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range clickhouse.Migrations {
		want = append(want, m.String())
	}
	if res.From != 0 || res.To != clickhouse.LatestVersion() || !slices.Equal(res.Applied, want) {
		t.Errorf("first Migrate = %+v; want 0 -> %d applying %v", res, clickhouse.LatestVersion(), want)
	}
	if v, err := clickhouse.CurrentVersion(ctx, conn); err != nil || v != 3 || clickhouse.LatestVersion() < 3 {
		t.Errorf("CurrentVersion = %d, %v; want 3 (the aircraft migration) recorded", v, err)
	}

	engines := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ?", conn.Database)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			t.Fatal(err)
		}
		engines[name] = engine
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantEngine := map[string]string{
		"flights": "ReplacingMergeTree", "positions": "ReplacingMergeTree", "flight_events": "ReplacingMergeTree",
		"event_outcomes": "ReplacingMergeTree", "rejected": "ReplacingMergeTree", "revoked_positions": "ReplacingMergeTree",
		"movements_hourly": "AggregatingMergeTree", "airborne_minutely": "AggregatingMergeTree", "outcomes_hourly": "SummingMergeTree",
		"positions_valid": "View", "movements_hourly_mv": "MaterializedView",
		"aircraft": "ReplacingMergeTree", "aircraft_positions": "ReplacingMergeTree", "aircraft_velocities": "ReplacingMergeTree",
		"aspect_outcomes": "ReplacingMergeTree",
	}
	for _, name := range clickhouse.ViewTables() {
		got, ok := engines[name]
		switch {
		case !ok:
			t.Errorf("%s.%s does not exist after Migrate", conn.Database, name)
		case wantEngine[name] != "" && got != wantEngine[name]:
			t.Errorf("%s has engine %s, want %s", name, got, wantEngine[name])
		}
	}

	res, err = clickhouse.Migrate(ctx, conn, log)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(res.Applied) != 0 || res.From != res.To || res.To != clickhouse.LatestVersion() {
		t.Errorf("second Migrate = %+v; want nothing applied", res)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+conn.Database+".schema_migrations").Scan(&n); err != nil || n != uint64(len(clickhouse.Migrations)) {
		t.Errorf("schema_migrations has %d rows (%v), want one per migration", n, err)
	}
}

// TestIntegrationMigrateModern runs the migrations on a current ClickHouse
// (CONTRAIL_CLICKHOUSE_MODERN), where the modern dialect's DDL applies, and
// checks every view table exists and a second run applies nothing.
func TestIntegrationMigrateModern(t *testing.T) {
	addr := infratest.ClickHouseModern(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db := infratest.Name(t, "modern")
	conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: db}, log)
	if err != nil {
		t.Fatal(err)
	}
	// One cleanup, in this order: a deferred Close would run before any
	// t.Cleanup and leave the database behind.
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	if conn.Dialect != clickhouse.Modern {
		t.Fatalf("server %s gives dialect %s; CONTRAIL_CLICKHOUSE_MODERN must name a 21+ server", conn.Version, conn.Dialect)
	}
	if _, err := clickhouse.Migrate(ctx, conn, log); err != nil {
		t.Fatal(err)
	}
	for _, name := range clickhouse.ViewTables() {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", db, name).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s.%s: %d tables, %v", db, name, n, err)
		}
	}
	if res, err := clickhouse.Migrate(ctx, conn, log); err != nil || len(res.Applied) != 0 {
		t.Errorf("second Migrate = %+v, %v; want nothing applied", res, err)
	}
}
