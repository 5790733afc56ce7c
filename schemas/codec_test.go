package schemas_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-atm/contrail/schemas"
)

// registryWith builds a Registry from the released schemas plus the .avsc
// files of extra directories (unreleased, test-only versions).
func registryWith(t testing.TB, dirs ...string) *schemas.Registry {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(schemas.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schemas.Embedded(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.avsc"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			m[filepath.Base(p)] = &fstest.MapFile{Data: b}
		}
	}
	r, err := schemas.NewRegistryFS(m)
	if err != nil {
		t.Fatalf("NewRegistryFS: %v", err)
	}
	return r
}

func srClient(t testing.TB, url string) *sr.Client {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func codec(t testing.TB, r *schemas.Registry, opts ...schemas.CodecOption) *schemas.Codec {
	t.Helper()
	c, err := schemas.NewCodec(r, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleEnvelope() *schemas.Envelope {
	return &schemas.Envelope{ID: "abc", Feed: "sbs", Format: "sbs-1", FormatVersion: "1", Key: "789252",
		ProducerTS: t0, ProducerTSSource: schemas.FromPayload, IngestTS: t0, Adapter: "a", Origin: "file:x:1", Raw: []byte("MSG,3\x00\xff")}
}

func TestCodecConfluent(t *testing.T) {
	ctx := context.Background()
	f := newFakeRegistry(t)
	c := codec(t, registry(t), schemas.WithSchemaRegistry(srClient(t, f.URL)))
	if c.Framing() != schemas.Confluent {
		t.Errorf("Framing() = %v, want confluent", c.Framing())
	}
	in := sampleEnvelope()
	b, err := c.Encode(ctx, []byte("keep"), "contrail.raw.sbs", in)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("keep")) {
		t.Fatalf("Encode did not append to buf: % x", b[:8])
	}
	b = b[4:]
	if b[0] != 0x00 || binary.BigEndian.Uint32(b[1:5]) != 100 {
		t.Fatalf("value starts % x, want 00 and schema id 100", b[:5])
	}
	if ids := f.subjects["contrail.raw.sbs-value"]; len(ids) != 1 || ids[0] != 100 {
		t.Errorf("subject contrail.raw.sbs-value has ids %v, want [100]", ids)
	}
	h, err := schemas.ParseHeader(b)
	if err != nil || h.Framing != schemas.Confluent || h.SchemaID != 100 {
		t.Errorf("ParseHeader = %+v, %v", h, err)
	}

	// The encoder caches the id; a second record does no request.
	before := f.requests.Load()
	if _, err := c.Encode(ctx, nil, "contrail.raw.sbs", in); err != nil {
		t.Fatal(err)
	}
	if n := f.requests.Load() - before; n != 0 {
		t.Errorf("second Encode made %d registry requests, want 0", n)
	}

	// A fresh reader fetches the schema by id once, then caches it.
	rd := codec(t, registry(t), schemas.WithSchemaRegistry(srClient(t, f.URL)))
	for i := range 2 {
		before := f.requests.Load()
		var out schemas.Envelope
		if err := rd.Decode(ctx, b, &out); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if out.ID != in.ID || !bytes.Equal(out.Raw, in.Raw) || !out.ProducerTS.Equal(in.ProducerTS) {
			t.Errorf("decoded %+v, want %+v", out, in)
		}
		if want := int64(1 - i); f.requests.Load()-before != want {
			t.Errorf("decode %d made %d requests, want %d", i, f.requests.Load()-before, want)
		}
	}

	// The same reader still reads single-object records.
	so, err := registry(t).EncodeEnvelope(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	var out schemas.Envelope
	if err := rd.Decode(ctx, so, &out); err != nil || out.ID != in.ID {
		t.Errorf("Decode(single-object) = %+v, %v", out, err)
	}

	// A reader without a registry cannot read Confluent framing.
	var x schemas.Envelope
	if err := codec(t, registry(t)).Decode(ctx, b, &x); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Decode without registry: %v, want ErrUnknownSchema", err)
	}
	// Nor can a Registry.
	if _, err := registry(t).DecodeEnvelope(b); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Registry.DecodeEnvelope(confluent): %v, want ErrUnknownSchema", err)
	}
	// A record of another type is refused.
	var rej schemas.Rejected
	if err := rd.Decode(ctx, b, &rej); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Decode envelope as rejected: %v, want ErrUnknownSchema", err)
	}
}

func TestCodecEveryType(t *testing.T) {
	ctx := context.Background()
	f := newFakeRegistry(t)
	for _, naming := range []struct {
		name     string
		strategy schemas.SubjectNameStrategy
		subject  string
	}{
		{"topic", schemas.TopicNameStrategy, "t-value"},
		{"record", schemas.RecordNameStrategy, "io.contrail.flight.DomainEvent"},
	} {
		t.Run(naming.name, func(t *testing.T) {
			c := codec(t, registry(t), schemas.WithSchemaRegistry(srClient(t, f.URL)), schemas.WithSubjectNameStrategy(naming.strategy))
			for _, ev := range eventCases() {
				b, err := c.Encode(ctx, nil, "t", ev)
				if err != nil {
					t.Fatal(err)
				}
				var out schemas.DomainEvent
				if err := c.Decode(ctx, b, &out); err != nil || out.EventID != ev.EventID || out.Type != ev.Type && ev.Type != "" {
					t.Errorf("round trip %s: %+v, %v", ev.Type, out, err)
				}
			}
			if _, ok := f.subjects[naming.subject]; !ok {
				t.Errorf("no subject %s among %v", naming.subject, f.subjects)
			}
			var st schemas.FlightState
			b, err := c.Encode(ctx, nil, "s", &schemas.FlightState{GUFI: "g"})
			if err == nil {
				err = c.Decode(ctx, b, &st)
			}
			if err != nil || st.GUFI != "g" {
				t.Errorf("flight state: %+v, %v", st, err)
			}
		})
	}
}

func TestCodecSingleObjectByDefault(t *testing.T) {
	c := codec(t, registry(t))
	b, err := c.Encode(context.Background(), nil, "contrail.raw.sbs", sampleEnvelope())
	if err != nil {
		t.Fatal(err)
	}
	if c.Framing() != schemas.SingleObject || b[0] != 0xC3 || b[1] != 0x01 {
		t.Errorf("framing %v, value starts % x; want single-object", c.Framing(), b[:2])
	}
	if fp := binary.LittleEndian.Uint64(b[2:10]); fp != registry(t).Latest(schemas.EnvelopeSchema).Fingerprint {
		t.Errorf("fingerprint %016x is not the latest envelope's", fp)
	}
}

func TestCodecRegistryUnreachable(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	c := codec(t, registry(t), schemas.WithSchemaRegistry(srClient(t, url)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Encode(ctx, nil, "contrail.raw.sbs", sampleEnvelope())
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "schema registry") {
		t.Errorf("Encode with registry down: %v, want an error naming the schema registry %s", err, url)
	}
	var out schemas.Envelope
	err = c.Decode(ctx, schemas.AppendConfluentHeader(nil, 7), &out)
	if err == nil || !strings.Contains(err.Error(), url) || errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Decode with registry down: %v, want an error naming %s that is not ErrUnknownSchema (retryable)", err, url)
	}
}

func TestCodecUnknownID(t *testing.T) {
	f := newFakeRegistry(t)
	c := codec(t, registry(t), schemas.WithSchemaRegistry(srClient(t, f.URL)))
	var out schemas.Envelope
	err := c.Decode(context.Background(), append(schemas.AppendConfluentHeader(nil, 4242), 0x02, 'x'), &out)
	if !errors.Is(err, schemas.ErrUnknownSchema) || !strings.Contains(err.Error(), "4242") {
		t.Errorf("Decode(unknown id) = %v, want ErrUnknownSchema naming id 4242", err)
	}
	// An id holding a non-record or foreign schema is refused, not panicked on.
	id := f.register("other-value", `{"type":"record","name":"Other","fields":[{"name":"x","type":"int"}]}`)
	if err := c.Decode(context.Background(), append(schemas.AppendConfluentHeader(nil, id), 0x02), &out); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Decode(foreign schema) = %v, want ErrUnknownSchema", err)
	}
	bad := f.register("bad-value", `{"type":"nonsense"}`)
	if err := c.Decode(context.Background(), append(schemas.AppendConfluentHeader(nil, bad), 0x02), &out); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Decode(uncompilable schema) = %v, want ErrUnknownSchema", err)
	}
}

func TestCodecLookupOnly(t *testing.T) {
	ctx := context.Background()
	f := newFakeRegistry(t)
	c := codec(t, registry(t), schemas.WithSchemaRegistry(srClient(t, f.URL)), schemas.WithAutoRegister(false))
	if _, err := c.Encode(ctx, nil, "contrail.raw.sbs", sampleEnvelope()); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("Encode of an unregistered schema without auto-register: %v, want ErrUnknownSchema", err)
	}
	id := f.register("contrail.raw.sbs-value", registry(t).Latest(schemas.EnvelopeSchema).Text)
	b, err := c.Encode(ctx, nil, "contrail.raw.sbs", sampleEnvelope())
	if err != nil || int(binary.BigEndian.Uint32(b[1:5])) != id {
		t.Errorf("Encode after registration: % x, %v; want id %d", b[:min(5, len(b))], err, id)
	}
}

// TestCodecForwardThroughRegistry is the point of the registry: a reader
// that embeds only envelope v1 reads a record written with v2, because the
// registry hands it the writer schema. Single-object encoding cannot do this.
func TestCodecForwardThroughRegistry(t *testing.T) {
	ctx := context.Background()
	f := newFakeRegistry(t)
	newer := registryWith(t, "testdata/evolution")
	w := codec(t, newer, schemas.WithSchemaRegistry(srClient(t, f.URL)))
	in := sampleEnvelope()
	b, err := w.Encode(ctx, nil, "contrail.raw.sbs", in)
	if err != nil {
		t.Fatal(err)
	}
	r := codec(t, registry(t), schemas.WithSchemaRegistry(srClient(t, f.URL)))
	var out schemas.Envelope
	if err := r.Decode(ctx, b, &out); err != nil || out.ID != in.ID || !bytes.Equal(out.Raw, in.Raw) {
		t.Errorf("old reader, new writer via registry: %+v, %v", out, err)
	}
	so, err := newer.EncodeEnvelope(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry(t).DecodeEnvelope(so); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("old reader, new writer single-object: %v, want ErrUnknownSchema", err)
	}
}

func FuzzCodecDecode(f *testing.F) {
	reg := registry(f)
	fake := newFakeRegistry(f)
	ctx := context.Background()
	plain := codec(f, reg)
	withSR := codec(f, reg, schemas.WithSchemaRegistry(srClient(f, fake.URL)))
	// evo embeds test-only newer versions, so v1 records go through Resolve.
	evo := codec(f, registryWith(f, "testdata/evolution"))
	for _, v := range []schemas.Value{sampleEnvelope(), &schemas.Rejected{ID: "x"}, &schemas.FlightState{GUFI: "g"}, eventCases()[5]} {
		for _, c := range []*schemas.Codec{plain, withSR} {
			b, err := c.Encode(ctx, nil, "t", v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			f.Add(b[:len(b)/2])
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0, 0, 0, 0, 100})
	f.Add([]byte{0xC3})
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		h, herr := schemas.ParseHeader(b)
		if herr == nil && h.Framing != schemas.SingleObject && h.Framing != schemas.Confluent {
			t.Fatalf("ParseHeader gave framing %v without error", h.Framing)
		}
		for _, c := range []*schemas.Codec{plain, withSR, evo} {
			for _, v := range []schemas.Value{&schemas.Envelope{}, &schemas.Rejected{}, &schemas.DomainEvent{}, &schemas.FlightState{}} {
				if err := c.Decode(ctx, b, v); err == nil && herr != nil {
					t.Fatalf("Decode accepted % x that ParseHeader rejects: %v", b, herr)
				}
			}
		}
		if !bytes.Equal(b, orig) {
			t.Fatal("decoding modified its input")
		}
	})
}
