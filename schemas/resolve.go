package schemas

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ErrIncompatible is wrapped by every error that says a writer schema cannot
// be read with a reader schema, statically (Compatible) or for one datum
// (Resolve).
var ErrIncompatible = errors.New("incompatible schemas")

// IncompatibleError lists every rule of Avro schema resolution that a
// (writer, reader) pair breaks, each prefixed with the field path.
type IncompatibleError struct {
	Writer, Reader *Schema
	Problems       []string
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("writer %s cannot be read as %s: %s", e.Writer, e.Reader, strings.Join(e.Problems, "; "))
}

// Unwrap makes errors.Is(err, ErrIncompatible) true.
func (e *IncompatibleError) Unwrap() error { return ErrIncompatible }

// Compatible reports whether every datum written with writer can be read with
// reader under the Avro schema resolution rules that Resolve implements:
// fields matched by name or by the reader field's aliases; a reader field the
// writer lacks needs a default; writer fields the reader lacks are ignored;
// every writer enum symbol must be a reader symbol unless the reader enum has
// a default; int->long/float/double, long->float/double, float->double and
// string<->bytes promote; every writer union branch must match some reader
// branch (or the non-union reader). It returns nil or an *IncompatibleError.
func Compatible(writer, reader *Schema) error {
	if writer == nil || reader == nil || writer.root == nil || reader.root == nil {
		return fmt.Errorf("%w: Compatible needs two parsed schemas", ErrIncompatible)
	}
	c := checker{seen: map[[2]*avroType]bool{}}
	c.check(writer.root, reader.root, reader.root.name)
	if len(c.problems) > 0 {
		return &IncompatibleError{Writer: writer, Reader: reader, Problems: c.problems}
	}
	return nil
}

type checker struct {
	seen     map[[2]*avroType]bool
	problems []string
}

func (c *checker) fail(path, format string, args ...any) {
	c.problems = append(c.problems, path+": "+fmt.Sprintf(format, args...))
}

func (c *checker) check(w, r *avroType, path string) {
	if w.kind == kUnion {
		for _, m := range w.members {
			c.check(m, r, path)
		}
		return
	}
	if r.kind == kUnion {
		rb := matchBranch(w, r)
		if rb == nil {
			c.fail(path, "writer %s matches no branch of the reader union", w.describe())
			return
		}
		c.check(w, rb, path)
		return
	}
	if !matches(w, r) {
		c.fail(path, "writer %s cannot be read as %s", w.describe(), r.describe())
		return
	}
	pair := [2]*avroType{w, r}
	if c.seen[pair] {
		return
	}
	c.seen[pair] = true
	switch r.kind {
	case kRecord:
		for _, rf := range r.fields {
			wf := writerField(w, &rf)
			if wf == nil {
				if !rf.hasDef {
					c.fail(path+"."+rf.name, "reader field has no default and the writer has no such field")
				} else if _, err := defaultNative(rf.typ, rf.def); err != nil {
					c.fail(path+"."+rf.name, "reader default: %v", err)
				}
				continue
			}
			c.check(wf.typ, rf.typ, path+"."+rf.name)
		}
	case kEnum:
		for _, s := range w.symbols {
			if !slices.Contains(r.symbols, s) && r.enumDef == nil {
				c.fail(path, "writer enum symbol %s is not a reader symbol and the reader enum has no default", s)
			}
		}
	case kFixed:
		if w.size != r.size {
			c.fail(path, "fixed size %d cannot be read as size %d", w.size, r.size)
		}
	case kArray:
		c.check(w.items, r.items, path+"[]")
	case kMap:
		c.check(w.values, r.values, path+"{}")
	}
}

func shortName(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// sameName follows the specification: unqualified names match, or the reader
// lists the writer's name among its aliases.
func sameName(w, r *avroType) bool {
	if shortName(w.name) == shortName(r.name) {
		return true
	}
	for _, a := range r.aliases {
		if a == w.name || shortName(a) == shortName(w.name) {
			return true
		}
	}
	return false
}

func exactMatch(w, r *avroType) bool {
	if w.kind != r.kind {
		return false
	}
	switch w.kind {
	case kRecord, kEnum, kFixed:
		return sameName(w, r)
	}
	return true
}

func matches(w, r *avroType) bool {
	if exactMatch(w, r) {
		return true
	}
	switch w.kind {
	case kInt:
		return r.kind == kLong || r.kind == kFloat || r.kind == kDouble
	case kLong:
		return r.kind == kFloat || r.kind == kDouble
	case kFloat:
		return r.kind == kDouble
	case kString:
		return r.kind == kBytes
	case kBytes:
		return r.kind == kString
	}
	return false
}

// matchBranch picks the reader union branch for a writer type: the first
// exact match, else the first one reachable by promotion.
func matchBranch(w, r *avroType) *avroType {
	for _, m := range r.members {
		if exactMatch(w, m) {
			return m
		}
	}
	for _, m := range r.members {
		if matches(w, m) {
			return m
		}
	}
	return nil
}

func writerField(w *avroType, rf *avroField) *avroField {
	for i := range w.fields {
		if w.fields[i].name == rf.name {
			return &w.fields[i]
		}
	}
	for _, a := range rf.aliases {
		for i := range w.fields {
			if w.fields[i].name == a {
				return &w.fields[i]
			}
		}
	}
	return nil
}

// Resolve projects datum, the goavro native form of a value decoded with
// writer, onto reader, following the rules Compatible checks. The result is
// in the native form of reader, ready for reader's codec or the Go struct
// conversions. Errors wrap ErrIncompatible.
func Resolve(writer, reader *Schema, datum any) (any, error) {
	if writer == reader {
		return datum, nil
	}
	if writer == nil || reader == nil || writer.root == nil || reader.root == nil {
		return nil, fmt.Errorf("%w: Resolve needs two parsed schemas", ErrIncompatible)
	}
	v, err := resolveValue(writer.root, reader.root, datum, reader.root.name)
	if err != nil {
		return nil, fmt.Errorf("%w: resolve %s as %s: %v", ErrIncompatible, writer, reader, err)
	}
	return v, nil
}

func resolveValue(w, r *avroType, v any, path string) (any, error) {
	if w.kind == kUnion {
		wb, inner, err := unionMember(w, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return resolveValue(wb, r, inner, path)
	}
	if r.kind == kUnion {
		rb := matchBranch(w, r)
		if rb == nil {
			return nil, fmt.Errorf("%s: writer %s matches no branch of the reader union", path, w.describe())
		}
		out, err := resolveValue(w, rb, v, path)
		if err != nil || rb.kind == kNull {
			return nil, err
		}
		return map[string]any{rb.branch(): out}, nil
	}
	if !matches(w, r) {
		return nil, fmt.Errorf("%s: writer %s cannot be read as %s", path, w.describe(), r.describe())
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("%s: datum %T does not fit writer %s", path, v, w.describe())
	}
	switch r.kind {
	case kNull:
		return nil, nil
	case kBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return bad()
	case kInt:
		switch x := v.(type) {
		case int32:
			return x, nil
		case time.Time, time.Duration:
			if w.logical == r.logical {
				return x, nil
			}
		}
		return bad()
	case kLong, kFloat, kDouble:
		return resolveNumber(w, r, v, bad)
	case kString:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
		return bad()
	case kBytes:
		switch x := v.(type) {
		case []byte:
			if r.logical != w.logical {
				return bad()
			}
			return x, nil
		case string:
			return []byte(x), nil
		}
		if w.logical == r.logical && r.logical != "" {
			return v, nil
		}
		return bad()
	case kFixed:
		if w.size != r.size {
			return nil, fmt.Errorf("%s: fixed size %d cannot be read as size %d", path, w.size, r.size)
		}
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		if w.logical == r.logical && r.logical != "" {
			return v, nil
		}
		return bad()
	case kEnum:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if slices.Contains(r.symbols, s) {
			return s, nil
		}
		if r.enumDef != nil {
			return *r.enumDef, nil
		}
		return nil, fmt.Errorf("%s: enum symbol %s unknown to the reader, which has no default", path, s)
	case kArray:
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(a))
		for i, x := range a {
			var err error
			if out[i], err = resolveValue(w.items, r.items, x, path+"[]"); err != nil {
				return nil, err
			}
		}
		return out, nil
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			var err error
			if out[k], err = resolveValue(w.values, r.values, x, path+"{}"); err != nil {
				return nil, err
			}
		}
		return out, nil
	case kRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		out := make(map[string]any, len(r.fields))
		for i := range r.fields {
			rf := &r.fields[i]
			wf := writerField(w, rf)
			var err error
			if wf == nil {
				if !rf.hasDef {
					return nil, fmt.Errorf("%s.%s: reader field has no default and the writer has no such field", path, rf.name)
				}
				if out[rf.name], err = defaultNative(rf.typ, rf.def); err != nil {
					return nil, fmt.Errorf("%s.%s: reader default: %v", path, rf.name, err)
				}
				continue
			}
			if out[rf.name], err = resolveValue(wf.typ, rf.typ, m[wf.name], path+"."+rf.name); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return bad()
}

// unionMember finds the writer branch of a goavro union value: nil for null,
// else a one-entry map keyed by the branch name.
func unionMember(u *avroType, v any) (*avroType, any, error) {
	if v == nil {
		for _, m := range u.members {
			if m.kind == kNull {
				return m, nil, nil
			}
		}
		return nil, nil, fmt.Errorf("null datum for a union without null")
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, x := range m {
			for _, b := range u.members {
				if b.kind != kNull && b.branch() == k {
					return b, x, nil
				}
			}
			return nil, nil, fmt.Errorf("union value names unknown branch %q", k)
		}
	}
	return nil, nil, fmt.Errorf("union datum %T is not a one-entry map", v)
}

func timeUnit(logical string) time.Duration {
	switch logical {
	case "timestamp-millis", "local-timestamp-millis":
		return time.Millisecond
	case "timestamp-micros", "local-timestamp-micros":
		return time.Microsecond
	case "timestamp-nanos", "local-timestamp-nanos":
		return time.Nanosecond
	}
	return 0
}

func resolveNumber(w, r *avroType, v any, bad func() (any, error)) (any, error) {
	// Timestamps travel as time.Time between two timestamp logical types
	// and as their count of units on either side of a plain long.
	if t, ok := v.(time.Time); ok {
		if timeUnit(r.logical) != 0 && r.kind == kLong {
			return t, nil
		}
		unit := timeUnit(w.logical)
		if unit == 0 {
			return bad()
		}
		v = t.UnixNano() / int64(unit)
		if unit == time.Millisecond {
			v = t.UnixMilli()
		} else if unit == time.Microsecond {
			v = t.UnixMicro()
		}
	}
	var f float64
	var n int64
	isInt := true
	switch x := v.(type) {
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float32:
		f, isInt = float64(x), false
	case float64:
		f, isInt = x, false
	default:
		if w.logical == r.logical && r.logical != "" {
			return v, nil
		}
		return bad()
	}
	switch r.kind {
	case kLong:
		if !isInt {
			return bad()
		}
		if u := timeUnit(r.logical); u != 0 {
			switch u {
			case time.Millisecond:
				return time.UnixMilli(n).UTC(), nil
			case time.Microsecond:
				return time.UnixMicro(n).UTC(), nil
			}
			return time.Unix(0, n).UTC(), nil
		}
		return n, nil
	case kFloat:
		if isInt {
			return float32(n), nil
		}
		if f > math.MaxFloat32 || f < -math.MaxFloat32 {
			return bad()
		}
		return float32(f), nil
	}
	if isInt {
		return float64(n), nil
	}
	return f, nil
}

// defaultNative converts a JSON default value from a schema to the goavro
// native form of t. A union default is for its first branch.
func defaultNative(t *avroType, j any) (any, error) {
	switch t.kind {
	case kUnion:
		if len(t.members) == 0 {
			return nil, fmt.Errorf("empty union")
		}
		m := t.members[0]
		v, err := defaultNative(m, j)
		if err != nil || m.kind == kNull {
			return nil, err
		}
		return map[string]any{m.branch(): v}, nil
	case kNull:
		if j != nil {
			return nil, fmt.Errorf("default %v for null", j)
		}
		return nil, nil
	case kBoolean:
		if b, ok := j.(bool); ok {
			return b, nil
		}
	case kInt, kLong, kFloat, kDouble:
		f, ok := j.(float64)
		if !ok {
			break
		}
		switch t.kind {
		case kInt:
			if f != math.Trunc(f) || f > math.MaxInt32 || f < math.MinInt32 {
				break
			}
			return int32(f), nil
		case kLong:
			if f != math.Trunc(f) {
				break
			}
			switch timeUnit(t.logical) {
			case time.Millisecond:
				return time.UnixMilli(int64(f)).UTC(), nil
			case time.Microsecond:
				return time.UnixMicro(int64(f)).UTC(), nil
			}
			return int64(f), nil
		case kFloat:
			return float32(f), nil
		}
		return f, nil
	case kString, kEnum:
		if s, ok := j.(string); ok {
			if t.kind == kEnum && !slices.Contains(t.symbols, s) {
				break
			}
			return s, nil
		}
	case kBytes, kFixed:
		if s, ok := j.(string); ok {
			b := make([]byte, 0, len(s))
			for _, r := range s {
				if r > 0xff {
					return nil, fmt.Errorf("bytes default has code point %U", r)
				}
				b = append(b, byte(r))
			}
			return b, nil
		}
	case kArray:
		a, ok := j.([]any)
		if !ok {
			break
		}
		out := make([]any, len(a))
		for i, x := range a {
			var err error
			if out[i], err = defaultNative(t.items, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	case kMap:
		m, ok := j.(map[string]any)
		if !ok {
			break
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			var err error
			if out[k], err = defaultNative(t.values, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	case kRecord:
		m, ok := j.(map[string]any)
		if !ok {
			break
		}
		out := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			x, ok := m[f.name]
			if !ok {
				if !f.hasDef {
					return nil, fmt.Errorf("record default lacks field %s", f.name)
				}
				x = f.def
			}
			var err error
			if out[f.name], err = defaultNative(f.typ, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("default %v does not fit %s", j, t.describe())
}
