package binenc_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/contrail-atm/contrail/internal/binenc"
)

var errBad = errors.New("bad test state")

func TestRoundTrip(t *testing.T) {
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, -7)
	b = binenc.AppendString(b, "KLM1023")
	b = binenc.AppendBool(b, true)
	b = binenc.AppendF64(b, 52.25)
	b = append(b, 9)
	r := binenc.NewReader(b, errBad)
	if u, v, s, ok, f, c := r.Uvarint(), r.Varint(), r.String(), r.Bool(), r.F64(), r.Byte(); u != 300 || v != -7 || s != "KLM1023" || !ok || f != 52.25 || c != 9 {
		t.Errorf("read back %d %d %q %v %v %d", u, v, s, ok, f, c)
	}
	if r.Err() != nil || r.Len() != 0 {
		t.Errorf("err %v, %d bytes left", r.Err(), r.Len())
	}
	// Every strict prefix fails, wrapping the caller's sentinel, and every
	// read after the failure gives a zero value.
	for n := range len(b) {
		r := binenc.NewReader(b[:n], errBad)
		r.Uvarint()
		r.Varint()
		_ = r.String()
		r.Bool()
		r.F64()
		r.Byte()
		if !errors.Is(r.Err(), errBad) {
			t.Fatalf("prefix %d: err %v, want one wrapping the sentinel", n, r.Err())
		}
		if r.String() != "" || r.Uvarint() != 0 {
			t.Fatalf("prefix %d: reads after a failure are not zero", n)
		}
	}
}

func TestBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		read func(*binenc.Reader)
	}{
		{"bool 2", []byte{2}, func(r *binenc.Reader) { r.Bool() }},
		{"count beyond input", binary.AppendUvarint(nil, 1000), func(r *binenc.Reader) { r.Count(1) }},
		{"huge string length", binary.AppendUvarint(nil, 1<<62), func(r *binenc.Reader) { _ = r.String() }},
		{"overlong varint", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, func(r *binenc.Reader) { r.Uvarint() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := binenc.NewReader(tc.in, errBad)
			tc.read(r)
			if !errors.Is(r.Err(), errBad) {
				t.Errorf("err %v, want one wrapping the sentinel", r.Err())
			}
		})
	}
}
