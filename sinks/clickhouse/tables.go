package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/schemas"
)

// The explicit column list of every INSERT, per table (ClickHouse 18.16 needs
// it for native batches). The values the writer appends follow these orders.
const (
	rawEventsColumns      = "event_id, feed, format, format_version, key, producer_ts, producer_ts_ms, producer_ts_source, ingest_ts, adapter, origin, raw, outcome, reason_code, reason, topic, partition, offset"
	rejectedColumns       = "id, feed, reason_code, reason, ingest_ts, adapter, origin, raw, topic, partition, offset"
	flightEventsColumns   = "event_id, gufi, type, producer_ts, producer_ts_ms, emitted_ts, feed, cause, event_ts, ifplid, callsign, adep, ades, eobt, previous_eobt, aircraft_type, route, cruise_level, star, changed, squawk, alert_id, alert_kind, other_gufi, rule, detail, rejected_event_id, icao24, lat, lon, altitude_ft, ground_speed_kt, track_deg, vertical_rate_fpm, on_ground, payload, topic, partition, offset"
	positionsColumns      = "gufi, ts, ts_ms, icao24, lat, lon, altitude_ft, ground_speed_kt, track_deg, vertical_rate_fpm, on_ground, event_id, feed, producer_ts, emitted_ts"
	flightsColumns        = "gufi, ifplid, callsign, icao24, adep, ades, eobt, aircraft_type, route, cruise_level, star, lifecycle, position_ts, lat, lon, altitude_ft, ground_speed_kt, track_deg, vertical_rate_fpm, on_ground, squawk, emergency, aspects, aspect_ts_ms, event_count, producer_ts, producer_ts_ms, updated_ts, version"
	eventOutcomesColumns  = "event_id, feed, step, outcome, reason, producer_ts, producer_ts_ms, lateness_ms, gufi, processed_ts"
	aircraftColumns       = "icao24, callsign, position_ts, lat, lon, altitude_ft, ground_speed_kt, track_deg, vertical_rate_fpm, squawk, on_ground, aspects, aspect_ts_ms, first_seen, last_seen, messages, updated_ts, version"
	aircraftPosColumns    = "icao24, ts, ts_ms, event_id, lat, lon, altitude_ft, on_ground, revoked, topic, partition, offset"
	aircraftVelColumns    = "icao24, ts, ts_ms, event_id, ground_speed_kt, track_deg, vertical_rate_fpm, topic, partition, offset"
	aspectOutcomesColumns = "event_id, feed, step, aspect, outcome, reason, producer_ts, producer_ts_ms, lateness_ms, processed_ts"
)

// tableRows buffers one table's rows of the current batch, each row the
// values of columns in order.
type tableRows struct {
	name, columns string
	rows          [][]any
	// sent marks the chunks (see chunks) acknowledged in the current flush.
	sent []bool
}

func (t *tableRows) reset() { t.rows, t.sent = t.rows[:0], t.sent[:0] }

// chunkRows is the size above which a table's batch is split into chunks
// inserted concurrently: the server parses and writes each INSERT on one
// thread, so two halves use two cores where one INSERT uses one.
const chunkRows = 20_000

// chunks splits the buffered rows into at most n parts of about chunkRows
// rows or more, the same way for every attempt of one flush. Rows go to a
// part by a hash of their first column, which every table's sort key starts
// with or contains (a GUFI, an event id, an ICAO address): all rows of one
// key are in one part, in the order they were read. Parts are inserted
// concurrently, so which part ClickHouse sees last is a matter of timing;
// with a key in one part, the row a ReplacingMergeTree without version keeps
// for a key is still the last one read, never timing's choice.
func (t *tableRows) chunks(n int) [][][]any {
	parts := min(n, max(1, len(t.rows)/chunkRows))
	var out [][][]any
	if parts == 1 {
		if len(t.rows) > 0 {
			out = [][][]any{t.rows}
		}
	} else {
		out = make([][][]any, parts)
		for _, r := range t.rows {
			i := keyHash(r[0]) % uint64(parts)
			out[i] = append(out[i], r)
		}
		out = slices.DeleteFunc(out, func(c [][]any) bool { return len(c) == 0 })
	}
	if len(t.sent) != len(out) {
		t.sent = make([]bool, len(out))
	}
	return out
}

// keyHash is FNV-1a of a row's first column.
func keyHash(v any) uint64 {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	default:
		s = fmt.Sprint(x)
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// The writer's tables by index into Writer.tables. Sources come before the
// tables a reader would join them with, so a partial flush is least
// surprising; correctness does not depend on the order.
const (
	tRawEvents = iota
	tRejected
	tFlightEvents
	tPositions
	tFlights
	tEventOutcomes
	tAircraft
	tAircraftPositions
	tAircraftVelocities
	tAspectOutcomes
)

func newTables() []*tableRows {
	return []*tableRows{
		tRawEvents:          {name: "raw_events", columns: rawEventsColumns},
		tRejected:           {name: "rejected", columns: rejectedColumns},
		tFlightEvents:       {name: "flight_events", columns: flightEventsColumns},
		tPositions:          {name: "positions", columns: positionsColumns},
		tFlights:            {name: "flights", columns: flightsColumns},
		tEventOutcomes:      {name: "event_outcomes", columns: eventOutcomesColumns},
		tAircraft:           {name: "aircraft", columns: aircraftColumns},
		tAircraftPositions:  {name: "aircraft_positions", columns: aircraftPosColumns},
		tAircraftVelocities: {name: "aircraft_velocities", columns: aircraftVelColumns},
		tAspectOutcomes:     {name: "aspect_outcomes", columns: aspectOutcomesColumns},
	}
}

func (w *Writer) put(table int, values ...any) {
	w.tables[table].rows = append(w.tables[table].rows, values)
}

// add routes every fetched record to its tables. It never fails: a record no
// schema decodes is still stored, as a rejected raw_events row with the
// undecodable bytes, so nothing is dropped silently.
func (w *Writer) add(ctx context.Context, fetches kgo.Fetches) {
	fetches.EachRecord(func(r *kgo.Record) {
		switch t := w.opts.Topics; r.Topic {
		case w.rejectedTopic:
			w.addRejected(ctx, r)
		case t.Events:
			w.addEvent(ctx, r)
		case t.State:
			w.addState(ctx, r)
		case t.Outcomes:
			w.addOutcome(ctx, r)
		case t.Aircraft:
			w.addAircraft(ctx, r)
		case t.AircraftPositions:
			w.addAircraftPosition(ctx, r)
		default:
			w.addEnvelope(ctx, r)
		}
	})
}

func (w *Writer) addEnvelope(ctx context.Context, r *kgo.Record) {
	e := &schemas.Envelope{}
	if err := w.decode(ctx, r.Value, e); err != nil {
		w.undecodable(r, err)
		return
	}
	w.putRaw(r, e.ID, e.Feed, e.Format, e.FormatVersion, e.Key, e.ProducerTS, string(e.ProducerTSSource), e.IngestTS,
		e.Adapter, e.Origin, e.Raw, OutcomeAccepted, "", "")
	w.sample(e.Feed, "producer", e.ProducerTS)
	w.sample(e.Feed, "ingest", e.IngestTS)
}

// addRejected writes a rejected record to both raw_events (outcome rejected,
// so data-quality SQL sees everything ingested) and rejected.
func (w *Writer) addRejected(ctx context.Context, r *kgo.Record) {
	x := &schemas.Rejected{}
	if err := w.decode(ctx, r.Value, x); err != nil {
		w.undecodable(r, err)
		return
	}
	w.putRaw(r, x.ID, x.Feed, "", "", "", x.IngestTS, string(schemas.FromReceipt), x.IngestTS,
		x.Adapter, x.Origin, x.Raw, OutcomeRejected, x.ReasonCode, x.Reason)
	w.put(tRejected, x.ID, x.Feed, x.ReasonCode, x.Reason, w.clamp(x.IngestTS), x.Adapter, x.Origin, string(x.Raw),
		r.Topic, uint32(r.Partition), uint64(r.Offset))
}

func (w *Writer) addOutcome(ctx context.Context, r *kgo.Record) {
	o := &schemas.Outcome{}
	if err := w.decode(ctx, r.Value, o); err != nil {
		w.undecodable(r, err)
		return
	}
	// An applied event is written only for its aspects' verdicts:
	// event_outcomes has no row for applied events.
	if o.Outcome != schemas.OutcomeApplied {
		w.put(tEventOutcomes, o.EventID, o.Feed, o.Step, o.Outcome, o.Reason,
			w.clamp(o.ProducerTS), o.ProducerTS.UnixMilli(), o.Lateness.Milliseconds(), o.GUFI, w.clamp(o.ProcessedTS))
	}
	for _, a := range o.Aspects {
		w.put(tAspectOutcomes, o.EventID, o.Feed, o.Step, a.Aspect, a.Outcome, a.Reason,
			w.clamp(o.ProducerTS), o.ProducerTS.UnixMilli(), a.Lateness.Milliseconds(), w.clamp(o.ProcessedTS))
	}
}

func (w *Writer) addState(ctx context.Context, r *kgo.Record) {
	if r.Value == nil {
		w.log.Debug("flight state tombstone skipped", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "key", string(r.Key))
		return
	}
	s := &schemas.FlightState{}
	if err := w.decode(ctx, r.Value, s); err != nil {
		w.undecodable(r, err)
		return
	}
	p := s.LastPosition
	if p == nil {
		p = &schemas.Position{}
	}
	// The current altitude, velocity and ground flag are aspects of their
	// own (flight_state v2); a v1 snapshot has only the last position's.
	alt, gs, trk, vr, ground := p.AltitudeFt, p.GroundSpeedKt, p.TrackDeg, p.VerticalRateFpm, p.OnGround
	if s.AltitudeFt != nil || s.GroundSpeedKt != nil || s.TrackDeg != nil || s.VerticalRateFpm != nil || s.OnGround != nil {
		alt, gs, trk, vr, ground = s.AltitudeFt, s.GroundSpeedKt, s.TrackDeg, s.VerticalRateFpm, s.OnGround
	}
	var posTS *time.Time
	var lat, lon *float64
	if s.LastPosition != nil {
		posTS, lat, lon = w.nullTS(p.TS), &p.Lat, &p.Lon
	}
	aspects, aspectMS := aspectColumns(s.AspectTS)
	producer := latestAspect(s)
	w.put(tFlights, s.GUFI, s.IFPLID, s.Callsign, s.ICAO24, s.ADEP, s.ADES, w.nullTS(s.EOBT), s.AircraftType,
		s.Route, s.CruiseLevel, s.STAR, string(s.Lifecycle), posTS, lat, lon,
		alt, gs, trk, vr, nullBool(ground),
		s.Squawk, boolU8(s.Emergency), aspects, aspectMS, s.EventCount,
		w.clamp(producer), producer.UnixMilli(), w.clamp(s.UpdatedTS), FlightVersion(s))
}

// aspectColumns are the aspects and aspect_ts_ms columns: names sorted,
// times in Unix milliseconds.
func aspectColumns(m map[string]time.Time) ([]string, []int64) {
	aspects := make([]string, 0, len(m))
	for k := range m {
		aspects = append(aspects, k)
	}
	slices.Sort(aspects)
	ms := make([]int64, len(aspects))
	for i, k := range aspects {
		ms[i] = m[k].UnixMilli()
	}
	return aspects, ms
}

// addAircraft writes an aircraft snapshot to aircraft. Its version is the
// message count, which grows with every snapshot of the aircraft.
func (w *Writer) addAircraft(ctx context.Context, r *kgo.Record) {
	if r.Value == nil {
		return // compaction tombstone
	}
	a := &schemas.AircraftState{}
	if err := w.decode(ctx, r.Value, a); err != nil {
		w.undecodable(r, err)
		return
	}
	aspects, aspectMS := aspectColumns(a.AspectTS)
	w.put(tAircraft, a.ICAO24, a.Callsign, w.nullTS(a.PositionTS), a.Lat, a.Lon, a.AltitudeFt,
		a.GroundSpeedKt, a.TrackDeg, a.VerticalRateFpm, a.Squawk, nullBool(a.OnGround), aspects, aspectMS,
		w.clamp(a.FirstSeen), w.clamp(a.LastSeen), a.Messages, w.clamp(a.UpdatedTS), uint64(max(a.Messages, 0)))
}

// addAircraftPosition writes one entry of an aircraft's own history: a
// position, a revocation of one, or a velocity report. A revocation has the
// key of the position it revokes and a later offset, so aircraft_positions
// keeps the latest verdict on each position.
func (w *Writer) addAircraftPosition(ctx context.Context, r *kgo.Record) {
	e := &schemas.TrackEvent{}
	if err := w.decode(ctx, r.Value, e); err != nil {
		w.undecodable(r, err)
		return
	}
	ts := e.TS
	switch {
	case e.Revoked:
		w.put(tAircraftPositions, e.ICAO24, w.clamp(ts), ts.UnixMilli(), e.EventID, 0.0, 0.0, (*int32)(nil), (*uint8)(nil),
			uint8(1), r.Topic, uint32(r.Partition), uint64(r.Offset))
	case e.Position != nil:
		p := e.Position
		w.put(tAircraftPositions, e.ICAO24, w.clamp(ts), ts.UnixMilli(), e.EventID, p.Lat, p.Lon, p.AltitudeFt, nullBool(p.OnGround),
			uint8(0), r.Topic, uint32(r.Partition), uint64(r.Offset))
	case e.HasVelocity():
		w.put(tAircraftVelocities, e.ICAO24, w.clamp(ts), ts.UnixMilli(), e.EventID, e.GroundSpeedKt, e.TrackDeg, e.VerticalRateFpm,
			r.Topic, uint32(r.Partition), uint64(r.Offset))
	default:
		w.log.Debug("aircraft history record without position or velocity skipped", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset)
	}
}

// latestAspect is the newest per-aspect producer timestamp of s, the zero
// time when it has none.
func latestAspect(s *schemas.FlightState) time.Time {
	var latest time.Time
	for _, t := range s.AspectTS {
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

// versionCountBits is how many low bits of a flights version hold the event
// count.
const versionCountBits = 20

// FlightVersion is the flights.version of a snapshot, by which
// ReplacingMergeTree keeps the newest state per GUFI: the newest per-aspect
// producer timestamp in Unix milliseconds (0 if none or before 1970) shifted
// left 20 bits, plus EventCount saturated at 2^20-1 as the tie-breaker for
// snapshots whose newest aspect is equally old (a late update to an older
// aspect). It fits a UInt64 until the year 2527.
func FlightVersion(s *schemas.FlightState) uint64 {
	ms := max(latestAspect(s).UnixMilli(), 0)
	n := min(max(s.EventCount, 0), 1<<versionCountBits-1)
	return uint64(ms)<<versionCountBits | uint64(n)
}

// addEvent writes a domain event to flight_events and, for a position, to
// positions.
func (w *Writer) addEvent(ctx context.Context, r *kgo.Record) {
	e := &schemas.DomainEvent{}
	if err := w.decode(ctx, r.Value, e); err != nil {
		w.undecodable(r, err)
		return
	}
	w.sample(e.Feed, "processed", e.EmittedTS)
	var (
		eventTS, eobt, prevEOBT               *time.Time
		plan                                  schemas.FlightPlan
		changed                               []string
		squawk, alertID, alertKind, otherGUFI string
		rule, detail, rejectedID, adep, ades  string
		pos                                   = &schemas.Position{}
		lat, lon                              *float64
		payload                               any
	)
	switch {
	case e.FlightPlanned != nil:
		plan, payload = e.FlightPlanned.Plan, e.FlightPlanned
	case e.FlightPlanChanged != nil:
		plan, changed, payload = e.FlightPlanChanged.Plan, e.FlightPlanChanged.Changed, e.FlightPlanChanged
	case e.FlightCancelled != nil:
		detail, payload = e.FlightCancelled.Reason, e.FlightCancelled
	case e.FlightDelayed != nil:
		eobt, prevEOBT, payload = w.nullTS(e.FlightDelayed.NewEOBT), w.nullTS(e.FlightDelayed.PreviousEOBT), e.FlightDelayed
	case e.FlightDeparted != nil:
		adep, eventTS, payload = e.FlightDeparted.ADEP, w.nullTS(e.FlightDeparted.DepartureTS), e.FlightDeparted
	case e.FlightArrived != nil:
		ades, eventTS, payload = e.FlightArrived.ADES, w.nullTS(e.FlightArrived.ArrivalTS), e.FlightArrived
	case e.PositionReported != nil:
		p := e.PositionReported.Position
		pos, eventTS, lat, lon, payload = &p, w.nullTS(p.TS), &p.Lat, &p.Lon, e.PositionReported
	case e.EmergencyDeclared != nil:
		squawk, detail, payload = e.EmergencyDeclared.Squawk, e.EmergencyDeclared.Detail, e.EmergencyDeclared
	case e.AlertRaised != nil:
		a := e.AlertRaised
		alertID, alertKind, otherGUFI, detail, payload = a.AlertID, a.Kind, a.OtherGUFI, a.Message, a
	case e.InvariantViolated != nil:
		v := e.InvariantViolated
		rule, detail, rejectedID, payload = v.Rule, v.Detail, v.RejectedEventID, v
	case e.EnteredCoverage != nil:
		eventTS, payload = w.nullTS(e.EnteredCoverage.EntryTS), e.EnteredCoverage
	}
	if plan != (schemas.FlightPlan{}) {
		adep, ades, eobt = plan.ADEP, plan.ADES, w.nullTS(plan.EOBT)
	}
	var js []byte
	if p := e.PositionReported; p != nil {
		js = positionPayloadJSON(make([]byte, 0, 256), &p.Position)
	} else if payload != nil {
		var err error
		if js, err = json.Marshal(payload); err != nil {
			// Cannot happen for these plain structs; keep the row anyway.
			js = fmt.Appendf(nil, "%q", err.Error())
		}
	}
	w.put(tFlightEvents, e.EventID, e.GUFI, string(e.Type), w.clamp(e.ProducerTS), e.ProducerTS.UnixMilli(),
		w.clamp(e.EmittedTS), e.Feed, strs(e.Cause), eventTS,
		plan.IFPLID, plan.Callsign, adep, ades, eobt, prevEOBT, plan.AircraftType, plan.Route, plan.CruiseLevel, plan.STAR,
		strs(changed), squawk, alertID, alertKind, otherGUFI, rule, detail, rejectedID,
		pos.ICAO24, lat, lon, pos.AltitudeFt, pos.GroundSpeedKt, pos.TrackDeg, pos.VerticalRateFpm, nullBool(pos.OnGround),
		string(js), r.Topic, uint32(r.Partition), uint64(r.Offset))
	if e.PositionReported == nil {
		return
	}
	ts := pos.TS
	if ts.IsZero() {
		ts = e.ProducerTS // a position always has a time; never key on 1970
	}
	w.put(tPositions, e.GUFI, w.clamp(ts), ts.UnixMilli(), pos.ICAO24, pos.Lat, pos.Lon,
		pos.AltitudeFt, pos.GroundSpeedKt, pos.TrackDeg, pos.VerticalRateFpm, nullBool(pos.OnGround),
		e.EventID, e.Feed, w.clamp(e.ProducerTS), w.clamp(e.EmittedTS))
}

func (w *Writer) putRaw(r *kgo.Record, id, feed, format, formatVersion, key string, producerTS time.Time, producerSrc string,
	ingestTS time.Time, adapter, origin string, raw []byte, outcome, reasonCode, reason string) {
	w.put(tRawEvents, id, feed, format, formatVersion, key,
		w.clamp(producerTS), producerTS.UnixMilli(), producerSrc, w.clamp(ingestTS),
		adapter, origin, string(raw), outcome, reasonCode, reason,
		r.Topic, uint32(r.Partition), uint64(r.Offset))
}

// undecodable stores a record no schema decodes as a rejected raw_events row,
// whatever topic it came from.
func (w *Writer) undecodable(r *kgo.Record, err error) {
	if w.metrics != nil {
		w.metrics.undecodable.WithLabelValues(r.Topic).Inc()
	}
	w.log.Warn("record matches no known schema; stored as rejected", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
	w.putRaw(r, fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset), "", "", "", "",
		r.Timestamp, string(schemas.FromRecord), r.Timestamp,
		"", fmt.Sprintf("kafka:%s/%d/%d", r.Topic, r.Partition, r.Offset), r.Value,
		OutcomeRejected, "sink.undecodable", err.Error())
}

// nullTS is a Nullable timestamp column value: NULL for the zero time.
func (w *Writer) nullTS(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	c := w.clamp(t)
	return &c
}

func nullBool(b *bool) *uint8 {
	if b == nil {
		return nil
	}
	v := boolU8(*b)
	return &v
}

func boolU8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// strs is never nil, so an Array column gets [] rather than a driver error.
func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// positionPayloadJSON appends the JSON encoding/json gives a
// *schemas.PositionReported, written by hand: positions are most domain
// events, and reflection-based encoding was a tenth of the sink's CPU.
// TestPositionPayloadJSON checks it against encoding/json.
func positionPayloadJSON(b []byte, p *schemas.Position) []byte {
	b = append(b, `{"Position":{"TS":`...)
	b = append(b, '"')
	b = p.TS.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","ICAO24":`...)
	b = jsonString(b, p.ICAO24)
	b = append(b, `,"Lat":`...)
	b = jsonFloat(b, p.Lat)
	b = append(b, `,"Lon":`...)
	b = jsonFloat(b, p.Lon)
	b = append(b, `,"AltitudeFt":`...)
	b = jsonOptInt(b, p.AltitudeFt)
	b = append(b, `,"GroundSpeedKt":`...)
	b = jsonOptFloat(b, p.GroundSpeedKt)
	b = append(b, `,"TrackDeg":`...)
	b = jsonOptFloat(b, p.TrackDeg)
	b = append(b, `,"VerticalRateFpm":`...)
	b = jsonOptInt(b, p.VerticalRateFpm)
	b = append(b, `,"OnGround":`...)
	switch {
	case p.OnGround == nil:
		b = append(b, "null"...)
	case *p.OnGround:
		b = append(b, "true"...)
	default:
		b = append(b, "false"...)
	}
	return append(b, "}}"...)
}

func jsonOptInt(b []byte, v *int32) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*v), 10)
}

func jsonOptFloat(b []byte, v *float64) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return jsonFloat(b, *v)
}

// jsonFloat formats f as encoding/json does; NaN and infinities, which JSON
// cannot hold, become null.
func jsonFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// As encoding/json: e-07 becomes e-7.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// jsonString appends s quoted as encoding/json quotes it: plain printable
// ASCII as is, anything else through encoding/json itself.
func jsonString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
