package schemas_test

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/schemas"
)

func parse(t testing.TB, text string) *schemas.Schema {
	t.Helper()
	s, err := schemas.ParseSchema("test", 1, text)
	if err != nil {
		t.Fatalf("ParseSchema(%s): %v", text, err)
	}
	return s
}

// rec wraps field declarations into a record schema named R.
func rec(fields string) string {
	return `{"type":"record","name":"R","namespace":"t","fields":[` + fields + `]}`
}

func TestResolve(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 5e6, time.UTC)
	tests := []struct {
		name           string
		writer, reader string
		in             any    // writer native
		want           any    // reader native
		wantErr        string // substring; then Compatible must fail too
	}{
		{"int to long", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"long"}`),
			map[string]any{"a": int32(-7)}, map[string]any{"a": int64(-7)}, ""},
		{"int to float", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"float"}`),
			map[string]any{"a": int32(3)}, map[string]any{"a": float32(3)}, ""},
		{"int to double", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"double"}`),
			map[string]any{"a": int32(3)}, map[string]any{"a": float64(3)}, ""},
		{"long to float", rec(`{"name":"a","type":"long"}`), rec(`{"name":"a","type":"float"}`),
			map[string]any{"a": int64(1 << 40)}, map[string]any{"a": float32(1 << 40)}, ""},
		{"long to double", rec(`{"name":"a","type":"long"}`), rec(`{"name":"a","type":"double"}`),
			map[string]any{"a": int64(-1)}, map[string]any{"a": float64(-1)}, ""},
		{"float to double", rec(`{"name":"a","type":"float"}`), rec(`{"name":"a","type":"double"}`),
			map[string]any{"a": float32(0.5)}, map[string]any{"a": 0.5}, ""},
		{"string to bytes", rec(`{"name":"a","type":"string"}`), rec(`{"name":"a","type":"bytes"}`),
			map[string]any{"a": "hé"}, map[string]any{"a": []byte("hé")}, ""},
		{"bytes to string", rec(`{"name":"a","type":"bytes"}`), rec(`{"name":"a","type":"string"}`),
			map[string]any{"a": []byte{'o', 'k'}}, map[string]any{"a": "ok"}, ""},
		{"long to int refused", rec(`{"name":"a","type":"long"}`), rec(`{"name":"a","type":"int"}`),
			map[string]any{"a": int64(1)}, nil, "cannot be read as int"},
		{"string to int refused", rec(`{"name":"a","type":"string"}`), rec(`{"name":"a","type":"int"}`),
			map[string]any{"a": "1"}, nil, "cannot be read as int"},
		{"writer field dropped", rec(`{"name":"a","type":"int"},{"name":"gone","type":"string"}`), rec(`{"name":"a","type":"int"}`),
			map[string]any{"a": int32(1), "gone": "x"}, map[string]any{"a": int32(1)}, ""},
		{"reader defaults", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"int"},
			{"name":"s","type":"string","default":"dflt"},
			{"name":"n","type":["null","string"],"default":null},
			{"name":"u","type":["long","null"],"default":9},
			{"name":"b","type":"bytes","default":"\u00ff\u0000"},
			{"name":"m","type":{"type":"map","values":"int"},"default":{"k":1}},
			{"name":"l","type":{"type":"array","items":"double"},"default":[1.5]},
			{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]},"default":"Y"},
			{"name":"r","type":{"type":"record","name":"In","fields":[{"name":"f","type":"boolean","default":true},{"name":"g","type":"int"}]},"default":{"g":2}},
			{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"},"default":1000}`),
			map[string]any{"a": int32(1)},
			map[string]any{"a": int32(1), "s": "dflt", "n": nil, "u": map[string]any{"long": int64(9)}, "b": []byte{0xff, 0},
				"m": map[string]any{"k": int32(1)}, "l": []any{1.5}, "e": "Y", "r": map[string]any{"f": true, "g": int32(2)},
				"t": time.UnixMilli(1000).UTC()}, ""},
		{"reader field without default", rec(`{"name":"a","type":"int"}`), rec(`{"name":"a","type":"int"},{"name":"b","type":"string"}`),
			map[string]any{"a": int32(1)}, nil, "R.b: reader field has no default"},
		{"field alias", rec(`{"name":"arcid","type":"string"}`), rec(`{"name":"callsign","type":"string","aliases":["arcid"]}`),
			map[string]any{"arcid": "DLH4AB"}, map[string]any{"callsign": "DLH4AB"}, ""},
		{"record alias", `{"type":"record","name":"Old","namespace":"t","fields":[{"name":"a","type":"int"}]}`,
			`{"type":"record","name":"New","namespace":"t","aliases":["Old"],"fields":[{"name":"a","type":"int"}]}`,
			map[string]any{"a": int32(1)}, map[string]any{"a": int32(1)}, ""},
		{"record name mismatch", `{"type":"record","name":"Old","fields":[{"name":"a","type":"int"}]}`,
			`{"type":"record","name":"New","fields":[{"name":"a","type":"int"}]}`,
			map[string]any{"a": int32(1)}, nil, "cannot be read as record New"},
		{"enum symbol kept", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}`),
			rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["B","A","C"]}}`),
			map[string]any{"e": "B"}, map[string]any{"e": "B"}, ""},
		{"enum unknown symbol to reader default", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","NEW"]}}`),
			rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["UNKNOWN","A"],"default":"UNKNOWN"}}`),
			map[string]any{"e": "NEW"}, map[string]any{"e": "UNKNOWN"}, ""},
		{"enum unknown symbol without default", rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A","NEW"]}}`),
			rec(`{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}`),
			map[string]any{"e": "NEW"}, nil, "symbol NEW"},
		{"union to union by branch", rec(`{"name":"u","type":["null","int","string"]}`), rec(`{"name":"u","type":["string","null","long"]}`),
			map[string]any{"u": map[string]any{"int": int32(4)}}, map[string]any{"u": map[string]any{"long": int64(4)}}, ""},
		{"union null to union", rec(`{"name":"u","type":["null","int"]}`), rec(`{"name":"u","type":["int","null"]}`),
			map[string]any{"u": nil}, map[string]any{"u": nil}, ""},
		{"plain to union", rec(`{"name":"u","type":"int"}`), rec(`{"name":"u","type":["null","string","double"]}`),
			map[string]any{"u": int32(4)}, map[string]any{"u": map[string]any{"double": float64(4)}}, ""},
		{"union to plain", rec(`{"name":"u","type":["null","string"]}`), rec(`{"name":"u","type":"string"}`),
			map[string]any{"u": nil}, nil, "writer null cannot be read as string"},
		{"union branch of a record", rec(`{"name":"u","type":["null",{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}]}`),
			rec(`{"name":"u","type":["null",{"type":"record","name":"P","fields":[{"name":"x","type":"long"},{"name":"y","type":"string","default":""}]}]}`),
			map[string]any{"u": map[string]any{"t.P": map[string]any{"x": int32(1)}}},
			map[string]any{"u": map[string]any{"t.P": map[string]any{"x": int64(1), "y": ""}}}, ""},
		{"array and map items", rec(`{"name":"l","type":{"type":"array","items":"int"}},{"name":"m","type":{"type":"map","values":"float"}}`),
			rec(`{"name":"l","type":{"type":"array","items":"long"}},{"name":"m","type":{"type":"map","values":"double"}}`),
			map[string]any{"l": []any{int32(1), int32(2)}, "m": map[string]any{"k": float32(0.25)}},
			map[string]any{"l": []any{int64(1), int64(2)}, "m": map[string]any{"k": 0.25}}, ""},
		{"timestamp to plain long", rec(`{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}`), rec(`{"name":"t","type":"long"}`),
			map[string]any{"t": ts}, map[string]any{"t": ts.UnixMilli()}, ""},
		{"plain long to timestamp", rec(`{"name":"t","type":"long"}`), rec(`{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}`),
			map[string]any{"t": ts.UnixMilli()}, map[string]any{"t": ts}, ""},
		{"timestamp in union", rec(`{"name":"t","type":["null",{"type":"long","logicalType":"timestamp-millis"}]}`),
			rec(`{"name":"t","type":["null",{"type":"long","logicalType":"timestamp-millis"}]}`),
			map[string]any{"t": map[string]any{"long.timestamp-millis": ts}}, map[string]any{"t": map[string]any{"long.timestamp-millis": ts}}, ""},
		{"fixed size change", rec(`{"name":"f","type":{"type":"fixed","name":"F","size":2}}`), rec(`{"name":"f","type":{"type":"fixed","name":"F","size":3}}`),
			map[string]any{"f": []byte{1, 2}}, nil, "fixed size 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, r := parse(t, tt.writer), parse(t, tt.reader)
			// Go through real bytes: encode with the writer, decode, resolve.
			b, err := w.AppendBinary(nil, tt.in)
			if err != nil {
				t.Fatalf("writer encode: %v", err)
			}
			native, err := w.DecodeBinary(b)
			if err != nil {
				t.Fatalf("writer decode: %v", err)
			}
			got, rerr := schemas.Resolve(w, r, native)
			cerr := schemas.Compatible(w, r)
			if tt.wantErr != "" {
				if rerr == nil || !errors.Is(rerr, schemas.ErrIncompatible) || !strings.Contains(rerr.Error(), tt.wantErr) {
					t.Errorf("Resolve error %v, want ErrIncompatible containing %q", rerr, tt.wantErr)
				}
				var ie *schemas.IncompatibleError
				if !errors.As(cerr, &ie) || !errors.Is(cerr, schemas.ErrIncompatible) || !strings.Contains(cerr.Error(), tt.wantErr) {
					t.Errorf("Compatible = %v, want an IncompatibleError containing %q", cerr, tt.wantErr)
				}
				return
			}
			if rerr != nil || cerr != nil {
				t.Fatalf("Resolve: %v; Compatible: %v", rerr, cerr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("resolved %#v\nwant     %#v", got, tt.want)
			}
			if _, err := r.AppendBinary(nil, got); err != nil {
				t.Errorf("resolved value does not encode with the reader: %v", err)
			}
		})
	}
}

func TestResolveOddDatum(t *testing.T) {
	w := parse(t, rec(`{"name":"a","type":"int"},{"name":"u","type":["null","string"]},{"name":"l","type":{"type":"array","items":"int"}}`))
	r := parse(t, rec(`{"name":"a","type":"long"},{"name":"u","type":["null","string"]},{"name":"l","type":{"type":"array","items":"long"}}`))
	for _, in := range []any{nil, 7, "x", map[string]any{}, map[string]any{"a": "str"}, map[string]any{"a": int32(1), "u": 5},
		map[string]any{"a": int32(1), "u": map[string]any{"bogus": "x"}}, map[string]any{"a": int32(1), "u": nil, "l": "no"}} {
		if _, err := schemas.Resolve(w, r, in); err == nil {
			t.Errorf("Resolve(%#v) succeeded, want an error", in)
		}
	}
}

// TestHugeBlockCount: a corrupt array or map block count must fail fast
// instead of making goavro allocate room for billions of items.
func TestHugeBlockCount(t *testing.T) {
	for _, typ := range []string{`{"type":"array","items":"string"}`, `{"type":"map","values":"string"}`} {
		s := parse(t, rec(`{"name":"l","type":`+typ+`}`))
		datum := binary.AppendVarint(nil, math.MaxInt32) // Avro longs are zigzag varints
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := s.DecodeBinary(datum); err == nil {
			t.Errorf("%s: block count MaxInt32 decoded without error", typ)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Errorf("%s: decoding a corrupt block count allocated %d MiB", typ, grew>>20)
		}
	}
}
