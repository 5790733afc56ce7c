package track

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/contrail-atm/contrail/internal/binenc"
)

// stateFormat is the first byte of an encoded State. A new layout gets a new
// value and UnmarshalBinary keeps reading the old ones, so a changelog
// written by an older binary still restores.
const stateFormat = 1

// ErrCorruptState is wrapped by UnmarshalBinary for bytes that are not an
// encoded State.
var ErrCorruptState = errors.New("corrupt track state")

// AppendBinary appends a compact encoding of st to b, for the step's
// changelog. It does not fail; the error is there for encoding.BinaryAppender.
func (st *State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateFormat)
	b = binenc.AppendString(b, st.ICAO)
	c := &st.Current
	b = binenc.AppendString(b, c.Callsign)
	b = appendPoint(b, c.Position)
	b = binary.AppendUvarint(b, math.Float64bits(c.Velocity.GroundSpeedKt))
	b = binary.AppendUvarint(b, math.Float64bits(c.Velocity.TrackDeg))
	b = binary.AppendVarint(b, int64(c.Velocity.VerticalRateFpm))
	b = binary.AppendUvarint(b, uint64(c.Velocity.Has))
	b = binary.AppendVarint(b, int64(c.AltitudeFt))
	b = binenc.AppendString(b, c.Squawk)
	b = binenc.AppendBool(b, c.OnGround)
	for _, s := range c.Latest {
		b = appendStamp(b, s)
	}
	b = binary.AppendVarint(b, st.MaxPositionTS)
	b = binary.AppendUvarint(b, uint64(len(st.Window)))
	for _, e := range st.Window {
		b = appendPoint(b, e.Point)
		b = binenc.AppendBool(b, e.Valid)
		b = append(b, byte(e.Status))
	}
	b = binary.AppendUvarint(b, uint64(len(st.Pending)))
	for _, p := range st.Pending {
		b = appendPoint(b, p)
	}
	return b, nil
}

// UnmarshalBinary decodes what AppendBinary wrote. It returns an error
// wrapping ErrCorruptState, never panics, on any other input.
func (st *State) UnmarshalBinary(data []byte) error {
	d := decoder{binenc.NewReader(data, ErrCorruptState)}
	if f := d.Byte(); f != stateFormat {
		if err := d.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%w: format %d, this binary reads %d", ErrCorruptState, f, stateFormat)
	}
	var s State
	s.ICAO = d.String()
	c := &s.Current
	c.Callsign = d.String()
	c.Position = d.point()
	c.Velocity.GroundSpeedKt = math.Float64frombits(d.Uvarint())
	c.Velocity.TrackDeg = math.Float64frombits(d.Uvarint())
	c.Velocity.VerticalRateFpm = int32(d.Varint())
	c.Velocity.Has = Field(d.Uvarint())
	c.AltitudeFt = int32(d.Varint())
	c.Squawk = d.String()
	c.OnGround = d.Bool()
	for i := range c.Latest {
		c.Latest[i] = d.stamp()
	}
	s.MaxPositionTS = d.Varint()
	if n := d.Count(minPointBytes); n > 0 {
		s.Window = make([]Entry, n)
		for i := range s.Window {
			s.Window[i] = Entry{Point: d.point(), Valid: d.Bool(), Status: Status(d.Byte())}
		}
	}
	if n := d.Count(minPointBytes); n > 0 {
		s.Pending = make([]Point, n)
		for i := range s.Pending {
			s.Pending[i] = d.point()
		}
	}
	if d.Err() == nil && d.Len() != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorruptState, d.Len())
	}
	if err := d.Err(); err != nil {
		return err
	}
	*st = s
	return nil
}

func appendStamp(b []byte, s Stamp) []byte {
	b = binary.AppendVarint(b, s.TS)
	return binenc.AppendString(b, s.EventID)
}

func appendPoint(b []byte, p Point) []byte {
	b = appendStamp(b, p.Stamp)
	b = binenc.AppendF64(b, p.Lat)
	b = binenc.AppendF64(b, p.Lon)
	b = binary.AppendVarint(b, int64(p.AltitudeFt))
	return binenc.AppendBool(b, p.HasAltitude)
}

// minPointBytes is the least an encoded Point takes: bounds window and
// buffer lengths, so a corrupt length cannot allocate beyond the input.
const minPointBytes = 1 + 1 + 8 + 8 + 1 + 1

// decoder reads the state's own compound values.
type decoder struct{ *binenc.Reader }

func (d decoder) stamp() Stamp {
	return Stamp{TS: d.Varint(), EventID: d.String()}
}

func (d decoder) point() Point {
	return Point{Stamp: d.stamp(), Lat: d.F64(), Lon: d.F64(), AltitudeFt: int32(d.Varint()), HasAltitude: d.Bool()}
}
