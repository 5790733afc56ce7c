package track

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// stateFormat is the first byte of an encoded State. A new layout gets a new
// value and UnmarshalBinary keeps reading the old ones, so a changelog
// written by an older binary still restores.
const stateFormat = 1

// maxEncodedItems bounds the window and buffer lengths UnmarshalBinary
// accepts, so a corrupt length cannot allocate without limit.
const maxEncodedItems = 1 << 16

// ErrCorruptState is wrapped by UnmarshalBinary for bytes that are not an
// encoded State.
var ErrCorruptState = errors.New("corrupt track state")

// AppendBinary appends a compact encoding of st to b, for the step's
// changelog. It does not fail; the error is there for encoding.BinaryAppender.
func (st *State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateFormat)
	b = appendString(b, st.ICAO)
	c := &st.Current
	b = appendString(b, c.Callsign)
	b = appendPoint(b, c.Position)
	b = binary.AppendUvarint(b, math.Float64bits(c.Velocity.GroundSpeedKt))
	b = binary.AppendUvarint(b, math.Float64bits(c.Velocity.TrackDeg))
	b = binary.AppendVarint(b, int64(c.Velocity.VerticalRateFpm))
	b = binary.AppendUvarint(b, uint64(c.Velocity.Has))
	b = binary.AppendVarint(b, int64(c.AltitudeFt))
	b = appendString(b, c.Squawk)
	b = appendBool(b, c.OnGround)
	for _, s := range c.Latest {
		b = appendStamp(b, s)
	}
	b = binary.AppendVarint(b, st.MaxPositionTS)
	b = binary.AppendUvarint(b, uint64(len(st.Window)))
	for _, e := range st.Window {
		b = appendPoint(b, e.Point)
		b = appendBool(b, e.Valid)
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
	d := decoder{b: data}
	if f := d.byte(); f != stateFormat {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("%w: format %d, this binary reads %d", ErrCorruptState, f, stateFormat)
	}
	var s State
	s.ICAO = d.string()
	c := &s.Current
	c.Callsign = d.string()
	c.Position = d.point()
	c.Velocity.GroundSpeedKt = math.Float64frombits(d.uvarint())
	c.Velocity.TrackDeg = math.Float64frombits(d.uvarint())
	c.Velocity.VerticalRateFpm = int32(d.varint())
	c.Velocity.Has = Field(d.uvarint())
	c.AltitudeFt = int32(d.varint())
	c.Squawk = d.string()
	c.OnGround = d.bool()
	for i := range c.Latest {
		c.Latest[i] = d.stamp()
	}
	s.MaxPositionTS = d.varint()
	if n := d.count(); n > 0 {
		s.Window = make([]Entry, n)
		for i := range s.Window {
			s.Window[i] = Entry{Point: d.point(), Valid: d.bool(), Status: Status(d.byte())}
		}
	}
	if n := d.count(); n > 0 {
		s.Pending = make([]Point, n)
		for i := range s.Pending {
			s.Pending[i] = d.point()
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorruptState, len(d.b))
	}
	if d.err != nil {
		return d.err
	}
	*st = s
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendStamp(b []byte, s Stamp) []byte {
	b = binary.AppendVarint(b, s.TS)
	return appendString(b, s.EventID)
}

func appendPoint(b []byte, p Point) []byte {
	b = appendStamp(b, p.Stamp)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Lat))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Lon))
	b = binary.AppendVarint(b, int64(p.AltitudeFt))
	return appendBool(b, p.HasAltitude)
}

// decoder reads the encoding; the first error sticks and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or invalid %s", ErrCorruptState, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bool")
	return false
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) count() int {
	n := d.uvarint()
	if n > maxEncodedItems || n > uint64(len(d.b)) {
		d.fail("length")
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) f64() float64 {
	if len(d.b) < 8 {
		d.fail("float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) stamp() Stamp {
	return Stamp{TS: d.varint(), EventID: d.string()}
}

func (d *decoder) point() Point {
	return Point{Stamp: d.stamp(), Lat: d.f64(), Lon: d.f64(), AltitudeFt: int32(d.varint()), HasAltitude: d.bool()}
}
