package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/simulate"
)

func TestSimulateConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"no out", []string{"simulate"}, nil, []string{"--out", "required"}},
		{"bad seed", []string{"simulate", "--out", dir, "--seed", "x"}, nil, []string{"seed", "whole number"}},
		{"bad flights", []string{"simulate", "--out", dir, "--flights", "0"}, nil, []string{"flights", "1 to 2000"}},
		{"bad start", []string{"simulate", "--out", dir, "--start", "yesterday"}, nil, []string{"start", "RFC 3339"}},
		{"bad duration", []string{"simulate", "--out", dir, "--duration", "0s"}, nil, []string{"duration is 0s"}},
		{"bad plan format", []string{"simulate", "--out", dir, "--plan-format", "xml"}, nil, []string{"plan-format", "adexp, ats, both"}},
		{"bad fraction", []string{"simulate", "--out", dir, "--garbage", "1.5"}, nil, []string{"garbage", "fraction"}},
		{"bad fraction env", []string{"simulate", "--out", dir}, map[string]string{"CONTRAIL_LATE": "-1"}, []string{"CONTRAIL_LATE", "fraction"}},
		{"disorder plus late", []string{"simulate", "--out", dir, "--disorder", "0.7", "--late", "0.7"}, nil, []string{"disorder", "late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, tt.env, tt.args...)
			if r.code != cli.ExitConfig {
				t.Errorf("exit %d, want %d; stderr %q", r.code, cli.ExitConfig, r.stderr)
			}
			if strings.Count(strings.TrimSuffix(r.stderr, "\n"), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
		})
	}
}

// TestSimulateFilesIngest writes the files and reads them back the way
// 'contrail ingest file' does: every valid and duplicate record is
// accepted, every garbage record rejected, in the simulator's order.
func TestSimulateFilesIngest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := []string{"simulate", "--out", dir, "--seed", "9", "--flights", "12", "--duration", "4h",
		"--disorder", "0.05", "--duplicates", "0.1", "--late", "0.02", "--garbage", "0.1"}
	r := runMain(t, nil, args...)
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth simulate.Truth
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatalf("truth.json: %v", err)
	}
	if truth.Seed != 9 || len(truth.Flights) < 12 {
		t.Fatalf("truth: seed %d, %d flights", truth.Seed, len(truth.Flights))
	}
	// The same settings through the package give the records in delivery
	// order, which the files must frame back exactly.
	want, err := simulate.Generate(simulate.Config{Seed: 9, Flights: 12, Start: truth.Start, Duration: 4 * time.Hour,
		PlanFormat: "both", Disorder: 0.05, Duplicates: 0.1, Late: 0.02, Garbage: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		feed, file string
		counts     simulate.FeedCounts
		recs       []simulate.Record
	}{{"sbs", "sbs.sbs", truth.Counts.SBS, want.SBS}, {"adexp", "plans.adexp", truth.Counts.ADEXP, want.ADEXP},
		{"ats", "plans.ats", truth.Counts.ATS, want.ATS}} {
		t.Run(f.feed, func(t *testing.T) {
			feed, err := ingest.LookupFeed(f.feed, ingest.FeedOptions{})
			if err != nil {
				t.Fatal(err)
			}
			src, err := ingest.OpenFeedFile(filepath.Join(dir, f.file), feed)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var accepted, rejected, n int
			for ; ; n++ {
				rec, err := src.Next(t.Context())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if n >= len(f.recs) || string(rec.Raw) != f.recs[n].Raw {
					t.Fatalf("record %d read back as %q, want the simulator's record %d", n, rec.Raw, n)
				}
				_, _, err = feed.Check(rec.Raw)
				if (err != nil) != (f.recs[n].Kind == simulate.Garbage) {
					t.Errorf("record %d (%s) %q: check %v", n, f.recs[n].Kind, rec.Raw, err)
				}
				if err != nil {
					rejected++
				} else {
					accepted++
				}
			}
			c := f.counts
			if n != len(f.recs) || n != c.Records {
				t.Errorf("read %d records, simulator made %d, truth counts %d", n, len(f.recs), c.Records)
			}
			if accepted != c.Valid+c.Duplicate || rejected != c.Garbage || c.Garbage == 0 || c.Duplicate == 0 {
				t.Errorf("accepted %d, rejected %d; truth %+v", accepted, rejected, c)
			}
		})
	}
	if !strings.Contains(r.stdout, "sbs.sbs: ") || !strings.Contains(r.stdout, "truth.json: ") {
		t.Errorf("stdout %q does not report the files", r.stdout)
	}
	// CRLF lines, as dump1090 serves them.
	sbsBytes, _ := os.ReadFile(filepath.Join(dir, "sbs.sbs"))
	if n, crlf := bytes.Count(sbsBytes, []byte("\n")), bytes.Count(sbsBytes, []byte("\r\n")); n == 0 || n != crlf {
		t.Errorf("sbs.sbs: %d LF, %d CRLF", n, crlf)
	}
	// Same settings, same bytes.
	dir2 := filepath.Join(t.TempDir(), "again")
	if r := runMain(t, nil, append(args[:2:2], append([]string{dir2}, args[3:]...)...)...); r.code != cli.ExitOK {
		t.Fatalf("second run: exit %d: %s", r.code, r.stderr)
	}
	for _, name := range []string{"sbs.sbs", "plans.adexp", "plans.ats", "truth.json"} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(dir2, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed (%d and %d bytes)", name, len(a), len(b))
		}
	}
}

func TestSimulatePlanFormat(t *testing.T) {
	dir := t.TempDir()
	if r := runMain(t, map[string]string{"CONTRAIL_PLAN_FORMAT": "ats", "CONTRAIL_FLIGHTS": "2"}, "simulate", "--out", dir); r.code != cli.ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "plans.adexp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plans.adexp written with --plan-format ats: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "plans.ats")); err != nil {
		t.Error(err)
	}
}

// TestIntegrationSimulateToKafka: with --brokers, simulate provisions the
// topics and produces what it wrote, plans and surveillance, to the raw
// topics; the counts it prints are what is on them.
func TestIntegrationSimulateToKafka(t *testing.T) {
	brokers := infratest.Kafka(t)
	prefix := infratest.Name(t, "sim")
	dir := t.TempDir()
	r := runMain(t, nil, "simulate", "--out", dir, "--flights", "3", "--duration", "1h", "--garbage", "0.01",
		"--brokers", strings.Join(brokers, ","), "--topic-prefix", prefix)
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var truth simulate.Truth
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	c := truth.Counts
	read := c.SBS.Records + c.ADEXP.Records + c.ATS.Records
	rejected := c.SBS.Garbage + c.ADEXP.Garbage + c.ATS.Garbage
	want := fmt.Sprintf("read %d, accepted %d, rejected %d", read, read-rejected, rejected)
	if !strings.Contains(r.stdout, "produced to "+prefix+".raw.*: "+want) {
		t.Fatalf("stdout does not report %q:\n%s", want, r.stdout)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(t.Context(), prefix+".raw.sbs", prefix+".raw.adexp", prefix+".raw.ats", prefix+".rejected")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != int64(read) {
		t.Errorf("%d records on the raw and rejected topics, simulate read %d", total, read)
	}
}
