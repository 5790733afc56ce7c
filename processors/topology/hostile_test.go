package topology_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/processors/topology"
	"github.com/contrail-atm/contrail/schemas"
)

// TestHostileInput puts records no Contrail stage wrote on every topic the
// steps read: bytes that are not Avro, an envelope of the wrong schema, a
// flight-input record without its kind header, an empty value. The steps do
// not stop; each such record lands on the rejected topic with a reason naming
// where it was read, and the good records around them are processed.
func TestHostileInput(t *testing.T) {
	seeds, cl, adm := fakeKafka(t)
	const prefix = "hostile"
	n := loadDay(t, cl, prefix, 2)
	names := topics.Names{Prefix: prefix}
	reg := schemas.MustRegistry()
	wrongSchema, err := reg.EncodeOutcome(nil, &schemas.Outcome{EventID: "x", Feed: "sbs", Step: "track", Outcome: "stale"})
	if err != nil {
		t.Fatal(err)
	}
	hostile := []*kgo.Record{
		{Topic: names.Raw("sbs"), Key: []byte("ABC123"), Value: []byte("\x00\xff not avro")},
		{Topic: names.Raw("sbs"), Key: []byte("ABC123"), Value: wrongSchema},
		{Topic: names.Raw("sbs"), Key: []byte("ABC123"), Value: nil},
		{Topic: names.Raw("adexp"), Key: []byte("X"), Value: []byte{0xC3, 0x01, 1, 2, 3}},
		{Topic: names.FlightInput(), Key: []byte("EIN12"), Value: []byte("no kind header")},
		{Topic: names.FlightInput(), Key: []byte("EIN12"), Value: []byte("bad track event"),
			Headers: []kgo.RecordHeader{{Key: topology.KindHeader, Value: []byte(topology.KindTrack)}}},
	}
	if err := cl.ProduceSync(context.Background(), hostile...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	s := newSteps(t, seeds, prefix, adm)
	s.run(t)()

	var reasons []string
	for _, r := range readAll(t, seeds, names.Rejected()) {
		x, err := reg.DecodeRejected(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(x.Origin, "kafka://") || x.ReasonCode == "" {
			t.Errorf("reject without origin or reason code: %+v", x)
		}
		reasons = append(reasons, x.ReasonCode+" "+x.Origin)
	}
	if len(reasons) != len(hostile) {
		t.Errorf("%d rejects for %d hostile records:\n%s", len(reasons), len(hostile), strings.Join(reasons, "\n"))
	}
	if events := readAll(t, seeds, names.FlightEvents()); len(events) == 0 {
		t.Errorf("no domain events from the %d good records around the hostile ones", n)
	}
}

// FuzzDecodeFlightInput feeds arbitrary values under each kind header to the
// flight step's input decoder: an error (an *InputError) or an input, never a
// panic.
func FuzzDecodeFlightInput(f *testing.F) {
	reg := schemas.MustRegistry()
	codec, err := schemas.NewCodec(reg)
	if err != nil {
		f.Fatal(err)
	}
	te, _ := reg.EncodeTrackEvent(nil, &schemas.TrackEvent{EventID: "e", ICAO24: "4ca1b2", Callsign: "EIN12"})
	env, _ := reg.EncodeEnvelope(nil, &schemas.Envelope{ID: "e", Feed: "adexp", ProducerTSSource: schemas.FromPayload,
		Raw: []byte("-TITLE IFPL -ARCID EIN12 -ADEP EIDW -ADES EGLL -EOBD 260101 -EOBT 1200")})
	alert, _ := reg.EncodeEnvelope(nil, &schemas.Envelope{ID: "a", Feed: "json", ProducerTSSource: schemas.FromPayload,
		Raw: []byte(`{"type":"conflict_alert","ts":"2026-01-01T07:30:00Z","flights":[{"callsign":"EIN12"},{"callsign":"AFR1"}],"severity":"warning"}`)})
	f.Add(te, topology.KindTrack)
	f.Add(env, topology.KindEnvelope)
	f.Add(alert, topology.KindAlertPeer) // without its role header: an error
	f.Add([]byte{0xC3, 0x01}, "")
	f.Fuzz(func(t *testing.T, value []byte, kind string) {
		r := &kgo.Record{Topic: "t", Value: value, Headers: []kgo.RecordHeader{{Key: topology.KindHeader, Value: []byte(kind)}}}
		in, _, err := topology.DecodeFlightInput(codec, r)
		if err != nil {
			var ie *topology.InputError
			if !errorsAs(err, &ie) || ie.Code == "" {
				t.Fatalf("error %v is not an *InputError with a code", err)
			}
			return
		}
		if in.EventID == "" && in.Track == nil && in.Plan == nil && in.Alert == nil {
			t.Fatalf("no error and no input for %q", value)
		}
	})
}

func errorsAs(err error, target **topology.InputError) bool { return errors.As(err, target) }

// fakeKafka starts an in-process broker for one test and returns its
// addresses, a client and an admin client on it, closed at the test's end.
func fakeKafka(t *testing.T) ([]string, *kgo.Client, *kadm.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	seeds := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return seeds, cl, kadm.NewClient(cl)
}
