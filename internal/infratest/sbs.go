package infratest

import (
	"fmt"
	"time"
)

// SBSLines writes n valid SBS-1 MSG lines for a few made-up aircraft, one
// every 250 ms from 2026-01-01 10:00:00, cycling through transmission types
// 1, 3, 4 and 5. Deterministic, for tests that need input without the
// third-party sample.
func SBSLines(n int) []string {
	icaos := []string{"4CA2D6", "3C6444", "A1B2C3", "40621D"}
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	out := make([]string, 0, n)
	for i := range n {
		icao := icaos[i%len(icaos)]
		ts := start.Add(time.Duration(i) * 250 * time.Millisecond)
		gen := ts.Format("2006/01/02,15:04:05.000")
		logged := ts.Add(20 * time.Millisecond).Format("2006/01/02,15:04:05.000")
		var rest string
		switch i % 4 {
		case 0:
			rest = fmt.Sprintf("1,111,11111,%s,111111,%s,%s,TEST%03d ,,,,,,,,,,,", icao, gen, logged, i%len(icaos))
		case 1:
			rest = fmt.Sprintf("3,111,11111,%s,111111,%s,%s,,%d,,,%.5f,%.5f,,,0,0,0,0", icao, gen, logged, 30000+i, 51.0+float64(i)/1000, -1.0+float64(i)/1000)
		case 2:
			rest = fmt.Sprintf("4,111,11111,%s,111111,%s,%s,,,450,90,,,0,,0,0,0,0", icao, gen, logged)
		default:
			rest = fmt.Sprintf("5,111,11111,%s,111111,%s,%s,,%d,,,,,,,0,,0,0", icao, gen, logged, 30000+i)
		}
		out = append(out, "MSG,"+rest)
	}
	return out
}
