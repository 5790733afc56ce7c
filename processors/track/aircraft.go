package track

import (
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

// Aircraft is the aircraft's current picture for the aircraft view: every
// aspect the newest valid value by Stamp (absent aspects nil or empty), first
// and last seen, and the message count, which versions the snapshots. ok is
// false while the aircraft has no valid observation.
func (st *State) Aircraft() (a schemas.AircraftState, ok bool) {
	if st.FirstSeen == 0 {
		return a, false
	}
	c := &st.Current
	a = schemas.AircraftState{ICAO24: st.ICAO, Callsign: c.Callsign, Squawk: c.Squawk, Messages: st.Messages,
		FirstSeen: time.Unix(0, st.FirstSeen).UTC(), LastSeen: time.Unix(0, st.LastSeen).UTC()}
	for i, s := range c.Latest {
		if s.IsZero() {
			continue
		}
		if a.AspectTS == nil {
			a.AspectTS = make(map[string]time.Time, NumAspects)
		}
		a.AspectTS[Aspect(i).String()] = s.Time()
	}
	if !c.Latest[AspectPosition].IsZero() {
		lat, lon := c.Position.Lat, c.Position.Lon
		a.PositionTS, a.Lat, a.Lon = c.Position.Time(), &lat, &lon
	}
	if !c.Latest[AspectAltitude].IsZero() {
		v := c.AltitudeFt
		a.AltitudeFt = &v
	}
	if !c.Latest[AspectVelocity].IsZero() {
		a.GroundSpeedKt, a.TrackDeg, a.VerticalRateFpm = c.Velocity.Fields()
	}
	if !c.Latest[AspectGround].IsZero() {
		g := c.OnGround
		a.OnGround = &g
	}
	return a, true
}

// Fields returns the values the velocity report carried, nil for the others.
func (v Velocity) Fields() (gs, trk *float64, vr *int32) {
	if v.Has&HasGroundSpeed != 0 {
		x := v.GroundSpeedKt
		gs = &x
	}
	if v.Has&HasTrack != 0 {
		x := v.TrackDeg
		trk = &x
	}
	if v.Has&HasVerticalRate != 0 {
		x := v.VerticalRateFpm
		vr = &x
	}
	return gs, trk, vr
}
