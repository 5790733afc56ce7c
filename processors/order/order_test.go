package order_test

import (
	"slices"
	"testing"

	"github.com/contrail-atm/contrail/processors/order"
)

func TestStampOrder(t *testing.T) {
	a := order.Stamp{TS: 10, EventID: "b"}
	for _, tc := range []struct {
		x, y  order.Stamp
		after bool
		cmp   int
	}{
		{a, order.Stamp{TS: 9, EventID: "z"}, true, 1},    // newer wins whatever the id
		{a, order.Stamp{TS: 11, EventID: "a"}, false, -1}, // older loses
		{a, order.Stamp{TS: 10, EventID: "a"}, true, 1},   // a tie goes to the greater id
		{a, order.Stamp{TS: 10, EventID: "c"}, false, -1},
		{a, a, false, 0}, // the same evidence is not after itself
	} {
		if got := tc.x.After(tc.y); got != tc.after {
			t.Errorf("%v.After(%v) = %v, want %v", tc.x, tc.y, got, tc.after)
		}
		if got := tc.x.Compare(tc.y); got != tc.cmp {
			t.Errorf("%v.Compare(%v) = %d, want %d", tc.x, tc.y, got, tc.cmp)
		}
	}
	// Sorting any permutation gives one order.
	s := []order.Stamp{{TS: 2, EventID: "x"}, {TS: 1, EventID: "y"}, {TS: 2, EventID: "a"}, {}}
	slices.SortFunc(s, order.Stamp.Compare)
	want := []order.Stamp{{}, {TS: 1, EventID: "y"}, {TS: 2, EventID: "a"}, {TS: 2, EventID: "x"}}
	if !slices.Equal(s, want) {
		t.Errorf("sorted %v, want %v", s, want)
	}
	if !(order.Stamp{}).IsZero() || a.IsZero() {
		t.Error("IsZero is wrong")
	}
}
