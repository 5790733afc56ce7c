package flight

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

// keyEOBT formats the date and time of a plan key.
func keyEOBT(t time.Time) (eobd, eobt string) {
	if t.IsZero() {
		return "", ""
	}
	t = t.UTC()
	return t.Format("060102"), t.Format("1504")
}

// planAnchor is the composite key of a plan message, the anchor of the
// flight it creates: ADEP/EOBD/EOBT/ARCID/ADES.
func planAnchor(m *PlanMsg, at Stamp) string {
	d, t := keyEOBT(m.EOBT)
	a := "P/" + m.ADEP + "/" + d + "/" + t + "/" + m.ARCID + "/" + m.ADES
	if m.EOBT.IsZero() {
		a += "@" + fmt.Sprint(at.TS) + "/" + at.EventID // DEP or ARR first: no EOBT to name it by
	}
	return a
}

// matchPlan finds the flight a plan message names: by GUFI; by IFPLID; by
// ADEP and ADES (filed or current) with the nearest EOBT within PlanMatch
// of any message of the flight; for messages without EOBT (DEP, ARR) the
// flight with that ADEP and ADES whose EOBT is the latest before the
// message's actual time. -1 when none.
func (s *Step) matchPlan(st *State, m *PlanMsg, t int64) int {
	if m.GUFI != "" {
		return slices.IndexFunc(st.Flights, func(f Flight) bool { return f.GUFI == m.GUFI })
	}
	if m.IFPLID != "" {
		if i := slices.IndexFunc(st.Flights, func(f Flight) bool { return f.Plan.IFPLID == m.IFPLID }); i >= 0 {
			return i
		}
	}
	if m.ADEP == "" {
		return -1
	}
	sameRoute := func(f *Flight, e *PlanMsg) bool {
		return e.ADEP == m.ADEP && (e.ADES == m.ADES || f.Plan.ADES == m.ADES || (m.ADES == "" && e.ADES != ""))
	}
	best, bestDist := -1, int64(math.MaxInt64)
	ref := m.EOBT
	if ref.IsZero() {
		ref = m.ATD
	}
	if ref.IsZero() {
		ref = m.ATA
	}
	if ref.IsZero() {
		ref = time.Unix(0, t)
	}
	r := ref.UnixNano()
	for i := range st.Flights {
		f := &st.Flights[i]
		if f.Plan.ADEP != "" && f.Plan.ADEP != m.ADEP && !slices.ContainsFunc(f.Plans, func(e PlanEntry) bool { return e.Msg.ADEP == m.ADEP }) {
			continue
		}
		cands := make([]int64, 0, len(f.Plans)+1)
		if !f.Plan.EOBT.IsZero() && (f.Plan.ADEP == m.ADEP) && (f.Plan.ADES == m.ADES || m.ADES == "") {
			cands = append(cands, f.Plan.EOBT.UnixNano())
		}
		for j := range f.Plans {
			e := &f.Plans[j].Msg
			if !sameRoute(f, e) || e.EOBT.IsZero() {
				continue
			}
			cands = append(cands, e.EOBT.UnixNano())
		}
		for _, c := range cands {
			d := r - c
			if m.EOBT.IsZero() {
				// An actual time follows the EOBT: the latest EOBT before it
				// (allowing Before for an early departure).
				if d < -int64(s.cfg.Before) || d > int64(s.cfg.After) {
					continue
				}
				d += int64(s.cfg.Before)
			} else {
				d = max(d, -d)
				if d > int64(s.cfg.PlanMatch) {
					continue
				}
			}
			if d < bestDist {
				best, bestDist = i, d
			}
		}
	}
	return best
}

// attachTrackOnly finds a flight no filing names yet (one founded by track
// evidence, or by a DEP or ARR held too long) whose first evidence lies in
// the window of a plan with EOBT e: a plan arriving after the track attaches
// to it and keeps its GUFI. The first evidence is the first position, else
// the actual departure or arrival time. Messages without EOBT go by ATD,
// and an ARR by arrivedTrackOnly.
func (s *Step) attachTrackOnly(st *State, m *PlanMsg) int {
	ref := m.EOBT
	if ref.IsZero() {
		ref = m.ATD
	}
	if ref.IsZero() && !m.ATA.IsZero() {
		return s.arrivedTrackOnly(st, m)
	}
	if ref.IsZero() {
		return -1
	}
	e := ref.UnixNano()
	best, bestDist := -1, int64(math.MaxInt64)
	for i := range st.Flights {
		f := &st.Flights[i]
		if !unfiled(f, m) {
			continue
		}
		first := f.TrackFirst
		if first == 0 {
			first = f.ATD
		}
		if first == 0 {
			first = f.ATA
		}
		if first == 0 || first < e-int64(s.cfg.Before) || first > e+int64(s.cfg.After) {
			continue
		}
		if d := max(first-e, e-first); d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}

// unfiled reports whether f is a flight no filing names yet that m does not
// contradict (a departure or destination of its messages differing from m's).
func unfiled(f *Flight, m *PlanMsg) bool {
	if f.Filed || f.Cancelled {
		return false
	}
	for i := range f.Plans {
		p := &f.Plans[i].Msg
		if (p.ADEP != "" && m.ADEP != "" && p.ADEP != m.ADEP) || (p.ADES != "" && m.ADES != "" && p.ADES != m.ADES) {
			return false
		}
	}
	return true
}

func (s *Step) applyPlan(st *State, in *Input, at Stamp, out []schemas.DomainEvent, res *Result) []schemas.DomainEvent {
	m := in.Plan
	if m.Title == TitleNone || m.Title >= numTitles {
		res.Outcome, res.Reason = OutcomeInvalid, ReasonBadPlan
		return out
	}
	fi := s.matchPlan(st, m, at.TS)
	if fi < 0 && m.GUFI == "" && m.ADEP != "" {
		fi = s.attachTrackOnly(st, m)
		if fi < 0 {
			if m.Title != TitleIFPL {
				s.hold(st, in, at)
				res.Outcome, res.Reason = OutcomeBuffered, ReasonNoFlightYet
				return out
			}
			fi = s.newFlight(st, planAnchor(m, at))
		}
	}
	return s.applyPlanTo(st, fi, in, at, out, res)
}

// hold keeps a plan message that names no flight yet in st.Pending.
func (s *Step) hold(st *State, in *Input, at Stamp) {
	msg := *in.Plan
	msg.EOBT, msg.ATD, msg.ATA = msg.EOBT.UTC(), msg.ATD.UTC(), msg.ATA.UTC()
	e := PlanEntry{Stamp: at, Feed: in.Feed, Msg: msg}
	i, found := slices.BinarySearchFunc(st.Pending, at, func(e PlanEntry, t Stamp) int { return e.Stamp.Compare(t) })
	if !found {
		st.Pending = slices.Insert(st.Pending, i, e)
	}
}

// drain applies the held plan messages that now match a flight, and lets
// those held too long (older than Retention behind the newest input, or
// beyond MaxPending) found a flight of their own.
func (s *Step) drain(st *State, out []schemas.DomainEvent) []schemas.DomainEvent {
	cut := st.MaxTS - int64(s.cfg.Retention)
	for i := 0; i < len(st.Pending); {
		e := st.Pending[i]
		m := &e.Msg
		fi := s.matchPlan(st, m, e.Stamp.TS)
		if fi < 0 {
			fi = s.attachTrackOnly(st, m)
		}
		if fi < 0 && (e.Stamp.TS < cut || len(st.Pending) > s.cfg.MaxPending) {
			fi = s.newFlight(st, planAnchor(m, e.Stamp))
		}
		if fi < 0 {
			i++
			continue
		}
		st.Pending = slices.Delete(st.Pending, i, i+1)
		in := Input{EventID: e.Stamp.EventID, Feed: e.Feed, TS: time.Unix(0, e.Stamp.TS).UTC(), Plan: m}
		var res Result
		out = s.applyPlanTo(st, fi, &in, e.Stamp, out, &res)
		i = 0 // a flight found or changed may match earlier held messages
	}
	if len(st.Pending) == 0 {
		st.Pending = nil
	}
	return out
}

// applyPlanTo applies plan message in to flight fi.
func (s *Step) applyPlanTo(st *State, fi int, in *Input, at Stamp, out []schemas.DomainEvent, res *Result) []schemas.DomainEvent {
	m := in.Plan
	if fi < 0 && m.ADEP == "" {
		// An amendment without key (JSON route amendment by callsign).
		fi = s.activeFlight(st, "", at.TS)
	}
	if fi < 0 {
		res.Outcome, res.Reason = OutcomeInvalid, ReasonNoFlight
		return out
	}
	f := &st.Flights[fi]
	res.GUFI = f.GUFI
	i, found := slices.BinarySearchFunc(f.Plans, at, func(e PlanEntry, t Stamp) int { return e.Stamp.Compare(t) })
	if found || at == f.BaseStamp {
		res.Outcome = OutcomeDuplicate
		return out
	}
	if !f.BaseStamp.IsZero() && !at.After(f.BaseStamp) {
		res.Outcome, res.Reason, res.Lateness = OutcomeStale, ReasonTooLate, time.Duration(f.BaseStamp.TS-at.TS)
		return out
	}
	f.EventCount++
	msg := *m
	msg.EOBT, msg.ATD, msg.ATA = msg.EOBT.UTC(), msg.ATD.UTC(), msg.ATA.UTC()
	f.Plans = slices.Insert(f.Plans, i, PlanEntry{Stamp: at, Feed: in.Feed, Msg: msg})
	if at.After(f.Latest[AspectPlan]) {
		f.Latest[AspectPlan] = at
		res.Outcome = OutcomeApplied
	} else {
		res.Outcome, res.Lateness = OutcomeStale, time.Duration(f.Latest[AspectPlan].TS-at.TS)
	}
	if t := m.Title; t == TitleCNL || t == TitleDEP || t == TitleARR {
		if at.After(f.Latest[AspectStatus]) {
			f.Latest[AspectStatus] = at
		}
	}
	out = s.refold(f, in, i, out)
	if r := f.Plans[i].Rule; r != "" {
		res.Outcome, res.Reason, res.Lateness = OutcomeInvariantViolated, r, 0
	}
	// Bound the kept messages: the oldest are folded into the base.
	for len(f.Plans) > s.cfg.MaxPlanMessages {
		f.BaseStamp = f.Plans[0].Stamp
		f.Base, _ = s.foldOne(f.Base, &f.Plans[0], f.FirstAirborne)
		f.Plans = slices.Delete(f.Plans, 0, 1)
	}
	return s.lifecycleEvents(f, in, out)
}

// effect is what folding one plan message did.
type effect struct {
	rule, detail string
	typ          schemas.EventType // the event an accepted message raises; "" for none
	changed      []string
	prevEOBT     time.Time
}

// foldOne applies plan message e to fold state p, or rejects it by a rule.
// firstAirborne is the flight's earliest airborne position (0 when none).
func (s *Step) foldOne(p PlanFold, e *PlanEntry, firstAirborne int64) (PlanFold, effect) {
	m := &e.Msg
	t := e.TS
	var ef effect
	departed := (p.ATD != 0 && p.ATD <= t) || (firstAirborne != 0 && firstAirborne <= t)
	reject := func(rule, format string, args ...any) (PlanFold, effect) {
		return p, effect{rule: rule, detail: fmt.Sprintf(format, args...)}
	}
	if p.Cancelled && m.Title != TitleIFPL && m.Title != TitleCNL {
		return reject(RuleCancelledNoUpdate, "flight was cancelled; a %s is not accepted, only a re-filing (new IFPL/FPL)", m.Title)
	}
	// fill sets an empty plan field from the message key.
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set := func(name string, dst *string, v string) {
		if v != "" && *dst != v {
			if *dst != "" || m.Title == TitleCHG {
				ef.changed = append(ef.changed, name)
			}
			*dst = v
		}
	}
	newADES := m.NewADES
	if m.Title == TitleIFPL && p.Plan.ADES != "" && m.ADES != p.Plan.ADES {
		newADES = m.ADES
	}
	if newADES != "" && p.Plan.ADES != "" && newADES != p.Plan.ADES {
		star := m.STAR
		ok := star != "" && (s.cfg.Stars[newADES] == nil || s.cfg.Stars.Valid(newADES, star))
		if !ok {
			return reject(RuleDestChangeSTAR, "destination change %s -> %s (STAR %q) must carry a STAR valid for %s (valid: %s); flight is %s with STAR %q",
				p.Plan.ADES, newADES, star, newADES, strings.Join(s.cfg.Stars[newADES], " "), p.lifecycleName(departed), p.Plan.STAR)
		}
	}
	newADEP := m.NewADEP
	if m.Title == TitleIFPL && p.Plan.ADEP != "" && m.ADEP != p.Plan.ADEP {
		newADEP = m.ADEP
	}
	if newADEP != "" && p.Plan.ADEP != "" && newADEP != p.Plan.ADEP && departed {
		return reject(RuleDepartedADEPFixed, "flight departed from %s; a %s may not change the departure aerodrome to %s", p.Plan.ADEP, m.Title, newADEP)
	}
	switch m.Title {
	case TitleIFPL:
		wasFiled, wasCancelled := p.Filed, p.Cancelled
		set("ifplid", &p.Plan.IFPLID, m.IFPLID)
		set("adep", &p.Plan.ADEP, m.ADEP)
		set("ades", &p.Plan.ADES, m.ADES)
		if !m.EOBT.IsZero() && !m.EOBT.Equal(p.Plan.EOBT) {
			if !p.Plan.EOBT.IsZero() {
				ef.changed = append(ef.changed, "eobt")
			}
			p.Plan.EOBT = m.EOBT
		}
		set("aircraft_type", &p.Plan.AircraftType, m.AircraftType)
		set("route", &p.Plan.Route, m.Route)
		set("cruise_level", &p.Plan.CruiseLevel, m.CruiseLevel)
		set("star", &p.Plan.STAR, m.STAR)
		p.Filed, p.Cancelled = true, false
		switch {
		case !wasFiled || wasCancelled:
			ef.typ, ef.changed = schemas.EventFlightPlanned, nil
		case len(ef.changed) > 0:
			ef.typ = schemas.EventFlightPlanChanged
		}
	case TitleCHG:
		fill(&p.Plan.IFPLID, m.IFPLID)
		fill(&p.Plan.ADEP, m.ADEP)
		fill(&p.Plan.ADES, m.ADES)
		if p.Plan.EOBT.IsZero() {
			p.Plan.EOBT = m.EOBT
		}
		set("adep", &p.Plan.ADEP, m.NewADEP)
		set("ades", &p.Plan.ADES, m.NewADES)
		set("aircraft_type", &p.Plan.AircraftType, m.AircraftType)
		set("route", &p.Plan.Route, m.Route)
		set("cruise_level", &p.Plan.CruiseLevel, m.CruiseLevel)
		set("star", &p.Plan.STAR, m.STAR)
		if len(ef.changed) > 0 {
			ef.typ = schemas.EventFlightPlanChanged
		}
	case TitleDLA:
		fill(&p.Plan.ADEP, m.ADEP)
		fill(&p.Plan.ADES, m.ADES)
		if !m.EOBT.IsZero() && !m.EOBT.Equal(p.Plan.EOBT) {
			ef.prevEOBT, p.Plan.EOBT = p.Plan.EOBT, m.EOBT
			ef.typ = schemas.EventFlightDelayed
		}
	case TitleCNL:
		fill(&p.Plan.ADEP, m.ADEP)
		fill(&p.Plan.ADES, m.ADES)
		if p.Plan.EOBT.IsZero() {
			p.Plan.EOBT = m.EOBT
		}
		if departed {
			return reject(RuleNoCancelAfterDeparted, "flight departed before the cancellation at %s; an airborne flight is not cancelled", time.Unix(0, t).UTC().Format(time.RFC3339))
		}
		if !p.Cancelled {
			p.Cancelled, ef.typ = true, schemas.EventFlightCancelled
		}
	case TitleDEP:
		fill(&p.Plan.ADEP, m.ADEP)
		fill(&p.Plan.ADES, m.ADES)
		atd := m.ATD
		if atd.IsZero() {
			atd = time.Unix(0, t)
		}
		if p.ATA != 0 && atd.UnixNano() > p.ATA {
			return reject(RuleArrivalAfterDeparture, "departure at %s is after the arrival at %s", atd.UTC().Format(time.RFC3339), time.Unix(0, p.ATA).UTC().Format(time.RFC3339))
		}
		p.ATD, p.ATDEvent = atd.UnixNano(), e.Feed+"/"+e.EventID
	case TitleARR:
		fill(&p.Plan.ADEP, m.ADEP)
		fill(&p.Plan.ADES, m.ADES)
		ata := m.ATA
		if ata.IsZero() {
			ata = time.Unix(0, t)
		}
		dep := p.ATD
		if dep == 0 {
			dep = firstAirborne
		}
		if dep != 0 && ata.UnixNano()+int64(time.Minute) <= dep {
			return reject(RuleArrivalAfterDeparture, "arrival at %s is before the departure at %s", ata.UTC().Format(time.RFC3339), time.Unix(0, dep).UTC().Format(time.RFC3339))
		}
		p.ATA, p.ATAEvent = ata.UnixNano(), e.Feed+"/"+e.EventID
		p.ADARR = m.ADARR
		if p.ADARR == "" {
			p.ADARR = m.ADES
		}
	}
	return p, ef
}

func (p PlanFold) lifecycleName(departed bool) string {
	switch {
	case p.Cancelled:
		return "cancelled"
	case p.ATA != 0:
		return "landed"
	case departed:
		return "airborne"
	}
	return "planned"
}

// refold folds f's plan messages in Stamp order from the base and reports
// what changed: for the new entry (index added; -1 when a track fact
// changed) its event or violation; for every other entry whose verdict
// flipped, a violation (accepted before, rejected now) or its event
// (rejected before, accepted now). The verdicts are a function of the set of
// messages and the flight's first airborne time, hence of no arrival order.
func (s *Step) refold(f *Flight, in *Input, added int, out []schemas.DomainEvent) []schemas.DomainEvent {
	p := f.Base
	for j := range f.Plans {
		e := &f.Plans[j]
		before := p
		var ef effect
		p, ef = s.foldOne(p, e, f.FirstAirborne)
		prev := e.Rule
		e.Rule = ef.rule
		switch {
		case j == added && ef.rule != "":
			out = append(out, s.violation(f, in, ef.rule, ef.detail, e.EventID))
		case j == added:
			out = s.planEvent(f, in, e, before, p, ef, out)
		case prev == "" && ef.rule != "":
			out = append(out, s.violation(f, in, ef.rule, "revised by "+in.EventID+": "+ef.detail, e.EventID))
		case prev != "" && ef.rule == "":
			out = s.planEvent(f, in, e, before, p, ef, out)
		}
	}
	f.PlanFold = p
	if f.Plan.Callsign == "" {
		f.Plan.Callsign = f.firstARCID()
	}
	return out
}

func (f *Flight) firstARCID() string {
	for _, e := range f.Plans {
		if e.Msg.ARCID != "" {
			return e.Msg.ARCID
		}
	}
	return ""
}

func (s *Step) planEvent(f *Flight, in *Input, e *PlanEntry, before, after PlanFold, ef effect, out []schemas.DomainEvent) []schemas.DomainEvent {
	if ef.typ == "" {
		return out
	}
	ev := s.event(f, ef.typ, in, e.EventID)
	ev.ProducerTS = time.Unix(0, e.TS).UTC()
	plan := after.Plan
	if plan.Callsign == "" {
		plan.Callsign = e.Msg.ARCID
	}
	switch ef.typ {
	case schemas.EventFlightPlanned:
		ev.FlightPlanned = &schemas.FlightPlanned{Plan: plan}
	case schemas.EventFlightPlanChanged:
		ev.FlightPlanChanged = &schemas.FlightPlanChanged{Plan: plan, Changed: ef.changed}
	case schemas.EventFlightDelayed:
		ev.FlightDelayed = &schemas.FlightDelayed{NewEOBT: after.Plan.EOBT, PreviousEOBT: ef.prevEOBT}
	case schemas.EventFlightCancelled:
		ev.FlightCancelled = &schemas.FlightCancelled{Reason: "CNL " + e.EventID}
	}
	return append(out, ev)
}

// arrivedTrackOnly finds the unfiled flight with track evidence whose track
// segment an arrival at m.ATA ends: ATA within [TrackFirst, TrackLast +
// LegGap], the nearest to TrackLast.
func (s *Step) arrivedTrackOnly(st *State, m *PlanMsg) int {
	ata := m.ATA.UnixNano()
	best, bestDist := -1, int64(math.MaxInt64)
	for i := range st.Flights {
		f := &st.Flights[i]
		if !unfiled(f, m) || f.TrackFirst == 0 {
			continue
		}
		if ata < f.TrackFirst || ata > f.TrackLast+int64(s.cfg.LegGap) {
			continue
		}
		if d := max(ata-f.TrackLast, f.TrackLast-ata); d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}
