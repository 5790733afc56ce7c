package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/schemas"
)

const stateSynopsis = `Usage: contrail state (--gufi GUFI [--at TIME] | --callsign CALLSIGN) [flags]

Rebuilds the state of one flight as it was at --at from the domain-event log
(contrail.flights.events, read read_committed from its start up to its last
stable offsets now), not from ClickHouse or the state snapshots: the events
of the GUFI whose producer timestamp is at or before --at are folded in
producer-time order (ties by event id, so arrival order does not matter)
into the plan (the latest FLIGHT_PLANNED or FLIGHT_PLAN_CHANGED, the EOBT of
the latest FLIGHT_DELAYED), the lifecycle (CANCELLED, LANDED, AIRBORNE,
PLANNED, from FLIGHT_CANCELLED, FLIGHT_ARRIVED, FLIGHT_DEPARTED and plan
events), the last position, the squawk and emergency, the latest producer
time per aspect and the number of events. Without --at, every event counts.
Alerts and invariant violations are counted.

--callsign lists the GUFIs whose plan events carry that callsign, with the
producer-time span of their events.

The whole topic is read and filtered by key (the GUFI), so the time grows
with the log.`

// stateSettings are the flags of 'state'.
type stateSettings struct {
	gufi, callsign string
	at             time.Time
	json           bool
}

func stateCmd(ctx context.Context, env Env, args []string) error {
	var (
		o  obsSettings
		k  kafkaSettings
		ss stateSettings
	)
	fs := newFlagSet("state", stateSynopsis, env, &o)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	fs.StringVar(&ss.gufi, "gufi", "", "GUFI of the flight whose state is rebuilt")
	fs.StringVar(&ss.callsign, "callsign", "", "list the GUFIs of this callsign instead")
	fs.Var(timeValue{&ss.at}, "at", "RFC 3339 time: fold only events with a producer timestamp at or before it (default: all)")
	fs.BoolVar(&ss.json, "json", false, "print JSON instead of text")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if (ss.gufi == "") == (ss.callsign == "") {
		return configErr("give exactly one of --gufi and --callsign")
	}
	if ss.callsign != "" && !ss.at.IsZero() {
		return configErr("--at goes with --gufi")
	}
	if len(k.brokers) == 0 {
		return configErr("--brokers is required (or CONTRAIL_BROKERS)")
	}
	log, err := o.logger(env)
	if err != nil {
		return err
	}
	admin, err := connectKafka(ctx, k, "admin", log, nil)
	if err != nil {
		return err
	}
	defer admin.Close()
	codec, err := k.registry.codec(schemas.MustRegistry())
	if err != nil {
		return &ConfigError{Err: err}
	}
	topic := k.names().FlightEvents()
	ends, err := kadm.NewClient(admin).ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("list the last stable offsets of %s: %w", topic, err)
	}
	stop := map[string]map[int32]int64{topic: {}}
	ends.Each(func(o kadm.ListedOffset) { stop[topic][o.Partition] = o.Offset })
	var (
		events   []*schemas.DomainEvent
		total    int64
		decodeKO int64
	)
	err = readLog(ctx, k, log, stop, func(f kgo.Fetches) {
		f.EachRecord(func(r *kgo.Record) {
			total++
			if ss.gufi != "" && string(r.Key) != ss.gufi {
				return
			}
			e := &schemas.DomainEvent{}
			if err := codec.Decode(ctx, r.Value, e); err != nil {
				decodeKO++
				log.Warn("undecodable domain event skipped", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
				return
			}
			if ss.gufi != "" && e.GUFI != ss.gufi {
				return
			}
			events = append(events, e)
		})
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	if ss.callsign != "" {
		return printCallsign(env.Stdout, ss, callsignFlights(events, ss.callsign), topic, total)
	}
	if len(events) == 0 {
		return fmt.Errorf("no domain event of GUFI %s in %s (%d events read)", ss.gufi, topic, total)
	}
	v := FoldFlight(events, ss.at)
	v.Source, v.LogEvents, v.Undecodable = topic, total, decodeKO
	if ss.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	printFlightView(env.Stdout, v)
	return nil
}

// FlightView is a flight's state folded from its domain events: what
// 'contrail state' prints. It is derived from the event log only.
type FlightView struct {
	GUFI         string               `json:"gufi"`
	At           *time.Time           `json:"at,omitempty"` // nil: every event
	IFPLID       string               `json:"ifplid,omitempty"`
	Callsign     string               `json:"callsign,omitempty"`
	ICAO24       string               `json:"icao24,omitempty"`
	ADEP         string               `json:"adep,omitempty"`
	ADES         string               `json:"ades,omitempty"`
	EOBT         *time.Time           `json:"eobt,omitempty"`
	AircraftType string               `json:"aircraft_type,omitempty"`
	Route        string               `json:"route,omitempty"`
	CruiseLevel  string               `json:"cruise_level,omitempty"`
	STAR         string               `json:"star,omitempty"`
	Lifecycle    schemas.Lifecycle    `json:"lifecycle"`
	LastPosition *schemas.Position    `json:"last_position,omitempty"`
	Squawk       string               `json:"squawk,omitempty"`
	Emergency    bool                 `json:"emergency"`
	AspectTS     map[string]time.Time `json:"aspect_ts"`
	EventCount   int                  `json:"event_count"`   // events folded (producer_ts <= at)
	LaterEvents  int                  `json:"later_events"`  // events of the GUFI after at
	Alerts       int                  `json:"alerts"`        // ALERT_RAISED folded
	Violations   int                  `json:"violations"`    // INVARIANT_VIOLATED folded
	LastEvent    string               `json:"last_event_id"` // newest folded event
	LastType     schemas.EventType    `json:"last_event_type"`
	Source       string               `json:"source"`      // the topic read
	LogEvents    int64                `json:"log_events"`  // records read from it
	Undecodable  int64                `json:"undecodable"` // records of the GUFI that did not decode
}

// FoldFlight folds the events of one GUFI with a producer timestamp at or
// before at (every event if at is zero) in (producer time, event id) order,
// so the result does not depend on the order of events.
// events are in log order: an event id that occurs twice (a replay, or a
// movement the flight step emitted again once its aerodrome or time became
// known) counts once, as its last occurrence, like flight_events FINAL.
func FoldFlight(events []*schemas.DomainEvent, at time.Time) FlightView {
	latest := make(map[string]int, len(events))
	for i, e := range events {
		latest[e.EventID] = i
	}
	es := make([]*schemas.DomainEvent, 0, len(latest))
	for i, e := range events {
		if latest[e.EventID] == i {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b *schemas.DomainEvent) int {
		return cmp.Or(a.ProducerTS.Compare(b.ProducerTS), cmp.Compare(a.EventID, b.EventID))
	})
	v := FlightView{AspectTS: map[string]time.Time{}}
	if !at.IsZero() {
		a := at.UTC()
		v.At = &a
	}
	var planned, departed, landed, cancelled bool
	aspect := func(name string, ts time.Time) {
		if ts.After(v.AspectTS[name]) {
			v.AspectTS[name] = ts.UTC()
		}
	}
	plan := func(p schemas.FlightPlan) {
		planned = true
		v.IFPLID, v.Callsign, v.ADEP, v.ADES = p.IFPLID, p.Callsign, p.ADEP, p.ADES
		v.AircraftType, v.Route, v.CruiseLevel, v.STAR = p.AircraftType, p.Route, p.CruiseLevel, p.STAR
		v.EOBT = nil
		if !p.EOBT.IsZero() {
			t := p.EOBT.UTC()
			v.EOBT = &t
		}
	}
	for _, e := range es {
		v.GUFI = e.GUFI
		if !at.IsZero() && e.ProducerTS.After(at) {
			v.LaterEvents++
			continue
		}
		v.EventCount++
		v.LastEvent, v.LastType = e.EventID, e.Type
		switch {
		case e.FlightPlanned != nil:
			plan(e.FlightPlanned.Plan)
			aspect("plan", e.ProducerTS)
		case e.FlightPlanChanged != nil:
			plan(e.FlightPlanChanged.Plan)
			aspect("plan", e.ProducerTS)
		case e.FlightDelayed != nil:
			t := e.FlightDelayed.NewEOBT.UTC()
			v.EOBT = &t
			aspect("plan", e.ProducerTS)
		case e.FlightCancelled != nil:
			cancelled = true
			aspect("status", e.ProducerTS)
		case e.FlightDeparted != nil:
			departed = true
			if v.ADEP == "" {
				v.ADEP = e.FlightDeparted.ADEP
			}
			aspect("status", e.ProducerTS)
		case e.FlightArrived != nil:
			landed = true
			if v.ADES == "" {
				v.ADES = e.FlightArrived.ADES
			}
			aspect("status", e.ProducerTS)
		case e.PositionReported != nil:
			p := e.PositionReported.Position
			if p.TS.IsZero() {
				p.TS = e.ProducerTS
			}
			if v.LastPosition == nil || !p.TS.Before(v.LastPosition.TS) {
				p.TS = p.TS.UTC()
				v.LastPosition = &p
				if p.ICAO24 != "" {
					v.ICAO24 = p.ICAO24
				}
			}
			aspect("position", e.ProducerTS)
		case e.EmergencyDeclared != nil:
			v.Squawk, v.Emergency = e.EmergencyDeclared.Squawk, true
			aspect("squawk", e.ProducerTS)
		case e.AlertRaised != nil:
			v.Alerts++
			aspect("alert", e.ProducerTS)
		case e.InvariantViolated != nil:
			v.Violations++
		}
	}
	switch {
	case cancelled:
		v.Lifecycle = schemas.LifecycleCancelled
	case landed:
		v.Lifecycle = schemas.LifecycleLanded
	case departed:
		v.Lifecycle = schemas.LifecycleAirborne
	case planned:
		v.Lifecycle = schemas.LifecyclePlanned
	default:
		v.Lifecycle = schemas.LifecycleUnknown
	}
	return v
}

func printFlightView(w io.Writer, v FlightView) {
	at := "latest (every event)"
	if v.At != nil {
		at = v.At.Format(time.RFC3339Nano)
	}
	tsStr := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	fmt.Fprintf(w, "flight %s at %s\n", v.GUFI, at)
	fmt.Fprintf(w, "  derived from the domain-event log %s (%d events read, %d of this flight folded, %d later)\n",
		v.Source, v.LogEvents, v.EventCount, v.LaterEvents)
	line := func(k, val string) {
		if val != "" {
			fmt.Fprintf(w, "  %-14s %s\n", k, val)
		}
	}
	line("lifecycle", string(v.Lifecycle))
	line("callsign", v.Callsign)
	line("ifplid", v.IFPLID)
	line("icao24", v.ICAO24)
	line("route", fmt.Sprintf("%s -> %s", v.ADEP, v.ADES))
	line("eobt", tsStr(v.EOBT))
	line("aircraft type", v.AircraftType)
	line("cruise level", v.CruiseLevel)
	line("star", v.STAR)
	line("filed route", v.Route)
	if p := v.LastPosition; p != nil {
		s := fmt.Sprintf("%s %.5f %.5f", p.TS.Format(time.RFC3339Nano), p.Lat, p.Lon)
		if p.AltitudeFt != nil {
			s += fmt.Sprintf(" %d ft", *p.AltitudeFt)
		}
		if p.GroundSpeedKt != nil {
			s += fmt.Sprintf(" %.0f kt", *p.GroundSpeedKt)
		}
		if p.OnGround != nil && *p.OnGround {
			s += " on ground"
		}
		line("last position", s)
	}
	line("squawk", v.Squawk)
	fmt.Fprintf(w, "  %-14s %v\n", "emergency", v.Emergency)
	fmt.Fprintf(w, "  %-14s %d alerts, %d invariant violations\n", "audit", v.Alerts, v.Violations)
	aspects := make([]string, 0, len(v.AspectTS))
	for a := range v.AspectTS {
		aspects = append(aspects, a)
	}
	slices.Sort(aspects)
	for _, a := range aspects {
		line("latest "+a, v.AspectTS[a].Format(time.RFC3339Nano))
	}
	line("last event", fmt.Sprintf("%s %s", v.LastType, v.LastEvent))
}

// CallsignFlight is one GUFI of a callsign.
type CallsignFlight struct {
	GUFI   string    `json:"gufi"`
	ADEP   string    `json:"adep,omitempty"`
	ADES   string    `json:"ades,omitempty"`
	First  time.Time `json:"first_event"`
	Last   time.Time `json:"last_event"`
	Events int       `json:"events"`
}

// callsignFlights are the GUFIs whose plan events carry callsign, ordered by
// their first event.
func callsignFlights(events []*schemas.DomainEvent, callsign string) []CallsignFlight {
	mine := map[string]bool{}
	for _, e := range events {
		var p *schemas.FlightPlan
		switch {
		case e.FlightPlanned != nil:
			p = &e.FlightPlanned.Plan
		case e.FlightPlanChanged != nil:
			p = &e.FlightPlanChanged.Plan
		}
		if p != nil && p.Callsign == callsign {
			mine[e.GUFI] = true
		}
	}
	var byGUFI = map[string][]*schemas.DomainEvent{}
	for _, e := range events {
		if mine[e.GUFI] {
			byGUFI[e.GUFI] = append(byGUFI[e.GUFI], e)
		}
	}
	var out []CallsignFlight
	for g, es := range byGUFI {
		v := FoldFlight(es, time.Time{})
		f := CallsignFlight{GUFI: g, ADEP: v.ADEP, ADES: v.ADES, Events: v.EventCount}
		for _, e := range es {
			if f.First.IsZero() || e.ProducerTS.Before(f.First) {
				f.First = e.ProducerTS.UTC()
			}
			if e.ProducerTS.After(f.Last) {
				f.Last = e.ProducerTS.UTC()
			}
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b CallsignFlight) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.GUFI, b.GUFI))
	})
	return out
}

func printCallsign(w io.Writer, ss stateSettings, fl []CallsignFlight, topic string, total int64) error {
	if ss.json {
		if fl == nil {
			fl = []CallsignFlight{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(fl)
	}
	fmt.Fprintf(w, "flights of callsign %s in %s (%d events read):\n", ss.callsign, topic, total)
	if len(fl) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, f := range fl {
		fmt.Fprintf(w, "  %s  %s -> %s  %s .. %s  %d events\n", f.GUFI, f.ADEP, f.ADES,
			f.First.Format(time.RFC3339), f.Last.Format(time.RFC3339), f.Events)
	}
	return nil
}
