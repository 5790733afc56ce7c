package schemas_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

func registry(t testing.TB) *schemas.Registry {
	t.Helper()
	r, err := schemas.NewRegistry()
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	return r
}

var tokyo = time.FixedZone("JST", 9*60*60)

// rawCases are payloads that must survive the envelope byte for byte.
var rawCases = []struct {
	name string
	raw  []byte
}{
	{"sbs line", []byte("MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0")},
	{"binary bytes", []byte{0x00, 0xff, 0x01, 0xfe, 0x00, '\r', '\n', 0x80}},
	{"invalid UTF-8", []byte("AHK\xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80")},
	{"NULs only", []byte{0, 0, 0}},
	{"empty", []byte{}},
	{"large", bytes.Repeat([]byte{0xC3, 0x01}, 70_000)},
}

func TestEnvelopeRoundTrip(t *testing.T) {
	r := registry(t)
	for _, tc := range rawCases {
		t.Run(tc.name, func(t *testing.T) {
			in := &schemas.Envelope{
				ID:               schemas.EventID("sbs", "file:/data/x.sbs:17", tc.raw),
				Feed:             "sbs",
				Format:           "sbs-1",
				FormatVersion:    "1",
				Key:              "789252",
				ProducerTS:       time.Date(2022, 1, 8, 22, 42, 15, 605_000_000, tokyo),
				ProducerTSSource: schemas.FromPayload,
				IngestTS:         time.Date(2026, 3, 1, 12, 0, 0, 1_000_000, time.UTC),
				Adapter:          "ingest/host/42",
				Origin:           "file:/data/x.sbs:17",
				Raw:              bytes.Clone(tc.raw),
			}
			b, err := r.EncodeEnvelope(nil, in)
			if err != nil {
				t.Fatalf("EncodeEnvelope: %v", err)
			}
			if !bytes.Equal(in.Raw, tc.raw) {
				t.Errorf("EncodeEnvelope modified Raw")
			}
			out, err := r.DecodeEnvelope(b)
			if err != nil {
				t.Fatalf("DecodeEnvelope: %v", err)
			}
			if !bytes.Equal(out.Raw, tc.raw) {
				t.Errorf("Raw = %x, want %x", out.Raw, tc.raw)
			}
			if out.ID != in.ID || out.Feed != in.Feed || out.Format != in.Format || out.FormatVersion != in.FormatVersion ||
				out.Key != in.Key || out.ProducerTSSource != in.ProducerTSSource || out.Adapter != in.Adapter || out.Origin != in.Origin {
				t.Errorf("decoded %+v\nwant     %+v", out, in)
			}
			if !out.ProducerTS.Equal(in.ProducerTS) || !out.IngestTS.Equal(in.IngestTS) {
				t.Errorf("timestamps %v, %v; want %v, %v", out.ProducerTS, out.IngestTS, in.ProducerTS, in.IngestTS)
			}
			if out.ProducerTS.Location() != time.UTC || out.IngestTS.Location() != time.UTC {
				t.Errorf("timestamps in %v and %v, want UTC", out.ProducerTS.Location(), out.IngestTS.Location())
			}
		})
	}
}

func TestEnvelopeTimestampSources(t *testing.T) {
	r := registry(t)
	for _, src := range []schemas.TimestampSource{schemas.FromPayload, schemas.FromRecord, schemas.FromReceipt} {
		t.Run(string(src), func(t *testing.T) {
			b, err := r.EncodeEnvelope(nil, &schemas.Envelope{ProducerTSSource: src, Raw: []byte("x")})
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.DecodeEnvelope(b)
			if err != nil {
				t.Fatal(err)
			}
			if out.ProducerTSSource != src {
				t.Errorf("ProducerTSSource = %q, want %q", out.ProducerTSSource, src)
			}
		})
	}
	if _, err := r.EncodeEnvelope(nil, &schemas.Envelope{ProducerTSSource: "GUESSED"}); err == nil {
		t.Errorf("EncodeEnvelope with source GUESSED: no error, want one (not an enum symbol)")
	}
}

func TestRejectedRoundTrip(t *testing.T) {
	r := registry(t)
	for _, tc := range rawCases {
		t.Run(tc.name, func(t *testing.T) {
			in := &schemas.Rejected{
				ID:         schemas.EventID("sbs", "file:/data/x.sbs:3", tc.raw),
				Feed:       "sbs",
				ReasonCode: "sbs.binary",
				Reason:     "line contains byte 0x00; SBS-1 is printable ASCII",
				IngestTS:   time.Date(2026, 3, 1, 12, 0, 0, 999_000_000, tokyo),
				Adapter:    "ingest/host/42",
				Origin:     "file:/data/x.sbs:3",
				Raw:        bytes.Clone(tc.raw),
			}
			b, err := r.EncodeRejected(nil, in)
			if err != nil {
				t.Fatalf("EncodeRejected: %v", err)
			}
			out, err := r.DecodeRejected(b)
			if err != nil {
				t.Fatalf("DecodeRejected: %v", err)
			}
			if !bytes.Equal(out.Raw, tc.raw) {
				t.Errorf("Raw = %x, want %x", out.Raw, tc.raw)
			}
			if out.ID != in.ID || out.Feed != in.Feed || out.ReasonCode != in.ReasonCode || out.Reason != in.Reason ||
				out.Adapter != in.Adapter || out.Origin != in.Origin {
				t.Errorf("decoded %+v\nwant     %+v", out, in)
			}
			if !out.IngestTS.Equal(in.IngestTS) || out.IngestTS.Location() != time.UTC {
				t.Errorf("IngestTS = %v, want %v in UTC", out.IngestTS, in.IngestTS.UTC())
			}
		})
	}
}

func TestTimestampPrecision(t *testing.T) {
	r := registry(t)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"milliseconds kept", time.Date(2022, 1, 8, 22, 42, 15, 605_000_000, time.UTC), time.Date(2022, 1, 8, 22, 42, 15, 605_000_000, time.UTC)},
		{"sub-millisecond truncated", time.Date(2022, 1, 8, 22, 42, 15, 605_999_999, time.UTC), time.Date(2022, 1, 8, 22, 42, 15, 605_000_000, time.UTC)},
		{"zone converted to UTC", time.Date(2022, 1, 8, 22, 42, 15, 1_000_000, tokyo), time.Date(2022, 1, 8, 13, 42, 15, 1_000_000, time.UTC)},
		{"epoch", time.Unix(0, 0), time.Unix(0, 0).UTC()},
		{"zero time stays zero", time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := r.EncodeEnvelope(nil, &schemas.Envelope{ProducerTS: tt.in, IngestTS: tt.in, ProducerTSSource: schemas.FromPayload})
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.DecodeEnvelope(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []time.Time{out.ProducerTS, out.IngestTS} {
				if !got.Equal(tt.want) {
					t.Errorf("decoded %v, want %v", got, tt.want)
				}
				if got.Location() != time.UTC {
					t.Errorf("decoded in %v, want UTC", got.Location())
				}
				if got.IsZero() != tt.want.IsZero() {
					t.Errorf("IsZero() = %v, want %v", got.IsZero(), tt.want.IsZero())
				}
			}
		})
	}
}

// TestSingleObjectEncoding checks the framing of ARCHITECTURE.md: 0xC3 0x01,
// then the 8-byte schema fingerprint, then the datum; different schemas have
// different fingerprints and one schema always the same.
func TestSingleObjectEncoding(t *testing.T) {
	r := registry(t)
	env1, err := r.EncodeEnvelope(nil, &schemas.Envelope{ID: "a", ProducerTSSource: schemas.FromReceipt, Raw: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	env2, err := r.EncodeEnvelope(nil, &schemas.Envelope{ID: "b", Feed: "adexp", ProducerTSSource: schemas.FromRecord, Raw: []byte{0xff}})
	if err != nil {
		t.Fatal(err)
	}
	rej, err := r.EncodeRejected(nil, &schemas.Rejected{ID: "a", Raw: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"envelope": env1, "rejected": rej} {
		if len(b) < 10 || b[0] != 0xC3 || b[1] != 0x01 {
			t.Errorf("%s encoding starts % x, want c3 01 and an 8-byte fingerprint", name, b[:min(len(b), 10)])
		}
	}
	if !bytes.Equal(env1[2:10], env2[2:10]) {
		t.Errorf("two envelopes have fingerprints % x and % x, want the same", env1[2:10], env2[2:10])
	}
	if bytes.Equal(env1[2:10], rej[2:10]) {
		t.Errorf("envelope and rejected schemas share fingerprint % x", rej[2:10])
	}

	// Encode appends to buf rather than overwriting it.
	prefix := []byte("keep")
	b, err := r.EncodeEnvelope(prefix, &schemas.Envelope{ID: "a", ProducerTSSource: schemas.FromReceipt, Raw: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("keep")) || !bytes.Equal(b[4:], env1) {
		t.Errorf("EncodeEnvelope(prefix) = % x, want \"keep\" followed by % x", b, env1)
	}
}

func TestDecodeWrongSchema(t *testing.T) {
	r := registry(t)
	env, err := r.EncodeEnvelope(nil, &schemas.Envelope{ID: "a", ProducerTSSource: schemas.FromPayload, Raw: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	rej, err := r.EncodeRejected(nil, &schemas.Rejected{ID: "a", Raw: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	unknown := bytes.Clone(env)
	for i := 2; i < 10; i++ {
		unknown[i] ^= 0xff
	}
	tests := []struct {
		name   string
		decode func([]byte) error
		in     []byte
	}{
		{"envelope read as rejected", func(b []byte) error { _, err := r.DecodeRejected(b); return err }, env},
		{"rejected read as envelope", func(b []byte) error { _, err := r.DecodeEnvelope(b); return err }, rej},
		{"unknown fingerprint as envelope", func(b []byte) error { _, err := r.DecodeEnvelope(b); return err }, unknown},
		{"unknown fingerprint as rejected", func(b []byte) error { _, err := r.DecodeRejected(b); return err }, unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.in)
			if !errors.Is(err, schemas.ErrUnknownSchema) {
				t.Errorf("error %v, want one wrapping ErrUnknownSchema", err)
			}
		})
	}
}

func TestDecodeGarbage(t *testing.T) {
	r := registry(t)
	env, err := r.EncodeEnvelope(nil, &schemas.Envelope{ID: "abc", Feed: "sbs", Key: "789252", ProducerTSSource: schemas.FromPayload, Origin: "file:x:1", Raw: []byte("MSG,3")})
	if err != nil {
		t.Fatal(err)
	}
	rej, err := r.EncodeRejected(nil, &schemas.Rejected{ID: "abc", Feed: "sbs", ReasonCode: "sbs.empty", Origin: "file:x:1", Raw: []byte("MSG,3")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"magic only", []byte{0xC3, 0x01}},
		{"wrong magic", append([]byte{0xC3, 0x02}, env[2:]...)},
		{"plain text", []byte("MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605")},
		{"JSON", []byte(`{"id":"abc","feed":"sbs"}`)},
		{"header without datum", env[:10]},
		{"huge length prefix", append(bytes.Clone(env[:10]), 0xfe, 0xff, 0xff, 0xff, 0x0f)},
		{"negative length prefix", append(bytes.Clone(env[:10]), 0x01)},
	}
	for n := 11; n < len(env); n += 3 {
		tests = append(tests, struct {
			name string
			in   []byte
		}{"envelope truncated", env[:n]})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if e, err := r.DecodeEnvelope(tt.in); err == nil {
				t.Errorf("DecodeEnvelope(% x) = %+v, want an error", tt.in, e)
			}
			in := tt.in
			if len(in) >= 10 && bytes.Equal(in[:10], env[:10]) {
				in = append(bytes.Clone(rej[:10]), in[10:]...)
			}
			if x, err := r.DecodeRejected(in); err == nil {
				t.Errorf("DecodeRejected(% x) = %+v, want an error", in, x)
			}
		})
	}
}

func TestEventID(t *testing.T) {
	base := schemas.EventID("sbs", "file:/data/x.sbs:17", []byte("MSG,3"))
	if again := schemas.EventID("sbs", "file:/data/x.sbs:17", []byte("MSG,3")); again != base {
		t.Errorf("EventID not deterministic: %s then %s", base, again)
	}
	if len(base) != 32 {
		t.Errorf("EventID %q has %d characters, want 32 hex digits", base, len(base))
	}
	tests := []struct {
		name         string
		feed, origin string
		raw          []byte
	}{
		{"other feed", "adexp", "file:/data/x.sbs:17", []byte("MSG,3")},
		{"other origin", "sbs", "file:/data/x.sbs:18", []byte("MSG,3")},
		{"other raw", "sbs", "file:/data/x.sbs:17", []byte("MSG,4")},
		{"raw with trailing NUL", "sbs", "file:/data/x.sbs:17", []byte("MSG,3\x00")},
		{"empty raw", "sbs", "file:/data/x.sbs:17", nil},
		// The separators keep field boundaries: moving bytes between fields
		// must change the id.
		{"feed absorbs origin prefix", "sbsf", "ile:/data/x.sbs:17", []byte("MSG,3")},
		{"origin absorbs raw prefix", "sbs", "file:/data/x.sbs:17M", []byte("SG,3")},
	}
	seen := map[string]string{base: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := schemas.EventID(tt.feed, tt.origin, tt.raw)
			if prev, dup := seen[id]; dup {
				t.Errorf("EventID = %s, same as %s", id, prev)
			}
			seen[id] = tt.name
		})
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	r := registry(f)
	env, err := r.EncodeEnvelope(nil, &schemas.Envelope{ID: "abc", Feed: "sbs", Key: "789252", ProducerTS: time.Unix(1641681735, 605e6),
		ProducerTSSource: schemas.FromPayload, Origin: "file:x:1", Raw: []byte("MSG,3,111")})
	if err != nil {
		f.Fatal(err)
	}
	rej, err := r.EncodeRejected(nil, &schemas.Rejected{ID: "abc", Feed: "sbs", ReasonCode: "sbs.binary", Raw: []byte{0, 0xff}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	f.Add(rej)
	f.Add(env[:10])
	f.Add([]byte{})
	f.Add([]byte{0xC3, 0x01})
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		e, err := r.DecodeEnvelope(b)
		if err == nil {
			if e == nil {
				t.Fatal("DecodeEnvelope returned nil envelope and nil error")
			}
			if e.ProducerTS.Location() != time.UTC || e.IngestTS.Location() != time.UTC {
				t.Fatalf("timestamps not in UTC: %v %v", e.ProducerTS, e.IngestTS)
			}
		}
		if _, err := r.DecodeRejected(b); err == nil && bytes.Equal(b[:min(len(b), 10)], env[:10]) {
			t.Fatalf("DecodeRejected accepted an envelope fingerprint: % x", b)
		}
		if !bytes.Equal(b, orig) {
			t.Fatalf("decoding modified its input")
		}
	})
}
