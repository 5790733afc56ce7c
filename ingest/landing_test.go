package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/schemas"
)

func TestLanding(t *testing.T) { testLanding(t, fakeKafka(t)) }

func TestIntegrationLanding(t *testing.T) { testLanding(t, realKafka(t)) }

// landingInput is one record an external producer writes to the landing topic.
type landingInput struct {
	value  string
	format string    // contrail-format header; "" for none
	ts     time.Time // Kafka record timestamp
	reject string    // expected reason code; "" when accepted
}

// testLanding produces raw records to the landing topic as any external
// producer would, runs the landing ingest until its group has committed
// everything, and compares the raw and rejected topics with the input. A
// second run with the same group reads only what was produced since.
func testLanding(t *testing.T, env kafkaEnv) {
	lines := infratest.SBSLines(20)
	recTS := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var in []landingInput
	for i, l := range lines {
		in = append(in, landingInput{value: l, ts: recTS.Add(time.Duration(i) * time.Second)})
	}
	in = append(in,
		landingInput{value: "MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0", ts: recTS.Add(time.Hour)}, // no time in the payload
		landingInput{value: lines[0], format: "sbs-1", ts: recTS},
		landingInput{value: lines[1], format: "SBS", ts: recTS},
		landingInput{value: lines[2], format: "ats", ts: recTS, reject: ingest.ReasonFormatMismatch},
		landingInput{value: "garbage", ts: recTS, reject: "sbs.message_type"},
		landingInput{value: "", ts: recTS, reject: "sbs.empty"},
	)
	topic := env.names.Ingest("sbs")
	produce(t, env, topic, in)

	group := infratest.Name(t, "landing")
	st := runLanding(t, env, group, topic)
	var wantRejected int64
	for _, x := range in {
		if x.reject != "" {
			wantRejected++
		}
	}
	if want := (ingest.Stats{Read: int64(len(in)), Accepted: int64(len(in)) - wantRejected, Rejected: wantRejected}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}

	got := env.consume(t)
	byOrigin := map[string]landingInput{}
	offsets := map[string]bool{}
	for _, e := range got.envs {
		if offsets[e.Origin] {
			t.Errorf("origin %s twice on the raw topic", e.Origin)
		}
		offsets[e.Origin] = true
	}
	// Landing records are identified by their position; map the input to
	// positions by reading the landing topic back.
	for _, r := range consumeTopics(t, env, topic)[topic] {
		byOrigin[fmt.Sprintf("kafka:%s/%d/%d", r.Topic, r.Partition, r.Offset)] = inputOf(t, in, r)
	}
	for _, e := range got.envs {
		x, ok := byOrigin[e.Origin]
		if !ok || x.reject != "" || string(e.Raw) != x.value {
			t.Errorf("envelope from %s = %q, input %+v", e.Origin, e.Raw, x)
			continue
		}
		if e.ID != schemas.EventID("sbs", e.Origin, e.Raw) {
			t.Errorf("envelope from %s: event id is not derived from its position", e.Origin)
		}
		if strings.HasPrefix(x.value, "MSG,8,111,11111,86E488,111111,,") {
			if e.ProducerTSSource != schemas.FromRecord || !e.ProducerTS.Equal(x.ts) {
				t.Errorf("payload without time: producer timestamp %v from %s, want the Kafka record's %v (RECORD)", e.ProducerTS, e.ProducerTSSource, x.ts)
			}
		} else if e.ProducerTSSource != schemas.FromPayload {
			t.Errorf("envelope from %s: producer timestamp from %s, want PAYLOAD", e.Origin, e.ProducerTSSource)
		}
	}
	for _, x := range got.rejs {
		want, ok := byOrigin[x.Origin]
		if !ok || want.reject != x.ReasonCode || string(x.Raw) != want.value {
			t.Errorf("reject from %s = %s %q, input %+v", x.Origin, x.ReasonCode, x.Raw, want)
		}
		if x.ReasonCode == ingest.ReasonFormatMismatch && !strings.Contains(x.Reason, `"ats"`) {
			t.Errorf("mismatch reason %q does not name the header's value", x.Reason)
		}
	}
	if int64(len(got.envs)) != st.Accepted || int64(len(got.rejs)) != st.Rejected {
		t.Errorf("Kafka holds %d envelopes and %d rejects, Stats say %+v", len(got.envs), len(got.rejs), st)
	}

	// The offsets were committed: a second run reads only the new records.
	more := []landingInput{{value: lines[3], ts: recTS}, {value: lines[4], ts: recTS}}
	produce(t, env, topic, more)
	if st := runLanding(t, env, group, topic); st.Read != 2 || st.Accepted != 2 {
		t.Errorf("second run: Stats %+v, want the 2 new records only", st)
	}
}

func produce(t *testing.T, env kafkaEnv, topic string, in []landingInput) {
	t.Helper()
	var recs []*kgo.Record
	for _, x := range in {
		r := &kgo.Record{Topic: topic, Value: []byte(x.value), Timestamp: x.ts}
		if x.format != "" {
			r.Headers = []kgo.RecordHeader{{Key: ingest.FormatHeader, Value: []byte(x.format)}}
		}
		recs = append(recs, r)
	}
	if err := env.client(t).ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to landing topic: %v", err)
	}
}

// inputOf finds the input a landing record was produced from.
func inputOf(t *testing.T, in []landingInput, r *kgo.Record) landingInput {
	var format string
	for _, h := range r.Headers {
		if h.Key == ingest.FormatHeader {
			format = string(h.Value)
		}
	}
	for _, x := range in {
		if x.value == string(r.Value) && x.format == format && x.ts.Equal(r.Timestamp) {
			return x
		}
	}
	return landingInput{}
}

// runLanding runs a landing ingest until its group has committed everything
// on the landing topic, then stops it as SIGTERM would.
func runLanding(t *testing.T, env kafkaEnv, group, topic string) ingest.Stats {
	t.Helper()
	consumer := env.client(t, ingest.LandingConsumerOpts(topic, group)...)
	defer consumer.CloseAllowingRebalance()
	l := &ingest.Landing{Adapter: env.adapter(t, nil), Consumer: consumer, MaxPoll: 7}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		st  ingest.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := l.Run(ctx)
		done <- result{st, err}
	}()
	waitCommitted(t, env, group, topic)
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatalf("Landing.Run: %v", r.err)
	}
	return r.st
}

// waitCommitted waits until group has committed the end of every partition
// of topic. Until the consumer has joined, the group does not exist yet;
// that is waited out too.
func waitCommitted(t *testing.T, env kafkaEnv, group, topic string) {
	t.Helper()
	adm := kadm.NewClient(env.client(t))
	ends, err := adm.ListEndOffsets(t.Context(), topic)
	if err != nil || ends.Error() != nil {
		t.Fatalf("list end offsets of %s: %v %v", topic, err, ends.Error())
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		committed, err := adm.FetchOffsetsForTopics(t.Context(), group, topic)
		if err == nil {
			behind := false
			ends.Each(func(o kadm.ListedOffset) {
				c, ok := committed.Lookup(o.Topic, o.Partition)
				if o.Offset > 0 && (!ok || c.Err != nil || c.At < o.Offset) {
					behind = true
				}
			})
			if !behind {
				return
			}
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("test ended before group %s committed %s (last error %v)", group, topic, err)
		case <-tick.C:
		}
	}
}
