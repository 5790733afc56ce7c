package cookbook_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/sinks/clickhouse/cookbook"
)

var update = flag.Bool("update", false, "rewrite docs/sql.md and the golden files under testdata/ from the current output")

// docPath is docs/sql.md, relative to this package.
var docPath = filepath.Join("..", "..", "..", "docs", "sql.md")

// TestCookbookDoc fails when docs/sql.md is not exactly what the query files
// render to, so the document's SQL cannot drift from the SQL that is tested.
func TestCookbookDoc(t *testing.T) {
	qs, err := cookbook.Queries()
	if err != nil {
		t.Fatal(err)
	}
	want := cookbook.Doc(qs)
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run `go test ./sinks/clickhouse/cookbook -run Doc -update`)", err)
	}
	if string(got) != want {
		t.Fatalf("%s differs from the query files; run `go test ./sinks/clickhouse/cookbook -run Doc -update`\n%s",
			docPath, firstDiff(string(got), want))
	}
	for _, q := range qs {
		if !strings.Contains(string(got), "```sql\n"+q.SQL+"\n```") {
			t.Errorf("%s does not hold the SQL of %s.sql verbatim", docPath, q.Name)
		}
	}
}

// TestCookbookQueries checks the files' shape: numbered names, a title, an
// explanation, one statement each, and a golden file per query.
func TestCookbookQueries(t *testing.T) {
	qs, err := cookbook.Queries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 10 {
		t.Fatalf("%d queries, the cookbook promises at least 10", len(qs))
	}
	for _, q := range qs {
		t.Run(q.Name, func(t *testing.T) {
			if q.Title == "" || q.Explanation == "" {
				t.Errorf("title %q, explanation %q: both are required", q.Title, q.Explanation)
			}
			if strings.Contains(q.SQL, ";") {
				t.Errorf("more than one statement, or a semicolon: the driver sends one statement")
			}
			if !strings.Contains(q.SQL, "ORDER BY") {
				t.Errorf("no ORDER BY: the result order would not be deterministic")
			}
			if _, err := os.Stat(filepath.Join("testdata", q.Name+".golden")); err != nil {
				t.Errorf("no golden result: %v (run the integration test with -update)", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	q, err := cookbook.Parse("x", "-- # Title\n--\n-- Some *words*.\n--\n--     indented code\n-- volatile: a, b\nSELECT 1\nORDER BY 1;\n")
	if err != nil {
		t.Fatal(err)
	}
	if q.Title != "Title" || q.Explanation != "Some *words*.\n\n    indented code" || q.SQL != "SELECT 1\nORDER BY 1" ||
		strings.Join(q.Volatile, "|") != "a|b" {
		t.Fatalf("parsed %+v", q)
	}
	if _, err := cookbook.Parse("x", "SELECT 1"); err == nil {
		t.Error("a file without a title parsed")
	}
	if _, err := cookbook.Parse("x", "-- # T\n"); err == nil {
		t.Error("a file without SQL parsed")
	}
}

// firstDiff shows where two texts first differ, with a little context.
func firstDiff(got, want string) string {
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
			return fmt.Sprintf("line %d:\n have: %s\n want: %s", i+1, gl, wl)
		}
	}
	return ""
}
