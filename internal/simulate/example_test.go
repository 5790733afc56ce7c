package simulate_test

import (
	"fmt"
	"time"

	"github.com/contrail-atm/contrail/internal/simulate"
)

func ExampleGenerate() {
	out, err := simulate.Generate(simulate.Config{Seed: 42, Flights: 1, PlanFormat: simulate.PlanATS,
		Start: time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC), Duration: time.Hour})
	if err != nil {
		panic(err)
	}
	f := out.Truth.Flights[0]
	fmt.Println(f.Key, f.ICAO24, f.Plan.AircraftType, f.Plan.Route)
	fmt.Println(out.ATS[0].Raw)
	fmt.Println(out.SBS[0].Raw)
	fmt.Println(len(f.Positions) > 600, out.Truth.Counts.SBS.Valid == len(out.SBS))
	// Output:
	// EDDM/260101/0632/AFR573/EDDH 4F5E92 B77W N0440F300 DCT 5107N01154E DCT
	// (FPL-AFR573-IS
	// -B77W/H-SDE3FGHIJ1RWY/LB1
	// -EDDM0632
	// -N0440F300 DCT 5107N01154E DCT
	// -EDDH0057
	// -DOF/260101 RMK/SIMULATED)
	// MSG,3,111,11111,4F5E92,111111,2026/01/01,06:45:38.332,2026/01/01,06:45:38.369,,500,,,48.35380,11.78610,,,0,0,0,0
	// true true
}
