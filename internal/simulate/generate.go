package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Random streams, one per concern, so that changing the perturbation rates
// does not change the flights.
const (
	streamFlights = iota + 1
	streamSBS
	streamADEXP
	streamATS
)

// Probabilities of the per-flight scenarios.
const (
	pCancel    = 0.04
	pDelay     = 0.10
	pChange    = 0.10
	pArrMsg    = 0.40
	pEmergency = 0.03
	pSecondLeg = 0.15
)

var (
	airlines = []string{"DLH", "BAW", "AFR", "AUA", "WZZ", "EZY", "KLM", "SWR", "SAS", "LOT", "CSA", "RYR"}
	types    = []struct{ icao, wake string }{{"A320", "M"}, {"A321", "M"}, {"A319", "M"}, {"A20N", "M"},
		{"B738", "M"}, {"E190", "M"}, {"CRJ9", "M"}, {"A333", "H"}, {"B77W", "H"}}
)

// item is a record with its producer time before perturbation.
type item struct {
	raw    string
	flight string
	t      time.Time
}

// Generate simulates cfg. The result depends only on cfg: the same Config
// gives the same records and truth, byte for byte.
func Generate(cfg Config) (*Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Start = cfg.Start.UTC()
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), streamFlights)),
		callsigns: map[string]bool{}, icaos: map[string]bool{}}
	for i := range cfg.Flights {
		f := g.firstLeg(i + 1)
		g.flights = append(g.flights, f)
		if !f.Cancelled && g.rng.Float64() < pSecondLeg {
			g.flights = append(g.flights, g.secondLeg(f))
		}
		if cfg.Progress != nil {
			cfg.Progress(i+1, cfg.Flights)
		}
	}
	out := &Output{Truth: Truth{Seed: cfg.Seed, Start: cfg.Start, Duration: cfg.Duration.String(),
		PlanFormat: cfg.PlanFormat, Flights: g.flights}}
	seed := uint64(cfg.Seed)
	sbsItems := g.sbs
	g.sbs = nil // the records share the strings; let the items go
	out.SBS, out.Truth.Counts.SBS = perturb(sbsItems, cfg, rand.New(rand.NewPCG(seed, streamSBS)),
		DisorderWindow, LateMin, LateMax, garbageSBS)
	if cfg.adexp() {
		out.ADEXP, out.Truth.Counts.ADEXP = perturb(g.adexp, cfg, rand.New(rand.NewPCG(seed, streamADEXP)),
			PlanDisorderWindow, PlanLateMin, PlanLateMax, garbageADEXP)
	}
	if cfg.ats() {
		out.ATS, out.Truth.Counts.ATS = perturb(g.ats, cfg, rand.New(rand.NewPCG(seed, streamATS)),
			PlanDisorderWindow, PlanLateMin, PlanLateMax, garbageATS)
	}
	g.sbs, g.adexp, g.ats = nil, nil, nil
	return out, nil
}

type gen struct {
	cfg              Config
	rng              *rand.Rand
	callsigns, icaos map[string]bool
	flights          []Flight
	sbs, adexp, ats  []item
	ifplSeq          int
}

// identity of the aircraft and callsign shared by the legs of one rotation.
type identity struct {
	id, arcid, icao, typ, wake string
}

func (g *gen) firstLeg(n int) Flight {
	r := g.rng
	var id identity
	id.id = fmt.Sprintf("F%05d", n)
	for {
		// ICAO callsigns are at most 7 characters: DLH123, DLH5KF, DLH66T.
		cs := airlines[r.IntN(len(airlines))] + strconv.Itoa(1+r.IntN(999))
		if r.IntN(3) == 0 {
			cs = cs[:min(len(cs), 5)] + string(rune('A'+r.IntN(26))) + string(rune('A'+r.IntN(26)))
		}
		if !g.callsigns[cs] {
			g.callsigns[cs], id.arcid = true, cs
			break
		}
	}
	for {
		ic := fmt.Sprintf("%06X", 0x300000+r.IntN(0x200000))
		if !g.icaos[ic] {
			g.icaos[ic], id.icao = true, ic
			break
		}
	}
	t := types[r.IntN(len(types))]
	id.typ, id.wake = t.icao, t.wake
	a := r.IntN(len(Aerodromes))
	b := r.IntN(len(Aerodromes) - 1)
	if b >= a {
		b++
	}
	eobt := g.cfg.Start.Add(time.Duration(r.Int64N(int64(g.cfg.Duration)))).Truncate(time.Minute)
	return g.flight(id, 1, Aerodromes[a], Aerodromes[b], eobt, true)
}

func (g *gen) secondLeg(first Flight) Flight {
	id := identity{id: first.ID + "-2", arcid: first.ARCID, icao: first.ICAO24, typ: first.Plan.AircraftType, wake: first.Plan.Wake}
	eobt := first.Landing.Add(time.Duration(45+g.rng.IntN(75)) * time.Minute).Truncate(time.Minute).Add(time.Minute)
	return g.flight(id, 2, aerodrome(first.ADES), aerodrome(first.ADEP), eobt, false)
}

func aerodrome(icao string) Aerodrome {
	for _, a := range Aerodromes {
		if a.ICAO == icao {
			return a
		}
	}
	panic("simulate: unknown aerodrome " + icao)
}

// flight plans and flies one leg, appending its records to the feeds.
func (g *gen) flight(id identity, legNo int, dep, des Aerodrome, eobt time.Time, mayCancel bool) Flight {
	r := g.rng
	g.ifplSeq++
	f := Flight{ID: id.id, Leg: legNo, ARCID: id.arcid, ICAO24: id.icao, ADEP: dep.ICAO, ADES: des.ICAO,
		IFPLID: fmt.Sprintf("SM%08d", g.ifplSeq), EOBD: eobt.Format("060102"), EOBT: eobt.Format("1504")}
	f.Key = strings.Join([]string{f.ADEP, f.EOBD, f.EOBT, f.ARCID, f.ADES}, "/")
	f.Squawk = fmt.Sprintf("%o", 0o1000+r.IntN(0o6000)) // 1000-6777: never 7500/7600/7700
	// The route goes direct via a point off the great circle, on whole
	// minutes of arc so the ICAO route element is exact.
	direct := distanceNM(dep.Lat, dep.Lon, des.Lat, des.Lon)
	mlat, mlon := destination(dep.Lat, dep.Lon, bearing(dep.Lat, dep.Lon, des.Lat, des.Lon), direct/2)
	off := (5 + r.Float64()*35) * float64(1-2*r.IntN(2))
	mlat, mlon = destination(mlat, mlon, bearing(mlat, mlon, des.Lat, des.Lon)+90, off)
	mlat, mlon = math.Round(mlat*60)/60, math.Round(mlon*60)/60
	legs := [2]leg{newLeg(dep.Lat, dep.Lon, mlat, mlon), newLeg(mlat, mlon, des.Lat, des.Lon)}
	rfl := int(math.Min(380, math.Max(120, math.Round(direct/10)*10)))
	rfl = max(100, rfl-10*r.IntN(3))
	speed := 420 + 10*r.IntN(6)
	f.Plan = Plan{AircraftType: id.typ, Wake: id.wake, EOBT: eobt, Speed: fmt.Sprintf("N%04d", speed)}
	mid := latLon(mlat, mlon)
	route := func(fl int) string { return fmt.Sprintf("N%04dF%03d DCT %s DCT", speed, fl, mid) }

	filed := eobt.Add(-time.Duration(30+r.IntN(150)) * time.Minute)
	cancel := mayCancel && r.Float64() < pCancel
	delay := !cancel && r.Float64() < pDelay
	change := r.Float64() < pChange
	arrMsg := r.Float64() < pArrMsg
	emergency := r.Float64() < pEmergency
	newRFL := rfl
	if change {
		newRFL = max(100, rfl+20*(1-2*r.IntN(2)))
	}
	delayBy := time.Duration(15+r.IntN(46)) * time.Minute
	offBlockAfter := time.Duration(r.IntN(300)) * time.Second
	taxi := time.Duration(480+r.IntN(720)) * time.Second
	msOffset := time.Duration(r.IntN(1000)) * time.Millisecond
	emergencyAt, emergencyFor := r.Float64(), 120+r.IntN(180)

	// Fly first: the plan's EET comes from the trajectory.
	effEOBT := eobt
	if delay {
		effEOBT = eobt.Add(delayBy)
	}
	var positions []Position
	if !cancel {
		f.OffBlock = effEOBT.Add(offBlockAfter)
		f.Takeoff = f.OffBlock.Add(taxi).Add(msOffset)
		positions = fly(legs, f.Takeoff, newRFL*100, speed)
		f.Landing = positions[len(positions)-1].Time
	} else {
		positions = fly(legs, eobt, newRFL*100, speed) // for the EET only
	}
	flown := positions[len(positions)-1].Time.Sub(positions[0].Time)
	eet := fmt.Sprintf("%02d%02d", int(flown.Hours()), int(flown.Minutes())%60+1)
	if strings.HasSuffix(eet, "60") {
		eet = fmt.Sprintf("%02d00", int(flown.Hours())+1)
	}
	f.Plan.RFL, f.Plan.Route, f.Plan.EET = fmt.Sprintf("F%03d", rfl), route(rfl), eet

	// Plan messages.
	ad, at := g.cfg.adexp(), g.cfg.ats()
	msg := func(t time.Time, title, adexpText, atsText string) {
		m := PlanMessage{Time: t, Title: title}
		if ad {
			m.ADEXP = adexpText
			g.adexp = append(g.adexp, item{adexpText, f.ID, t})
		}
		if at {
			m.ATS = atsText
			g.ats = append(g.ats, item{atsText, f.ID, t})
		}
		f.Messages = append(f.Messages, m)
	}
	keyFields := func(e time.Time) string {
		return fmt.Sprintf("-ARCID %s -ADEP %s -EOBT %s -ADES %s -EOBD %s", f.ARCID, f.ADEP, e.Format("1504"), f.ADES, e.Format("060102"))
	}
	filtim := func(t time.Time) string { return "-FILTIM " + t.Format("021504") }
	atsKey := func(e time.Time) string {
		return fmt.Sprintf("%s-%s%s-%s-DOF/%s", f.ARCID, f.ADEP, e.Format("1504"), f.ADES, e.Format("060102"))
	}
	msg(filed, "IFPL", strings.Join([]string{
		"-TITLE IFPL", "-ARCID " + f.ARCID, "-IFPLID " + f.IFPLID, "-ADEP " + f.ADEP, "-ADES " + f.ADES,
		"-ARCTYP " + id.typ, "-WKTRC " + id.wake, "-EOBD " + f.EOBD, "-EOBT " + f.EOBT, filtim(filed),
		"-FLTRUL I", "-FLTTYP S", "-NBARC 1", "-RFL " + f.Plan.RFL, "-SPEED " + f.Plan.Speed,
		"-ROUTE " + route(rfl), "-TTLEET " + eet, "-SSRCODE A" + f.Squawk,
	}, "\n"), fmt.Sprintf("(FPL-%s-IS\n-%s/%s-SDE3FGHIJ1RWY/LB1\n-%s%s\n-%s\n-%s%s\n-DOF/%s RMK/SIMULATED)",
		f.ARCID, id.typ, id.wake, f.ADEP, f.EOBT, route(rfl), f.ADES, eet, f.EOBD))
	f.Events = append(f.Events, Event{Time: filed, Type: EventFiled, Detail: f.Key})
	if change {
		t := filed.Add(eobt.Sub(filed) / 2).Truncate(time.Minute)
		msg(t, "CHG", fmt.Sprintf("-TITLE CHG %s %s -RFL F%03d -ROUTE %s", keyFields(eobt), filtim(t), newRFL, route(newRFL)),
			fmt.Sprintf("(CHG-%s-15/%s)", atsKey(eobt), route(newRFL)))
		f.Events = append(f.Events, Event{Time: t, Type: EventChanged, Detail: fmt.Sprintf("RFL F%03d -> F%03d", rfl, newRFL)})
		f.Plan.RFL, f.Plan.Route = fmt.Sprintf("F%03d", newRFL), route(newRFL)
	}
	if delay {
		t := eobt.Add(-10 * time.Minute)
		msg(t, "DLA", fmt.Sprintf("-TITLE DLA %s %s", keyFields(effEOBT), filtim(t)), fmt.Sprintf("(DLA-%s)", atsKey(effEOBT)))
		f.Events = append(f.Events, Event{Time: t, Type: EventDelayed, Detail: "EOBT " + effEOBT.Format("0601021504")})
		f.Plan.EOBT = effEOBT
	}
	if cancel {
		t := eobt.Add(-5 * time.Minute)
		msg(t, "CNL", fmt.Sprintf("-TITLE CNL %s %s", keyFields(eobt), filtim(t)), fmt.Sprintf("(CNL-%s)", atsKey(eobt)))
		f.Events = append(f.Events, Event{Time: t, Type: EventCancelled})
		f.Cancelled = true
		return f
	}

	// Surveillance.
	f.Events = append(f.Events, Event{Time: f.Takeoff, Type: EventDeparted})
	emStart, emEnd := -1, -1
	if emergency && len(positions) > 600 {
		emStart = len(positions)/3 + int(emergencyAt*float64(len(positions)/3))
		emEnd = min(len(positions)-1, emStart+emergencyFor)
		f.Events = append(f.Events, Event{Time: positions[emStart].Time, Type: EventEmergency, Detail: "squawk 7700"},
			Event{Time: positions[emEnd].Time, Type: EventEmergencyEnded, Detail: "squawk " + f.Squawk})
	}
	for i := range positions {
		p := &positions[i]
		p.Squawk = f.Squawk
		if i >= emStart && i < emEnd {
			p.Squawk = "7700"
		}
		g.sbsLines(f, i, *p, i == emStart || i == emEnd || (i > emStart && i < emEnd && (i-emStart)%10 == 0))
	}
	f.Positions = positions
	f.Events = append(f.Events, Event{Time: f.Landing, Type: EventArrived})
	if arrMsg {
		t := f.Landing.Add(time.Duration(2+r.IntN(8)) * time.Minute).Truncate(time.Minute)
		ata := f.Landing.Format("1504")
		msg(t, "ARR", fmt.Sprintf("-TITLE ARR -ARCID %s -ADEP %s -ADES %s -ADARR %s -ATA %s -EOBD %s %s",
			f.ARCID, f.ADEP, f.ADES, f.ADES, ata, f.Plan.EOBT.Format("060102"), filtim(t)),
			fmt.Sprintf("(ARR-%s-%s%s-%s%s-DOF/%s)", f.ARCID, f.ADEP, f.Plan.EOBT.Format("1504"), f.ADES, ata, f.Plan.EOBT.Format("060102")))
		f.Events = append(f.Events, Event{Time: t, Type: EventArrivalMessaged, Detail: "ATA " + ata})
	}
	slices.SortStableFunc(f.Events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return f
}

// latLon writes an ICAO route point such as 5012N01005E.
func latLon(lat, lon float64) string {
	ns, ew := 'N', 'E'
	if lat < 0 {
		ns, lat = 'S', -lat
	}
	if lon < 0 {
		ew, lon = 'W', -lon
	}
	la, lo := int(math.Round(lat*60)), int(math.Round(lon*60))
	return fmt.Sprintf("%02d%02d%c%03d%02d%c", la/60, la%60, ns, lo/60, lo%60, ew)
}

// fly simulates the trajectory at 1 Hz from takeoff to touchdown: climb at
// 2200 ft/min, cruise at cruiseFt, descend to reach the ground at the
// destination.
func fly(legs [2]leg, takeoff time.Time, cruiseFt, cruiseKt int) []Position {
	total := legs[0].length + legs[1].length
	cruise := float64(cruiseFt)
	ps := make([]Position, 0, int(total/float64(cruiseKt)*3600)+600)
	s, alt, descending := 0.0, 500.0, false
	for i := 0; i < 8*3600; i++ {
		remaining := total - s
		gs := 160 + float64(cruiseKt-160)*math.Min(1, alt/cruise)
		if !descending && remaining <= alt/1800*(gs+150)/2/60+2 {
			descending = true
		}
		vr := 0.0
		switch {
		case descending:
			gs = 150 + float64(cruiseKt-150)*math.Min(1, alt/cruise)
			minutes := remaining / (gs / 60)
			vr = -math.Min(3500, math.Max(300, alt/math.Max(minutes, 0.1)))
		case alt < cruise:
			vr = math.Min(2200, (cruise-alt)*60)
		}
		var lat, lon, course float64
		if s < legs[0].length {
			lat, lon, course = legs[0].at(s)
		} else {
			lat, lon, course = legs[1].at(math.Min(s-legs[0].length, legs[1].length))
		}
		ps = append(ps, Position{Time: takeoff.Add(time.Duration(i) * time.Second),
			Lat: math.Round(lat*1e5) / 1e5, Lon: math.Round(lon*1e5) / 1e5,
			AltFt: int(math.Round(alt/25) * 25), GSKt: int(math.Round(gs)), TrackDeg: math.Round(course*10) / 10,
			VRateFPM: int(math.Round(vr/64) * 64)})
		if remaining <= 0.05 || (descending && alt <= 50) {
			break
		}
		s += gs / 3600
		alt = math.Max(0, alt+vr/60)
	}
	return ps
}

// sbsLines appends the SBS messages of second i: a position (MSG,3) every
// second, velocity (MSG,4) every 5 s, altitude (MSG,5) every 10 s,
// identification (MSG,1) every 30 s and squawk (MSG,6) every 60 s and
// when the squawk changes.
func (g *gen) sbsLines(f Flight, i int, p Position, squawkNow bool) {
	var buf [160]byte
	line := func(t time.Time, typ int, fields *[23]string) {
		b := append(buf[:0], "MSG,"...)
		b = append(b, byte('0'+typ))
		b = append(b, ",111,11111,"...)
		b = append(b, f.ICAO24...)
		b = append(b, ",111111,"...)
		b = t.AppendFormat(b, "2006/01/02,15:04:05.000,")
		b = t.Add(37*time.Millisecond).AppendFormat(b, "2006/01/02,15:04:05.000")
		fields[19], fields[20], fields[21], fields[22] = "0", "0", "0", "0"
		if typ == 6 && p.Squawk == "7700" {
			fields[20] = "-1"
		}
		for k := 11; k <= 22; k++ {
			b = append(b, ',')
			b = append(b, fields[k]...)
		}
		g.sbs = append(g.sbs, item{string(b), f.ID, t})
	}
	alt := strconv.Itoa(p.AltFt)
	if i%30 == 0 {
		line(p.Time.Add(100*time.Millisecond), 1, &[23]string{11: f.ARCID})
	}
	line(p.Time, 3, &[23]string{12: alt, 15: strconv.FormatFloat(p.Lat, 'f', 5, 64), 16: strconv.FormatFloat(p.Lon, 'f', 5, 64)})
	if i%5 == 0 {
		line(p.Time.Add(300*time.Millisecond), 4, &[23]string{13: strconv.Itoa(p.GSKt),
			14: strconv.FormatFloat(p.TrackDeg, 'f', 1, 64), 17: strconv.Itoa(p.VRateFPM)})
	}
	if i%10 == 5 {
		line(p.Time.Add(500*time.Millisecond), 5, &[23]string{12: alt})
	}
	if i%60 == 0 || squawkNow {
		line(p.Time.Add(700*time.Millisecond), 6, &[23]string{12: alt, 18: p.Squawk})
	}
}

// perturb turns a feed's items into records in delivery order.
func perturb(items []item, cfg Config, r *rand.Rand, window, lateMin, lateMax time.Duration,
	garbage func(*rand.Rand, string) string) ([]Record, FeedCounts) {
	slices.SortStableFunc(items, func(a, b item) int { return a.t.Compare(b.t) })
	recs := make([]Record, 0, len(items)+int(float64(len(items))*(cfg.Duplicates+cfg.Garbage)*1.2)+8)
	var c FeedCounts
	jitter := func() time.Duration { return time.Duration(1 + r.Int64N(int64(window))) }
	for _, it := range items {
		// Draw the same numbers for every item whatever the rates.
		u, dup, garb := r.Float64(), r.Float64(), r.Float64()
		d1, d2, d3 := jitter(), jitter(), jitter()
		late := lateMin + time.Duration(r.Int64N(int64(lateMax-lateMin)))
		rec := Record{Raw: it.raw, Kind: Valid, Flight: it.flight, Produced: it.t, Delivered: it.t}
		switch {
		case u < cfg.Disorder:
			rec.Delivered, rec.Disordered = it.t.Add(d1), true
			c.Disordered++
		case u < cfg.Disorder+cfg.Late:
			rec.Delivered, rec.Late = it.t.Add(late), true
			c.Late++
		}
		recs = append(recs, rec)
		c.Valid++
		if dup < cfg.Duplicates {
			recs = append(recs, Record{Raw: it.raw, Kind: Duplicate, Flight: it.flight, Produced: it.t, Delivered: it.t.Add(d2)})
			c.Duplicate++
		}
		if garb < cfg.Garbage {
			recs = append(recs, Record{Raw: garbage(r, it.raw), Kind: Garbage, Delivered: it.t.Add(d3)})
			c.Garbage++
		}
	}
	slices.SortStableFunc(recs, func(a, b Record) int { return a.Delivered.Compare(b.Delivered) })
	c.Records = len(recs)
	return recs, c
}
