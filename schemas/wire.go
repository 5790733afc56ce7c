package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Framing is how a record value names its writer schema.
type Framing int

const (
	// SingleObject is Avro single-object encoding: 0xC3 0x01, then the
	// 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema.
	SingleObject Framing = iota + 1
	// Confluent is the Confluent wire format: 0x00, then the 4-byte
	// big-endian id of the writer schema in a schema registry.
	Confluent
)

func (f Framing) String() string {
	switch f {
	case SingleObject:
		return "single-object"
	case Confluent:
		return "confluent"
	}
	return fmt.Sprintf("framing(%d)", int(f))
}

// ErrFraming is wrapped when a value starts with neither framing's magic.
var ErrFraming = errors.New("not an Avro single-object or Confluent-framed record")

// Header is the parsed framing of one record value.
type Header struct {
	Framing     Framing
	Fingerprint uint64 // SingleObject only
	SchemaID    int    // Confluent only
	Datum       []byte // the binary datum after the header; aliases the input
}

// ParseHeader detects the framing from the first byte(s) of b. It never
// panics; short or unknown prefixes give an error wrapping ErrFraming.
func ParseHeader(b []byte) (Header, error) {
	switch {
	case len(b) >= 2 && b[0] == 0xC3 && b[1] == 0x01:
		if len(b) < 10 {
			return Header{}, fmt.Errorf("%w: single-object header truncated at %d bytes", ErrFraming, len(b))
		}
		return Header{Framing: SingleObject, Fingerprint: binary.LittleEndian.Uint64(b[2:10]), Datum: b[10:]}, nil
	case len(b) >= 1 && b[0] == 0x00:
		if len(b) < 5 {
			return Header{}, fmt.Errorf("%w: Confluent header truncated at %d bytes", ErrFraming, len(b))
		}
		return Header{Framing: Confluent, SchemaID: int(binary.BigEndian.Uint32(b[1:5])), Datum: b[5:]}, nil
	case len(b) == 0:
		return Header{}, fmt.Errorf("%w: empty value", ErrFraming)
	}
	return Header{}, fmt.Errorf("%w: starts % x", ErrFraming, b[:min(len(b), 2)])
}

// AppendConfluentHeader appends the Confluent wire-format header for id.
func AppendConfluentHeader(buf []byte, id int) []byte {
	return binary.BigEndian.AppendUint32(append(buf, 0), uint32(id))
}
