package cli_test

import (
	"context"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// TestIntegrationSampleOnBothServers replays the real 2022 SBS capture into
// Debian's ClickHouse 18.16 and into a current one (CONTRAIL_CLICKHOUSE_MODERN)
// and compares the rows every table holds, FINAL: no TTL or dialect
// difference may make a replay of old data lose rows on either.
func TestIntegrationSampleOnBothServers(t *testing.T) {
	sample := infratest.SharedData(t, "sbs/coniferconifer-20220108-part1.sbs")
	modern := infratest.ClickHouseModern(t)
	if c, err := clickhouse.Open(context.Background(), clickhouse.Config{Addr: infratest.ClickHouse(t)}, discardLogger()); err != nil {
		t.Fatal(err)
	} else {
		d := c.Dialect
		c.Close()
		if d != clickhouse.Legacy {
			t.Skip("CONTRAIL_TEST_CLICKHOUSE is a current server too (make test's second pass): this test compares 18.16 with a current one")
		}
	}
	counts := map[string]map[string]uint64{}
	for _, server := range []string{"legacy", "modern"} {
		tt := newTarget(t) // its cleanup drops the database on the 18.16 server
		if server == "modern" {
			tt.ch = modern
			t.Cleanup(func() { tt.cleanup(t) })
		}
		if code, stdout, stderr := contrail(t, append([]string{"run"}, tt.args("--input", "sbs:"+sample, "--once")...)...); code != 0 {
			t.Fatalf("%s: contrail run exited %d\n%s\n%s", server, code, stdout, stderr)
		}
		conn := openCH(t, tt.ch, tt.name)
		if want := map[string]clickhouse.Dialect{"legacy": clickhouse.Legacy, "modern": clickhouse.Modern}[server]; conn.Dialect != want {
			t.Fatalf("%s server %s speaks dialect %s", server, conn.Version, conn.Dialect)
		}
		// Merges first: a TTL acts on them.
		for _, table := range clickhouse.BaseTables() {
			_ = conn.Exec(context.Background(), "OPTIMIZE TABLE "+tt.name+"."+table+" FINAL")
		}
		counts[server] = map[string]uint64{}
		for _, table := range clickhouse.BaseTables() {
			q := "SELECT count() FROM " + tt.name + "." + table
			if !strings.HasSuffix(table, "_hourly") && !strings.HasSuffix(table, "_minutely") {
				q += " FINAL"
			}
			var n uint64
			if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
				t.Fatalf("%s: %s: %v", server, q, err)
			}
			counts[server][table] = n
		}
	}
	nonEmpty := 0
	for table, n := range counts["legacy"] {
		if m := counts["modern"][table]; m != n {
			t.Errorf("%s: %d rows on 18.16, %d on the current server", table, n, m)
		}
		if n > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 5 {
		t.Errorf("only %d tables hold rows: the comparison says little (%v)", nonEmpty, counts["legacy"])
	}
	t.Logf("rows per table (both servers): %v", counts["legacy"])
}
