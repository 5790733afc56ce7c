package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIntegrationConflictAlertOnBothFlights: a conflict alert naming two
// flights is raised on both, in flight_events and in `contrail state`, each
// naming the other's GUFI, although the two callsigns are owned by different
// keys of the flight step.
func TestIntegrationConflictAlertOnBothFlights(t *testing.T) {
	dir := t.TempDir()
	plans := filepath.Join(dir, "plans.adexp")
	alerts := filepath.Join(dir, "alerts.json")
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(plans, "-TITLE IFPL -ARCID DLH5KF -IFPLID AA00000001 -ADEP EDDM -ADES EDDH -ARCTYP A320 -EOBD 260101 -EOBT 0700 -RFL F350\n"+
		"-TITLE IFPL -ARCID AFR1234 -IFPLID AA00000002 -ADEP LFPG -ADES EDDM -ARCTYP A321 -EOBD 260101 -EOBT 0650 -RFL F360\n")
	write(alerts, `{"type":"conflict_alert","ts":"2026-01-01T07:30:00Z","id":"stca-4711","flights":[{"callsign":"DLH5KF"},{"callsign":"AFR1234"}],"severity":"warning","min_separation_nm":2.1}`+"\n")
	tt := newTarget(t)
	// Plans first, so both flights exist when the alert arrives.
	for _, in := range []string{"adexp:" + plans, "json:" + alerts} {
		if code, out, errs := contrail(t, append([]string{"run"}, tt.args("--input", in, "--once")...)...); code != 0 {
			t.Fatalf("contrail run --input %s exited %d\n%s\n%s", in, code, out, errs)
		}
	}
	conn := openCH(t, tt.ch, tt.name)
	rows, err := conn.Query(context.Background(), "SELECT gufi, other_gufi, detail FROM "+tt.name+".flight_events FINAL WHERE type = 'ALERT_RAISED' ORDER BY gufi")
	if err != nil {
		t.Fatal(err)
	}
	other := map[string]string{}
	detail := map[string]string{}
	for rows.Next() {
		var g, o, d string
		if err := rows.Scan(&g, &o, &d); err != nil {
			t.Fatal(err)
		}
		other[g], detail[g] = o, d
	}
	rows.Close()
	if len(other) != 2 {
		t.Fatalf("ALERT_RAISED on %d flights (%v), want 2", len(other), other)
	}
	for g, o := range other {
		if o == "" || other[o] != g {
			t.Errorf("alert on %s names %q; want the other flight, which names it back (%v)", g, o, other)
		}
		want := "AFR1234"
		if strings.HasPrefix(g, "AFR1234") {
			want = "DLH5KF"
		}
		if !strings.Contains(detail[g], "conflict with "+want) {
			t.Errorf("alert on %s says %q, want it to name %s", g, detail[g], want)
		}
	}
	for g := range other {
		code, out, errs := contrail(t, "state", "--brokers", strings.Join(tt.brokers, ","), "--topic-prefix", tt.name, "--gufi", g, "--json")
		if code != 0 {
			t.Fatalf("state --gufi %s exited %d\n%s\n%s", g, code, out, errs)
		}
		var st struct {
			Alerts int `json:"alerts"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("state --json: %v\n%s", err, out)
		}
		if st.Alerts != 1 {
			t.Errorf("contrail state --gufi %s: %d alerts, want 1", g, st.Alerts)
		}
	}
}
