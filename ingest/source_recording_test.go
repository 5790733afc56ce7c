package ingest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/schemas"
)

func writeNamed(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func drain(t *testing.T, src ingest.Source) []ingest.Record {
	t.Helper()
	var out []ingest.Record
	for {
		r, err := src.Next(t.Context())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		out = append(out, r)
	}
}

func TestRecordingSource(t *testing.T) {
	t0 := time.Date(2022, 1, 8, 22, 42, 15, 384_000_000, time.UTC)
	lines := []struct {
		line   string
		raw    string    // accepted lines
		ts     time.Time // accepted lines
		ident  string    // accepted lines: "" for file:rec.jsonl:N
		reject string    // substring of the reason of a line that does not decode
	}{
		{line: `{"received":"2022-01-08T22:42:15.384Z","origin":"tcp:10.0.0.5:30003/s/1","raw":"MSG,3,a"}`, raw: "MSG,3,a", ts: t0, ident: "tcp:10.0.0.5:30003/s/1"},
		{line: `{"received":"2022-01-09T07:42:15.384+09:00","raw_b64":"AP/+TVNH"}` + "\r", raw: "\x00\xff\xfeMSG", ts: t0},
		{line: `{"raw":"x\r\ny","received":"2022-01-08T22:42:16Z","extra":[1,2]}`, raw: "x\r\ny", ts: t0.Truncate(time.Second).Add(time.Second)},
		{line: `{"received":"2022-01-08T22:42:15.384Z","raw":""}`, raw: "", ts: t0},
		{line: ``}, // blank lines are skipped
		{line: `   `},
		{line: `not json`, reject: "not a JSON object"},
		{line: "{\"received\":\"2022-01-08T22:42:15Z\",\"raw\":\"\xff\"}", reject: "UTF-8"},
		{line: `{"raw":"MSG"}`, reject: `no "received"`},
		{line: `{"received":"08/01/2022","raw":"MSG"}`, reject: "RFC 3339"},
		{line: `{"received":"2022-01-08T22:42:15Z"}`, reject: `no "raw"`},
		{line: `{"received":"2022-01-08T22:42:15Z","raw":"a","raw_b64":"YQ=="}`, reject: "both"},
		{line: `{"received":"2022-01-08T22:42:15Z","raw_b64":"!!"}`, reject: "base64"},
		{line: `{"received":"2022-01-08T22:42:15Z","raw":"\ud800"}`, reject: "not a valid character"},
		{line: `["received"]`, reject: "not a JSON object"},
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.line + "\n")
	}
	path := writeNamed(t, "rec.jsonl", []byte(b.String()))
	src, err := ingest.OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := drain(t, src)
	var i int
	for n, l := range lines {
		if strings.TrimSpace(l.line) == "" {
			continue
		}
		if i >= len(recs) {
			t.Fatalf("%d records, want one per non-blank line", len(recs))
		}
		r := recs[i]
		i++
		line := n + 1
		if want := fmt.Sprintf("file:%s:%d", path, line); r.Origin != want {
			t.Errorf("line %d: Origin %q, want %q", line, r.Origin, want)
		}
		if l.reject != "" {
			if r.RejectCode != ingest.ReasonRecording || !strings.Contains(r.RejectReason, l.reject) ||
				!strings.Contains(r.RejectReason, fmt.Sprintf("rec.jsonl line %d", line)) {
				t.Errorf("line %d: reject %q %q, want %s saying %q", line, r.RejectCode, r.RejectReason, ingest.ReasonRecording, l.reject)
			}
			if string(r.Raw) != l.line {
				t.Errorf("line %d: Raw %q, want the line itself", line, r.Raw)
			}
			continue
		}
		if r.RejectCode != "" || string(r.Raw) != l.raw || !r.RecordTS.Equal(l.ts) || !r.Received.Equal(l.ts) {
			t.Errorf("line %d: %+v, want raw %q received %v", line, r, l.raw, l.ts)
		}
		ident := l.ident
		if ident == "" {
			ident = fmt.Sprintf("file:rec.jsonl:%d", line)
		}
		if r.Identity != ident {
			t.Errorf("line %d: Identity %q, want %q", line, r.Identity, ident)
		}
	}
	if i != len(recs) {
		t.Errorf("%d records, want %d", len(recs), i)
	}
}

func TestRecordingSourceOversize(t *testing.T) {
	big := bytes.Repeat([]byte("x"), ingest.MaxRecordBytes+1)
	var rec []byte
	rec = ingest.AppendRecordingLine(rec, time.Unix(0, 0), "", big)
	rec = append(rec, `{"received":"2022-01-08T22:42:15Z","raw":"`+strings.Repeat("y", ingest.MaxRecordingLineBytes)+`"}`+"\n"...)
	rec = ingest.AppendRecordingLine(rec, time.Unix(1, 0), "", []byte("after"))
	src, err := ingest.OpenRecording(writeNamed(t, "big.jsonl", rec))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := drain(t, src)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	if !recs[0].Oversize || len(recs[0].Raw) != ingest.MaxRecordBytes {
		t.Errorf("record over the limit: Oversize %v, %d bytes; want the first %d bytes flagged", recs[0].Oversize, len(recs[0].Raw), ingest.MaxRecordBytes)
	}
	if recs[1].RejectCode != ingest.ReasonRecording || !strings.Contains(recs[1].RejectReason, "longer than") || len(recs[1].Raw) != ingest.MaxRecordBytes {
		t.Errorf("line over the limit: %q, %d bytes; want a recording reject keeping %d bytes", recs[1].RejectReason, len(recs[1].Raw), ingest.MaxRecordBytes)
	}
	if string(recs[2].Raw) != "after" {
		t.Errorf("record after them = %q", recs[2].Raw)
	}
}

func TestReplay(t *testing.T) { testReplay(t, fakeKafka(t)) }

func TestIntegrationReplay(t *testing.T) { testReplay(t, realKafka(t)) }

// testReplay replays a file at 4x its recorded speed and a recording as fast
// as possible. Pacing is checked from timestamps only: each record's Kafka
// timestamp (set when it was produced) is at least its recorded offset / 4
// after the first one's; the file's order is kept. The recording's records
// carry their recorded receipt times.
func testReplay(t *testing.T, env kafkaEnv) {
	t.Run("file at 4x", func(t *testing.T) {
		lines := infratest.SBSLines(9) // 250 ms apart: 2 s recorded, 0.5 s replayed
		path := writeNamed(t, "paced.sbs", []byte(strings.Join(lines, "\n")+"\n"))
		a := env.adapter(t, nil)
		a.Pacer = ingest.NewPacer(4, nil)
		src, err := ingest.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if st, err := a.Run(t.Context(), src); err != nil || st.Accepted != 9 {
			t.Fatalf("Run = %+v, %v", st, err)
		}
		got := env.consume(t)
		produced := map[int]time.Time{}
		recorded := map[int]time.Time{}
		for i, e := range got.envs {
			if !strings.HasPrefix(e.Origin, "file:"+path+":") {
				continue
			}
			var n int
			fmt.Sscanf(e.Origin[len("file:"+path+":"):], "%d", &n)
			produced[n], recorded[n] = got.envRecs[i].Timestamp, e.ProducerTS
		}
		if len(produced) != 9 {
			t.Fatalf("%d paced records on Kafka, want 9", len(produced))
		}
		for n := 2; n <= 9; n++ {
			if produced[n].Before(produced[n-1]) {
				t.Errorf("line %d produced at %v, before line %d at %v", n, produced[n], n-1, produced[n-1])
			}
			// Kafka timestamps have millisecond precision.
			minGap := recorded[n].Sub(recorded[1])/4 - time.Millisecond
			if gap := produced[n].Sub(produced[1]); gap < minGap {
				t.Errorf("line %d produced %v after line 1, want at least %v (recorded %v / 4)", n, gap, minGap, recorded[n].Sub(recorded[1]))
			}
		}
	})
	t.Run("recording", func(t *testing.T) {
		lines := infratest.SBSLines(3)
		received := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
		var rec []byte
		rec = ingest.AppendRecordingLine(rec, received, "tcp:feed:30003/x/1", []byte(lines[0]))
		rec = ingest.AppendRecordingLine(rec, received.Add(time.Second), "", []byte("MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0"))
		rec = ingest.AppendRecordingLine(rec, received.Add(2*time.Second), "", []byte("\x00\xffgarbage"))
		rec = append(rec, "{broken\n"...)
		path := writeNamed(t, "capture.jsonl", rec)
		src, err := ingest.OpenRecording(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		st, err := env.adapter(t, nil).Run(t.Context(), src)
		if want := (ingest.Stats{Read: 4, Accepted: 2, Rejected: 2}); err != nil || st != want {
			t.Fatalf("Run = %+v, %v; want %+v", st, err, want)
		}
		got := env.consume(t)
		var envs []*schemas.Envelope
		for _, e := range got.envs {
			if strings.HasPrefix(e.Origin, "file:"+path) {
				envs = append(envs, e)
			}
		}
		slices.SortFunc(envs, func(a, b *schemas.Envelope) int { return strings.Compare(a.Origin, b.Origin) })
		if len(envs) != 2 {
			t.Fatalf("%d envelopes from the recording, want 2", len(envs))
		}
		if e := envs[0]; string(e.Raw) != lines[0] || !e.IngestTS.Equal(received) || e.ProducerTSSource != schemas.FromPayload ||
			e.ID != schemas.EventID("sbs", "tcp:feed:30003/x/1", []byte(lines[0])) {
			t.Errorf("first record: %+v; want its payload time, the recorded receipt time and an id from the recorded origin", e)
		}
		if e := envs[1]; !e.ProducerTS.Equal(received.Add(time.Second)) || e.ProducerTSSource != schemas.FromRecord ||
			!e.IngestTS.Equal(received.Add(time.Second)) {
			t.Errorf("record without a payload time: producer %v from %s, ingest %v; want the recorded receipt time (RECORD)", e.ProducerTS, e.ProducerTSSource, e.IngestTS)
		}
		var codes []string
		for _, x := range got.rejs {
			if strings.HasPrefix(x.Origin, "file:"+path) {
				codes = append(codes, x.ReasonCode)
			}
		}
		slices.Sort(codes)
		if !slices.Equal(codes, []string{ingest.ReasonRecording, "sbs.message_type"}) && !slices.Equal(codes, []string{ingest.ReasonRecording, "sbs.binary"}) {
			t.Errorf("rejects %v, want the broken line and the garbage record", codes)
		}
	})
}

// TestFileSourceWithSplit checks a feed with its own framing is read with
// it: records span lines and are named by their first line.
func TestFileSourceWithSplit(t *testing.T) {
	feed := ingest.Feed{Name: "para", Split: func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
			return i + 2, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), bytes.TrimSuffix(data, []byte("\n")), nil
		}
		return 0, nil, nil
	}}
	content := "-TITLE IFPL\n-ARCID A\n\n-TITLE CHG\n-ARCID B\n-ADES X\n\n-TITLE CNL\n"
	path := writeNamed(t, "msgs.adexp", []byte(content))
	src, err := ingest.OpenFeedFile(path, feed)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := drain(t, src)
	want := []struct {
		raw  string
		line int
	}{{"-TITLE IFPL\n-ARCID A", 1}, {"-TITLE CHG\n-ARCID B\n-ADES X", 4}, {"-TITLE CNL", 8}}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		if string(recs[i].Raw) != w.raw || recs[i].Origin != fmt.Sprintf("file:%s:%d", path, w.line) ||
			recs[i].Identity != fmt.Sprintf("file:msgs.adexp:%d", w.line) {
			t.Errorf("record %d = %q from %s (%s), want %q from line %d", i, recs[i].Raw, recs[i].Origin, recs[i].Identity, w.raw, w.line)
		}
	}
	if done, total := src.Progress(); done != total || total != int64(len(content)) {
		t.Errorf("Progress() = %d, %d at the end; want %d, %d", done, total, len(content), len(content))
	}
	// A feed without Split is read line by line, exactly as OpenFile does.
	sbs, _ := ingest.LookupFeed("sbs", ingest.FeedOptions{})
	lines, err := ingest.OpenFeedFile(path, sbs)
	if err != nil {
		t.Fatal(err)
	}
	defer lines.Close()
	if n := len(drain(t, lines)); n != 8 {
		t.Errorf("sbs feed read %d records from 8 lines", n)
	}
}
