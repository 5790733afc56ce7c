package topology_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

// TestOutputFailureQuarantined makes one kind of output impossible to
// write: a schema registry that refuses the subject of the aircraft history.
// The record whose output that is aborts its transaction, is delivered
// again, and ends on the rejected topic with the reason; nothing of it is
// committed without that output, and the records around it are processed.
func TestOutputFailureQuarantined(t *testing.T) {
	const prefix = "quarantine"
	names := topics.Names{Prefix: prefix}
	refused := names.AircraftPositions() + "-value"
	var ids, refusals atomic.Int32
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/versions") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":40401,"message":"not in this test"}`))
			return
		}
		if strings.Contains(r.URL.Path, refused) {
			refusals.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error_code":50001,"message":"registry refuses this subject"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]int{"id": int(ids.Add(1))})
	}))
	defer registry.Close()
	rc, err := sr.NewClient(sr.URLs(registry.URL))
	if err != nil {
		t.Fatal(err)
	}
	reg := schemas.MustRegistry()
	codec, err := schemas.NewCodec(reg, schemas.WithSchemaRegistry(rc))
	if err != nil {
		t.Fatal(err)
	}

	seeds, cl, adm := fakeKafka(t)
	if _, err := topics.Ensure(context.Background(), adm, topics.Plan(topics.Options{Prefix: prefix})); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2022, 1, 8, 22, 42, 15, 0, time.UTC)
	var recs []*kgo.Record
	for i, line := range []string{
		"MSG,1,111,11111,789252,111111,2022/01/08,22:42:15.000,2022/01/08,22:42:15.000,AHK209  ,,,,,,,,,,,0",
		"MSG,5,111,11111,789252,111111,2022/01/08,22:42:16.000,2022/01/08,22:42:16.000,,28000,,,,,,,0,,0,0",
		"MSG,3,111,11111,789252,111111,2022/01/08,22:42:17.000,2022/01/08,22:42:17.000,,28025,,,34.43697,136.04449,,,,,,0",
		"MSG,6,111,11111,789252,111111,2022/01/08,22:42:18.000,2022/01/08,22:42:18.000,,,,,,,,3276,0,0,0,0",
	} {
		env := &schemas.Envelope{ID: "q" + string(rune('a'+i)), Feed: "sbs", Format: "sbs-1", FormatVersion: "1", Key: "789252",
			ProducerTS: t0.Add(time.Duration(i) * time.Second), ProducerTSSource: schemas.FromPayload, IngestTS: t0, Origin: "test", Raw: []byte(line)}
		b, err := reg.EncodeEnvelope(nil, env)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: names.Raw("sbs"), Key: []byte("789252"), Value: b})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	newStepsWith(t, seeds, prefix, adm, codec).run(t)()

	rej := readAll(t, seeds, names.Rejected())
	if len(rej) != 1 {
		t.Fatalf("%d rejected records, want the one whose output could not be written", len(rej))
	}
	var x schemas.Rejected
	if err := codec.Decode(context.Background(), rej[0].Value, &x); err != nil {
		t.Fatal(err)
	}
	if x.ReasonCode != "processor.output" || !strings.Contains(x.Reason, "registry refuses this subject") || !strings.Contains(x.Origin, names.Raw("sbs")) {
		t.Errorf("reject %s %q from %s; want processor.output naming the registry's refusal and the raw record", x.ReasonCode, x.Reason, x.Origin)
	}
	if refusals.Load() < 1 {
		t.Error("the registry never refused: the test cannot fail")
	}
	if n := len(readAll(t, seeds, names.AircraftPositions())); n != 0 {
		t.Errorf("%d aircraft history records committed, want none (each could not be written)", n)
	}
	// The other records went through: the aircraft's picture has its
	// callsign, altitude and squawk, and not the quarantined position.
	var last schemas.AircraftState
	for _, r := range readAll(t, seeds, names.AircraftState()) {
		if err := codec.Decode(context.Background(), r.Value, &last); err != nil {
			t.Fatal(err)
		}
	}
	if last.Callsign != "AHK209" || last.Squawk != "3276" || last.AltitudeFt == nil || *last.AltitudeFt != 28000 || last.Lat != nil {
		t.Errorf("aircraft state %+v; want AHK209, squawk 3276, altitude 28000 from the other records and no position", last)
	}
}
