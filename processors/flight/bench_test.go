package flight_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/schemas"
)

// BenchmarkApplyPosition measures the hot path: in-order airborne
// positions of a planned flight (segment lookup, duplicate check, newest-wins,
// PositionReported out). Rerun with
// go test ./processors/flight -run '^$' -bench . -benchmem
func BenchmarkApplyPosition(b *testing.B) {
	s := newStep(b, flight.Config{})
	st, _, _, _ := s.Apply(flight.State{}, ifpl("p", 0), nil)
	const n = 4096
	ins := make([]flight.Input, n)
	for i := range ins {
		ins[i] = pos(fmt.Sprintf("p%06d", i), 70+float64(i)/60, 48.3+float64(i)*1e-4, 11.8)
		ins[i].Track.Position.TS = time.Time{} // the step takes the producer timestamp
	}
	period := time.Duration(n) * time.Second
	out := make([]schemas.DomainEvent, 0, 8)
	var err error
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := ins[i%n]
		in.TS = in.TS.Add(time.Duration(i/n) * period) // always in order
		st, out, _, err = s.Apply(st, in, out[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkApplyPlan measures plan messages: a change to a filed flight,
// which refolds the kept messages (building the input is included).
func BenchmarkApplyPlan(b *testing.B) {
	s := newStep(b, flight.Config{})
	st, _, _, _ := s.Apply(flight.State{}, ifpl("p", 0), nil)
	out := make([]schemas.DomainEvent, 0, 8)
	var err error
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := planMsg(fmt.Sprint(i), 1+float64(i%10000)/1000, flight.TitleCHG, func(m *flight.PlanMsg) { m.CruiseLevel = fmt.Sprintf("F%03d", 300+i%5*10) })
		st, out, _, err = s.Apply(st, in, out[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkEncode reports the changelog bytes per flight of a simulated
// day (10 flights and their second legs, in order) and the encode cost.
func BenchmarkEncode(b *testing.B) {
	states := dayStates(b)
	var buf []byte
	flights, size := 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		flights, size = 0, 0
		for _, st := range states {
			buf, _ = st.AppendBinary(buf[:0])
			flights += len(st.Flights)
			size += len(buf)
		}
	}
	b.ReportMetric(float64(size)/float64(flights), "bytes/flight")
}

// BenchmarkDecode measures restoring the states of a simulated day.
func BenchmarkDecode(b *testing.B) {
	var encoded [][]byte
	for _, st := range dayStates(b) {
		e, _ := st.AppendBinary(nil)
		encoded = append(encoded, e)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range encoded {
			var st flight.State
			if err := st.UnmarshalBinary(e); err != nil {
				b.Fatal(err)
			}
		}
	}
}
