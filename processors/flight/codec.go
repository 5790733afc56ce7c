package flight

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/contrail-atm/contrail/internal/binenc"
	"github.com/contrail-atm/contrail/schemas"
)

// stateFormat is the leading byte of the binary state encoding. A decoder
// rejects formats it does not know; a new layout gets a new number and the
// old one stays readable.
const stateFormat byte = 2

// stateFormatV1 lacks the altitude, velocity and ground aspects (their
// stamps and Flight.Kinematics); it decodes with them zero.
const stateFormatV1 byte = 1

// ErrEncoding is wrapped by UnmarshalBinary for bytes that are not a state.
var ErrEncoding = errors.New("invalid flight state encoding")

// AppendBinary appends the compact binary encoding of st to b, for the
// changelog topic: a format byte, then varints, fixed 8-byte floats and
// length-prefixed strings, each written once and referenced after. It implements encoding.BinaryAppender.
func (st *State) AppendBinary(b []byte) ([]byte, error) {
	w := writer{b: append(b, stateFormat)}
	w.str(st.Callsign)
	w.int(st.MaxTS)
	w.uint(uint64(len(st.Flights)))
	for i := range st.Flights {
		w.flight(&st.Flights[i])
	}
	w.uint(uint64(len(st.Pending)))
	for i := range st.Pending {
		e := &st.Pending[i]
		w.stamp(e.Stamp)
		w.str(e.Feed)
		w.msg(&e.Msg)
	}
	return w.b, nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (st *State) MarshalBinary() ([]byte, error) { return st.AppendBinary(nil) }

// UnmarshalBinary replaces st with the state encoded in b. It returns an
// error wrapping ErrEncoding, never panics, for bytes AppendBinary did not
// produce.
func (st *State) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrEncoding)
	}
	if b[0] != stateFormat && b[0] != stateFormatV1 {
		return fmt.Errorf("%w: format %d, want %d or %d", ErrEncoding, b[0], stateFormatV1, stateFormat)
	}
	r := reader{Reader: binenc.NewReader(b[1:], ErrEncoding), format: b[0]}
	var s State
	s.Callsign = r.str()
	s.MaxTS = r.Varint()
	if n := r.Count(8); n > 0 {
		s.Flights = make([]Flight, n)
		for i := range s.Flights {
			r.flight(&s.Flights[i])
		}
	}
	if n := r.Count(12); n > 0 {
		s.Pending = make([]PlanEntry, n)
		for i := range s.Pending {
			e := &s.Pending[i]
			e.Stamp = r.stamp()
			e.Feed = r.str()
			r.msg(&e.Msg)
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrEncoding, r.Len())
	}
	*st = s
	return nil
}

// writer encodes a state. Strings are written once: a repeat (the route of
// the IFPL, of the same FPL from the other channel and of the folded plan)
// is a reference to the first, so the plan messages kept per flight cost
// little more than their differences.
type writer struct {
	b    []byte
	seen map[string]uint64
}

func (w *writer) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) int(v int64)   { w.b = binary.AppendVarint(w.b, v) }

// str writes a string as uvarint(len<<1) and its bytes, or, when it was
// written before, as uvarint(index<<1 | 1).
func (w *writer) str(s string) {
	if s == "" {
		w.uint(0)
		return
	}
	if i, ok := w.seen[s]; ok {
		w.uint(i<<1 | 1)
		return
	}
	if w.seen == nil {
		w.seen = map[string]uint64{}
	}
	w.seen[s] = uint64(len(w.seen))
	w.uint(uint64(len(s)) << 1)
	w.b = append(w.b, s...)
}
func (w *writer) f64(v float64) { w.b = binenc.AppendF64(w.b, v) }
func (w *writer) bool(v bool)   { w.b = binenc.AppendBool(w.b, v) }

func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.int(0)
		return
	}
	w.int(t.UnixNano())
}

func (w *writer) stamp(s Stamp) { w.int(s.TS); w.str(s.EventID) }

func (w *writer) plan(p *schemas.FlightPlan) {
	for _, s := range []string{p.IFPLID, p.Callsign, p.ADEP, p.ADES, p.AircraftType, p.Route, p.CruiseLevel, p.STAR} {
		w.str(s)
	}
	w.time(p.EOBT)
}

func (w *writer) fold(p *PlanFold) {
	w.plan(&p.Plan)
	w.bool(p.Filed)
	w.bool(p.Cancelled)
	w.int(p.ATD)
	w.int(p.ATA)
	w.str(p.ADARR)
	w.str(p.ATDEvent) // format 2
	w.str(p.ATAEvent)
}

func (w *writer) msg(m *PlanMsg) {
	w.b = append(w.b, byte(m.Title))
	for _, s := range []string{m.GUFI, m.ARCID, m.IFPLID, m.ADEP, m.ADES, m.AircraftType, m.Route, m.CruiseLevel, m.STAR, m.NewADEP, m.NewADES, m.ADARR} {
		w.str(s)
	}
	w.time(m.EOBT)
	w.time(m.ATD)
	w.time(m.ATA)
}

// Optional values of a position, one bit each.
const (
	posAlt = 1 << iota
	posGS
	posTrack
	posVR
	posGround
	posGroundTrue
)

func (w *writer) position(p *schemas.Position) {
	w.time(p.TS)
	if p.TS.IsZero() {
		return
	}
	w.posBody(p)
}

// posBody writes a position without its time.
func (w *writer) posBody(p *schemas.Position) {
	w.str(p.ICAO24)
	w.f64(p.Lat)
	w.f64(p.Lon)
	w.posOptional(p)
}

// posOptional writes a position's optional values: a flag byte, then each
// value present.
func (w *writer) posOptional(p *schemas.Position) {
	var flags byte
	if p.AltitudeFt != nil {
		flags |= posAlt
	}
	if p.GroundSpeedKt != nil {
		flags |= posGS
	}
	if p.TrackDeg != nil {
		flags |= posTrack
	}
	if p.VerticalRateFpm != nil {
		flags |= posVR
	}
	if p.OnGround != nil {
		flags |= posGround
		if *p.OnGround {
			flags |= posGroundTrue
		}
	}
	w.b = append(w.b, flags)
	if p.AltitudeFt != nil {
		w.int(int64(*p.AltitudeFt))
	}
	if p.GroundSpeedKt != nil {
		w.f64(*p.GroundSpeedKt)
	}
	if p.TrackDeg != nil {
		w.f64(*p.TrackDeg)
	}
	if p.VerticalRateFpm != nil {
		w.int(int64(*p.VerticalRateFpm))
	}
}

func (w *writer) flight(f *Flight) {
	w.str(f.GUFI)
	w.str(f.Anchor)
	w.str(f.ICAO24)
	w.fold(&f.Base)
	w.stamp(f.BaseStamp)
	w.uint(uint64(len(f.Plans)))
	for i := range f.Plans {
		e := &f.Plans[i]
		w.stamp(e.Stamp)
		w.str(e.Feed)
		w.msg(&e.Msg)
		w.str(e.Rule)
	}
	w.fold(&f.PlanFold)
	for _, v := range []int64{f.TrackFirst, f.TrackLast, f.FirstAirborne, f.LandedTS} {
		w.int(v)
	}
	w.position(&f.Position)
	w.str(f.Squawk)
	w.uint(uint64(len(f.Squawks)))
	for _, o := range f.Squawks {
		w.stamp(o.Stamp)
		w.str(o.Code)
	}
	w.int(int64(f.Episodes))
	for _, s := range f.Latest[:numAspectsV1] {
		w.stamp(s)
	}
	w.uint(uint64(len(f.Recent)))
	for _, s := range f.Recent {
		w.stamp(s)
	}
	w.bool(f.DepartedSent)
	w.bool(f.ArrivedSent)
	w.int(f.EventCount)
	// Format 2.
	for _, s := range f.Latest[numAspectsV1:] {
		w.stamp(s)
	}
	w.posOptional(&f.Kinematics)
	w.str(f.DepartedADEP)
	w.str(f.ArrivedADES)
	// A flag byte, then the values present; times relative to
	// FirstAirborne, usually small.
	var flags byte
	if f.HasFirstAirborneAlt {
		flags |= 1
	}
	if f.CoverageSent {
		flags |= 2
	}
	if f.DepartedTS != 0 {
		flags |= 4
	}
	if f.FirstGround != 0 {
		flags |= 8
	}
	w.b = append(w.b, flags)
	if f.HasFirstAirborneAlt {
		w.int(int64(f.FirstAirborneAlt))
	}
	if f.DepartedTS != 0 {
		w.int(f.DepartedTS - f.FirstAirborne)
	}
	if f.FirstGround != 0 {
		w.int(f.FirstGround - f.FirstAirborne)
	}
	w.str(f.FirstAirborneID)
	w.str(f.LandedID)
}

type reader struct {
	*binenc.Reader
	strs   []string
	format byte
}

// str reads a string written by writer.str: its bytes, or a reference to
// one read before.
func (r *reader) str() string {
	v := r.Uvarint()
	if v&1 == 1 {
		if v>>1 >= uint64(len(r.strs)) {
			r.Fail("string reference")
			return ""
		}
		return r.strs[v>>1]
	}
	if v>>1 == 0 {
		return ""
	}
	s := string(r.Next(v >> 1))
	if r.Err() == nil {
		r.strs = append(r.strs, s)
	}
	return s
}

func (r *reader) time() time.Time {
	if v := r.Varint(); v != 0 {
		return time.Unix(0, v).UTC()
	}
	return time.Time{}
}

func (r *reader) stamp() Stamp { return Stamp{TS: r.Varint(), EventID: r.str()} }

func (r *reader) plan(p *schemas.FlightPlan) {
	for _, s := range []*string{&p.IFPLID, &p.Callsign, &p.ADEP, &p.ADES, &p.AircraftType, &p.Route, &p.CruiseLevel, &p.STAR} {
		*s = r.str()
	}
	p.EOBT = r.time()
}

func (r *reader) fold(p *PlanFold) {
	r.plan(&p.Plan)
	p.Filed = r.Bool()
	p.Cancelled = r.Bool()
	p.ATD = r.Varint()
	p.ATA = r.Varint()
	p.ADARR = r.str()
	if r.format >= 2 {
		p.ATDEvent = r.str()
		p.ATAEvent = r.str()
	}
}

func (r *reader) msg(m *PlanMsg) {
	m.Title = Title(r.Byte())
	if m.Title >= numTitles {
		r.Fail("title")
	}
	for _, s := range []*string{&m.GUFI, &m.ARCID, &m.IFPLID, &m.ADEP, &m.ADES, &m.AircraftType, &m.Route, &m.CruiseLevel, &m.STAR, &m.NewADEP, &m.NewADES, &m.ADARR} {
		*s = r.str()
	}
	m.EOBT = r.time()
	m.ATD = r.time()
	m.ATA = r.time()
}

func (r *reader) position(p *schemas.Position) {
	p.TS = r.time()
	if p.TS.IsZero() {
		return
	}
	r.posBody(p)
}

func (r *reader) posBody(p *schemas.Position) {
	p.ICAO24 = r.str()
	p.Lat = r.F64()
	p.Lon = r.F64()
	r.posOptional(p)
}

func (r *reader) posOptional(p *schemas.Position) {
	flags := r.Byte()
	if flags&^(posAlt|posGS|posTrack|posVR|posGround|posGroundTrue) != 0 {
		r.Fail("position flags")
		return
	}
	if flags&posAlt != 0 {
		v := int32(r.Varint())
		p.AltitudeFt = &v
	}
	if flags&posGS != 0 {
		v := r.F64()
		p.GroundSpeedKt = &v
	}
	if flags&posTrack != 0 {
		v := r.F64()
		p.TrackDeg = &v
	}
	if flags&posVR != 0 {
		v := int32(r.Varint())
		p.VerticalRateFpm = &v
	}
	if flags&posGround != 0 {
		v := flags&posGroundTrue != 0
		p.OnGround = &v
	}
}

func (r *reader) flight(f *Flight) {
	f.GUFI = r.str()
	f.Anchor = r.str()
	f.ICAO24 = r.str()
	r.fold(&f.Base)
	f.BaseStamp = r.stamp()
	if n := r.Count(20); n > 0 {
		f.Plans = make([]PlanEntry, n)
		for i := range f.Plans {
			e := &f.Plans[i]
			e.Stamp = r.stamp()
			e.Feed = r.str()
			r.msg(&e.Msg)
			e.Rule = r.str()
		}
	}
	r.fold(&f.PlanFold)
	for _, v := range []*int64{&f.TrackFirst, &f.TrackLast, &f.FirstAirborne, &f.LandedTS} {
		*v = r.Varint()
	}
	r.position(&f.Position)
	f.Squawk = r.str()
	if n := r.Count(3); n > 0 {
		f.Squawks = make([]SquawkObs, n)
		for i := range f.Squawks {
			f.Squawks[i] = SquawkObs{Stamp: r.stamp(), Code: r.str()}
		}
	}
	f.Episodes = int32(r.Varint())
	for i := range f.Latest[:numAspectsV1] {
		f.Latest[i] = r.stamp()
	}
	if n := r.Count(2); n > 0 {
		f.Recent = make([]Stamp, n)
		for i := range f.Recent {
			f.Recent[i] = r.stamp()
		}
	}
	f.DepartedSent = r.Bool()
	f.ArrivedSent = r.Bool()
	f.EventCount = r.Varint()
	if r.format >= 2 {
		for i := numAspectsV1; i < int(NumAspects); i++ {
			f.Latest[i] = r.stamp()
		}
		r.posOptional(&f.Kinematics)
		f.DepartedADEP = r.str()
		f.ArrivedADES = r.str()
		flags := r.Byte()
		if flags > 15 {
			r.Fail("flight flags")
		}
		f.HasFirstAirborneAlt, f.CoverageSent = flags&1 != 0, flags&2 != 0
		if f.HasFirstAirborneAlt {
			f.FirstAirborneAlt = int32(r.Varint())
		}
		if flags&4 != 0 {
			f.DepartedTS = r.Varint() + f.FirstAirborne
		}
		if flags&8 != 0 {
			f.FirstGround = r.Varint() + f.FirstAirborne
		}
		f.FirstAirborneID = r.str()
		f.LandedID = r.str()
	} else {
		// Format 1 did not keep them: take what the events named then.
		f.DepartedADEP, f.ArrivedADES, f.DepartedTS = f.Plan.ADEP, f.ADARR, f.departure()
		if f.ArrivedADES == "" {
			f.ArrivedADES = f.Plan.ADES
		}
	}
}
