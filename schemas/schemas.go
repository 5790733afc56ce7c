// Package schemas holds Contrail's Avro schemas (the .avsc files under avro/,
// embedded in the binary), the Go types they describe, and the codecs that
// turn those values into Kafka record values and back.
//
// Every schema is versioned: avro/<name>.v<N>.avsc. A Registry keeps every
// version of every schema; writers always use the highest version, readers
// accept any version they can resolve onto the highest one (Avro schema
// resolution, see Resolve and Compatible).
//
// Records carry their writer schema's identity in one of two framings:
//
//   - Avro single-object encoding (0xC3 0x01, the 8-byte little-endian
//     CRC-64-AVRO fingerprint of the writer schema, then the binary datum),
//     the default, needing no registry: Registry.Encode and Registry.Decode;
//   - the Confluent wire format (0x00, a 4-byte big-endian schema id, then the
//     datum) when a schema registry is configured: Codec with
//     WithSchemaRegistry.
//
// Readers detect the framing from the first bytes (ParseHeader). goavro is
// used only inside this package.
//
// Example:
//
//	reg := schemas.MustRegistry()
//	b, err := reg.EncodeEnvelope(nil, &schemas.Envelope{Feed: "sbs", ProducerTSSource: schemas.FromPayload, Raw: line})
//	...
//	e, err := reg.DecodeEnvelope(b)
package schemas

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/linkedin/goavro/v2"
)

//go:embed avro/*.avsc
var files embed.FS

// Embedded returns the released schema files (<name>.v<N>.avsc at the root).
func Embedded() fs.FS {
	sub, err := fs.Sub(files, "avro")
	if err != nil { // cannot happen: the embed pattern guarantees the directory
		return files
	}
	return sub
}

// The logical names of the embedded schemas.
const (
	EnvelopeSchema    = "envelope"
	RejectedSchema    = "rejected"
	DomainEventSchema = "domain_event"
	FlightStateSchema = "flight_state"
)

// maxBlockCount bounds the item count of one array or map block. goavro
// allocates room for a block's items before reading them, so a corrupt count
// (it accepts up to MaxInt32) would allocate tens of gigabytes. Every item of
// Contrail's arrays and maps takes at least one byte, and a Kafka record is far
// below a million bytes, so no valid record comes near this bound.
const maxBlockCount = 1 << 20

func init() {
	// goavro is used only in this package, so its package-level limit is ours
	// to set.
	goavro.MaxBlockCount = maxBlockCount
}

// ErrUnknownSchema is returned when a record names a writer schema this
// reader cannot use: a fingerprint no embedded version has (for example a
// record written by a newer Contrail), a registry id the registry does not
// know, or a schema of another record type.
var ErrUnknownSchema = errors.New("unknown writer schema")

// Registry holds every version of every schema of one binary. It is
// immutable after construction and safe for concurrent use.
type Registry struct {
	// Envelope and Rejected are the codecs of the latest envelope and
	// rejected schemas, kept for callers that predate versioning.
	Envelope *goavro.Codec
	Rejected *goavro.Codec

	byName map[string][]*Schema // ascending versions 1..N
	byFP   map[uint64]*Schema
}

// NewRegistry compiles the embedded schemas.
func NewRegistry() (*Registry, error) {
	return NewRegistryFS(Embedded())
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

var fileName = regexp.MustCompile(`^([a-z][a-z0-9_]*)\.v([1-9][0-9]*)\.avsc$`)

// NewRegistryFS compiles every <name>.v<N>.avsc file at the root of fsys.
// Versions of a name must run 1..N without gaps, and no two files may have
// the same fingerprint. Tests use it to add unreleased versions.
func NewRegistryFS(fsys fs.FS) (*Registry, error) {
	names, err := fs.Glob(fsys, "*.avsc")
	if err != nil {
		return nil, err
	}
	r := &Registry{byName: map[string][]*Schema{}, byFP: map[uint64]*Schema{}}
	for _, n := range names {
		m := fileName.FindStringSubmatch(path.Base(n))
		if m == nil {
			return nil, fmt.Errorf("schema file %s: name is not <name>.v<N>.avsc", n)
		}
		v, _ := strconv.Atoi(m[2])
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", n, err)
		}
		s, err := ParseSchema(m[1], v, string(b))
		if err != nil {
			return nil, err
		}
		if s.root.kind != kRecord {
			return nil, fmt.Errorf("schema %s: top level is %s, want a record", s, s.root.kind)
		}
		if prev, dup := r.byFP[s.Fingerprint]; dup {
			return nil, fmt.Errorf("schemas %s and %s have the same canonical form", prev, s)
		}
		r.byFP[s.Fingerprint] = s
		r.byName[s.Name] = append(r.byName[s.Name], s)
	}
	for name, vs := range r.byName {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
		for i, s := range vs {
			if s.Version != i+1 {
				return nil, fmt.Errorf("schema %s: versions must run 1..N, found v%d at position %d", name, s.Version, i+1)
			}
		}
	}
	if s := r.Latest(EnvelopeSchema); s != nil {
		r.Envelope = s.codec
	}
	if s := r.Latest(RejectedSchema); s != nil {
		r.Rejected = s.codec
	}
	return r, nil
}

// Names lists the schema names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Versions returns every version of a schema, oldest first; nil if unknown.
func (r *Registry) Versions(name string) []*Schema {
	return slices.Clone(r.byName[name])
}

// Latest returns the newest version of a schema, the one writers use; nil if
// unknown.
func (r *Registry) Latest(name string) *Schema {
	vs := r.byName[name]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

// ByFingerprint returns the schema version with a CRC-64-AVRO fingerprint,
// or nil.
func (r *Registry) ByFingerprint(fp uint64) *Schema {
	return r.byFP[fp]
}

func (r *Registry) latest(name string) (*Schema, error) {
	s := r.Latest(name)
	if s == nil {
		return nil, fmt.Errorf("%w: no schema %s in this registry", ErrUnknownSchema, name)
	}
	return s, nil
}

// Value is a Go type with an embedded schema: *Envelope, *Rejected,
// *DomainEvent and *FlightState. The conversions to and from goavro's native
// form are unexported, so the set is closed.
type Value interface {
	// SchemaName is the logical schema name, e.g. "envelope".
	SchemaName() string
	toNative() map[string]any
	fromNative(m map[string]any)
}

func validate(v Value) error {
	if vv, ok := v.(interface{ Validate() error }); ok {
		return vv.Validate()
	}
	return nil
}

// Encode appends the single-object encoding of v, written with the latest
// version of its schema, to buf.
func (r *Registry) Encode(buf []byte, v Value) ([]byte, error) {
	s, err := r.latest(v.SchemaName())
	if err != nil {
		return nil, err
	}
	if err := validate(v); err != nil {
		return nil, err
	}
	if out, ok, err := encodeFast(appendSingleHeader(buf, s), s, v); ok {
		return out, err
	}
	return s.AppendSingle(buf, v.toNative())
}

// appendSingleHeader appends the single-object marker and s's fingerprint.
func appendSingleHeader(buf []byte, s *Schema) []byte {
	return binary.LittleEndian.AppendUint64(append(buf, 0xC3, 0x01), s.Fingerprint)
}

// Decode reads a single-object encoded record into v, resolving the writer
// version onto the latest one. Confluent-framed input needs a Codec with a
// registry and gives an error wrapping ErrUnknownSchema.
func (r *Registry) Decode(b []byte, v Value) error {
	reader, err := r.latest(v.SchemaName())
	if err != nil {
		return err
	}
	if h, err := ParseHeader(b); err == nil && h.Framing == SingleObject && h.Fingerprint == reader.Fingerprint {
		if ok, err := decodeFast(h.Datum, reader, v); ok {
			return err
		}
	}
	native, err := r.DecodeAs(b, reader)
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

// DecodeAs decodes a single-object encoded record and resolves it onto
// reader, returning goavro's native form of reader.
func (r *Registry) DecodeAs(b []byte, reader *Schema) (any, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if h.Framing != SingleObject {
		return nil, fmt.Errorf("%w: record in %s framing names schema id %d; reading it needs a schema registry", ErrUnknownSchema, h.Framing, h.SchemaID)
	}
	w := r.byFP[h.Fingerprint]
	if w == nil {
		return nil, fmt.Errorf("%w: fingerprint %016x is not among the %d embedded versions", ErrUnknownSchema, h.Fingerprint, len(r.byFP))
	}
	return decodeDatum(w, reader, h.Datum)
}

// AppendSingle appends the single-object encoding of native (goavro's native
// form) written with s.
func (s *Schema) AppendSingle(buf []byte, native any) ([]byte, error) {
	out, err := s.codec.SingleFromNative(buf, native)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s, err)
	}
	return out, nil
}

// AppendBinary appends the plain binary encoding of native, without framing.
func (s *Schema) AppendBinary(buf []byte, native any) ([]byte, error) {
	out, err := s.codec.BinaryFromNative(buf, native)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s, err)
	}
	return out, nil
}

// DecodeBinary decodes a bare binary datum written with s into goavro's
// native form. Odd input is an error, never a panic.
func (s *Schema) DecodeBinary(datum []byte) (native any, err error) {
	defer func() {
		if p := recover(); p != nil {
			native, err = nil, fmt.Errorf("decode %s: %v", s, p)
		}
	}()
	v, rest, err := s.codec.NativeFromBinary(datum)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", s, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode %s: %d bytes after the datum", s, len(rest))
	}
	return v, nil
}

// decodeDatum decodes a bare datum written with w and resolves it onto
// reader. It never panics: odd input is an error.
func decodeDatum(w, reader *Schema, datum []byte) (any, error) {
	if !sameName(w.root, reader.root) {
		return nil, fmt.Errorf("%w: record written with %s (%s), want %s (%s)", ErrUnknownSchema, w, w.FullName, reader, reader.FullName)
	}
	v, err := w.DecodeBinary(datum)
	if err != nil {
		return nil, err
	}
	return Resolve(w, reader, v)
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
