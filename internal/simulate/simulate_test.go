package simulate_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/ingest/adexp"
	"github.com/contrail-atm/contrail/ingest/ats"
	"github.com/contrail-atm/contrail/ingest/sbs"
	"github.com/contrail-atm/contrail/internal/simulate"
)

func TestConfigValidate(t *testing.T) {
	ok := simulate.DefaultConfig()
	tests := []struct {
		name   string
		change func(*simulate.Config)
		want   string // "" = valid
	}{
		{"default", func(*simulate.Config) {}, ""},
		{"all perturbations", func(c *simulate.Config) { c.Disorder, c.Duplicates, c.Late, c.Garbage = 0.5, 1, 0.5, 1 }, ""},
		{"no flights", func(c *simulate.Config) { c.Flights = 0 }, "flights is 0"},
		{"too many flights", func(c *simulate.Config) { c.Flights = simulate.MaxFlights + 1 }, "flights is 2001"},
		{"no start", func(c *simulate.Config) { c.Start = time.Time{} }, "start is not set"},
		{"start year out of range", func(c *simulate.Config) { c.Start = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }, "year from 2001"},
		{"zero duration", func(c *simulate.Config) { c.Duration = 0 }, "duration is 0s"},
		{"duration too long", func(c *simulate.Config) { c.Duration = 8 * 24 * time.Hour }, "at most"},
		{"plan format", func(c *simulate.Config) { c.PlanFormat = "xml" }, `plan format is "xml"`},
		{"empty plan format", func(c *simulate.Config) { c.PlanFormat = "" }, "want adexp, ats or both"},
		{"negative disorder", func(c *simulate.Config) { c.Disorder = -0.1 }, "disorder is -0.1"},
		{"duplicates above 1", func(c *simulate.Config) { c.Duplicates = 1.5 }, "duplicates is 1.5"},
		{"late NaN", func(c *simulate.Config) { c.Late = math.NaN() }, "late is NaN"},
		{"garbage above 1", func(c *simulate.Config) { c.Garbage = 2 }, "garbage is 2"},
		{"disorder plus late above 1", func(c *simulate.Config) { c.Disorder, c.Late = 0.6, 0.6 }, "disorder (0.6) + late (0.6)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, simulate.ErrInvalidConfig) {
				t.Fatalf("Validate: %v, want ErrInvalidConfig containing %q", err, tt.want)
			}
			if _, gerr := simulate.Generate(c); gerr == nil {
				t.Fatal("Generate accepted an invalid config")
			}
		})
	}
}

func messy(seed int64) simulate.Config {
	c := simulate.DefaultConfig()
	c.Seed, c.Flights, c.Duration = seed, 30, 8*time.Hour
	c.Disorder, c.Duplicates, c.Late, c.Garbage = 0.05, 0.02, 0.01, 0.02
	return c
}

func generate(t testing.TB, c simulate.Config) *simulate.Output {
	t.Helper()
	out, err := simulate.Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParsersAcceptValidRejectGarbage is the contract with the ingest
// parsers: every valid or duplicate record is accepted, every garbage
// record rejected.
func TestParsersAcceptValidRejectGarbage(t *testing.T) {
	c := messy(7)
	c.Duplicates, c.Garbage = 0.1, 0.1 // enough of each in the few plan messages
	out := generate(t, c)
	var sp sbs.Parser
	feeds := []struct {
		name  string
		recs  []simulate.Record
		check func([]byte) error
	}{
		{"sbs", out.SBS, func(b []byte) error { _, err := sp.Parse(b); return err }},
		{"adexp", out.ADEXP, func(b []byte) error { _, _, err := adexp.Parser{}.Check(b); return err }},
		{"ats", out.ATS, func(b []byte) error { _, _, err := ats.Parser{KnownTypesOnly: true}.Check(b); return err }},
	}
	for _, f := range feeds {
		t.Run(f.name, func(t *testing.T) {
			kinds := map[simulate.Kind]int{}
			for i, r := range f.recs {
				kinds[r.Kind]++
				err := f.check([]byte(r.Raw))
				if r.Kind == simulate.Garbage && err == nil {
					t.Errorf("record %d: garbage %q accepted", i, r.Raw)
				}
				if r.Kind != simulate.Garbage && err != nil {
					t.Errorf("record %d: %s %q rejected: %v", i, r.Kind, r.Raw, err)
				}
			}
			if kinds[simulate.Valid] == 0 || kinds[simulate.Duplicate] == 0 || kinds[simulate.Garbage] == 0 {
				t.Errorf("kinds %v: want some of each", kinds)
			}
		})
	}
}

func TestKeysAndTimes(t *testing.T) {
	out := generate(t, messy(3))
	for _, f := range out.Truth.Flights {
		ifpl, fpl := f.Messages[0], f.Messages[0]
		key, ts, err := adexp.Parser{}.Check([]byte(ifpl.ADEXP))
		if err != nil || key != f.Key || !ts.Equal(ifpl.Time) {
			t.Errorf("%s IFPL: key %q ts %v err %v, want %q %v", f.ID, key, ts, err, f.Key, ifpl.Time)
		}
		if key, _, err := (ats.Parser{}).Check([]byte(fpl.ATS)); err != nil || key != f.Key {
			t.Errorf("%s FPL: key %q err %v, want %q", f.ID, key, err, f.Key)
		}
		for i := 1; i < len(f.Positions); i++ {
			if !f.Positions[i].Time.After(f.Positions[i-1].Time) {
				t.Fatalf("%s positions out of order at %d", f.ID, i)
			}
		}
		if !f.Cancelled && (len(f.Positions) < 600 || f.Positions[len(f.Positions)-1].Time != f.Landing) {
			t.Errorf("%s: %d positions, landing %v", f.ID, len(f.Positions), f.Landing)
		}
		if !f.Cancelled && !f.Messages[0].Time.Before(f.Takeoff) {
			t.Errorf("%s: plan filed %v, not before takeoff %v", f.ID, f.Messages[0].Time, f.Takeoff)
		}
	}
	// Every valid SBS line's generated time is its record's producer time.
	var p sbs.Parser
	for _, r := range out.SBS {
		if r.Kind == simulate.Garbage {
			continue
		}
		m, _ := p.Parse([]byte(r.Raw))
		if !m.Generated.Equal(r.Produced) {
			t.Fatalf("%q: generated %v, record says %v", r.Raw, m.Generated, r.Produced)
		}
	}
}

// TestScenarios checks the simulated day has what later tests need.
func TestScenarios(t *testing.T) {
	c := simulate.DefaultConfig()
	c.Flights = 200
	out := generate(t, c)
	events := map[string]int{}
	titles := map[string]int{}
	legs := 0
	for _, f := range out.Truth.Flights {
		for _, e := range f.Events {
			events[e.Type]++
		}
		for _, m := range f.Messages {
			titles[m.Title]++
		}
		if f.Leg == 2 {
			legs++
		}
	}
	for _, e := range []string{simulate.EventFiled, simulate.EventChanged, simulate.EventDelayed, simulate.EventCancelled,
		simulate.EventDeparted, simulate.EventEmergency, simulate.EventArrived} {
		if events[e] == 0 {
			t.Errorf("no %s event in 200 flights: %v", e, events)
		}
	}
	for _, m := range []string{"IFPL", "CHG", "DLA", "CNL", "ARR"} {
		if titles[m] == 0 {
			t.Errorf("no %s message: %v", m, titles)
		}
	}
	if legs == 0 {
		t.Error("no second legs")
	}
	if n := out.Truth.Counts.SBS; n.Garbage+n.Duplicate+n.Late+n.Disordered != 0 || n.Records != n.Valid {
		t.Errorf("clean config perturbed: %+v", n)
	}
	if len(out.Truth.Flights) != c.Flights+legs {
		t.Errorf("%d flights in truth, want %d + %d legs", len(out.Truth.Flights), c.Flights, legs)
	}
}

func TestPerturbationBounds(t *testing.T) {
	out := generate(t, messy(11))
	c := out.Truth.Counts.SBS
	if c.Records != c.Valid+c.Duplicate+c.Garbage || c.Disordered == 0 || c.Late == 0 {
		t.Fatalf("counts %+v", c)
	}
	for i, r := range out.SBS {
		if i > 0 && r.Delivered.Before(out.SBS[i-1].Delivered) {
			t.Fatalf("record %d delivered before its predecessor", i)
		}
		if r.Kind == simulate.Garbage {
			continue
		}
		d := r.Delivered.Sub(r.Produced)
		switch {
		case r.Late && (d < simulate.LateMin || d > simulate.LateMax):
			t.Fatalf("late record %d delayed %v", i, d)
		case !r.Late && (d < 0 || d > simulate.DisorderWindow):
			t.Fatalf("record %d delayed %v, more than the disorder window", i, d)
		}
	}
}

func TestDeterministic(t *testing.T) {
	enc := func(c simulate.Config) []byte {
		out := generate(t, c)
		var b bytes.Buffer
		if err := simulate.WriteSBS(&b, out.SBS); err != nil {
			t.Fatal(err)
		}
		simulate.WritePlans(&b, out.ADEXP)
		simulate.WritePlans(&b, out.ATS)
		simulate.WriteTruth(&b, &out.Truth)
		return b.Bytes()
	}
	a, b := enc(messy(5)), enc(messy(5))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	if bytes.Equal(a, enc(messy(6))) {
		t.Fatal("different seeds, same output")
	}
	// The flights do not depend on the perturbation rates.
	clean := messy(5)
	clean.Disorder, clean.Duplicates, clean.Late, clean.Garbage = 0, 0, 0, 0
	x, y := generate(t, clean), generate(t, messy(5))
	var tx, ty bytes.Buffer
	x.Truth.Counts, y.Truth.Counts = simulate.Counts{}, simulate.Counts{}
	simulate.WriteTruth(&tx, &x.Truth)
	simulate.WriteTruth(&ty, &y.Truth)
	if !bytes.Equal(tx.Bytes(), ty.Bytes()) {
		t.Fatal("perturbation rates changed the flights")
	}
}

func BenchmarkGenerate(b *testing.B) {
	c := messy(1)
	c.Flights = 10
	var lines int
	for b.Loop() {
		out, err := simulate.Generate(c)
		if err != nil {
			b.Fatal(err)
		}
		lines = len(out.SBS)
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "sbs-lines/s")
}
