package schemas

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/linkedin/goavro/v2"
)

// Schema is one version of one Avro schema: the text as written, its Parsing
// Canonical Form, its CRC-64-AVRO fingerprint, a goavro codec to read and
// write it, and the parsed type tree the resolver walks. A Schema is immutable
// and safe for concurrent use.
type Schema struct {
	// Name is the logical name, the file name without version: "envelope".
	Name string
	// Version counts from 1; writers use the highest one a binary embeds.
	Version int
	// FullName is the Avro full name of the top-level record, e.g.
	// io.contrail.raw.Envelope.
	FullName string
	// Text is the schema as written, docs included; it is what gets
	// registered with a schema registry.
	Text string
	// Canonical is the Parsing Canonical Form from the Avro specification.
	Canonical string
	// Fingerprint is the CRC-64-AVRO (Rabin) fingerprint of Canonical, the
	// one single-object encoding carries.
	Fingerprint uint64

	codec *goavro.Codec
	root  *avroType
}

// String names the schema and version, e.g. "envelope v1".
func (s *Schema) String() string {
	if s == nil {
		return "<nil schema>"
	}
	if s.Name == "" {
		return s.FullName
	}
	return fmt.Sprintf("%s v%d", s.Name, s.Version)
}

// ParseSchema compiles one schema text. name and version label it (they are
// not part of the Avro schema); version may be 0 for a schema that only a
// registry knows.
func ParseSchema(name string, version int, text string) (*Schema, error) {
	c, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s v%d: %w", name, version, err)
	}
	var j any
	if err := json.Unmarshal([]byte(text), &j); err != nil {
		return nil, fmt.Errorf("parse schema %s v%d: %w", name, version, err)
	}
	p := &parser{named: map[string]*avroType{}}
	root, err := p.parse(j, "")
	if err != nil {
		return nil, fmt.Errorf("parse schema %s v%d: %w", name, version, err)
	}
	return &Schema{
		Name: name, Version: version, FullName: root.name, Text: text,
		Canonical: c.CanonicalSchema(), Fingerprint: c.Rabin, codec: c, root: root,
	}, nil
}

type kind int

const (
	kNull kind = iota
	kBoolean
	kInt
	kLong
	kFloat
	kDouble
	kBytes
	kString
	kRecord
	kEnum
	kArray
	kMap
	kUnion
	kFixed
)

var primitives = map[string]kind{
	"null": kNull, "boolean": kBoolean, "int": kInt, "long": kLong,
	"float": kFloat, "double": kDouble, "bytes": kBytes, "string": kString,
}

func (k kind) String() string {
	for n, p := range primitives {
		if p == k {
			return n
		}
	}
	return [...]string{kRecord: "record", kEnum: "enum", kArray: "array", kMap: "map", kUnion: "union", kFixed: "fixed"}[k]
}

// avroType is the parsed form of a schema, enough for resolution: goavro
// keeps its own tree private.
type avroType struct {
	kind    kind
	name    string // full name of a named type
	aliases []string
	logical string
	fields  []avroField
	symbols []string
	enumDef *string
	items   *avroType // array
	values  *avroType // map
	members []*avroType
	size    int
}

type avroField struct {
	name    string
	aliases []string
	typ     *avroType
	def     any
	hasDef  bool
}

// branch is the key goavro uses for a non-null union member: the full name of
// a named type, "long.timestamp-millis" for a logical type, else the type name.
func (t *avroType) branch() string {
	switch {
	case t.name != "":
		return t.name
	case t.logical != "" && t.kind <= kString:
		return t.kind.String() + "." + t.logical
	}
	return t.kind.String()
}

func (t *avroType) describe() string {
	if t.name != "" {
		return t.kind.String() + " " + t.name
	}
	if t.logical != "" {
		return t.kind.String() + "(" + t.logical + ")"
	}
	return t.kind.String()
}

type parser struct {
	named map[string]*avroType
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func namespaceOf(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i]
	}
	return ""
}

func (p *parser) parse(j any, ns string) (*avroType, error) {
	switch v := j.(type) {
	case string:
		if k, ok := primitives[v]; ok {
			return &avroType{kind: k}, nil
		}
		if t, ok := p.named[fullName(v, ns)]; ok {
			return t, nil
		}
		if t, ok := p.named[v]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("unknown type %q", v)
	case []any:
		u := &avroType{kind: kUnion}
		for _, m := range v {
			t, err := p.parse(m, ns)
			if err != nil {
				return nil, err
			}
			u.members = append(u.members, t)
		}
		return u, nil
	case map[string]any:
		return p.parseObject(v, ns)
	}
	return nil, fmt.Errorf("schema element %T is not a string, array or object", j)
}

func strList(j any) []string {
	a, _ := j.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) parseObject(o map[string]any, ns string) (*avroType, error) {
	typ, _ := o["type"].(string)
	if typ == "" {
		if inner, ok := o["type"]; ok {
			return p.parse(inner, ns)
		}
		return nil, fmt.Errorf("schema object without type")
	}
	logical, _ := o["logicalType"].(string)
	if k, ok := primitives[typ]; ok {
		return &avroType{kind: k, logical: logical}, nil
	}
	named := func(k kind) (*avroType, string, error) {
		name, _ := o["name"].(string)
		if name == "" {
			return nil, "", fmt.Errorf("%s without name", typ)
		}
		if n, ok := o["namespace"].(string); ok && !strings.Contains(name, ".") {
			ns = n
		}
		full := fullName(name, ns)
		t := &avroType{kind: k, name: full, logical: logical}
		for _, a := range strList(o["aliases"]) {
			t.aliases = append(t.aliases, fullName(a, namespaceOf(full)))
		}
		p.named[full] = t
		return t, namespaceOf(full), nil
	}
	switch typ {
	case "record", "error":
		t, inner, err := named(kRecord)
		if err != nil {
			return nil, err
		}
		fs, _ := o["fields"].([]any)
		for _, fj := range fs {
			fo, ok := fj.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("record %s: field is %T", t.name, fj)
			}
			f := avroField{aliases: strList(fo["aliases"])}
			f.name, _ = fo["name"].(string)
			if f.typ, err = p.parse(fo["type"], inner); err != nil {
				return nil, fmt.Errorf("record %s field %s: %w", t.name, f.name, err)
			}
			f.def, f.hasDef = fo["default"]
			t.fields = append(t.fields, f)
		}
		return t, nil
	case "enum":
		t, _, err := named(kEnum)
		if err != nil {
			return nil, err
		}
		t.symbols = strList(o["symbols"])
		if d, ok := o["default"].(string); ok {
			t.enumDef = &d
		}
		return t, nil
	case "fixed":
		t, _, err := named(kFixed)
		if err != nil {
			return nil, err
		}
		size, _ := o["size"].(float64)
		t.size = int(size)
		return t, nil
	case "array":
		items, err := p.parse(o["items"], ns)
		if err != nil {
			return nil, err
		}
		return &avroType{kind: kArray, items: items}, nil
	case "map":
		values, err := p.parse(o["values"], ns)
		if err != nil {
			return nil, err
		}
		return &avroType{kind: kMap, values: values}, nil
	}
	if t, ok := p.named[fullName(typ, ns)]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown type %q", typ)
}
