package clickhouse

import (
	"regexp"
	"strings"
	"testing"
)

// TestInsertColumnsMatchDDL checks that every INSERT column list names
// exactly the columns of its table, in DDL order, so an INSERT never relies
// on a column default and a new column cannot be forgotten.
func TestInsertColumnsMatchDDL(t *testing.T) {
	colRE := regexp.MustCompile(`(?m)^    ([a-z_0-9]+) `)
	ddl := map[string]string{}
	for _, m := range Migrations {
		for _, s := range m.Statements {
			if g := createdRE.FindStringSubmatch(s); g != nil {
				ddl[g[1]] = s
			}
		}
	}
	for _, tb := range newTables() {
		t.Run(tb.name, func(t *testing.T) {
			s, ok := ddl[tb.name]
			if !ok {
				t.Fatalf("no migration creates %s", tb.name)
			}
			var want []string
			for _, g := range colRE.FindAllStringSubmatch(s[:strings.Index(s, ") ENGINE")], -1) {
				want = append(want, g[1])
			}
			if got := strings.Join(want, ", "); got != tb.columns {
				t.Errorf("INSERT columns of %s:\n got %s\nwant %s", tb.name, tb.columns, got)
			}
		})
	}
}

func TestTopicsValidate(t *testing.T) {
	tests := []struct {
		name    string
		topics  Topics
		wantErr bool
	}{
		{"none", Topics{}, false},
		{"all distinct", Topics{Events: "e", State: "s", Outcomes: "o"}, false},
		{"events is the rejected topic", Topics{Events: "r"}, true},
		{"state twice", Topics{State: "s", Outcomes: "s"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.topics.validate("r"); (err != nil) != tt.wantErr {
				t.Errorf("validate = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
