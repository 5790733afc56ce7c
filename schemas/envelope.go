package schemas

import (
	"fmt"
	"time"
)

// TimestampSource says where an envelope's producer timestamp came from.
type TimestampSource string

// The timestamp sources of ARCHITECTURE.md §2, in order of preference.
const (
	FromPayload TimestampSource = "PAYLOAD"
	FromRecord  TimestampSource = "RECORD"
	FromReceipt TimestampSource = "RECEIPT"
)

// Envelope is one raw feed record with its provenance. Raw is never modified.
type Envelope struct {
	ID               string
	Feed             string
	Format           string
	FormatVersion    string
	Key              string
	ProducerTS       time.Time
	ProducerTSSource TimestampSource
	IngestTS         time.Time
	Adapter          string
	Origin           string
	Raw              []byte
}

// Rejected is a record that failed its syntax check.
type Rejected struct {
	ID         string
	Feed       string
	ReasonCode string
	Reason     string
	IngestTS   time.Time
	Adapter    string
	Origin     string
	Raw        []byte
}

// SchemaName implements Value.
func (*Envelope) SchemaName() string { return EnvelopeSchema }

func (e *Envelope) toNative() map[string]any {
	return map[string]any{
		"id":                 e.ID,
		"feed":               e.Feed,
		"format":             e.Format,
		"format_version":     e.FormatVersion,
		"key":                e.Key,
		"producer_ts":        e.ProducerTS,
		"producer_ts_source": string(e.ProducerTSSource),
		"ingest_ts":          e.IngestTS,
		"adapter":            e.Adapter,
		"origin":             e.Origin,
		"raw":                e.Raw,
	}
}

func (e *Envelope) fromNative(m map[string]any) {
	*e = Envelope{
		ID:               str(m, "id"),
		Feed:             str(m, "feed"),
		Format:           str(m, "format"),
		FormatVersion:    str(m, "format_version"),
		Key:              str(m, "key"),
		ProducerTS:       tm(m, "producer_ts"),
		ProducerTSSource: TimestampSource(str(m, "producer_ts_source")),
		IngestTS:         tm(m, "ingest_ts"),
		Adapter:          str(m, "adapter"),
		Origin:           str(m, "origin"),
		Raw:              byt(m, "raw"),
	}
}

// SchemaName implements Value.
func (*Rejected) SchemaName() string { return RejectedSchema }

func (x *Rejected) toNative() map[string]any {
	return map[string]any{
		"id":          x.ID,
		"feed":        x.Feed,
		"reason_code": x.ReasonCode,
		"reason":      x.Reason,
		"ingest_ts":   x.IngestTS,
		"adapter":     x.Adapter,
		"origin":      x.Origin,
		"raw":         x.Raw,
	}
}

func (x *Rejected) fromNative(m map[string]any) {
	*x = Rejected{
		ID:         str(m, "id"),
		Feed:       str(m, "feed"),
		ReasonCode: str(m, "reason_code"),
		Reason:     str(m, "reason"),
		IngestTS:   tm(m, "ingest_ts"),
		Adapter:    str(m, "adapter"),
		Origin:     str(m, "origin"),
		Raw:        byt(m, "raw"),
	}
}

// EncodeEnvelope appends the single-object encoding of e to buf.
func (r *Registry) EncodeEnvelope(buf []byte, e *Envelope) ([]byte, error) {
	out, err := r.Encode(buf, e)
	if err != nil {
		return nil, fmt.Errorf("encode envelope %s: %w", e.ID, err)
	}
	return out, nil
}

// DecodeEnvelope decodes a single-object encoded envelope of any embedded
// version.
func (r *Registry) DecodeEnvelope(b []byte) (*Envelope, error) {
	var e Envelope
	if err := r.Decode(b, &e); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	return &e, nil
}

// EncodeRejected appends the single-object encoding of x to buf.
func (r *Registry) EncodeRejected(buf []byte, x *Rejected) ([]byte, error) {
	out, err := r.Encode(buf, x)
	if err != nil {
		return nil, fmt.Errorf("encode rejected record %s: %w", x.ID, err)
	}
	return out, nil
}

// DecodeRejected decodes a single-object encoded rejected record of any
// embedded version.
func (r *Registry) DecodeRejected(b []byte) (*Rejected, error) {
	var x Rejected
	if err := r.Decode(b, &x); err != nil {
		return nil, fmt.Errorf("decode rejected record: %w", err)
	}
	return &x, nil
}
