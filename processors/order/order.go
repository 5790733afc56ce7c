// Package order is the ordering rule both processor steps apply to
// evidence (ARCHITECTURE.md §1): the producer's timestamp first, the event
// id second. Breaking ties by event id makes the winner of a set of
// updates the same whatever order they arrive in.
package order

import (
	"strings"
	"time"
)

// Stamp orders one piece of evidence.
type Stamp struct {
	TS      int64 // producer timestamp, Unix nanoseconds
	EventID string
}

// After reports whether s orders strictly after o.
func (s Stamp) After(o Stamp) bool {
	if s.TS != o.TS {
		return s.TS > o.TS
	}
	return s.EventID > o.EventID
}

// Compare orders stamps for slices.SortFunc and binary search.
func (s Stamp) Compare(o Stamp) int {
	switch {
	case s.TS < o.TS:
		return -1
	case s.TS > o.TS:
		return 1
	}
	return strings.Compare(s.EventID, o.EventID)
}

// Time is the producer timestamp as a UTC time.
func (s Stamp) Time() time.Time { return time.Unix(0, s.TS).UTC() }

// IsZero reports whether s is the zero stamp ("never set").
func (s Stamp) IsZero() bool { return s == Stamp{} }
