package cli_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIntegrationMovementsWhateverTheOrder processes one simulated day twice:
// plans before tracks, and tracks before plans (as after a backlog of
// surveillance). The movements, the types of the domain events and the
// flights' current state (GUFI values aside) must be the same; no departure
// may lack the aerodrome its plan names, and none may lack evidence.
func TestIntegrationMovementsWhateverTheOrder(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := contrail(t, "simulate", "--out", dir, "--flights", "6", "--seed", "5", "--duration", "3h"); code != 0 {
		t.Fatalf("simulate exited %d\n%s\n%s", code, out, errs)
	}
	plans, tracks := "adexp:"+filepath.Join(dir, "plans.adexp"), "sbs:"+filepath.Join(dir, "sbs.sbs")
	queries := map[string]string{
		"movements":   "SELECT aerodrome, toString(hour), direction, toString(uniqExactMerge(movements)) FROM {db}.movements_hourly GROUP BY aerodrome, hour, direction",
		"event types": "SELECT type, toString(count()) FROM {db}.flight_events FINAL WHERE type NOT IN ('POSITION_REPORTED') GROUP BY type",
		"flights": "SELECT callsign, icao24, adep, ades, lifecycle, squawk, toString(altitude_ft), toString(ground_speed_kt), toString(on_ground) " +
			"FROM {db}.flights FINAL",
		"departures without aerodrome": "SELECT e.gufi, '', '', '' FROM (SELECT gufi, adep FROM {db}.flight_events FINAL WHERE type = 'FLIGHT_DEPARTED') AS e " +
			"ALL INNER JOIN (SELECT gufi, adep AS plan_adep FROM {db}.flights FINAL WHERE adep != '') AS f USING gufi WHERE e.adep != plan_adep",
	}
	answers := map[string]map[string][]string{}
	for name, order := range map[string][]string{"plans first": {plans, tracks}, "tracks first": {tracks, plans}} {
		tt := newTarget(t)
		for _, in := range order {
			if code, out, errs := contrail(t, append([]string{"run"}, tt.args("--input", in, "--once")...)...); code != 0 {
				t.Fatalf("%s: contrail run --input %s exited %d\n%s\n%s", name, in, code, out, errs)
			}
		}
		conn := openCH(t, tt.ch, tt.name)
		answers[name] = map[string][]string{}
		for q, sql := range queries {
			answers[name][q] = dump(t, conn, strings.ReplaceAll(sql, "{db}", tt.name))
		}
		if got := answers[name]["departures without aerodrome"]; len(got) > 0 {
			t.Errorf("%s: %d departures name another aerodrome than their plan: %v", name, len(got), got)
		}
		if len(answers[name]["movements"]) == 0 {
			t.Errorf("%s: no movements: the comparison cannot fail", name)
		}
		t.Logf("%s: movements %v; events %v", name, answers[name]["movements"], answers[name]["event types"])
	}
	for q := range queries {
		if a, b := answers["plans first"][q], answers["tracks first"][q]; !slices.Equal(a, b) {
			diffHistory(t, "tracks first vs plans first: "+q, b, a)
		}
	}
}
