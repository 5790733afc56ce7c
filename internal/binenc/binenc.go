// Package binenc reads and writes the compact binary encodings of the
// processors' changelog states (processors/track, processors/flight):
// varints, length-prefixed strings, fixed 8-byte little-endian floats and
// one-byte booleans. It exists so both state codecs share one careful
// reader: the first error sticks, later reads return zero values, and no
// input, however corrupt, makes it panic or allocate beyond the input's size.
package binenc

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Reader decodes. Corrupt is the sentinel every error wraps, so a state
// codec's callers can test for their own package's error.
type Reader struct {
	b       []byte
	err     error
	corrupt error
}

// NewReader reads b; errors wrap corrupt.
func NewReader(b []byte, corrupt error) *Reader { return &Reader{b: b, corrupt: corrupt} }

// Err is the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Len is how many bytes are left.
func (r *Reader) Len() int { return len(r.b) }

// Fail records a decoding error naming what could not be read, and makes
// every later read return a zero value.
func (r *Reader) Fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad or truncated %s, %d bytes before the end", r.corrupt, what, len(r.b))
	}
	r.b = nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) == 0 {
		r.Fail("byte")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Bool reads a byte that must be 0 or 1.
func (r *Reader) Bool() bool {
	switch r.Byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.Fail("bool")
	return false
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.Fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a zig-zag signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.Fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a length of elements that take at least min bytes each, and
// fails when the rest of the input cannot hold them.
func (r *Reader) Count(min int) int {
	n := r.Uvarint()
	if n > uint64(len(r.b)/max(min, 1)) {
		r.Fail("count")
		return 0
	}
	return int(n)
}

// Next returns the next n bytes, without copying.
func (r *Reader) Next(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.Fail("length")
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

// String reads a uvarint length and that many bytes.
func (r *Reader) String() string { return string(r.Next(r.Uvarint())) }

// F64 reads 8 little-endian bytes as a float64.
func (r *Reader) F64() float64 {
	b := r.Next(8)
	if len(b) < 8 {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}

// AppendString appends a uvarint length and s.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBool appends 1 or 0.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendF64 appends f as 8 little-endian bytes.
func AppendF64(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}
