// Package schemas holds Contrail's Avro schemas (the .avsc files under avro/,
// embedded in the binary) and the codecs that turn Go values into Kafka record
// values and back.
//
// Records are written in Avro single-object encoding (0xC3 0x01, the 8-byte
// CRC-64-AVRO fingerprint of the writer schema, then the binary datum), so every
// record names the schema that wrote it and a reader can tell versions apart
// without a registry. goavro is used only inside this package.
package schemas

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/linkedin/goavro/v2"
)

//go:embed avro/*.avsc
var files embed.FS

// ErrUnknownSchema is returned when a record's fingerprint names no schema
// this binary knows, for example a record written by a newer Contrail.
var ErrUnknownSchema = errors.New("unknown writer schema")

// Registry holds the codecs of one binary's schemas. It is safe for concurrent
// use: goavro codecs are immutable once built.
type Registry struct {
	Envelope *goavro.Codec
	Rejected *goavro.Codec
}

// NewRegistry compiles the embedded schemas.
func NewRegistry() (*Registry, error) {
	env, err := load("avro/envelope.v1.avsc")
	if err != nil {
		return nil, err
	}
	rej, err := load("avro/rejected.v1.avsc")
	if err != nil {
		return nil, err
	}
	return &Registry{Envelope: env, Rejected: rej}, nil
}

// MustRegistry is NewRegistry for callers that cannot continue without the
// schemas compiled into the binary; it panics only on a build defect.
func MustRegistry() *Registry {
	r, err := NewRegistry()
	if err != nil {
		panic(err)
	}
	return r
}

func load(name string) (*goavro.Codec, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read schema %s: %w", name, err)
	}
	c, err := goavro.NewCodec(string(b))
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", name, err)
	}
	return c, nil
}

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

// EventID derives the deterministic id of a raw record: the same feed,
// identity (where the record sits in its source, e.g. file name and line) and
// bytes always give the same id, so replays and retries can be deduplicated
// downstream.
func EventID(feed, identity string, raw []byte) string {
	h := sha256.New()
	h.Write([]byte(feed))
	h.Write([]byte{0})
	h.Write([]byte(identity))
	h.Write([]byte{0})
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// EncodeEnvelope appends the single-object encoding of e to buf.
func (r *Registry) EncodeEnvelope(buf []byte, e *Envelope) ([]byte, error) {
	out, err := r.Envelope.SingleFromNative(buf, map[string]any{
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
	})
	if err != nil {
		return nil, fmt.Errorf("encode envelope %s: %w", e.ID, err)
	}
	return out, nil
}

// DecodeEnvelope decodes a single-object encoded envelope.
func (r *Registry) DecodeEnvelope(b []byte) (*Envelope, error) {
	m, err := decode(r.Envelope, b)
	if err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	return &Envelope{
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
	}, nil
}

// EncodeRejected appends the single-object encoding of x to buf.
func (r *Registry) EncodeRejected(buf []byte, x *Rejected) ([]byte, error) {
	out, err := r.Rejected.SingleFromNative(buf, map[string]any{
		"id":          x.ID,
		"feed":        x.Feed,
		"reason_code": x.ReasonCode,
		"reason":      x.Reason,
		"ingest_ts":   x.IngestTS,
		"adapter":     x.Adapter,
		"origin":      x.Origin,
		"raw":         x.Raw,
	})
	if err != nil {
		return nil, fmt.Errorf("encode rejected record %s: %w", x.ID, err)
	}
	return out, nil
}

// DecodeRejected decodes a single-object encoded rejected record.
func (r *Registry) DecodeRejected(b []byte) (*Rejected, error) {
	m, err := decode(r.Rejected, b)
	if err != nil {
		return nil, fmt.Errorf("decode rejected record: %w", err)
	}
	return &Rejected{
		ID:         str(m, "id"),
		Feed:       str(m, "feed"),
		ReasonCode: str(m, "reason_code"),
		Reason:     str(m, "reason"),
		IngestTS:   tm(m, "ingest_ts"),
		Adapter:    str(m, "adapter"),
		Origin:     str(m, "origin"),
		Raw:        byt(m, "raw"),
	}, nil
}

func decode(c *goavro.Codec, b []byte) (map[string]any, error) {
	native, _, err := c.NativeFromSingle(b)
	if err != nil {
		var mismatch goavro.ErrWrongCodec
		if errors.As(err, &mismatch) {
			return nil, fmt.Errorf("%w: %v", ErrUnknownSchema, err)
		}
		return nil, err
	}
	m, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("datum is %T, not a record", native)
	}
	return m, nil
}

// The accessors below tolerate absent fields so a reader never panics on a
// datum decoded with a different (resolved) schema.

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func byt(m map[string]any, k string) []byte {
	b, _ := m[k].([]byte)
	return b
}

func tm(m map[string]any, k string) time.Time {
	t, _ := m[k].(time.Time)
	return t.UTC()
}
