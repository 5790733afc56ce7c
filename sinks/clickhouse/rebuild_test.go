package clickhouse_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

func TestRebuildVerify(t *testing.T) {
	all := func(n uint64) map[string]uint64 {
		m := map[string]uint64{}
		for _, tb := range clickhouse.VerifiedTables() {
			m[tb] = n
		}
		return m
	}
	tests := []struct {
		name              string
		expected, rebuilt map[string]uint64
		ok                bool
	}{
		{"equal", all(3), all(3), true},
		{"rebuilt short", all(3), func() map[string]uint64 { m := all(3); m["flight_events"] = 2; return m }(), false},
		{"rebuilt extra", all(3), func() map[string]uint64 { m := all(3); m["flights"] = 4; return m }(), false},
		{"empty log", all(0), all(0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks, ok := clickhouse.Verify(tt.expected, tt.rebuilt, all(7))
			if ok != tt.ok {
				t.Errorf("ok %v, want %v", ok, tt.ok)
			}
			if len(checks) != len(clickhouse.VerifiedTables()) {
				t.Errorf("%d checks, want one per verified table", len(checks))
			}
			var b bytes.Buffer
			clickhouse.FormatChecks(&b, checks)
			if strings.Contains(b.String(), "MISMATCH") == tt.ok {
				t.Errorf("table says MISMATCH %v, want %v:\n%s", !tt.ok, !tt.ok, b.String())
			}
		})
	}
}

func TestRebuildBaseTables(t *testing.T) {
	base := clickhouse.BaseTables()
	for _, n := range clickhouse.ViewTables() {
		isView := strings.HasSuffix(n, "_mv") || n == "positions_valid"
		has := false
		for _, b := range base {
			has = has || b == n
		}
		if has == isView {
			t.Errorf("%s: in BaseTables %v, want %v", n, has, !isView)
		}
	}
	for _, v := range clickhouse.VerifiedTables() {
		found := false
		for _, b := range base {
			found = found || b == v
		}
		if !found {
			t.Errorf("verified table %s is not a base table", v)
		}
	}
}

// TestIntegrationRebuildSwap fills a shadow database through its own
// materialized views, swaps it in, and checks that db's views read the new
// tables and that an insert into db after the swap still reaches the
// materialized views' targets; the old tables are kept in the old database.
func TestIntegrationRebuildSwap(t *testing.T) {
	conn := openFresh(t)
	ctx := context.Background()
	db := conn.Database
	shadow, old := clickhouse.ShadowDatabase(db), db+"_old_test"
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+shadow)
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+old)
	})
	if err := clickhouse.CreateShadow(ctx, conn, shadow); err == nil {
		t.Fatal("CreateShadow on an unmigrated database succeeded")
	}
	if _, err := clickhouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	departure := func(c *clickhouse.Conn, dbName, id string) {
		t.Helper()
		b, err := c.PrepareBatch(ctx, "INSERT INTO "+dbName+".flight_events (event_id, gufi, type, producer_ts, adep, event_ts)")
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
		if err := b.Append(id, "G-"+id, "FLIGHT_DEPARTED", ts, "EGLL", &ts); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	movements := func(dbName string) uint64 {
		t.Helper()
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT uniqExactMerge(movements) FROM "+dbName+".movements_hourly").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	departure(conn, db, "old-1")
	if err := clickhouse.CreateShadow(ctx, conn, shadow); err != nil {
		t.Fatal(err)
	}
	departure(conn, shadow, "new-1")
	departure(conn, shadow, "new-2")
	if got := movements(shadow); got != 2 {
		t.Fatalf("shadow movements_hourly has %d movements, want 2 (its MV must write the shadow)", got)
	}
	if got := movements(db); got != 1 {
		t.Fatalf("%s movements_hourly has %d movements, want 1 (the shadow's MV must not write it)", db, got)
	}
	res, err := clickhouse.Swap(ctx, conn, shadow, old)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != "rename" && conn.Dialect == clickhouse.Legacy {
		t.Errorf("method %s on a legacy server", res.Method)
	}
	if got := movements(db); got != 2 {
		t.Errorf("after the swap %s has %d movements, want the shadow's 2", db, got)
	}
	if got := movements(old); got != 1 {
		t.Errorf("old database %s has %d movements, want 1", old, got)
	}
	departure(conn, db, "after-1")
	if got := movements(db); got != 3 {
		t.Errorf("after an insert into %s.flight_events it has %d movements, want 3: the MV does not feed the new tables", db, got)
	}
	if got := movements(old); got != 1 {
		t.Errorf("the insert after the swap reached the old database (%d movements)", got)
	}
	if ok, err := clickhouse.Exists(ctx, conn, shadow); err != nil || ok {
		t.Errorf("shadow database exists after the swap (%v, %v)", ok, err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".positions_valid").Scan(&n); err != nil {
		t.Errorf("positions_valid after the swap: %v", err)
	}
}
