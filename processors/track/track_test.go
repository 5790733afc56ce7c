package track_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/processors/track"
)

const icao = "4840D6"

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func ident(id string, s float64, cs string) track.Observation {
	return track.Observation{EventID: id, TS: at(s), ICAO: icao, TransmissionType: 1, Has: track.HasCallsign, Callsign: cs}
}

func pos(id string, s, lat, lon float64) track.Observation {
	return track.Observation{EventID: id, TS: at(s), ICAO: icao, TransmissionType: 3, Has: track.HasPosition | track.HasAltitude,
		Lat: lat, Lon: lon, AltitudeFt: 30000}
}

func squawk(id string, s float64, code string) track.Observation {
	return track.Observation{EventID: id, TS: at(s), ICAO: icao, TransmissionType: 6, Has: track.HasSquawk, Squawk: code}
}

func alt(id string, s float64, ft int32) track.Observation {
	return track.Observation{EventID: id, TS: at(s), ICAO: icao, TransmissionType: 5, Has: track.HasAltitude, AltitudeFt: ft}
}

// eastKm is the longitude of a point km kilometres east of (52, 4).
func eastKm(km float64) float64 { return 4 + km/(111.19492664455873*0.6156614753256583) }

func newStep(t testing.TB, cfg track.Config) *track.Step {
	t.Helper()
	s, err := track.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// apply runs obs in order from st and returns the final state and the
// outputs of each observation, failing if one yields nothing.
func apply(t *testing.T, step *track.Step, st track.State, obs ...track.Observation) (track.State, [][]track.Output) {
	t.Helper()
	var outs [][]track.Output
	for _, o := range obs {
		var out []track.Output
		var err error
		st, out, err = step.Apply(st, o, nil)
		if err != nil {
			t.Fatalf("apply %s: %v", o.EventID, err)
		}
		if len(out) == 0 {
			t.Fatalf("apply %s: no output", o.EventID)
		}
		outs = append(outs, out)
	}
	return st, outs
}

func find[T track.Output](out []track.Output) []T {
	var r []T
	for _, o := range out {
		if x, ok := o.(T); ok {
			r = append(r, x)
		}
	}
	return r
}

func TestAspectOrdering(t *testing.T) {
	step := newStep(t, track.Config{})
	tests := []struct {
		name       string
		obs        []track.Observation
		wantSquawk string
		wantStale  []track.Stale // outputs of the last observation
	}{
		{"newer applies", []track.Observation{squawk("a", 1, "1000"), squawk("b", 2, "2000")}, "2000", nil},
		{"older is stale with its lateness", []track.Observation{squawk("b", 2, "2000"), squawk("a", 0.5, "1000")}, "2000",
			[]track.Stale{{ICAO: icao, EventID: "a", TS: at(0.5), Aspect: track.AspectSquawk, Lateness: 1500 * time.Millisecond}}},
		{"equal timestamps: higher event id wins, a first", []track.Observation{squawk("a", 1, "1000"), squawk("b", 1, "2000")}, "2000", nil},
		{"equal timestamps: higher event id wins, b first", []track.Observation{squawk("b", 1, "2000"), squawk("a", 1, "1000")}, "2000",
			[]track.Stale{{ICAO: icao, EventID: "a", TS: at(1), Aspect: track.AspectSquawk}}},
		{"aspects are ordered apart: an old squawk after a new position applies",
			[]track.Observation{pos("p", 10, 52, 4), squawk("s", 5, "7700")}, "7700", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, outs := apply(t, step, track.State{}, tt.obs...)
			if st.Current.Squawk != tt.wantSquawk {
				t.Errorf("squawk %q, want %q", st.Current.Squawk, tt.wantSquawk)
			}
			last := outs[len(outs)-1]
			if got := find[track.Stale](last); !reflect.DeepEqual(got, tt.wantStale) {
				t.Errorf("stale %+v, want %+v", got, tt.wantStale)
			}
			if tt.wantStale == nil {
				u := find[track.TrackUpdate](last)
				if len(u) != 1 || u[0].Track.Squawk != tt.wantSquawk || u[0].EventID != tt.obs[len(tt.obs)-1].EventID {
					t.Errorf("track updates %+v, want one with squawk %s", u, tt.wantSquawk)
				}
			}
		})
	}
}

func TestTrackUpdateMergesMessageTypes(t *testing.T) {
	step := newStep(t, track.Config{})
	vel := track.Observation{EventID: "v", TS: at(2), ICAO: icao, TransmissionType: 4,
		Has: track.HasGroundSpeed | track.HasTrack | track.HasVerticalRate, GroundSpeedKt: 480, TrackDeg: 90, VerticalRateFpm: -64}
	st, outs := apply(t, step, track.State{}, ident("i", 0, "KLM1023"), pos("p", 1, 52, 4), vel, alt("a", 3, 31000), squawk("s", 4, "1000"))
	u := find[track.TrackUpdate](outs[4])[0]
	if !u.Applied.Has(track.AspectSquawk) || u.Applied.Has(track.AspectPosition) {
		t.Errorf("applied %b, want squawk only", u.Applied)
	}
	c := u.Track
	if c.Callsign != "KLM1023" || c.Position.Lat != 52 || c.Velocity.GroundSpeedKt != 480 || c.AltitudeFt != 31000 || c.Squawk != "1000" {
		t.Errorf("merged track %+v", c)
	}
	if c != st.Current {
		t.Errorf("update carries %+v, state has %+v", c, st.Current)
	}
	for a, want := range map[track.Aspect]string{track.AspectIdentity: "i", track.AspectPosition: "p", track.AspectVelocity: "v", track.AspectAltitude: "a", track.AspectSquawk: "s"} {
		if got := c.Latest[a].EventID; got != want {
			t.Errorf("latest %v from %q, want %q", a, got, want)
		}
	}
}

func TestInvalid(t *testing.T) {
	step := newStep(t, track.Config{})
	tests := []struct {
		name   string
		obs    track.Observation
		reason string
	}{
		{"latitude above 90", pos("x", 1, 90.5, 4), "track.coordinates"},
		{"longitude below -180", pos("x", 1, 52, -180.1), "track.coordinates"},
		{"altitude above 60000", alt("x", 1, 60001), "track.altitude"},
		{"altitude below -2000", alt("x", 1, -2001), "track.altitude"},
		{"no timestamp", track.Observation{EventID: "x", ICAO: icao, Has: track.HasSquawk, Squawk: "1000"}, "track.no_timestamp"},
		{"ground speed above Mach 3", track.Observation{EventID: "x", TS: at(1), ICAO: icao, Has: track.HasGroundSpeed, GroundSpeedKt: 2000}, "track.ground_speed"},
		{"track angle", track.Observation{EventID: "x", TS: at(1), ICAO: icao, Has: track.HasTrack, TrackDeg: 361}, "track.track_angle"},
		{"callsign too long", ident("x", 1, "ABCDEFGHI"), "track.callsign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, outs := apply(t, step, track.State{}, tt.obs)
			inv := find[track.Invalid](outs[0])
			if len(outs[0]) != 1 || len(inv) != 1 || inv[0].Reason != tt.reason || inv[0].EventID != "x" || inv[0].Detail == "" {
				t.Fatalf("outputs %+v, want one Invalid %s", outs[0], tt.reason)
			}
			// Counted and remembered (so a second delivery is a
			// duplicate), but the picture is unchanged.
			if st.Messages != 1 || len(st.Seen) != 1 || st.FirstSeen != 0 {
				t.Errorf("invalid observation: messages %d, seen %d, first seen %d; want 1, 1, 0", st.Messages, len(st.Seen), st.FirstSeen)
			}
			st.Messages, st.Seen = 0, nil
			if !reflect.DeepEqual(st, track.State{ICAO: icao}) {
				t.Errorf("invalid observation changed state: %+v", st)
			}
			first, _ := apply(t, step, track.State{}, tt.obs)
			_, again := apply(t, step, first, tt.obs)
			if d := find[track.Discarded](again[0]); len(again[0]) != 1 || len(d) != 1 || d[0].Reason != track.ReasonDuplicate {
				t.Errorf("second delivery: outputs %+v, want one Discarded duplicate", again[0])
			}
		})
	}
	// The bounds themselves are valid.
	apply(t, step, track.State{}, alt("lo", 1, -2000), alt("hi", 2, 60000), pos("p", 3, -90, 180))
}

func TestImpliedSpeed(t *testing.T) {
	step := newStep(t, track.Config{})
	t.Run("in order: above Mach 3 from the previous valid position is invalid", func(t *testing.T) {
		st, outs := apply(t, step, track.State{},
			pos("p1", 0, 52, eastKm(0)),
			pos("p2", 10, 52, eastKm(5)),  // 500 m/s
			pos("p3", 20, 52, eastKm(25)), // 2000 m/s
			pos("p4", 30, 52, eastKm(12)), // 700 m/s from p2: the outlier p3 is skipped
		)
		inv := find[track.Invalid](outs[2])
		if len(inv) != 1 || inv[0].Reason != "track.implied_speed" || !strings.Contains(inv[0].Detail, "from p2") || inv[0].Revised {
			t.Fatalf("p3 outputs %+v, want Invalid implied_speed from p2", outs[2])
		}
		if len(find[track.Invalid](outs[3])) != 0 || st.Current.Position.EventID != "p4" {
			t.Errorf("p4 outputs %+v, current %s; want p4 valid and current", outs[3], st.Current.Position.EventID)
		}
	})
	t.Run("late outlier is invalid and leaves later verdicts alone", func(t *testing.T) {
		st, outs := apply(t, step, track.State{},
			pos("p1", 0, 52, eastKm(0)), pos("p3", 20, 52, eastKm(10)), pos("p2", 10, 55, eastKm(5)))
		if inv := find[track.Invalid](outs[2]); len(inv) != 1 || inv[0].EventID != "p2" {
			t.Fatalf("p2 outputs %+v", outs[2])
		}
		if st.Current.Position.EventID != "p3" {
			t.Errorf("current %s, want p3", st.Current.Position.EventID)
		}
	})
	t.Run("late position revises a later verdict, as in-order processing would", func(t *testing.T) {
		p1, p2, p3 := pos("p1", 0, 52, eastKm(0)), pos("p2", 10, 52, eastKm(-9)), pos("p3", 20, 52, eastKm(15))
		st, outs := apply(t, step, track.State{}, ident("i", 0, "KLM1023"), p1, p3, p2)
		last := outs[3]
		if r := find[track.PositionRecorded](last); len(r) != 1 || r[0].Point.EventID != "p2" {
			t.Errorf("p2 not recorded: %+v", last)
		}
		if inv := find[track.Invalid](last); len(inv) != 1 || inv[0].EventID != "p3" || !inv[0].Revised {
			t.Errorf("p3 not revised: %+v", last)
		}
		if u := find[track.TrackUpdate](last); len(u) != 1 || u[0].Track.Position.EventID != "p2" {
			t.Errorf("current position not moved back to p2: %+v", last)
		}
		inOrder, _ := apply(t, step, track.State{}, ident("i", 0, "KLM1023"), p1, p2, p3)
		if !reflect.DeepEqual(st, inOrder) {
			t.Errorf("state %+v\nin order %+v", st, inOrder)
		}
	})
	t.Run("late position invalidates one and revalidates another", func(t *testing.T) {
		p0, p1, p2, p3 := pos("p0", 0, 52, eastKm(0)), pos("p1", 5, 52, eastKm(-2)), pos("p2", 10, 52, eastKm(9)), pos("p3", 20, 52, eastKm(-2))
		st, outs := apply(t, step, track.State{}, ident("i", 0, "KLM1023"), p0, p2, p3, p1)
		if inv := find[track.Invalid](outs[3]); len(inv) != 1 || inv[0].EventID != "p3" {
			t.Fatalf("p3 in arrival order: %+v, want invalid against p2", outs[3])
		}
		last := outs[4]
		rec := find[track.PositionRecorded](last)
		inv := find[track.Invalid](last)
		if len(rec) != 2 || rec[0].Point.EventID != "p1" || rec[1].Point.EventID != "p3" || len(inv) != 1 || inv[0].EventID != "p2" || !inv[0].Revised {
			t.Errorf("late p1: %+v; want p1 and p3 recorded, p2 revised invalid", last)
		}
		if st.Current.Position.EventID != "p3" {
			t.Errorf("current %s, want p3", st.Current.Position.EventID)
		}
		inOrder, _ := apply(t, step, track.State{}, ident("i", 0, "KLM1023"), p0, p1, p2, p3)
		if !reflect.DeepEqual(st, inOrder) {
			t.Errorf("state %+v\nin order %+v", st, inOrder)
		}
	})
	t.Run("equal timestamps get a one-second floor", func(t *testing.T) {
		_, outs := apply(t, step, track.State{}, pos("a", 5, 52, eastKm(0)), pos("b", 5, 52, eastKm(0.9)), pos("c", 5, 52, eastKm(3)))
		if len(find[track.Invalid](outs[1])) != 0 || len(find[track.Invalid](outs[2])) != 1 {
			t.Errorf("b %+v, c %+v; want b valid (900 m), c invalid (2.1 km)", outs[1], outs[2])
		}
	})
	t.Run("no check across a gap longer than the horizon", func(t *testing.T) {
		_, outs := apply(t, step, track.State{}, pos("a", 0, 52, eastKm(0)), pos("b", 61, 52, eastKm(500)))
		if len(find[track.Invalid](outs[1])) != 0 {
			t.Errorf("b %+v, want valid", outs[1])
		}
	})
}

func TestHaversine(t *testing.T) {
	for _, tt := range []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want                   float64
	}{
		{"one degree of latitude", 0, 0, 1, 0, 111195},
		{"same point", 52, 4, 52, 4, 0},
		{"antipodes", 0, 0, 0, 180, 20015087},
		{"AMS-JFK", 52.3086, 4.7639, 40.6398, -73.7789, 5845000},
	} {
		if got := track.Haversine(tt.lat1, tt.lon1, tt.lat2, tt.lon2); got < tt.want*0.999-1 || got > tt.want*1.001+1 {
			t.Errorf("%s: %.0f m, want %.0f", tt.name, got, tt.want)
		}
	}
}

func TestBuffer(t *testing.T) {
	t.Run("positions wait for the callsign and are released in time order", func(t *testing.T) {
		step := newStep(t, track.Config{})
		st, outs := apply(t, step, track.State{}, pos("p2", 2, 52, 4.001), pos("p1", 1, 52, 4), ident("i", 3, "KLM1023"), pos("p3", 4, 52, 4.002))
		for i := range 2 {
			if b := find[track.Buffered](outs[i]); len(b) != 1 {
				t.Errorf("output %d: %+v, want Buffered", i, outs[i])
			}
		}
		learned := find[track.CallsignLearned](outs[2])
		rec := find[track.PositionRecorded](outs[2])
		if len(learned) != 1 || learned[0].Callsign != "KLM1023" || len(rec) != 2 || rec[0].Point.EventID != "p1" || rec[1].Point.EventID != "p2" ||
			rec[0].Callsign != "KLM1023" || rec[0].EventID != "i" {
			t.Errorf("on identity: %+v", outs[2])
		}
		if rec := find[track.PositionRecorded](outs[3]); len(rec) != 1 || rec[0].Point.EventID != "p3" {
			t.Errorf("after identity: %+v", outs[3])
		}
		if st.Pending != nil {
			t.Errorf("pending %+v after release", st.Pending)
		}
	})
	t.Run("a full buffer drops the oldest and says so", func(t *testing.T) {
		step := newStep(t, track.Config{BufferSize: 2})
		st, outs := apply(t, step, track.State{}, pos("p1", 1, 52, 4), pos("p3", 3, 52, 4.002), pos("p4", 4, 52, 4.003), pos("p0", 0, 52, 3.999))
		if d := find[track.Discarded](outs[2]); len(d) != 1 || d[0].EventID != "p1" || d[0].Reason != track.ReasonBufferFull || len(find[track.Buffered](outs[2])) != 1 {
			t.Errorf("p4: %+v, want Buffered p4 and Discarded p1", outs[2])
		}
		// Older than the buffer: dropped at once, but it was valid, so it
		// entered the aircraft's own history (Buffered) first.
		if d := find[track.Discarded](outs[3]); len(d) != 1 || d[0].EventID != "p0" || len(find[track.Buffered](outs[3])) != 1 {
			t.Errorf("p0 (older than the buffer): %+v, want Buffered and Discarded p0", outs[3])
		}
		if len(st.Pending) != 2 || st.Pending[0].EventID != "p3" || st.Pending[1].EventID != "p4" {
			t.Errorf("pending %+v", st.Pending)
		}
	})
	t.Run("a callsign change is reported with the previous one", func(t *testing.T) {
		step := newStep(t, track.Config{})
		_, outs := apply(t, step, track.State{}, ident("a", 1, "KLM1023"), ident("b", 2, "KLM1023"), ident("c", 3, "KLM77"))
		if l := find[track.CallsignLearned](outs[1]); len(l) != 0 {
			t.Errorf("same callsign again: %+v", l)
		}
		if l := find[track.CallsignLearned](outs[2]); len(l) != 1 || l[0].Previous != "KLM1023" || l[0].Callsign != "KLM77" {
			t.Errorf("change: %+v", outs[2])
		}
	})
}

func TestDiscardedAndErrors(t *testing.T) {
	step := newStep(t, track.Config{Horizon: 10 * time.Second, LateLimit: 10 * time.Second})
	_, outs := apply(t, step, track.State{}, pos("a", 20, 52, 4), pos("b", 9, 52, 4), pos("a", 20, 52, 4),
		track.Observation{EventID: "n", TS: at(1), ICAO: icao, TransmissionType: 8})
	for i, want := range map[int]string{1: track.ReasonTooLate, 2: track.ReasonDuplicate, 3: track.ReasonNoTrackData} {
		if d := find[track.Discarded](outs[i]); len(d) != 1 || d[0].Reason != want {
			t.Errorf("output %d: %+v, want Discarded %s", i, outs[i], want)
		}
	}
	// Before identification, a position later than Horizon but within
	// LateLimit is held like the others (and enters the aircraft's own
	// history at once), then recorded once the callsign is known.
	_, outs = apply(t, newStep(t, track.Config{Horizon: 10 * time.Second}), track.State{}, pos("a", 20, 52, 4), pos("b", 9, 52, 4), ident("i", 21, "KLM1023"))
	if b := find[track.Buffered](outs[1]); len(b) != 1 || b[0].Point.EventID != "b" {
		t.Errorf("late unidentified position: %+v, want it Buffered", outs[1])
	}
	if r := find[track.PositionRecorded](outs[2]); len(r) != 2 || r[0].Point.EventID != "b" || !r[0].Released || r[0].Callsign != "KLM1023" {
		t.Errorf("identification: %+v, want b then a released under KLM1023", outs[2])
	}
	st, _ := apply(t, step, track.State{}, pos("a", 1, 52, 4))
	other := pos("x", 2, 52, 4)
	other.ICAO = "ABCDEF"
	if _, _, err := step.Apply(st, other, nil); !errors.Is(err, track.ErrWrongKey) {
		t.Errorf("other aircraft: %v, want ErrWrongKey", err)
	}
}

func TestApplyLine(t *testing.T) {
	step := newStep(t, track.Config{})
	for _, tt := range []struct {
		name, line, reason string
	}{
		{"syntax", "MSG,3,111", "sbs.field_count"},
		{"altitude", "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,FL280,,,34.43697,136.04449,,,,,,0", "track.altitude"},
		{"half a position", "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,,,,,,,0", "track.position"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, out, err := step.ApplyLine(track.State{}, []byte(tt.line), at(1), "e", nil)
			if err != nil {
				t.Fatal(err)
			}
			if inv := find[track.Invalid](out); len(out) != 1 || len(inv) != 1 || inv[0].Reason != tt.reason {
				t.Errorf("outputs %+v, want Invalid %s", out, tt.reason)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  track.Config
		ok   bool
	}{
		{"defaults", track.Config{}, true},
		{"negative buffer", track.Config{BufferSize: -1}, false},
		{"negative horizon", track.Config{Horizon: -time.Second}, false},
		{"empty altitude range", track.Config{MinAltitudeFt: 100, MaxAltitudeFt: 100}, false},
	} {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		} else if err != nil && !errors.Is(err, track.ErrConfig) {
			t.Errorf("%s: %v does not wrap ErrConfig", tt.name, err)
		}
	}
	s := newStep(t, track.Config{})
	if c := s.Config(); c.BufferSize != 1024 || c.DedupeSize != 16384 || c.Horizon != time.Minute || c.MaxSpeed != 1000 || c.MinAltitudeFt != -2000 || c.MaxAltitudeFt != 60000 {
		t.Errorf("defaults %+v", c)
	}
}

// TestLatePositionsKeptInHistory: a position later than Horizon still
// enters the history (unjudged, leaving the current position alone) while
// within LateLimit, and is discarded beyond it.
func TestLatePositionsKeptInHistory(t *testing.T) {
	step := newStep(t, track.Config{Horizon: 10 * time.Second, LateLimit: 40 * time.Second})
	st, outs := apply(t, step, track.State{}, ident("i", 1, "KLM1023"), pos("a", 60, 52, 4), pos("late", 30, 52, 4), pos("too-late", 10, 52, 4))
	rec := find[track.PositionRecorded](outs[2])
	if len(rec) != 1 || !rec[0].Unjudged || rec[0].Point.EventID != "late" || rec[0].Callsign != "KLM1023" {
		t.Errorf("30 s late: %+v, want one unjudged PositionRecorded", outs[2])
	}
	if st.Current.Position.EventID != "a" {
		t.Errorf("current position %s, want a: a late position must not move it", st.Current.Position.EventID)
	}
	if d := find[track.Discarded](outs[3]); len(d) != 1 || d[0].Reason != track.ReasonTooLate {
		t.Errorf("50 s late: %+v, want Discarded too_late", outs[3])
	}
}
