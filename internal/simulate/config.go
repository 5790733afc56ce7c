// Package simulate generates deterministic synthetic air traffic for tests,
// demos and benchmarks: SBS-1 surveillance lines, ADEXP and ICAO ATS flight
// plans for the same flights, with configurable disorder, duplicates, late
// arrivals and garbage, plus the ground truth the pipeline should derive
// from them. It is pure: no Kafka, no files, no clock; the same Config gives
// byte-identical output.
//
//	out, err := simulate.Generate(simulate.Config{Seed: 1, Flights: 10,
//		Start: time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC), Duration: 6 * time.Hour, PlanFormat: "both"})
//	// out.SBS, out.ADEXP, out.ATS: records in delivery order; out.Truth: flights, plans, positions, events
package simulate

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Plan formats of Config.PlanFormat.
const (
	PlanADEXP = "adexp"
	PlanATS   = "ats"
	PlanBoth  = "both"
)

// Limits enforced by Config.Validate.
const (
	MaxFlights  = 2000 // everything is held in memory: about 3.5 MB per flight
	MaxDuration = 7 * 24 * time.Hour
)

// Config says what to simulate. The zero value is not valid: Flights, Start,
// Duration and PlanFormat must be set (DefaultConfig gives working values).
type Config struct {
	// Seed makes the output reproducible: the same Config gives the same bytes.
	Seed int64
	// Flights is the number of planned first legs (1 to MaxFlights). Some
	// flights add a second leg with the same callsign later in the day, so
	// the truth may hold more flights than this.
	Flights int
	// Start is the earliest estimated off-block time; plans are filed up to
	// three hours earlier. It is used in UTC.
	Start time.Time
	// Duration is the window after Start in which first legs go off blocks
	// (more than zero, at most MaxDuration).
	Duration time.Duration
	// PlanFormat is "adexp", "ats" or "both": which flight-plan feeds to write.
	PlanFormat string
	// Disorder is the fraction (0 to 1) of valid records delivered up to
	// DisorderWindow (SBS) or PlanDisorderWindow (plans) after their
	// producer time, so they overtake or are overtaken by their neighbours.
	// The displacement is bounded by that window. Default 0.
	Disorder float64
	// Duplicates is the fraction (0 to 1) of valid records delivered a
	// second time, byte for byte, within the disorder window. Default 0.
	Duplicates float64
	// Late is the fraction (0 to 1) of valid records delivered much later:
	// 5 to 20 minutes (SBS) or 1 to 3 hours (plans). Default 0.
	Late float64
	// Garbage is the number of malformed records injected per valid record
	// (0 to 1), each of which the feed's parser rejects. Default 0.
	Garbage float64
	// Progress, when set, is called after each flight is generated with
	// the number done and the total; for progress reports on large runs.
	Progress func(done, total int) `json:"-"`
}

// Delivery windows of the perturbations.
const (
	DisorderWindow     = 10 * time.Second
	PlanDisorderWindow = 30 * time.Minute
	LateMin, LateMax   = 5 * time.Minute, 20 * time.Minute
	PlanLateMin        = time.Hour
	PlanLateMax        = 3 * time.Hour
)

// DefaultConfig is a small clean day: 20 flights from 2026-01-01 06:00 UTC
// over 12 hours, both plan formats, seed 1, no perturbations.
func DefaultConfig() Config {
	return Config{Seed: 1, Flights: 20, Start: time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC),
		Duration: 12 * time.Hour, PlanFormat: PlanBoth}
}

// ErrInvalidConfig is wrapped by every error of Validate.
var ErrInvalidConfig = errors.New("invalid simulation config")

// Validate rejects a configuration that cannot be simulated, naming the
// setting and what a valid value looks like.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if c.Flights < 1 || c.Flights > MaxFlights {
		return bad("flights is %d, want 1 to %d", c.Flights, MaxFlights)
	}
	if c.Start.IsZero() {
		return bad("start is not set, want a time such as 2026-01-01T06:00:00Z")
	}
	if y := c.Start.UTC().Year(); y < 2001 || y > 2098 {
		// ADEXP and ICAO dates have two-digit years read as 20YY.
		return bad("start is in %d, want a year from 2001 to 2098 (plans carry two-digit years)", y)
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		return bad("duration is %s, want more than 0 and at most %s", c.Duration, MaxDuration)
	}
	switch c.PlanFormat {
	case PlanADEXP, PlanATS, PlanBoth:
	default:
		return bad("plan format is %q, want adexp, ats or both", c.PlanFormat)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"disorder", c.Disorder}, {"duplicates", c.Duplicates}, {"late", c.Late}, {"garbage", c.Garbage}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return bad("%s is %v, want a fraction from 0 to 1", f.name, f.v)
		}
	}
	if c.Disorder+c.Late > 1 {
		return bad("disorder (%v) + late (%v) is more than 1: a record is either disordered or late", c.Disorder, c.Late)
	}
	return nil
}

func (c Config) adexp() bool { return c.PlanFormat == PlanADEXP || c.PlanFormat == PlanBoth }
func (c Config) ats() bool   { return c.PlanFormat == PlanATS || c.PlanFormat == PlanBoth }
