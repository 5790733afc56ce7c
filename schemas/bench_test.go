package schemas_test

import (
	"context"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

var benchLine = []byte("MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0")

func benchEnvelope() *schemas.Envelope {
	now := time.Date(2022, 1, 8, 22, 42, 15, 605e6, time.UTC)
	return &schemas.Envelope{
		ID: schemas.EventID("sbs", "file:x.sbs:2", benchLine), Feed: "sbs", Format: "sbs-1", FormatVersion: "1",
		Key: "789252", ProducerTS: now, ProducerTSSource: schemas.FromPayload, IngestTS: now,
		Adapter: "ingest/host/1", Origin: "file:/data/x.sbs:2", Raw: benchLine,
	}
}

// BenchmarkEncodeEnvelope is the per-record Avro cost on the ingest hot path.
func BenchmarkEncodeEnvelope(b *testing.B) {
	reg := schemas.MustRegistry()
	e := benchEnvelope()
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = reg.EncodeEnvelope(buf[:0], e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEnvelope is the per-record cost on the sink side.
func BenchmarkDecodeEnvelope(b *testing.B) {
	reg := schemas.MustRegistry()
	enc, err := reg.EncodeEnvelope(nil, benchEnvelope())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.DecodeEnvelope(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = schemas.EventID("sbs", "file:x.sbs:2", benchLine)
	}
}

// BenchmarkCodecEncodeEnvelopeConfluent is the per-record cost of the
// Confluent framing once the schema id is cached (no network I/O).
func BenchmarkCodecEncodeEnvelopeConfluent(b *testing.B) {
	f := newFakeRegistry(b)
	c := codec(b, schemas.MustRegistry(), schemas.WithSchemaRegistry(srClient(b, f.URL)))
	ctx := context.Background()
	e := benchEnvelope()
	if _, err := c.Encode(ctx, nil, "contrail.raw.sbs", e); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = c.Encode(ctx, buf[:0], "contrail.raw.sbs", e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodecDecodeEnvelopeConfluent is the sink-side cost with a cached
// schema id.
func BenchmarkCodecDecodeEnvelopeConfluent(b *testing.B) {
	f := newFakeRegistry(b)
	c := codec(b, schemas.MustRegistry(), schemas.WithSchemaRegistry(srClient(b, f.URL)))
	ctx := context.Background()
	enc, err := c.Encode(ctx, nil, "contrail.raw.sbs", benchEnvelope())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	var e schemas.Envelope
	for b.Loop() {
		if err := c.Decode(ctx, enc, &e); err != nil {
			b.Fatal(err)
		}
	}
}
