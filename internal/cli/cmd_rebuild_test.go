package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// smallRun simulates a little traffic (with duplicates and garbage) and runs
// the whole pipeline over it once, on a target of the test's own.
func smallRun(t *testing.T) testTarget {
	t.Helper()
	dir := t.TempDir()
	if code, out, errs := contrail(t, "simulate", "--out", dir, "--flights", "3", "--seed", "11",
		"--duration", "30m", "--duplicates", "0.02", "--garbage", "0.01", "--disorder", "0.05"); code != 0 {
		t.Fatalf("simulate exited %d\n%s\n%s", code, out, errs)
	}
	tt := newTarget(t)
	code, out, errs := contrail(t, append([]string{"run"}, tt.args("--input", "sbs:"+filepath.Join(dir, "sbs.sbs"),
		"--input", "adexp:"+filepath.Join(dir, "plans.adexp"), "--once")...)...)
	if code != 0 {
		t.Fatalf("contrail run exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	return tt
}

// viewQueries answer with one string each; their answers must not change
// when the views are rebuilt from the log that made them.
func viewQueries(db string) []string {
	return []string{
		"SELECT toString(uniqExact(feed, event_id)) FROM " + db + ".raw_events",
		"SELECT toString(uniqExact(gufi, event_id)) FROM " + db + ".flight_events",
		"SELECT toString(count()) FROM " + db + ".flights FINAL",
		"SELECT toString(groupArray((gufi, lifecycle, event_count))) FROM (SELECT gufi, lifecycle, event_count FROM " + db + ".flights FINAL ORDER BY gufi)",
		"SELECT toString(count()) FROM " + db + ".positions_valid",
		"SELECT toString(uniqExact(feed, id)) FROM " + db + ".rejected",
		"SELECT toString(groupArray((aerodrome, direction, m))) FROM (SELECT aerodrome, direction, uniqExactMerge(movements) AS m FROM " + db + ".movements_hourly GROUP BY aerodrome, direction ORDER BY aerodrome, direction)",
		"SELECT toString(groupArray((feed, step, outcome, e))) FROM (SELECT feed, step, outcome, sum(events) AS e FROM " + db + ".outcomes_hourly GROUP BY feed, step, outcome ORDER BY feed, step, outcome)",
		"SELECT toString(uniqMerge(flights)) FROM " + db + ".airborne_minutely",
	}
}

func answers(ctx context.Context, conn *clickhouse.Conn, qs []string) ([]string, error) {
	out := make([]string, len(qs))
	for i, q := range qs {
		if err := conn.QueryRow(ctx, q).Scan(&out[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return out, nil
}

// TestIntegrationSinkRebuild runs a small pipeline, rebuilds its views from
// the log while another connection keeps querying them (no query may fail
// or see other answers), and checks that an insert after the swap still
// reaches the materialized views' targets.
func TestIntegrationSinkRebuild(t *testing.T) {
	tt := smallRun(t)
	ctx := context.Background()
	conn := openCH(t, tt.ch, tt.name)
	t.Cleanup(func() {
		rows, err := conn.Query(context.Background(), "SELECT name FROM system.databases WHERE startsWith(name, '"+tt.name+"_')")
		if err != nil {
			return
		}
		var dbs []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				dbs = append(dbs, n)
			}
		}
		rows.Close()
		for _, d := range dbs {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+d)
		}
	})
	qs := viewQueries(tt.name)
	before, err := answers(ctx, conn, qs)
	if err != nil {
		t.Fatal(err)
	}
	if before[1] == "0" || before[2] == "0" {
		t.Fatalf("the pipeline produced no flight events or flights: %q", before)
	}

	qconn := openCH(t, tt.ch, tt.name)
	var (
		wg       sync.WaitGroup
		stop     = make(chan struct{})
		mu       sync.Mutex
		failures []string
		rounds   int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := answers(ctx, qconn, qs)
			mu.Lock()
			rounds++
			switch {
			case err != nil:
				failures = append(failures, err.Error())
			default:
				for i := range got {
					if got[i] != before[i] {
						failures = append(failures, fmt.Sprintf("%s answered %s, before the rebuild %s", qs[i], got[i], before[i]))
					}
				}
			}
			mu.Unlock()
		}
	}()

	args := []string{"sink", "rebuild", "--brokers", strings.Join(tt.brokers, ","), "--clickhouse", tt.ch,
		"--clickhouse-database", tt.name, "--topic-prefix", tt.name, "--sink-group", tt.name, "--progress-every", "200ms"}
	code, stdout, stderr := contrail(t, args...)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("sink rebuild exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("stdout:\n%s", stdout)
	for _, w := range []string{"verification", "flight_events", "swapped", "done"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout does not mention %q", w)
		}
	}
	// 18.x-20.x swap with one RENAME, Atomic databases (21+) with EXCHANGE.
	if !strings.Contains(stdout, "rename") && !strings.Contains(stdout, "(exchange)") {
		t.Errorf("stdout names neither a rename nor an exchange")
	}
	if strings.Contains(stdout, "MISMATCH") {
		t.Errorf("verification found a mismatch")
	}
	if !strings.Contains(stderr, "% of the end offsets") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	mu.Lock()
	if len(failures) > 0 {
		t.Errorf("%d of the concurrent query rounds failed or differed, e.g.: %s", len(failures), failures[0])
	}
	t.Logf("%d concurrent query rounds during the rebuild", rounds)
	mu.Unlock()
	after, err := answers(ctx, conn, qs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range qs {
		if after[i] != before[i] {
			t.Errorf("%s: %s after the rebuild, %s before", qs[i], after[i], before[i])
		}
	}
	var olds uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE startsWith(name, '"+tt.name+"_old_')").Scan(&olds); err != nil || olds != 1 {
		t.Errorf("%d databases %s_old_* (%v), want 1 holding the replaced tables", olds, tt.name, err)
	}

	// New inserts into the swapped tables must still feed the MVs.
	var m0, m1 uint64
	mq := "SELECT uniqExactMerge(movements) FROM " + tt.name + ".movements_hourly"
	if err := conn.QueryRow(ctx, mq).Scan(&m0); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+tt.name+".flight_events (event_id, gufi, type, producer_ts, adep, event_ts)")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := b.Append("after-rebuild", "G-after", "FLIGHT_DEPARTED", ts, "LFPG", &ts); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, mq).Scan(&m1); err != nil {
		t.Fatal(err)
	}
	if m1 != m0+1 {
		t.Errorf("movements %d after inserting a departure into the rebuilt flight_events, want %d: the MV does not feed the swapped tables", m1, m0+1)
	}
}
