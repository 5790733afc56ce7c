package infratest

import (
	"testing"

	"github.com/contrail-atm/contrail/ingest/sbs"
)

func TestSBSLinesAreValidSBS(t *testing.T) {
	lines := SBSLines(40)
	if len(lines) != 40 {
		t.Fatalf("got %d lines, want 40", len(lines))
	}
	for i, l := range lines {
		m, err := sbs.Parser{}.Parse([]byte(l))
		if err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if m.Generated.IsZero() {
			t.Fatalf("line %d has no generated timestamp", i)
		}
	}
}
