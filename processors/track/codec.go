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
const stateFormat = 2

// Format 1 lacks the fields after Pending (first and last seen, message
// count, duplicate ring); it decodes with them zero.
const stateFormatV1 = 1

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
	b = binary.AppendVarint(b, st.FirstSeen)
	b = binary.AppendVarint(b, st.LastSeen)
	b = binary.AppendVarint(b, st.Messages)
	b = binary.AppendUvarint(b, uint64(len(st.Seen)))
	var prev uint64
	for _, k := range st.Seen {
		b = binary.AppendUvarint(b, k>>32-prev>>32) // sorted: small deltas of seconds
		b = binary.LittleEndian.AppendUint32(b, uint32(k))
		prev = k
	}
	return b, nil
}

// UnmarshalBinary decodes what AppendBinary wrote. It returns an error
// wrapping ErrCorruptState, never panics, on any other input.
func (st *State) UnmarshalBinary(data []byte) error {
	d := decoder{Reader: binenc.NewReader(data, ErrCorruptState)}
	f := d.Byte()
	d.format = f
	if f != stateFormat && f != stateFormatV1 {
		if err := d.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%w: format %d, this binary reads %d and %d", ErrCorruptState, f, stateFormatV1, stateFormat)
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
	if f >= 2 {
		s.FirstSeen = d.Varint()
		s.LastSeen = d.Varint()
		s.Messages = d.Varint()
		if n := d.Count(5); n > 0 {
			s.Seen = make([]uint64, n)
			var sec uint64
			for i := range s.Seen {
				sec += d.Uvarint()
				var fp uint32
				if b := d.Next(4); len(b) == 4 {
					fp = binary.LittleEndian.Uint32(b)
				}
				if sec >= 1<<32 {
					d.Fail("duplicate set time")
				}
				s.Seen[i] = sec<<32 | uint64(fp)
				if i > 0 && d.Err() == nil && s.Seen[i-1] >= s.Seen[i] {
					d.Fail("duplicate set order")
				}
			}
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
	b = binenc.AppendBool(b, p.HasAltitude)
	var g byte // format 2: bit 0 has a ground flag, bit 1 on ground
	if p.HasOnGround {
		g = 1
		if p.OnGround {
			g |= 2
		}
	}
	return append(b, g)
}

// minPointBytes is the least an encoded Point takes: bounds window and
// buffer lengths, so a corrupt length cannot allocate beyond the input.
const minPointBytes = 1 + 1 + 8 + 8 + 1 + 1

// decoder reads the state's own compound values.
type decoder struct {
	*binenc.Reader
	format byte
}

func (d decoder) stamp() Stamp {
	return Stamp{TS: d.Varint(), EventID: d.String()}
}

func (d decoder) point() Point {
	p := Point{Stamp: d.stamp(), Lat: d.F64(), Lon: d.F64(), AltitudeFt: int32(d.Varint()), HasAltitude: d.Bool()}
	if d.format >= 2 {
		g := d.Byte()
		if g > 3 || g == 2 {
			d.Fail("ground flag")
		}
		p.HasOnGround, p.OnGround = g&1 != 0, g&2 != 0
	}
	return p
}
