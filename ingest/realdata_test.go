package ingest_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

// adexpSampleMessages reads the ADEXP messages of the shared sample, each
// exactly as it stood in its dump.
func adexpSampleMessages(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(infratest.SharedData(t, "adexp/idiot-fp-messages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m struct{ Message string }
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Message)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIntegrationADEXPSampleToKafka is the feeds issue's acceptance on real
// Kafka: every ADEXP message of the shared sample, written one after the other
// into a file (blank lines between them, as in the dumps), is framed by the
// feed's splitter, accepted with a composite key, and stored byte for byte.
func TestIntegrationADEXPSampleToKafka(t *testing.T) {
	msgs := adexpSampleMessages(t)
	seeds := infratest.Kafka(t)
	prefix := infratest.Name(t, "it")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	plan := topics.Plan(topics.Options{Prefix: prefix, Feeds: []string{"adexp"}})
	if _, err := topics.Ensure(t.Context(), adm, plan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var names []string
		for _, s := range plan {
			names = append(names, s.Name)
		}
		_, _ = adm.DeleteTopics(t.Context(), names...)
	})

	path := filepath.Join(t.TempDir(), "plans.adexp")
	if err := os.WriteFile(path, []byte(strings.Join(msgs, "\r\n\r\n")+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	feed, err := ingest.LookupFeed("adexp", ingest.FeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := ingest.OpenFeedFile(path, feed)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	names := topics.Names{Prefix: prefix}
	reg := schemas.MustRegistry()
	a := &ingest.Adapter{Feed: feed, Client: cl, Topics: names, Schemas: reg, Instance: "test", Log: slog.New(slog.DiscardHandler)}
	st, err := a.Run(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != int64(len(msgs)) || st.Accepted != int64(len(msgs)) || st.Rejected != 0 {
		t.Fatalf("stats %+v, want all %d messages read and accepted", st, len(msgs))
	}

	var got []string
	for _, r := range consumeTopics(t, kafkaEnv{seeds: seeds}, names.Raw("adexp"))[names.Raw("adexp")] {
		e, err := reg.DecodeEnvelope(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if e.Key != string(r.Key) || e.Key == "" {
			t.Errorf("envelope key %q, record key %q", e.Key, r.Key)
		}
		if strings.HasPrefix(string(e.Raw), "-TITLE IFPL") && strings.Count(e.Key, "/") != 4 {
			t.Errorf("IFPL key %q is not ADEP/EOBD/EOBT/ARCID/ADES", e.Key)
		}
		got = append(got, string(e.Raw))
	}
	slices.Sort(got)
	wantRaw := slices.Clone(msgs)
	slices.Sort(wantRaw)
	if !slices.Equal(got, wantRaw) {
		t.Fatalf("raw bytes on Kafka differ from the sample's messages (%d on Kafka, %d in the sample)", len(got), len(wantRaw))
	}
}
