package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sync"
	"time"
)

// fastValue is implemented by the values on the processors' hot path
// (envelopes, track events, domain events, outcomes, flight states). It is a
// hand-written Avro binary codec for the LATEST version of the value's
// schema that skips goavro's generic maps, which cost more than everything
// else a processor does per record. It must give exactly the bytes goavro
// gives (maps aside, whose order goavro does not fix) and decode to exactly
// the value the generic path decodes; fast_test.go checks both on samples
// and fuzzes the decoder. Any other writer version goes the generic way
// (Avro schema resolution).
type fastValue interface {
	Value
	appendDatum(w *avroWriter) error
	readDatum(r *avroReader)
}

// fastVersions are the schema versions the fast codecs are written for. A
// registry whose latest version of a schema is another one (a newer
// binary's schema, or a test's) uses the generic path.
var fastVersions = map[string]int{EnvelopeSchema: 1, TrackEventSchema: 2, OutcomeSchema: 2, DomainEventSchema: 2, FlightStateSchema: 2}

var (
	fastOnce sync.Once
	fastFPs  map[string]uint64 // schema name -> fingerprint of the embedded fast version
)

// fastFor reports whether s is the exact schema v's fast codec is for.
func fastFor(s *Schema, v Value) bool {
	if _, ok := v.(fastValue); !ok || s == nil {
		return false
	}
	fastOnce.Do(func() {
		fastFPs = map[string]uint64{}
		for name, ver := range fastVersions {
			path := fmt.Sprintf("%s.v%d.avsc", name, ver)
			b, err := fs.ReadFile(Embedded(), path)
			if err != nil {
				continue
			}
			if es, err := ParseSchema(name, ver, string(b)); err == nil {
				fastFPs[name] = es.Fingerprint
			}
		}
	})
	fp, ok := fastFPs[v.SchemaName()]
	return ok && fp == s.Fingerprint
}

// errAvro is wrapped by the fast decoder for malformed data.
var errAvro = errors.New("malformed Avro datum")

// avroWriter appends Avro binary encoding.
type avroWriter struct{ b []byte }

func (w *avroWriter) long(v int64)   { w.b = binary.AppendVarint(w.b, v) } // zigzag, as Avro
func (w *avroWriter) int(v int32)    { w.long(int64(v)) }
func (w *avroWriter) str(s string)   { w.long(int64(len(s))); w.b = append(w.b, s...) }
func (w *avroWriter) bytes(b []byte) { w.long(int64(len(b))); w.b = append(w.b, b...) }
func (w *avroWriter) boolean(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *avroWriter) double(f float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(f))
}

// ts writes a timestamp-millis exactly as goavro does.
func (w *avroWriter) ts(t time.Time) { w.long(t.Unix()*1e3 + int64(t.Nanosecond()/1e6)) }

// The optional ["null", T] unions: index 0 is null.
func (w *avroWriter) optStr(s string) {
	if s == "" {
		w.long(0)
		return
	}
	w.long(1)
	w.str(s)
}

func (w *avroWriter) optTS(t time.Time) {
	if t.IsZero() {
		w.long(0)
		return
	}
	w.long(1)
	w.ts(t)
}

func (w *avroWriter) optInt(p *int32) {
	if p == nil {
		w.long(0)
		return
	}
	w.long(1)
	w.int(*p)
}

func (w *avroWriter) optDouble(p *float64) {
	if p == nil {
		w.long(0)
		return
	}
	w.long(1)
	w.double(*p)
}

func (w *avroWriter) optBool(p *bool) {
	if p == nil {
		w.long(0)
		return
	}
	w.long(1)
	w.boolean(*p)
}

// strs writes an array of strings as goavro does: one block, then 0.
func (w *avroWriter) strs(ss []string) {
	if len(ss) > 0 {
		w.long(int64(len(ss)))
		for _, s := range ss {
			w.str(s)
		}
	}
	w.long(0)
}

func (w *avroWriter) enum(v string, symbols []string) error {
	i := slices.Index(symbols, v)
	if i < 0 {
		return fmt.Errorf("value %q is not one of the enum symbols %v", v, symbols)
	}
	w.long(int64(i))
	return nil
}

// avroReader reads Avro binary encoding; the first error sticks and later
// reads return zero values.
type avroReader struct {
	b   []byte
	err error
}

func (r *avroReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad or truncated %s", errAvro, what)
	}
	r.b = nil
}

func (r *avroReader) long() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("long")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *avroReader) int() int32 {
	v := r.long()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("int")
		return 0
	}
	return int32(v)
}

func (r *avroReader) size(what string) int {
	n := r.long()
	if n < 0 || n > int64(len(r.b)) {
		r.fail(what)
		return 0
	}
	return int(n)
}

func (r *avroReader) str() string {
	n := r.size("string")
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *avroReader) bytes() []byte {
	n := r.size("bytes")
	b := make([]byte, n)
	copy(b, r.b[:n])
	r.b = r.b[n:]
	return b
}

func (r *avroReader) boolean() bool {
	if len(r.b) == 0 {
		r.fail("boolean")
		return false
	}
	v := r.b[0]
	r.b = r.b[1:]
	switch v {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("boolean")
	return false
}

func (r *avroReader) double() float64 {
	if len(r.b) < 8 {
		r.fail("double")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

// ts reads a timestamp-millis exactly as goavro does.
func (r *avroReader) ts() time.Time {
	ms := r.long()
	s := ms / 1e3
	return time.Unix(s, (ms-s*1e3)*1e6).UTC()
}

// union reads a ["null", T] branch index: false for null.
func (r *avroReader) union() bool {
	switch r.long() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("union index")
	return false
}

func (r *avroReader) optStr() string {
	if r.union() {
		return r.str()
	}
	return ""
}

func (r *avroReader) optTS() time.Time {
	if r.union() {
		return r.ts()
	}
	return time.Time{}
}

func (r *avroReader) optInt() *int32 {
	if r.union() {
		v := r.int()
		return &v
	}
	return nil
}

func (r *avroReader) optDouble() *float64 {
	if r.union() {
		v := r.double()
		return &v
	}
	return nil
}

func (r *avroReader) optBool() *bool {
	if r.union() {
		v := r.boolean()
		return &v
	}
	return nil
}

// blocks calls item for every item of an array or map, block by block.
// A negative block count is followed by the block's size in bytes.
func (r *avroReader) blocks(what string, item func()) {
	for r.err == nil {
		n := r.long()
		if n == 0 {
			return
		}
		if n < 0 {
			n = -n
			r.long()
		}
		if n > int64(len(r.b)) || n > maxBlockCount {
			r.fail(what)
			return
		}
		for range n {
			if r.err != nil {
				return
			}
			item()
		}
	}
}

func (r *avroReader) strs() []string {
	var out []string
	r.blocks("array", func() { out = append(out, r.str()) })
	return out
}

func (r *avroReader) enum(symbols []string) string {
	i := r.long()
	if i < 0 || i >= int64(len(symbols)) {
		r.fail("enum index")
		return ""
	}
	return symbols[i]
}

// encodeFast appends v's datum written with s; ok is false when v has no
// fast codec for s.
func encodeFast(buf []byte, s *Schema, v Value) (out []byte, ok bool, err error) {
	if !fastFor(s, v) {
		return buf, false, nil
	}
	fv := v.(fastValue)
	w := avroWriter{b: buf}
	if err := fv.appendDatum(&w); err != nil {
		return nil, true, fmt.Errorf("encode %s: %w", v.SchemaName(), err)
	}
	return w.b, true, nil
}

// decodeFast reads datum, written with s, into v; ok is false when v has
// no fast codec for s.
func decodeFast(datum []byte, s *Schema, v Value) (ok bool, err error) {
	if !fastFor(s, v) {
		return false, nil
	}
	fv := v.(fastValue)
	r := avroReader{b: datum}
	fv.readDatum(&r)
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d bytes after the datum", errAvro, len(r.b))
	}
	if r.err != nil {
		return true, fmt.Errorf("decode %s: %w", v.SchemaName(), r.err)
	}
	return true, nil
}

// Enum symbols, in schema order.
var (
	tsSourceSymbols  = []string{"PAYLOAD", "RECORD", "RECEIPT"}
	eventTypeSymbols = []string{"UNKNOWN", "FLIGHT_PLANNED", "FLIGHT_PLAN_CHANGED", "FLIGHT_CANCELLED", "FLIGHT_DELAYED",
		"FLIGHT_DEPARTED", "POSITION_REPORTED", "FLIGHT_ARRIVED", "EMERGENCY_DECLARED", "ALERT_RAISED", "INVARIANT_VIOLATED",
		"ENTERED_COVERAGE"}
	lifecycleSymbols = []string{"UNKNOWN", "PLANNED", "AIRBORNE", "LANDED", "CANCELLED"}
)

func (e *Envelope) appendDatum(w *avroWriter) error {
	w.str(e.ID)
	w.str(e.Feed)
	w.str(e.Format)
	w.str(e.FormatVersion)
	w.str(e.Key)
	w.ts(e.ProducerTS)
	if err := w.enum(string(e.ProducerTSSource), tsSourceSymbols); err != nil {
		return err
	}
	w.ts(e.IngestTS)
	w.str(e.Adapter)
	w.str(e.Origin)
	w.bytes(e.Raw)
	return nil
}

func (e *Envelope) readDatum(r *avroReader) {
	*e = Envelope{ID: r.str(), Feed: r.str(), Format: r.str(), FormatVersion: r.str(), Key: r.str(), ProducerTS: r.ts()}
	e.ProducerTSSource = TimestampSource(r.enum(tsSourceSymbols))
	e.IngestTS = r.ts()
	e.Adapter = r.str()
	e.Origin = r.str()
	e.Raw = r.bytes()
}

func (p *Position) appendDatum(w *avroWriter) {
	w.ts(p.TS)
	w.str(p.ICAO24)
	w.double(p.Lat)
	w.double(p.Lon)
	w.optInt(p.AltitudeFt)
	w.optDouble(p.GroundSpeedKt)
	w.optDouble(p.TrackDeg)
	w.optInt(p.VerticalRateFpm)
	w.optBool(p.OnGround)
}

func (p *Position) readDatum(r *avroReader) {
	*p = Position{TS: r.ts(), ICAO24: r.str(), Lat: r.double(), Lon: r.double(), AltitudeFt: r.optInt(),
		GroundSpeedKt: r.optDouble(), TrackDeg: r.optDouble(), VerticalRateFpm: r.optInt(), OnGround: r.optBool()}
}

func (e *TrackEvent) appendDatum(w *avroWriter) error {
	w.str(e.EventID)
	w.str(e.ICAO24)
	w.str(e.Callsign)
	w.ts(e.TS)
	if e.Position == nil {
		w.long(0)
	} else {
		w.long(1)
		e.Position.appendDatum(w)
	}
	w.optStr(e.Squawk)
	w.optBool(e.OnGround)
	w.boolean(e.Revoked)
	w.optInt(e.AltitudeFt)
	w.optDouble(e.GroundSpeedKt)
	w.optDouble(e.TrackDeg)
	w.optInt(e.VerticalRateFpm)
	return nil
}

func (e *TrackEvent) readDatum(r *avroReader) {
	*e = TrackEvent{EventID: r.str(), ICAO24: r.str(), Callsign: r.str(), TS: r.ts()}
	if r.union() {
		e.Position = &Position{}
		e.Position.readDatum(r)
	}
	e.Squawk = r.optStr()
	e.OnGround = r.optBool()
	e.Revoked = r.boolean()
	e.AltitudeFt = r.optInt()
	e.GroundSpeedKt = r.optDouble()
	e.TrackDeg = r.optDouble()
	e.VerticalRateFpm = r.optInt()
}

func (o *Outcome) appendDatum(w *avroWriter) error {
	w.str(o.EventID)
	w.str(o.Feed)
	w.str(o.Step)
	w.str(o.Outcome)
	w.optStr(o.Reason)
	w.ts(o.ProducerTS)
	w.long(o.Lateness.Milliseconds())
	w.optStr(o.GUFI)
	w.ts(o.ProcessedTS)
	if len(o.Aspects) > 0 {
		w.long(int64(len(o.Aspects)))
		for _, a := range o.Aspects {
			w.str(a.Aspect)
			w.str(a.Outcome)
			w.optStr(a.Reason)
			w.long(a.Lateness.Milliseconds())
		}
	}
	w.long(0)
	return nil
}

func (o *Outcome) readDatum(r *avroReader) {
	*o = Outcome{EventID: r.str(), Feed: r.str(), Step: r.str(), Outcome: r.str(), Reason: r.optStr(), ProducerTS: r.ts()}
	o.Lateness = time.Duration(r.long()) * time.Millisecond
	o.GUFI = r.optStr()
	o.ProcessedTS = r.ts()
	r.blocks("array", func() {
		a := AspectOutcome{Aspect: r.str(), Outcome: r.str(), Reason: r.optStr()}
		a.Lateness = time.Duration(r.long()) * time.Millisecond
		o.Aspects = append(o.Aspects, a)
	})
}

func (p *FlightPlan) appendDatum(w *avroWriter) {
	w.optStr(p.IFPLID)
	w.str(p.Callsign)
	w.str(p.ADEP)
	w.str(p.ADES)
	w.optTS(p.EOBT)
	w.optStr(p.AircraftType)
	w.optStr(p.Route)
	w.optStr(p.CruiseLevel)
	w.optStr(p.STAR)
}

func (p *FlightPlan) readDatum(r *avroReader) {
	*p = FlightPlan{IFPLID: r.optStr(), Callsign: r.str(), ADEP: r.str(), ADES: r.str(), EOBT: r.optTS(),
		AircraftType: r.optStr(), Route: r.optStr(), CruiseLevel: r.optStr(), STAR: r.optStr()}
}

func (e *DomainEvent) appendDatum(w *avroWriter) error {
	w.str(e.EventID)
	w.str(e.GUFI)
	typ := e.Type
	if typ == "" {
		for _, p := range e.payloads() {
			if p.set {
				typ = p.t
			}
		}
	}
	if err := w.enum(string(typ), eventTypeSymbols); err != nil {
		return err
	}
	w.ts(e.ProducerTS)
	w.ts(e.EmittedTS)
	w.str(e.Feed)
	w.strs(e.Cause)
	opt := func(set bool, write func()) {
		if !set {
			w.long(0)
			return
		}
		w.long(1)
		write()
	}
	opt(e.FlightPlanned != nil, func() { e.FlightPlanned.Plan.appendDatum(w) })
	opt(e.FlightPlanChanged != nil, func() { e.FlightPlanChanged.Plan.appendDatum(w); w.strs(e.FlightPlanChanged.Changed) })
	opt(e.FlightCancelled != nil, func() { w.optStr(e.FlightCancelled.Reason) })
	opt(e.FlightDelayed != nil, func() { w.ts(e.FlightDelayed.NewEOBT); w.optTS(e.FlightDelayed.PreviousEOBT) })
	opt(e.FlightDeparted != nil, func() { w.str(e.FlightDeparted.ADEP); w.ts(e.FlightDeparted.DepartureTS) })
	opt(e.PositionReported != nil, func() { e.PositionReported.Position.appendDatum(w) })
	opt(e.FlightArrived != nil, func() { w.str(e.FlightArrived.ADES); w.ts(e.FlightArrived.ArrivalTS) })
	opt(e.EmergencyDeclared != nil, func() { w.str(e.EmergencyDeclared.Squawk); w.optStr(e.EmergencyDeclared.Detail) })
	opt(e.AlertRaised != nil, func() {
		a := e.AlertRaised
		w.str(a.AlertID)
		w.str(a.Kind)
		w.optStr(a.OtherGUFI)
		w.optStr(a.Message)
	})
	opt(e.InvariantViolated != nil, func() {
		v := e.InvariantViolated
		w.str(v.Rule)
		w.str(v.Detail)
		w.optStr(v.RejectedEventID)
	})
	opt(e.EnteredCoverage != nil, func() { w.ts(e.EnteredCoverage.EntryTS) })
	return nil
}

func (e *DomainEvent) readDatum(r *avroReader) {
	*e = DomainEvent{EventID: r.str(), GUFI: r.str()}
	e.Type = EventType(r.enum(eventTypeSymbols))
	e.ProducerTS = r.ts()
	e.EmittedTS = r.ts()
	e.Feed = r.str()
	e.Cause = r.strs()
	if r.union() {
		e.FlightPlanned = &FlightPlanned{}
		e.FlightPlanned.Plan.readDatum(r)
	}
	if r.union() {
		e.FlightPlanChanged = &FlightPlanChanged{}
		e.FlightPlanChanged.Plan.readDatum(r)
		e.FlightPlanChanged.Changed = r.strs()
	}
	if r.union() {
		e.FlightCancelled = &FlightCancelled{Reason: r.optStr()}
	}
	if r.union() {
		e.FlightDelayed = &FlightDelayed{NewEOBT: r.ts(), PreviousEOBT: r.optTS()}
	}
	if r.union() {
		e.FlightDeparted = &FlightDeparted{ADEP: r.str(), DepartureTS: r.ts()}
	}
	if r.union() {
		e.PositionReported = &PositionReported{}
		e.PositionReported.Position.readDatum(r)
	}
	if r.union() {
		e.FlightArrived = &FlightArrived{ADES: r.str(), ArrivalTS: r.ts()}
	}
	if r.union() {
		e.EmergencyDeclared = &EmergencyDeclared{Squawk: r.str(), Detail: r.optStr()}
	}
	if r.union() {
		e.AlertRaised = &AlertRaised{AlertID: r.str(), Kind: r.str(), OtherGUFI: r.optStr(), Message: r.optStr()}
	}
	if r.union() {
		e.InvariantViolated = &InvariantViolated{Rule: r.str(), Detail: r.str(), RejectedEventID: r.optStr()}
	}
	if r.union() {
		e.EnteredCoverage = &EnteredCoverage{EntryTS: r.ts()}
	}
}

func (s *FlightState) appendDatum(w *avroWriter) error {
	w.str(s.GUFI)
	w.optStr(s.IFPLID)
	w.optStr(s.Callsign)
	w.optStr(s.ICAO24)
	w.optStr(s.ADEP)
	w.optStr(s.ADES)
	w.optTS(s.EOBT)
	w.optStr(s.AircraftType)
	w.optStr(s.Route)
	w.optStr(s.CruiseLevel)
	w.optStr(s.STAR)
	lc := s.Lifecycle
	if lc == "" {
		lc = LifecycleUnknown
	}
	if err := w.enum(string(lc), lifecycleSymbols); err != nil {
		return err
	}
	if s.LastPosition == nil {
		w.long(0)
	} else {
		w.long(1)
		s.LastPosition.appendDatum(w)
	}
	w.optStr(s.Squawk)
	w.boolean(s.Emergency)
	// A map in sorted key order: deterministic bytes (goavro's order is
	// Go's map order).
	if len(s.AspectTS) > 0 {
		keys := make([]string, 0, len(s.AspectTS))
		for k := range s.AspectTS {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.long(int64(len(keys)))
		for _, k := range keys {
			w.str(k)
			w.ts(s.AspectTS[k])
		}
	}
	w.long(0)
	w.long(s.EventCount)
	if len(s.Covers) > 0 {
		w.long(int64(len(s.Covers)))
		for _, c := range s.Covers {
			w.str(c.Topic)
			w.int(c.Partition)
			w.long(c.Offset)
		}
	}
	w.long(0)
	w.ts(s.UpdatedTS)
	w.optInt(s.AltitudeFt)
	w.optDouble(s.GroundSpeedKt)
	w.optDouble(s.TrackDeg)
	w.optInt(s.VerticalRateFpm)
	w.optBool(s.OnGround)
	return nil
}

func (s *FlightState) readDatum(r *avroReader) {
	*s = FlightState{GUFI: r.str(), IFPLID: r.optStr(), Callsign: r.optStr(), ICAO24: r.optStr(), ADEP: r.optStr(),
		ADES: r.optStr(), EOBT: r.optTS(), AircraftType: r.optStr(), Route: r.optStr(), CruiseLevel: r.optStr(), STAR: r.optStr()}
	s.Lifecycle = Lifecycle(r.enum(lifecycleSymbols))
	if r.union() {
		s.LastPosition = &Position{}
		s.LastPosition.readDatum(r)
	}
	s.Squawk = r.optStr()
	s.Emergency = r.boolean()
	r.blocks("map", func() {
		k, t := r.str(), r.ts()
		if s.AspectTS == nil {
			s.AspectTS = map[string]time.Time{}
		}
		s.AspectTS[k] = t
	})
	s.EventCount = r.long()
	r.blocks("array", func() {
		s.Covers = append(s.Covers, LogPosition{Topic: r.str(), Partition: r.int(), Offset: r.long()})
	})
	s.UpdatedTS = r.ts()
	s.AltitudeFt = r.optInt()
	s.GroundSpeedKt = r.optDouble()
	s.TrackDeg = r.optDouble()
	s.VerticalRateFpm = r.optInt()
	s.OnGround = r.optBool()
}
