package track

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/contrail-atm/contrail/processors/order"
)

// Aspect is one independently ordered part of a track. Each aspect keeps its
// own latest producer timestamp, so a late squawk is not discarded because a
// newer position exists.
type Aspect uint8

// The aspects of a track. AspectGround (the on-ground flag, carried by MSG
// 2 and 5-8) is kept apart from altitude because the two arrive in different
// message types.
const (
	AspectIdentity Aspect = iota // callsign
	AspectPosition
	AspectVelocity // ground speed, track angle, vertical rate
	AspectAltitude
	AspectSquawk
	AspectGround
	NumAspects
)

var aspectNames = [NumAspects]string{"identity", "position", "velocity", "altitude", "squawk", "ground"}

func (a Aspect) String() string {
	if a < NumAspects {
		return aspectNames[a]
	}
	return fmt.Sprintf("aspect(%d)", uint8(a))
}

// AspectSet is a set of aspects.
type AspectSet uint8

// Has reports whether a is in s.
func (s AspectSet) Has(a Aspect) bool { return s&(1<<a) != 0 }

func (s *AspectSet) add(a Aspect) { *s |= 1 << a }

// Stamp orders evidence: producer timestamp first, event id second (see
// package order). The event id breaks ties between equal timestamps, so
// which of two simultaneous values wins does not depend on which arrived
// first.
type Stamp = order.Stamp

// Point is one position report.
type Point struct {
	Stamp
	Lat, Lon    float64
	AltitudeFt  int32
	HasAltitude bool
	// OnGround is the ground flag of the same message, when HasOnGround.
	OnGround, HasOnGround bool
}

// Velocity is the last velocity report; Has says which of its values the
// report carried (HasGroundSpeed, HasTrack, HasVerticalRate).
type Velocity struct {
	GroundSpeedKt   float64
	TrackDeg        float64
	VerticalRateFpm int32
	Has             Field
}

// Current is the current view of one aircraft: for each aspect the value of
// the latest (by Stamp) valid evidence. An aspect whose Latest stamp is zero
// has never been set.
type Current struct {
	Callsign   string
	Position   Point
	Velocity   Velocity
	AltitudeFt int32
	Squawk     string
	OnGround   bool
	Latest     [NumAspects]Stamp
}

// Status is what became of a valid position in the window.
type Status uint8

// The statuses of a window entry. An invalid entry has StatusNone.
const (
	StatusNone     Status = iota
	StatusPending         // buffered until the callsign is known
	StatusRecorded        // emitted as PositionRecorded
	StatusDropped         // dropped from a full buffer (reported as Discarded)
)

// Entry is a position in the plausibility window with its current verdict.
type Entry struct {
	Point
	Valid  bool
	Status Status
}

// State is the track step's state for one aircraft (one ICAO address). The
// zero value is the state of an aircraft never seen. Apply takes ownership of
// the State it is given: the returned State may share memory with it, like
// append, so callers keep only the returned one.
type State struct {
	ICAO    string
	Current Current
	// MaxPositionTS is the latest producer timestamp of any position that
	// passed the range checks (Unix nanoseconds; 0 when none).
	MaxPositionTS int64
	// Window holds the positions of the last 2*Horizon before
	// MaxPositionTS, sorted by Stamp, each with its plausibility verdict.
	Window []Entry
	// Pending holds valid positions seen while the callsign is unknown,
	// sorted by Stamp, at most Config.BufferSize.
	Pending []Point
	// FirstSeen and LastSeen bound the producer timestamps of the
	// aircraft's valid observations (Unix ns; 0 before the first).
	FirstSeen, LastSeen int64
	// Messages counts the observations read for the aircraft, those
	// recognised as duplicates excluded. It only grows.
	Messages int64
	// Seen identifies the Config.DedupeSize newest (by producer time)
	// observations read, sorted (see seenKey): an observation in it was read
	// before (a re-ingested file, a replayed landing topic) and is a
	// duplicate, whatever its timestamp.
	Seen []uint64
}

// Config tunes the step. The zero value of a field means its default.
type Config struct {
	// BufferSize bounds the positions held while the callsign is unknown,
	// for the flight's history (the aircraft's own history has every one).
	// When full, the oldest (by timestamp) is dropped and reported as
	// Discarded{Reason: ReasonBufferFull}. Default 1024, about 70 KB for an
	// aircraft unidentified that long (70 bytes a position with a 32-digit
	// event id).
	BufferSize int
	// Horizon is how late a position may arrive (behind the latest position
	// timestamp of the aircraft) and still be judged exactly as if it had
	// arrived in order; later ones are recorded unjudged (see LateLimit). It
	// is also the longest gap across which implied speed is checked: after a
	// longer silence the aircraft may have flown anywhere plausible. The
	// window keeps 2*Horizon of positions per aircraft. Default 60s.
	Horizon time.Duration
	// LateLimit is how late a position may arrive and still enter the
	// track history. A position later than Horizon but within LateLimit
	// is recorded without a plausibility judgement (its neighbours have
	// left the window; it passed the range checks) and marked
	// PositionRecorded.Unjudged; it does not change the current position.
	// Later ones are Discarded{Reason: ReasonTooLate}. Default 1h; it is
	// raised to Horizon when set lower.
	LateLimit time.Duration
	// MaxSpeed is the highest plausible ground speed in m/s, both as
	// reported and as implied by two positions. Default 1000 (about Mach 3).
	MaxSpeed float64
	// MinAltitudeFt and MaxAltitudeFt bound a plausible altitude. Defaults
	// -2000 and 60000. Set both or neither.
	MinAltitudeFt, MaxAltitudeFt int32
	// DedupeSize is how many recent observations per aircraft are
	// remembered (8 bytes each: the newest by producer time) to recognise an observation delivered again as a
	// duplicate rather than judging it a second time: within that many
	// messages of an aircraft, re-ingesting the same input changes neither
	// the state nor any verdict. Default 16384 (128 KB for an aircraft heard
	// that often; a receiver hears an aircraft about 5 times a second, so
	// that is its last 55 minutes).
	DedupeSize int
}

// ErrConfig is wrapped by New for a contradictory configuration.
var ErrConfig = errors.New("invalid track step configuration")

// ErrWrongKey is returned by Apply when an observation's ICAO address is not
// the state's: the runner routed it to the wrong key.
var ErrWrongKey = errors.New("observation for another aircraft")

// minInterval floors the time between two positions when computing implied
// speed. SBS timestamps are receiver clock readings with millisecond jitter;
// two reports at (almost) the same instant must still be allowed the
// distance an aircraft covers in a second.
const minInterval = time.Second

// maxVerticalRateFpm bounds a plausible vertical rate.
const maxVerticalRateFpm = 30000

const ktPerMS = 1.943844

func (c Config) withDefaults() Config {
	if c.BufferSize == 0 {
		c.BufferSize = 1024
	}
	if c.Horizon == 0 {
		c.Horizon = 60 * time.Second
	}
	if c.LateLimit == 0 {
		c.LateLimit = time.Hour
	}
	c.LateLimit = max(c.LateLimit, c.Horizon)
	if c.MaxSpeed == 0 {
		c.MaxSpeed = 1000
	}
	if c.DedupeSize == 0 {
		c.DedupeSize = 16384
	}
	if c.MinAltitudeFt == 0 && c.MaxAltitudeFt == 0 {
		c.MinAltitudeFt, c.MaxAltitudeFt = -2000, 60000
	}
	return c
}

// Validate rejects contradictions after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.DedupeSize < 1:
		return fmt.Errorf("%w: DedupeSize %d, want >= 1", ErrConfig, c.DedupeSize)
	case c.BufferSize < 1:
		return fmt.Errorf("%w: BufferSize %d, want >= 1", ErrConfig, c.BufferSize)
	case c.Horizon < 0:
		return fmt.Errorf("%w: Horizon %v, want > 0", ErrConfig, c.Horizon)
	case c.MaxSpeed < 0 || math.IsNaN(c.MaxSpeed):
		return fmt.Errorf("%w: MaxSpeed %v, want > 0", ErrConfig, c.MaxSpeed)
	case c.MinAltitudeFt >= c.MaxAltitudeFt:
		return fmt.Errorf("%w: altitude range %d..%d is empty", ErrConfig, c.MinAltitudeFt, c.MaxAltitudeFt)
	}
	return nil
}

// Step is the pure per-aircraft core of the track step. It holds only
// configuration, so one Step serves every key and goroutine.
type Step struct {
	cfg     Config
	horizon int64
}

// New returns a Step with cfg's defaults applied.
func New(cfg Config) (*Step, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Step{cfg: cfg, horizon: int64(cfg.Horizon)}, nil
}

// Config returns the configuration with defaults applied.
func (s *Step) Config() Config { return s.cfg }

// ApplyLine decodes a raw SBS line (see Decode) and applies it. A line that
// cannot be decoded yields Invalid with the decode reason, never an error:
// the raw log holds facts, and a fact the step cannot read is reported, not
// fatal.
func (s *Step) ApplyLine(st State, line []byte, ts time.Time, eventID string, out []Output) (State, []Output, error) {
	obs, err := Decode(line, ts, eventID)
	if err != nil {
		return st, append(out, Invalid{ICAO: obs.ICAO, EventID: eventID, TS: ts, Reason: decodeReason(err), Detail: err.Error()}), nil
	}
	return s.Apply(st, obs, out)
}

// Apply derives the next state of one aircraft from one observation and
// appends what happened to out. It does no I/O and reads no clock. Every
// observation appends at least one Output. The only error is ErrWrongKey.
//
// The final State depends only on the set of observations applied, not on
// their order, as long as no position arrives more than Horizon late and the
// pending buffer does not overflow (both reported as Discarded when they
// happen). The set of positions recorded minus those revised as invalid (the
// track history) has the same property.
func (s *Step) Apply(st State, obs Observation, out []Output) (State, []Output, error) {
	if st.ICAO != "" && obs.ICAO != st.ICAO {
		return st, out, fmt.Errorf("apply %s to state of %s: %w", obs.ICAO, st.ICAO, ErrWrongKey)
	}
	if obs.ICAO == "" {
		return st, append(out, Discarded{EventID: obs.EventID, TS: obs.TS, Reason: ReasonNoTrackData}), nil
	}
	st.ICAO = obs.ICAO
	at := Stamp{TS: obs.TS.UnixNano(), EventID: obs.EventID}
	reason, detail := s.check(&obs)
	// A duplicate has been applied before, so every aspect it carries holds
	// evidence at least as new: an observation newer than that cannot be
	// one, and the common in-order case never searches the ring.
	id := seenKey(at.TS, obs.EventID)
	if (reason != "" || !s.newer(&st, &obs, at)) && st.seen(id) {
		return st, append(out, Discarded{ICAO: st.ICAO, EventID: obs.EventID, TS: obs.TS, Reason: ReasonDuplicate}), nil
	}
	st.remember(id, s.cfg.DedupeSize)
	st.Messages++
	if reason != "" {
		return st, append(out, Invalid{ICAO: st.ICAO, EventID: obs.EventID, TS: obs.TS, Reason: reason, Detail: detail}), nil
	}
	if st.FirstSeen == 0 || at.TS < st.FirstSeen {
		st.FirstSeen = at.TS
	}
	st.LastSeen = max(st.LastSeen, at.TS)
	n := len(out)
	var applied AspectSet
	cur := &st.Current
	win := func(a Aspect) bool {
		if at.After(cur.Latest[a]) {
			cur.Latest[a] = at
			applied.add(a)
			return true
		}
		out = append(out, Stale{ICAO: st.ICAO, EventID: obs.EventID, TS: obs.TS, Aspect: a, Lateness: time.Duration(cur.Latest[a].TS - at.TS)})
		return false
	}
	if obs.Has&HasCallsign != 0 && win(AspectIdentity) {
		if prev := cur.Callsign; prev != obs.Callsign {
			cur.Callsign = obs.Callsign
			out = append(out, CallsignLearned{ICAO: st.ICAO, EventID: obs.EventID, TS: obs.TS, Callsign: obs.Callsign, Previous: prev})
		}
		out = s.release(&st, obs.EventID, out)
	}
	if obs.Has&(HasGroundSpeed|HasTrack|HasVerticalRate) != 0 {
		v := Velocity{GroundSpeedKt: obs.GroundSpeedKt, TrackDeg: obs.TrackDeg, VerticalRateFpm: obs.VerticalRateFpm,
			Has: obs.Has & (HasGroundSpeed | HasTrack | HasVerticalRate)}
		out = append(out, VelocityReported{ICAO: st.ICAO, Stamp: at, Velocity: v})
		if win(AspectVelocity) {
			cur.Velocity = v
		}
	}
	if obs.Has&HasAltitude != 0 && win(AspectAltitude) {
		cur.AltitudeFt = obs.AltitudeFt
	}
	if obs.Has&HasSquawk != 0 && win(AspectSquawk) {
		cur.Squawk = obs.Squawk
	}
	if obs.Has&HasOnGround != 0 && win(AspectGround) {
		cur.OnGround = obs.OnGround
	}
	if obs.Has&HasPosition != 0 {
		p := Point{Stamp: at, Lat: obs.Lat, Lon: obs.Lon, AltitudeFt: obs.AltitudeFt, HasAltitude: obs.Has&HasAltitude != 0,
			OnGround: obs.OnGround, HasOnGround: obs.Has&HasOnGround != 0}
		var moved bool
		out, moved = s.position(&st, p, out)
		if moved {
			applied.add(AspectPosition)
		}
	}
	if applied != 0 {
		out = append(out, TrackUpdate{ICAO: st.ICAO, EventID: obs.EventID, TS: obs.TS, Applied: applied, Track: st.Current})
	}
	if len(out) == n {
		out = append(out, Discarded{ICAO: st.ICAO, EventID: obs.EventID, TS: obs.TS, Reason: ReasonNoTrackData})
	}
	return st, out, nil
}

// newer reports whether at is newer than the current evidence of some
// aspect obs carries (for a position: newer than every position seen).
func (s *Step) newer(st *State, obs *Observation, at Stamp) bool {
	l := &st.Current.Latest
	switch {
	case obs.Has&HasCallsign != 0 && at.After(l[AspectIdentity]),
		obs.Has&(HasGroundSpeed|HasTrack|HasVerticalRate) != 0 && at.After(l[AspectVelocity]),
		obs.Has&HasAltitude != 0 && at.After(l[AspectAltitude]),
		obs.Has&HasSquawk != 0 && at.After(l[AspectSquawk]),
		obs.Has&HasOnGround != 0 && at.After(l[AspectGround]),
		obs.Has&HasPosition != 0 && at.TS > st.MaxPositionTS:
		return true
	}
	return false
}

// fingerprint is 32 bits of an event id for the duplicate set. Event ids are
// hex digests, so 8 of their hex digits are as good as a hash (digits 9-16,
// what snapshots already written hold); anything else is hashed (FNV-1a).
func fingerprint(id string) uint32 {
	if len(id) >= 16 {
		if v, err := strconv.ParseUint(id[8:16], 16, 32); err == nil {
			return uint32(v)
		}
	}
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return h
}

// seenKey names one observation read in 8 bytes: the second of its producer
// time (unsigned, so before 1970 and after 2106 wrap) in the high half and
// its event id's fingerprint in the low half. A duplicate has the same
// producer time as the original, so keys sort and are searched by time
// first. Two different observations of one aircraft collide only with the
// same second and the same 32 bits; only observations that are not the
// newest of any aspect they carry are looked up at all.
func seenKey(ts int64, eventID string) uint64 {
	sec := ts / int64(time.Second)
	if ts < 0 && ts%int64(time.Second) != 0 {
		sec-- // floor
	}
	return uint64(uint32(sec))<<32 | uint64(fingerprint(eventID))
}

// seen reports whether key is remembered.
func (st *State) seen(key uint64) bool {
	_, found := slices.BinarySearch(st.Seen, key)
	return found
}

// remember adds key to the remembered set, keeping the size newest by
// producer time: the set, like the rest of the state, depends only on the
// observations read, not on their order.
func (st *State) remember(key uint64, size int) {
	i := len(st.Seen)
	if i > 0 && st.Seen[i-1] >= key {
		var found bool
		if i, found = slices.BinarySearch(st.Seen, key); found {
			return
		}
	}
	st.Seen = slices.Insert(st.Seen, i, key)
	if n := len(st.Seen) - size; n > 0 {
		// Re-slicing keeps eviction O(1); append reallocates once the
		// backing array's tail is used up.
		st.Seen = st.Seen[n:]
	}
}

// check applies the rules that judge an observation on its own: they do not
// depend on other observations, hence not on arrival order.
func (s *Step) check(o *Observation) (reason, detail string) {
	switch {
	case o.TS.IsZero():
		return "track.no_timestamp", "observation has no producer timestamp"
	case o.Has&HasCallsign != 0 && len(o.Callsign) > 8:
		return "track.callsign", fmt.Sprintf("callsign %q is longer than 8 characters", o.Callsign)
	case o.Has&HasPosition != 0 && (o.Lat < -90 || o.Lat > 90 || o.Lon < -180 || o.Lon > 180):
		return "track.coordinates", fmt.Sprintf("position %v,%v is outside -90..90, -180..180", o.Lat, o.Lon)
	case o.Has&HasAltitude != 0 && (o.AltitudeFt < s.cfg.MinAltitudeFt || o.AltitudeFt > s.cfg.MaxAltitudeFt):
		return "track.altitude", fmt.Sprintf("altitude %d ft is outside %d..%d", o.AltitudeFt, s.cfg.MinAltitudeFt, s.cfg.MaxAltitudeFt)
	case o.Has&HasGroundSpeed != 0 && (o.GroundSpeedKt < 0 || o.GroundSpeedKt > s.cfg.MaxSpeed*ktPerMS):
		return "track.ground_speed", fmt.Sprintf("ground speed %v kt is outside 0..%.0f", o.GroundSpeedKt, s.cfg.MaxSpeed*ktPerMS)
	case o.Has&HasTrack != 0 && (o.TrackDeg < 0 || o.TrackDeg > 360):
		return "track.track_angle", fmt.Sprintf("track angle %v is outside 0..360", o.TrackDeg)
	case o.Has&HasVerticalRate != 0 && (o.VerticalRateFpm < -maxVerticalRateFpm || o.VerticalRateFpm > maxVerticalRateFpm):
		return "track.vertical_rate", fmt.Sprintf("vertical rate %d fpm is outside ±%d", o.VerticalRateFpm, maxVerticalRateFpm)
	}
	return "", ""
}

// position inserts p into the window, judges it and every later position
// again (a late p may be the new predecessor of positions already judged),
// and moves the current position to the latest valid one. It reports
// whether the current position changed.
//
// Plausibility rule: a position is valid when the speed implied from the
// nearest earlier (by Stamp) valid position no more than Horizon before it
// is at most MaxSpeed. The rule is a function of the set of positions in
// timestamp order, which is what makes the verdicts independent of arrival
// order: inserting a late position re-runs the rule from its place onward,
// yielding the verdicts in-order processing would have given. The verdict
// concerns the position only: the altitude, ground flag and other values of
// the same message are judged by their own rules in Apply.
//
// Known limit of a predecessor rule: when the first position after a
// silence longer than Horizon is itself far off, the true positions after
// it are judged against it and rejected until the next such silence. The
// outcome is still independent of arrival order.
func (s *Step) position(st *State, p Point, out []Output) ([]Output, bool) {
	if st.MaxPositionTS != 0 && p.TS < st.MaxPositionTS-s.horizon {
		if p.TS < st.MaxPositionTS-int64(s.cfg.LateLimit) {
			return append(out, Discarded{ICAO: st.ICAO, EventID: p.EventID, TS: p.Time(), Reason: ReasonTooLate}), false
		}
		// History keeps late positions; with its neighbours gone from the
		// window it cannot be judged, only recorded as such, or held like
		// any other until the callsign is known.
		if st.Current.Callsign == "" {
			if _, found := slices.BinarySearchFunc(st.Pending, p.Stamp, func(q Point, t Stamp) int { return q.Stamp.Compare(t) }); found {
				return append(out, Discarded{ICAO: st.ICAO, EventID: p.EventID, TS: p.Time(), Reason: ReasonDuplicate}), false
			}
			return s.buffer(st, p, out), false
		}
		return append(out, PositionRecorded{ICAO: st.ICAO, Callsign: st.Current.Callsign, Point: p, EventID: p.EventID, Unjudged: true}), false
	}
	// In-order arrival, the common case, appends without searching.
	i, found := len(st.Window), false
	if i > 0 && !p.After(st.Window[i-1].Stamp) {
		i, found = slices.BinarySearchFunc(st.Window, p.Stamp, func(e Entry, t Stamp) int { return e.Stamp.Compare(t) })
	}
	if found {
		return append(out, Discarded{ICAO: st.ICAO, EventID: p.EventID, TS: p.Time(), Reason: ReasonDuplicate}), false
	}
	if p.TS > st.MaxPositionTS {
		st.MaxPositionTS = p.TS
	}
	st.Window = slices.Insert(st.Window, i, Entry{Point: p})
	for j := i; j < len(st.Window); j++ {
		valid, detail := s.plausible(st.Window, j)
		e := &st.Window[j]
		switch {
		case j == i && !valid:
			out = append(out, Invalid{ICAO: st.ICAO, EventID: p.EventID, TS: p.Time(), Reason: "track.implied_speed", Detail: detail})
		case valid && (j == i || !e.Valid):
			e.Valid = true
			out = s.accept(st, j, p.EventID, out)
		case !valid && e.Valid:
			e.Valid = false
			out = append(out, Invalid{ICAO: st.ICAO, EventID: e.EventID, TS: e.Time(), Reason: "track.implied_speed", Detail: detail,
				Revised: true, Was: e.Status})
			if e.Status == StatusPending {
				if k, ok := slices.BinarySearchFunc(st.Pending, e.Stamp, func(q Point, t Stamp) int { return q.Stamp.Compare(t) }); ok {
					if st.Pending = slices.Delete(st.Pending, k, k+1); len(st.Pending) == 0 {
						st.Pending = nil
					}
				}
			}
			e.Status = StatusNone
		}
	}
	// The current position is the latest valid one in the window. When the
	// window holds no valid position (all pruned or judged implausible),
	// Current keeps the last one it had.
	moved := false
	for j := len(st.Window) - 1; j >= 0; j-- {
		if e := st.Window[j]; e.Valid {
			if e.Stamp != st.Current.Latest[AspectPosition] {
				st.Current.Position, st.Current.Latest[AspectPosition] = e.Point, e.Stamp
				moved = true
			}
			break
		}
	}
	if e := st.Window[i]; e.Valid && e.Stamp != st.Current.Latest[AspectPosition] {
		out = append(out, Stale{ICAO: st.ICAO, EventID: p.EventID, TS: p.Time(), Aspect: AspectPosition,
			Lateness: time.Duration(st.Current.Latest[AspectPosition].TS - p.TS)})
	}
	cut := st.MaxPositionTS - 2*s.horizon
	k := 0
	for k < len(st.Window) && st.Window[k].TS < cut {
		k++
	}
	// Re-slicing rather than copying keeps pruning O(1); append reallocates
	// (copying only the live entries) once the tail of the array is used up.
	st.Window = st.Window[k:]
	return out, moved
}

// plausible judges window entry j against its nearest earlier valid entry
// within Horizon.
func (s *Step) plausible(w []Entry, j int) (bool, string) {
	p := w[j]
	for k := j - 1; k >= 0; k-- {
		q := w[k]
		dt := p.TS - q.TS
		if dt > s.horizon {
			break
		}
		if !q.Valid {
			continue
		}
		secs := max(time.Duration(dt), minInterval).Seconds()
		v := Haversine(q.Lat, q.Lon, p.Lat, p.Lon) / secs
		if v > s.cfg.MaxSpeed {
			return false, fmt.Sprintf("implied ground speed %.0f m/s from %s exceeds %.0f", v, q.EventID, s.cfg.MaxSpeed)
		}
		return true, ""
	}
	return true, ""
}

// accept records window entry j, or buffers it while the callsign is
// unknown.
func (s *Step) accept(st *State, j int, cause string, out []Output) []Output {
	e := &st.Window[j]
	if st.Current.Callsign != "" {
		e.Status = StatusRecorded
		return append(out, PositionRecorded{ICAO: st.ICAO, Callsign: st.Current.Callsign, Point: e.Point, EventID: cause})
	}
	e.Status = StatusPending
	return s.buffer(st, e.Point, out)
}

// buffer holds p until the callsign is known, dropping the oldest held
// position when the buffer is full. p enters the aircraft's own history at
// once (Buffered), which has no such bound.
func (s *Step) buffer(st *State, p Point, out []Output) []Output {
	k, _ := slices.BinarySearchFunc(st.Pending, p.Stamp, func(q Point, t Stamp) int { return q.Stamp.Compare(t) })
	st.Pending = slices.Insert(st.Pending, k, p)
	out = append(out, Buffered{ICAO: st.ICAO, Point: p})
	if len(st.Pending) <= s.cfg.BufferSize {
		return out
	}
	dropped := st.Pending[0]
	st.Pending = slices.Delete(st.Pending, 0, 1)
	if d, ok := slices.BinarySearchFunc(st.Window, dropped.Stamp, func(x Entry, t Stamp) int { return x.Stamp.Compare(t) }); ok {
		st.Window[d].Status = StatusDropped
	}
	return append(out, Discarded{ICAO: st.ICAO, EventID: dropped.EventID, TS: dropped.Time(), Reason: ReasonBufferFull})
}

// release records the pending positions once the callsign is known, oldest
// first.
func (s *Step) release(st *State, cause string, out []Output) []Output {
	if st.Current.Callsign == "" || len(st.Pending) == 0 {
		return out
	}
	for _, p := range st.Pending {
		out = append(out, PositionRecorded{ICAO: st.ICAO, Callsign: st.Current.Callsign, Point: p, EventID: cause, Released: true})
		if d, ok := slices.BinarySearchFunc(st.Window, p.Stamp, func(x Entry, t Stamp) int { return x.Stamp.Compare(t) }); ok {
			st.Window[d].Status = StatusRecorded
		}
	}
	st.Pending = nil // the zero State has nil, and states compare equal
	return out
}

// earthRadius is the mean Earth radius in metres (IUGG).
const earthRadius = 6371008.8

// Haversine returns the great-circle distance in metres between two points
// given in degrees.
func Haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Sqrt(min(1, a)))
}
