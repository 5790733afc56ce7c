package schemas

import "time"

// The accessors below read goavro's native form. They tolerate absent fields
// and values of the wrong type (giving the zero value), so a reader never
// panics on a datum decoded with a different (resolved) schema.

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

func i64(m map[string]any, k string) int64 {
	switch n := m[k].(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	}
	return 0
}

func i32(m map[string]any, k string) int32 {
	n, _ := m[k].(int32)
	return n
}

func boolean(m map[string]any, k string) bool {
	b, _ := m[k].(bool)
	return b
}

func strs(m map[string]any, k string) []string {
	a, _ := m[k].([]any)
	if len(a) == 0 {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anyStrs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// unwrap returns the value of a goavro union: nil, or the single entry of a
// one-entry map.
func unwrap(v any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil
	}
	for _, x := range m {
		return x
	}
	return nil
}

func record(m map[string]any, k string) map[string]any {
	r, _ := unwrap(m[k]).(map[string]any)
	return r
}

func optStr(m map[string]any, k string) string {
	s, _ := unwrap(m[k]).(string)
	return s
}

func optTime(m map[string]any, k string) time.Time {
	t, _ := unwrap(m[k]).(time.Time)
	return t.UTC()
}

func optI32(m map[string]any, k string) *int32 {
	if n, ok := unwrap(m[k]).(int32); ok {
		return &n
	}
	return nil
}

func optF64(m map[string]any, k string) *float64 {
	if f, ok := unwrap(m[k]).(float64); ok {
		return &f
	}
	return nil
}

func optBool(m map[string]any, k string) *bool {
	if b, ok := unwrap(m[k]).(bool); ok {
		return &b
	}
	return nil
}

// The constructors below build optional (["null", T]) values: the Go zero
// value or nil pointer is Avro null.

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return map[string]any{"string": s}
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return map[string]any{"long.timestamp-millis": t}
}

func nullI32(p *int32) any {
	if p == nil {
		return nil
	}
	return map[string]any{"int": *p}
}

func nullF64(p *float64) any {
	if p == nil {
		return nil
	}
	return map[string]any{"double": *p}
}

func nullBool(p *bool) any {
	if p == nil {
		return nil
	}
	return map[string]any{"boolean": *p}
}

func nullRecord(name string, m map[string]any) any {
	if m == nil {
		return nil
	}
	return map[string]any{name: m}
}
