package cookbook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/simulate"
	"github.com/contrail-atm/contrail/sinks/clickhouse/cookbook"
)

// simulateArgs is the test day: 20 first legs over three hours with every
// perturbation, plans in ADEXP only. ICAO ATS plans carry no filing time, so
// their producer time is the time of ingest and results built on them would
// change with every run.
var simulateArgs = []string{"simulate", "--seed", "4", "--flights", "20", "--duration", "3h", "--plan-format", "adexp",
	"--disorder", "0.02", "--duplicates", "0.01", "--late", "0.005", "--garbage", "0.01"}

// TestIntegrationCookbook runs every cookbook query on the simulated day
// pushed through real Kafka, the processors and the sink into real
// ClickHouse, and compares the results with testdata/<query>.golden (-update
// rewrites them). It then checks results against the simulator's truth, and
// replays every topic from offset 0 with a new sink group into the populated
// tables: every query must answer exactly as before.
func TestIntegrationCookbook(t *testing.T) {
	brokers, chAddr := infratest.Kafka(t), infratest.ClickHouse(t)
	name := infratest.Name(t, "cookbook")
	t.Cleanup(func() { cleanup(brokers, chAddr, name) })
	qs, err := cookbook.Queries()
	if err != nil {
		t.Fatal(err)
	}

	// Event ids, and so the GUFIs of flights anchored on surveillance, derive
	// from each record's origin, which holds the file's path: the day is
	// written to the same path on every run.
	dir := filepath.Join(os.TempDir(), "contrail-cookbook-seed4")
	mustRun(t, append(simulateArgs, "--out", dir)...)
	var truth simulate.Truth
	if b, err := os.ReadFile(filepath.Join(dir, "truth.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}

	common := []string{"--brokers", strings.Join(brokers, ","), "--topic-prefix", name,
		"--clickhouse", chAddr, "--clickhouse-database", name, "--listen", "127.0.0.1:0"}
	// Plans first, then surveillance, each to completion: the processors
	// then see one order on every run, and the goldens do not depend on how
	// the two feeds interleave.
	start := time.Now()
	for _, in := range []string{"adexp:" + filepath.Join(dir, "plans.adexp"), "sbs:" + filepath.Join(dir, "sbs.sbs")} {
		mustRun(t, slices.Concat([]string{"run"}, common, []string{"--sink-group", name + "-sink", "--input", in, "--once"})...)
	}
	t.Logf("pipeline: %s", time.Since(start).Round(time.Millisecond))

	conn := open(t, chAddr, name)
	first := map[string]string{}
	for _, q := range qs {
		first[q.Name] = run(t, conn, q)
	}
	t.Run("golden", func(t *testing.T) {
		for _, q := range qs {
			t.Run(q.Name, func(t *testing.T) { compareGolden(t, q.Name, first[q.Name]) })
		}
	})
	// Truth checks may also read the tables directly, under names that are
	// not cookbook queries.
	first["_positions"] = run(t, conn, cookbook.Query{Name: "_positions", SQL: "SELECT count() AS positions FROM positions_valid"})
	t.Run("truth", func(t *testing.T) { checkTruth(t, truth, first) })

	t.Run("replay", func(t *testing.T) {
		before := sumOutcomesHourly(t, conn)
		start := time.Now()
		replaySink(t, slices.Concat([]string{"sink"}, common, []string{"--sink-group", name + "-replay"}))
		t.Logf("replay: %s", time.Since(start).Round(time.Millisecond))
		// outcomes_hourly sums counts, so it doubles when every row was
		// inserted again: proof the replay happened, and the reason the
		// cookbook does not read it.
		if after := sumOutcomesHourly(t, conn); after != 2*before || before == 0 {
			t.Fatalf("outcomes_hourly sums %d events after the replay, %d before: want exactly double", after, before)
		}
		for _, q := range qs {
			if got := run(t, conn, q); got != first[q.Name] {
				t.Errorf("%s answers differently after the replay:\n%s", q.Name, firstDiffLine(got, first[q.Name]))
			}
		}
	})
}

// replaySink runs `contrail sink` with a new group, which starts at offset 0
// of every topic, until `contrail status` reports that group caught up.
func replaySink(t *testing.T, args []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var code int
	var out, errb bytes.Buffer
	go func() {
		defer close(done)
		code = cli.Main(ctx, cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, args)
	}()
	status := []string{"status", "--json", "--wait", "60s"}
	for i := 1; i < len(args); i += 2 {
		if a := args[i]; a == "--brokers" || a == "--topic-prefix" || a == "--sink-group" {
			status = append(status, a, args[i+1])
		}
	}
	sc, sout, serr := cli1(status...)
	cancel()
	<-done
	if sc != 0 {
		t.Fatalf("the replaying sink did not catch up: status exited %d\n%s%s\nsink stderr:\n%s", sc, sout, serr, errb.String())
	}
	if code != 0 {
		t.Fatalf("contrail sink exited %d\n%s%s", code, out.String(), errb.String())
	}
}

func sumOutcomesHourly(t *testing.T, conn ch.Conn) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT sum(events) FROM outcomes_hourly").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (-update rewrites it):\n%s", name, path, firstDiffLine(got, string(want)))
	}
}

// run executes q and returns its result as TSV with a header line, volatile
// columns masked as "~".
func run(t *testing.T, conn ch.Conn, q cookbook.Query) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q.SQL)
	if err != nil {
		t.Fatalf("%s: %v", q.Name, err)
	}
	defer rows.Close()
	cols := rows.Columns()
	types := rows.ColumnTypes()
	mask := make([]bool, len(cols))
	for i, c := range cols {
		mask[i] = slices.Contains(q.Volatile, c)
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, "\t") + "\n")
	for rows.Next() {
		dest := make([]any, len(cols))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("%s: %v", q.Name, err)
		}
		for i, d := range dest {
			if i > 0 {
				b.WriteByte('\t')
			}
			if mask[i] {
				b.WriteByte('~')
				continue
			}
			b.WriteString(tsv(reflect.ValueOf(d).Elem()))
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q.Name, err)
	}
	for _, v := range q.Volatile {
		if !slices.Contains(cols, v) {
			t.Errorf("%s: volatile column %q is not in the result", q.Name, v)
		}
	}
	return b.String()
}

// tsv formats one value the way clickhouse-client's TSV output does, times
// in UTC.
func tsv(v reflect.Value) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return `\N`
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x.UTC().Format(time.DateTime)
	case string:
		return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`).Replace(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = tsv(v.Index(i))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v.Interface())
}

func open(t *testing.T, addr, db string) ch.Conn {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Auth: ch.Auth{Database: db, Username: "default"},
		DialTimeout: 5 * time.Second, ReadTimeout: time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func cli1(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, args)
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if code, out, errs := cli1(args...); code != 0 {
		t.Fatalf("contrail %s exited %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
}

// cleanup drops the test's database, topics and consumer groups.
func cleanup(brokers []string, chAddr, name string) {
	ctx := context.Background()
	if conn, err := ch.Open(&ch.Options{Addr: []string{chAddr}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil {
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
		conn.Close()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if ts, err := adm.ListTopics(ctx); err == nil {
		var mine []string
		for _, n := range ts.Names() {
			if strings.HasPrefix(n, name+".") {
				mine = append(mine, n)
			}
		}
		_, _ = adm.DeleteTopics(ctx, mine...)
	}
	_, _ = adm.DeleteGroups(ctx, name+"-sink", name+"-replay", name+"-track", name+"-flight")
}

func firstDiffLine(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("first difference at line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return ""
}
