package cookbook_test

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/simulate"
)

// knownBugs are truth checks that fail because of pipeline defects found
// while writing the cookbook. They are reported and skipped, so the goldens
// (which record what the pipeline does today) stay usable; with
// CONTRAIL_COOKBOOK_STRICT=1 they fail. Remove an entry when its bug is
// fixed (the check then logs that it passes).
var knownBugs = map[string]string{}

// table is a query result: the header and the rows, split on tabs.
type table struct {
	cols []string
	rows [][]string
}

func parseTSV(s string) table {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	tb := table{cols: strings.Split(lines[0], "\t")}
	for _, l := range lines[1:] {
		tb.rows = append(tb.rows, strings.Split(l, "\t"))
	}
	return tb
}

func (tb table) col(row []string, name string) string {
	return row[slices.Index(tb.cols, name)]
}

// checkTruth compares cookbook answers with the simulator's ground truth, so
// the goldens are not merely self-consistent.
func checkTruth(t *testing.T, truth simulate.Truth, results map[string]string) {
	res := func(name string) table { return parseTSV(results[name]) }
	sec := func(ts time.Time) string { return ts.UTC().Truncate(time.Second).Format(time.DateTime) }
	hour := func(ts time.Time) string { return ts.UTC().Truncate(time.Hour).Format(time.DateTime) }
	check := func(name string, got, want any) {
		t.Run(name, func(t *testing.T) {
			g, w := fmt.Sprint(got), fmt.Sprint(want)
			bug, known := knownBugs[name]
			switch {
			case g == w && known:
				t.Logf("passes now: remove %q from knownBugs", name)
			case g == w:
			case known && os.Getenv("CONTRAIL_COOKBOOK_STRICT") != "1":
				t.Skipf("KNOWN PIPELINE BUG (%s)\n got: %s\nwant: %s", bug, g, w)
			default:
				t.Errorf("the pipeline disagrees with truth.json\n got: %s\nwant: %s", g, w)
			}
		})
	}

	// Records per feed, rejects and accepted.
	rj := res("05_rejects_per_feed")
	rejects := map[string]int{}
	records := map[string]string{}
	for _, r := range rj.rows {
		var n int
		fmt.Sscan(rj.col(r, "rejects"), &n)
		rejects[rj.col(r, "feed")] += n
		records[rj.col(r, "feed")] = rj.col(r, "records")
	}
	check("rejects", rejects, map[string]int{"sbs": truth.Counts.SBS.Garbage})
	check("records", records, map[string]string{"sbs": fmt.Sprint(truth.Counts.SBS.Records)})
	st := res("04_stale_rate_per_feed_hour")
	accepted := map[string]int{}
	for _, r := range st.rows {
		var n int
		fmt.Sscan(st.col(r, "accepted"), &n)
		accepted[st.col(r, "feed")] += n
	}
	check("accepted", accepted, map[string]int{
		"sbs":   truth.Counts.SBS.Valid + truth.Counts.SBS.Duplicate,
		"adexp": truth.Counts.ADEXP.Valid + truth.Counts.ADEXP.Duplicate,
	})

	// Planned flights, first plan, first position, emergencies, arrivals.
	var planned, firstSeen, emergencies, departures, arrivals []string
	airborne := map[string]map[string]bool{}
	positions := 0
	var newest time.Time
	for _, f := range truth.Flights {
		planned = append(planned, f.ARCID+" "+sec(f.Messages[0].Time))
		if len(f.Positions) > 0 {
			firstSeen = append(firstSeen, f.ARCID+" "+sec(f.Positions[0].Time))
			departures = append(departures, f.ADEP+" "+hour(f.Takeoff))
		} else {
			firstSeen = append(firstSeen, f.ARCID+` \N`)
		}
		positions += len(f.Positions)
		for _, p := range f.Positions {
			h := hour(p.Time)
			if airborne[h] == nil {
				airborne[h] = map[string]bool{}
			}
			airborne[h][f.ID] = true
			if p.Time.After(newest) {
				newest = p.Time
			}
		}
		for _, e := range f.Events {
			switch e.Type {
			case simulate.EventEmergency:
				emergencies = append(emergencies, f.ARCID+" "+f.ADEP+" "+f.ADES+" "+sec(e.Time))
			case simulate.EventArrivalMessaged:
				arrivals = append(arrivals, f.ADES+" "+hour(e.Time))
			}
		}
	}
	pf := res("06_plan_to_first_position")
	var gotPlanned, gotSeen []string
	for _, r := range pf.rows {
		gotPlanned = append(gotPlanned, pf.col(r, "callsign")+" "+pf.col(r, "first_plan"))
		gotSeen = append(gotSeen, pf.col(r, "callsign")+" "+pf.col(r, "first_seen"))
	}
	check("planned flights", sorted(gotPlanned), sorted(planned))
	check("first position", sorted(gotSeen), sorted(firstSeen))

	// The simulator starts an episode up to a few seconds before the first
	// record carrying 7700 (MSG,6 every 10 s during one), so a declaration
	// within 10 s after the truth counts as the truth's.
	em := res("07_emergencies")
	var gotEm []string
	for _, r := range em.rows {
		declared := em.col(r, "declared")
		at, err := time.Parse(time.DateTime, declared)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range emergencies {
			if tt, _ := time.Parse(time.DateTime, e[len(e)-len(time.DateTime):]); !at.Before(tt) && at.Sub(tt) <= 10*time.Second {
				declared = sec(tt)
			}
		}
		gotEm = append(gotEm, strings.Join([]string{em.col(r, "callsign"), em.col(r, "adep"), em.col(r, "ades"), declared}, " "))
	}
	check("emergencies", sorted(gotEm), sorted(emergencies))

	mv := res("03_movements_per_aerodrome_hour")
	var gotDep, gotArr []string
	for _, r := range mv.rows {
		var n int
		fmt.Sscan(mv.col(r, "movements"), &n)
		for range n {
			s := mv.col(r, "aerodrome") + " " + mv.col(r, "hour")
			if mv.col(r, "direction") == "departure" {
				gotDep = append(gotDep, s)
			} else {
				gotArr = append(gotArr, s)
			}
		}
	}
	check("departures", sorted(gotDep), sorted(departures))
	check("arrivals", sorted(gotArr), sorted(arrivals))

	check("flights without plan", len(res("08_flights_without_plan").rows), 0)

	// Every simulated position is in the history once: late, duplicated
	// and disordered deliveries included.
	sp := res("_positions")
	check("positions", sp.col(sp.rows[0], "positions"), fmt.Sprint(positions))

	an := res("01_airborne_now")
	var gotNow, wantNow []string
	for _, r := range an.rows {
		gotNow = append(gotNow, an.col(r, "callsign"))
	}
	for _, f := range truth.Flights {
		if n := len(f.Positions); n > 0 && f.Positions[n-1].Time.After(newest.Add(-5*time.Minute)) {
			wantNow = append(wantNow, f.ARCID)
		}
	}
	check("airborne now", sorted(gotNow), sorted(wantNow))

	bh := res("13_busiest_hours")
	var gotBusy []string
	for _, r := range bh.rows {
		gotBusy = append(gotBusy, bh.col(r, "hour")+" "+bh.col(r, "flights_airborne"))
	}
	hours := slices.Sorted(maps.Keys(airborne))
	slices.SortStableFunc(hours, func(a, b string) int { return len(airborne[b]) - len(airborne[a]) })
	var wantBusy []string
	for _, h := range hours[:min(3, len(hours))] {
		wantBusy = append(wantBusy, fmt.Sprintf("%s %d", h, len(airborne[h])))
	}
	check("busiest hours", gotBusy, wantBusy)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
