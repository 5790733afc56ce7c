package flight

import (
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

// Snapshot returns the state of flight f as a schemas.FlightState. Covers
// and UpdatedTS are left to the runtime.
func (f *Flight) Snapshot() schemas.FlightState {
	fs := schemas.FlightState{
		GUFI:         f.GUFI,
		IFPLID:       f.Plan.IFPLID,
		Callsign:     f.Plan.Callsign,
		ICAO24:       f.ICAO24,
		ADEP:         f.Plan.ADEP,
		ADES:         f.Plan.ADES,
		EOBT:         f.Plan.EOBT,
		AircraftType: f.Plan.AircraftType,
		Route:        f.Plan.Route,
		CruiseLevel:  f.Plan.CruiseLevel,
		STAR:         f.Plan.STAR,
		Lifecycle:    f.Lifecycle(),
		Squawk:       f.Squawk,
		Emergency:    IsEmergency(f.Squawk),
		EventCount:   f.EventCount,
	}
	k := f.Kinematics
	fs.AltitudeFt, fs.GroundSpeedKt, fs.TrackDeg, fs.VerticalRateFpm, fs.OnGround = k.AltitudeFt, k.GroundSpeedKt, k.TrackDeg, k.VerticalRateFpm, k.OnGround
	if !f.Position.TS.IsZero() {
		p := f.Position
		fs.LastPosition = &p
	}
	for a, s := range f.Latest {
		if !s.IsZero() {
			if fs.AspectTS == nil {
				fs.AspectTS = make(map[string]time.Time, NumAspects)
			}
			fs.AspectTS[Aspect(a).String()] = time.Unix(0, s.TS).UTC()
		}
	}
	return fs
}

// Snapshots returns a snapshot of every flight of the callsign, in the order
// they were created.
func (st *State) Snapshots() []schemas.FlightState {
	out := make([]schemas.FlightState, len(st.Flights))
	for i := range st.Flights {
		out[i] = st.Flights[i].Snapshot()
		if out[i].Callsign == "" {
			out[i].Callsign = st.Callsign
		}
	}
	return out
}

// Snapshot returns the snapshot of the flight with the given GUFI.
func (st *State) Snapshot(gufi string) (schemas.FlightState, bool) {
	for i := range st.Flights {
		if st.Flights[i].GUFI == gufi {
			fs := st.Flights[i].Snapshot()
			if fs.Callsign == "" {
				fs.Callsign = st.Callsign
			}
			return fs, true
		}
	}
	return schemas.FlightState{}, false
}
