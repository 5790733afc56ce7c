package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/schemas"
)

// sampleVerdicts computes, straight from the raw SBS file and the rule of
// ARCHITECTURE.md §1 (per aircraft and per aspect, a strictly newer producer
// timestamp applies, an older or equal one is stale, equal timestamps broken
// by event id), what the track step should make of each line, without the
// step's code: "applied" when the line wins an aspect or adds a position to
// the history, "buffered" when its position waits for the callsign,
// "stale" when every aspect it carries already holds newer evidence,
// "discarded" when it carries nothing the step uses. Positions are never
// stale: the history keeps late ones. It returns the verdict per event id
// and the aircraft per event id.
func sampleVerdicts(t *testing.T, path string, lines []string) (verdict, aircraft map[string]string) {
	t.Helper()
	type stamp struct {
		ts time.Time
		id string
	}
	after := func(a, b stamp) bool {
		if !a.ts.Equal(b.ts) {
			return a.ts.After(b.ts)
		}
		return a.id > b.id
	}
	type state struct {
		latest   map[string]stamp
		callsign bool
	}
	states := map[string]*state{}
	verdict, aircraft = map[string]string{}, map[string]string{}
	for i, line := range lines {
		// Ingest names a file's record by base name and line, so the same
		// capture gets the same event ids wherever it is read from.
		id := schemas.EventID("sbs", fmt.Sprintf("file:%s:%d", filepath.Base(path), i+1), []byte(line))
		f := strings.Split(line, ",")
		if len(f) < 22 {
			continue // rejected at ingest
		}
		icao := strings.ToUpper(f[4])
		aircraft[id] = icao
		if f[0] != "MSG" {
			verdict[id] = schemas.OutcomeDiscarded
			continue
		}
		ts, err := time.Parse("2006/01/02 15:04:05.000", f[6]+" "+f[7])
		if err != nil {
			continue // rejected at ingest (the parser checks the same)
		}
		s := states[icao]
		if s == nil {
			s = &state{latest: map[string]stamp{}}
			states[icao] = s
		}
		at := stamp{ts, id}
		var aspects []string
		if strings.TrimSpace(f[10]) != "" {
			aspects = append(aspects, "identity")
		}
		if f[11] != "" {
			aspects = append(aspects, "altitude")
		}
		if f[12] != "" || f[13] != "" || f[16] != "" {
			aspects = append(aspects, "velocity")
		}
		if f[17] != "" {
			aspects = append(aspects, "squawk")
		}
		if f[21] != "" {
			aspects = append(aspects, "ground")
		}
		position := f[14] != "" && f[15] != ""
		won := false
		for _, a := range aspects {
			if after(at, s.latest[a]) {
				s.latest[a] = at
				won = true
				if a == "identity" {
					s.callsign = true
				}
			}
		}
		switch {
		case won || (position && s.callsign):
			verdict[id] = schemas.OutcomeApplied
		case position:
			verdict[id] = schemas.OutcomeBuffered
		case len(aspects) > 0:
			verdict[id] = schemas.OutcomeStale
		default:
			verdict[id] = schemas.OutcomeDiscarded
		}
	}
	return verdict, aircraft
}

// TestIntegrationSampleOutcomesPerAircraft runs the real SBS sample through
// the pipeline and compares, per aircraft, how many of its lines the track
// step applied, found stale, buffered, or took as duplicates with
// sampleVerdicts' independent count from the raw file. Positions the step
// judged implausible (an implied speed above Mach 3) are outside the simple
// rule and are listed, not compared.
func TestIntegrationSampleOutcomesPerAircraft(t *testing.T) {
	sample := infratest.SharedData(t, "sbs/coniferconifer-20220108-part1.sbs")
	tt := newTarget(t)
	if code, stdout, stderr := contrail(t, append([]string{"run"}, tt.args("--input", "sbs:"+sample, "--once")...)...); code != 0 {
		t.Fatalf("contrail run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := fileLines(t, sample)
	want, aircraft := sampleVerdicts(t, sample, lines)

	conn := openCH(t, tt.ch, tt.name)
	ctx := context.Background()
	got := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT event_id FROM "+tt.name+".raw_events FINAL WHERE feed = 'sbs' AND outcome = 'accepted'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got[id] = schemas.OutcomeApplied // no outcome row: applied
	}
	rows.Close()
	implausible := map[string]bool{}
	rows, err = conn.Query(ctx, "SELECT event_id, outcome, reason FROM "+tt.name+".event_outcomes FINAL WHERE step = 'track'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, outcome, reason string
		if err := rows.Scan(&id, &outcome, &reason); err != nil {
			t.Fatal(err)
		}
		got[id] = outcome
		if reason == "track.implied_speed" {
			implausible[id] = true
		}
	}
	rows.Close()
	if len(got) != len(want) {
		t.Errorf("the pipeline judged %d lines, the independent count %d", len(got), len(want))
	}

	type counts map[string]int
	per := func(v map[string]string) map[string]counts {
		out := map[string]counts{}
		for id, o := range v {
			if implausible[id] {
				continue
			}
			a := aircraft[id]
			if out[a] == nil {
				out[a] = counts{}
			}
			out[a][o]++
		}
		return out
	}
	g, w := per(got), per(want)
	differ := 0
	for a, wc := range w {
		for _, o := range []string{schemas.OutcomeApplied, schemas.OutcomeStale, schemas.OutcomeBuffered, schemas.OutcomeDuplicate, schemas.OutcomeDiscarded} {
			if g[a][o] != wc[o] {
				differ++
				if differ <= 10 {
					t.Errorf("aircraft %s: %d %s, the independent count says %d", a, g[a][o], o, wc[o])
				}
			}
		}
	}
	totals := counts{}
	for _, c := range g {
		for o, n := range c {
			totals[o] += n
		}
	}
	t.Logf("%d aircraft, %d lines: %v; %d positions judged implausible (not compared)", len(w), len(got), totals, len(implausible))
	if totals[schemas.OutcomeApplied] == 0 {
		t.Error("nothing applied: the comparison cannot fail")
	}
}
