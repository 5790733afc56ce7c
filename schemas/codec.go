package schemas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/sr"
)

// SubjectNameStrategy names the schema registry subject a schema is
// registered under when written to a topic.
type SubjectNameStrategy func(topic string, s *Schema) string

// TopicNameStrategy is Confluent's default: "<topic>-value". Contrail's
// topics each carry one record type (raw: Envelope, rejected: Rejected,
// flights.events: DomainEvent, flights.state: FlightState), so the registry's
// per-subject compatibility check guards each topic's evolution. It is the
// Codec default.
// An empty topic gives no subject (an error at Encode).
func TopicNameStrategy(topic string, _ *Schema) string {
	if topic == "" {
		return ""
	}
	return topic + "-value"
}

// RecordNameStrategy names the subject after the record's full name, e.g.
// "io.contrail.raw.Envelope", for topics that mix record types.
func RecordNameStrategy(_ string, s *Schema) string { return s.FullName }

// CodecOption configures a Codec.
type CodecOption func(*Codec)

// WithSchemaRegistry makes the Codec write the Confluent wire format with ids
// from cl, registering the writer schema on first use. Default: no registry,
// single-object encoding. Readers of a Codec with a registry accept both
// framings; without one, only single-object.
func WithSchemaRegistry(cl *sr.Client) CodecOption {
	return func(c *Codec) { c.client = cl }
}

// WithSubjectNameStrategy sets how subjects are named. Default:
// TopicNameStrategy.
func WithSubjectNameStrategy(s SubjectNameStrategy) CodecOption {
	return func(c *Codec) { c.subject = s }
}

// WithAutoRegister says whether the writer schema is registered (POST
// /subjects/{s}/versions, default true) or only looked up (POST
// /subjects/{s}), for registries where a deployment step registers schemas
// and producers may not.
func WithAutoRegister(on bool) CodecOption {
	return func(c *Codec) { c.autoRegister = on }
}

// Codec encodes Values to Kafka record values and back, in single-object
// encoding or, with WithSchemaRegistry, the Confluent wire format. It caches
// registry ids and schemas: after the first record of a (subject, schema)
// pair, and the first record of a schema id, no network I/O happens. It is
// safe for concurrent use.
type Codec struct {
	reg          *Registry
	client       *sr.Client
	subject      SubjectNameStrategy
	autoRegister bool
	url          string

	mu   sync.RWMutex
	ids  map[subjectSchema]int
	byID map[int]*Schema
}

type subjectSchema struct {
	subject string
	fp      uint64
}

// NewCodec builds a Codec over the schemas of reg.
func NewCodec(reg *Registry, opts ...CodecOption) (*Codec, error) {
	if reg == nil {
		return nil, errors.New("schemas.NewCodec: nil Registry")
	}
	c := &Codec{reg: reg, subject: TopicNameStrategy, autoRegister: true,
		ids: map[subjectSchema]int{}, byID: map[int]*Schema{}}
	for _, o := range opts {
		o(c)
	}
	if c.subject == nil {
		return nil, errors.New("schemas.NewCodec: nil SubjectNameStrategy")
	}
	if c.client != nil {
		if urls, ok := c.client.OptValue(sr.URLs).([]string); ok {
			c.url = strings.Join(urls, ",")
		} else {
			c.url = "http://localhost:8081" // sr's default
		}
	}
	return c, nil
}

// Framing is the framing this Codec writes.
func (c *Codec) Framing() Framing {
	if c.client != nil {
		return Confluent
	}
	return SingleObject
}

// Registry returns the embedded schemas the Codec writes with.
func (c *Codec) Registry() *Registry { return c.reg }

// Encode appends the encoding of v, written with the latest version of its
// schema, to buf. topic is used only to name the registry subject. With a
// registry, the first record of each subject and schema may do network I/O
// bounded by ctx.
func (c *Codec) Encode(ctx context.Context, buf []byte, topic string, v Value) ([]byte, error) {
	if c.client == nil {
		return c.reg.Encode(buf, v)
	}
	s, err := c.reg.latest(v.SchemaName())
	if err != nil {
		return nil, err
	}
	if err := validate(v); err != nil {
		return nil, err
	}
	subject := c.subject(topic, s)
	if subject == "" {
		return nil, fmt.Errorf("encode %s for topic %q: no schema registry subject", s, topic)
	}
	id, err := c.SchemaID(ctx, subject, s)
	if err != nil {
		return nil, err
	}
	if out, ok, err := encodeFast(AppendConfluentHeader(buf, id), s, v); ok {
		return out, err
	}
	return s.AppendBinary(AppendConfluentHeader(buf, id), v.toNative())
}

// SchemaID returns the registry id of s under subject, registering it (or,
// without auto-registration, looking it up) on first use and caching it.
func (c *Codec) SchemaID(ctx context.Context, subject string, s *Schema) (int, error) {
	if c.client == nil {
		return 0, errors.New("schemas: SchemaID needs a Codec with a schema registry")
	}
	k := subjectSchema{subject, s.Fingerprint}
	c.mu.RLock()
	id, ok := c.ids[k]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	schema := sr.Schema{Schema: s.Text, Type: sr.TypeAvro}
	if c.autoRegister {
		id, err := c.client.RegisterSchema(ctx, subject, schema, -1, -1)
		if err != nil {
			return 0, fmt.Errorf("schema registry %s: register %s under subject %s: %w", c.url, s, subject, err)
		}
		c.remember(k, id, s)
		return id, nil
	}
	ss, err := c.client.LookupSchema(ctx, subject, schema)
	if err != nil {
		if notFound(err) {
			err = fmt.Errorf("%w: %w", ErrUnknownSchema, err)
		}
		return 0, fmt.Errorf("schema registry %s: look up %s under subject %s: %w", c.url, s, subject, err)
	}
	c.remember(k, ss.ID, s)
	return ss.ID, nil
}

func (c *Codec) remember(k subjectSchema, id int, s *Schema) {
	c.mu.Lock()
	c.ids[k] = id
	if _, ok := c.byID[id]; !ok {
		c.byID[id] = s
	}
	c.mu.Unlock()
}

func notFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusNotFound || sr.IsNotFoundError(re.ErrorCode))
}

// Decode reads a record in either framing into v, resolving the writer
// schema onto the latest version of v's schema. A single-object writer must
// be one of the embedded versions; a Confluent writer is fetched from the
// registry by id (once, then cached), so a registry lets old binaries read
// versions they do not embed, as long as the two are compatible. Unknown
// writers give errors wrapping ErrUnknownSchema. It never panics.
func (c *Codec) Decode(ctx context.Context, b []byte, v Value) error {
	reader, err := c.reg.latest(v.SchemaName())
	if err != nil {
		return err
	}
	if h, err := ParseHeader(b); err == nil {
		same := h.Framing == SingleObject && h.Fingerprint == reader.Fingerprint
		if h.Framing != SingleObject {
			w, err := c.WriterSchema(ctx, h.SchemaID)
			same = err == nil && w.Fingerprint == reader.Fingerprint
		}
		if same {
			if ok, err := decodeFast(h.Datum, reader, v); ok {
				return err
			}
		}
	}
	native, err := c.DecodeAs(ctx, b, reader)
	if err != nil {
		return err
	}
	m, ok := native.(map[string]any)
	if !ok {
		return fmt.Errorf("datum is %T, not a record", native)
	}
	v.fromNative(m)
	return nil
}

// DecodeAs reads a record in either framing and resolves it onto reader,
// returning goavro's native form.
func (c *Codec) DecodeAs(ctx context.Context, b []byte, reader *Schema) (any, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if h.Framing == SingleObject {
		return c.reg.DecodeAs(b, reader)
	}
	w, err := c.WriterSchema(ctx, h.SchemaID)
	if err != nil {
		return nil, err
	}
	return decodeDatum(w, reader, h.Datum)
}

// WriterSchema returns the schema with a registry id: an embedded version
// when the registry's text has the same fingerprint, otherwise the
// registry's schema itself. Results are cached.
func (c *Codec) WriterSchema(ctx context.Context, id int) (*Schema, error) {
	c.mu.RLock()
	s, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return s, nil
	}
	if c.client == nil {
		return nil, fmt.Errorf("%w: record names schema registry id %d but no schema registry is configured", ErrUnknownSchema, id)
	}
	rs, err := c.client.SchemaByID(ctx, id)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("%w: schema registry %s has no schema id %d: %w", ErrUnknownSchema, c.url, id, err)
		}
		return nil, fmt.Errorf("schema registry %s: get schema id %d: %w", c.url, id, err)
	}
	if rs.Type != sr.TypeAvro {
		return nil, fmt.Errorf("%w: schema id %d is %s, not Avro", ErrUnknownSchema, id, rs.Type)
	}
	if len(rs.References) > 0 {
		return nil, fmt.Errorf("%w: schema id %d uses schema references, which Contrail does not resolve", ErrUnknownSchema, id)
	}
	parsed, err := ParseSchema("", 0, rs.Schema)
	if err != nil {
		return nil, fmt.Errorf("%w: schema id %d: %w", ErrUnknownSchema, id, err)
	}
	s = parsed
	if known := c.reg.ByFingerprint(parsed.Fingerprint); known != nil {
		s = known
	}
	c.mu.Lock()
	c.byID[id] = s
	c.mu.Unlock()
	return s, nil
}
