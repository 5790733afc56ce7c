// Package cookbook is the analyst's SQL cookbook (docs/sql.md): real
// questions about the traffic answered with plain SQL on the ClickHouse
// tables and views of sinks/clickhouse. Each question is one file under
// queries/, holding its explanation as a leading comment and one SELECT that
// runs on ClickHouse 18.16 and later, against the Contrail database as the
// current database.
//
// The files are the single source: docs/sql.md is rendered from them by Doc
// (a test fails when the committed document differs), and an integration
// test runs every query on a simulated day pushed through the whole pipeline,
// compares the results with golden files under testdata/, checks some of
// them against the simulator's ground truth, and replays every topic from
// offset 0 into the populated tables to show the answers do not change.
//
//	qs, err := cookbook.Queries()
//	// qs[0].SQL is the text to send; qs[0].Title and qs[0].Explanation document it
//
// A query file looks like this:
//
//	-- # Flights airborne now
//	--
//	-- Markdown explaining how to read the result and what keeps it exact.
//	-- volatile: column, column
//	SELECT ...
//
// A "-- volatile:" line names result columns that depend on when the pipeline
// ran (ingest or processing time); the golden comparison masks them and the
// document leaves the line out.
package cookbook

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed queries/*.sql
var files embed.FS

// Query is one question of the cookbook.
type Query struct {
	// Name is the file name without .sql, e.g. "01_airborne_now"; it also
	// names the golden file testdata/<Name>.golden.
	Name string
	// Title is the question, from the "-- # " line.
	Title string
	// Explanation is the Markdown of the leading comment after the title.
	Explanation string
	// Volatile lists result columns that depend on processing time.
	Volatile []string
	// SQL is the statement, without the leading comment and without a
	// trailing semicolon.
	SQL string
}

// Queries returns every query of the cookbook in file-name order.
func Queries() ([]Query, error) {
	names, err := fs.Glob(files, "queries/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]Query, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		q, err := Parse(strings.TrimSuffix(path.Base(n), ".sql"), string(b))
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// Parse reads one query file: a leading block of "--" lines (the "-- # "
// title first, then Markdown and an optional "-- volatile:" line) followed
// by the SQL.
func Parse(name, text string) (Query, error) {
	q := Query{Name: name}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	i := 0
	var doc []string
	for ; i < len(lines) && strings.HasPrefix(lines[i], "--"); i++ {
		l := strings.TrimPrefix(strings.TrimPrefix(lines[i], "--"), " ")
		switch {
		case i == 0:
			t, ok := strings.CutPrefix(l, "# ")
			if !ok {
				return q, fmt.Errorf("query %s: first line is %q, want \"-- # <question>\"", name, lines[i])
			}
			q.Title = strings.TrimSpace(t)
		case strings.HasPrefix(l, "volatile:"):
			for c := range strings.SplitSeq(strings.TrimPrefix(l, "volatile:"), ",") {
				if c = strings.TrimSpace(c); c != "" {
					q.Volatile = append(q.Volatile, c)
				}
			}
		default:
			doc = append(doc, l)
		}
	}
	if q.Title == "" {
		return q, fmt.Errorf("query %s: no \"-- # <question>\" title line", name)
	}
	q.Explanation = strings.TrimSpace(strings.Join(doc, "\n"))
	q.SQL = strings.TrimSuffix(strings.TrimSpace(strings.Join(lines[i:], "\n")), ";")
	if q.SQL == "" {
		return q, fmt.Errorf("query %s: no SQL after the leading comment", name)
	}
	return q, nil
}

// docIntro opens docs/sql.md.
const docIntro = `# SQL cookbook

Questions analysts ask of Contrail's ClickHouse tables, answered with plain SQL.
Every query runs on ClickHouse 18.16 (Debian's ` + "`clickhouse-server`" + `, no CTEs, no
` + "`DateTime64`" + `) and on current releases, with the Contrail database as the current
database:

    deploy/local/clickhouse client -d contrail --multiquery < sinks/clickhouse/cookbook/queries/01_airborne_now.sql

**Generated file.** Each section is rendered from its file under
` + "`sinks/clickhouse/cookbook/queries/`" + `; edit the file, then run
` + "`go test ./sinks/clickhouse/cookbook -run Doc -update`" + `. An integration test runs every
query on a simulated day pushed through Kafka, the processors and the sink, compares the
results with ` + "`sinks/clickhouse/cookbook/testdata/*.golden`" + `, checks some of them against
the simulator's ground truth, then replays every topic from offset 0 into the populated
tables with a new sink group and checks that every answer is unchanged.

## Reading the tables exactly

- **Deduplicate.** The base tables are ReplacingMergeTrees: a retried insert or a replay
  inserts rows again, and ClickHouse removes the copies only when it merges, some time
  later. Read ` + "`flights`" + `, ` + "`raw_events`" + `, ` + "`flight_events`" + `, ` + "`positions`" + `, ` + "`event_outcomes`" + `
  and ` + "`rejected`" + ` with ` + "`FINAL`" + ` (or count distinct ids) when exactness matters;
  ` + "`positions_valid`" + ` already does. ` + "`flights`" + ` keeps the newest state per GUFI by producer
  time; ` + "`argMax(x, producer_ts_ms)`" + ` over ` + "`flight_events`" + ` rebuilds any state as of any time.
- **Materialized views** see every inserted block, duplicates included. ` + "`movements_hourly`" + `
  (` + "`uniqExactMerge`" + `) and ` + "`airborne_minutely`" + ` (` + "`uniqMerge`" + `) keep sets, so they stay
  right on replay; ` + "`outcomes_hourly`" + ` sums counts and **over-counts after a replay**, so
  this cookbook counts ` + "`raw_events FINAL`" + ` and ` + "`event_outcomes`" + ` instead.
- **Outcomes.** ` + "`event_outcomes`" + ` holds only the verdicts that are not "applied" (stale,
  duplicate, invalid, ...): an accepted record is applied when it has no outcome row.
- **Time.** ` + "`producer_ts`" + ` is when the source produced the record (event time); ` + "`ingest_ts`" + `,
  ` + "`emitted_ts`" + ` and ` + "`processed_ts`" + ` are processing times. Group by producer time for questions
  about the traffic, by processing time for questions about the pipeline. On the legacy
  dialect timestamps have whole seconds; the ` + "`*_ms`" + ` columns keep the milliseconds.

## Questions
`

// Doc renders docs/sql.md from the queries.
func Doc(qs []Query) string {
	var b strings.Builder
	b.WriteString(docIntro)
	b.WriteString("\n")
	for i, q := range qs {
		fmt.Fprintf(&b, "%d. [%s](#%s)\n", i+1, q.Title, anchor(i+1, q.Title))
	}
	for i, q := range qs {
		fmt.Fprintf(&b, "\n## %d. %s\n\n", i+1, q.Title)
		if q.Explanation != "" {
			b.WriteString(q.Explanation)
			b.WriteString("\n\n")
		}
		b.WriteString("```sql\n")
		b.WriteString(q.SQL)
		b.WriteString("\n```\n\n")
		fmt.Fprintf(&b, "Source: [`%[1]s.sql`](../sinks/clickhouse/cookbook/queries/%[1]s.sql); "+
			"result on the simulated test day: [`%[1]s.golden`](../sinks/clickhouse/cookbook/testdata/%[1]s.golden).\n", q.Name)
	}
	return b.String()
}

// anchor is the GitHub heading anchor of "## n. title".
func anchor(n int, title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(fmt.Sprintf("%d. %s", n, title)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
