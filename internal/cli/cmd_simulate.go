package cli

import (
	"context"

	"errors"
	"flag"
	"fmt"
	"github.com/twmb/franz-go/pkg/kadm"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/internal/simulate"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

const simulateSynopsis = `Usage: contrail simulate --out DIR [flags]

Generates deterministic synthetic traffic: flights between real European
aerodromes with SBS-1 tracks (sbs.sbs, CRLF lines), flight plans in ADEXP
(plans.adexp) and/or ICAO ATS format (plans.ats), and the ground truth
(truth.json). The same settings always give the same bytes. Disorder,
duplicates, late arrivals and garbage are injected at the given rates; every
garbage record is one the feed's parser rejects. Ingest the files with
'contrail ingest file --feed sbs DIR/sbs.sbs' (adexp, ats likewise), or
give --brokers to have simulate produce them to the raw topics itself (plans
first, then surveillance, as fast as Kafka takes them; ICAO ATS from the
recording, so its records carry their delivery times). See docs/simulate.md.`

func simulateCmd(ctx context.Context, env Env, args []string) error {
	var (
		o obsSettings
		k kafkaSettings
	)
	cfg := simulate.DefaultConfig()
	var out string
	fs := newFlagSet("simulate", simulateSynopsis, env, &o)
	fs.Var(int64Value{&cfg.Seed}, "seed", "random seed; the same seed and settings give the same output")
	fs.Var(intValue{&cfg.Flights, 1, simulate.MaxFlights}, "flights", "number of flights (first legs; some fly a second leg under the same callsign)")
	fs.Var(timeValue{&cfg.Start}, "start", "earliest off-block time, RFC 3339 (plans are filed up to 3h earlier)")
	fs.Var(durationValue{&cfg.Duration}, "duration", "window after --start in which flights go off blocks")
	fs.Var(choiceValue{&cfg.PlanFormat, []string{simulate.PlanADEXP, simulate.PlanATS, simulate.PlanBoth}}, "plan-format", "flight-plan files to write: adexp, ats or both")
	fs.Var(fractionValue{&cfg.Disorder}, "disorder", "fraction of records delivered out of order (held back up to 10s; plans 30m)")
	fs.Var(fractionValue{&cfg.Duplicates}, "duplicates", "fraction of records delivered twice")
	fs.Var(fractionValue{&cfg.Late}, "late", "fraction of records delivered late (5-20m; plans 1-3h)")
	fs.Var(fractionValue{&cfg.Garbage}, "garbage", "malformed records injected per valid record")
	fs.StringVar(&out, "out", "", "directory to write sbs.sbs, plans.adexp, plans.ats (and plans.ats.jsonl, a recording with delivery times) and truth.json into (created if missing; required)")
	k.add(fs, "Kafka seed brokers: when set, also produce the written files to the raw topics (empty: files only)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	log, err := o.logger(env)
	if err != nil {
		return err
	}
	if out == "" {
		return configErr("--out is required: the directory to write the simulated feeds into")
	}
	if err := cfg.Validate(); err != nil {
		return &ConfigError{Err: err}
	}
	large := cfg.Flights >= 200 // a few seconds or more
	if large {
		step := cfg.Flights / 10
		cfg.Progress = func(done, total int) {
			if done%step == 0 || done == total {
				log.Info("simulating", "flights", done, "of", total)
			}
		}
	}
	sim, err := simulate.Generate(cfg)
	if err != nil {
		return &ConfigError{Err: err}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if large {
		log.Info("writing files", "dir", out, "sbs_records", len(sim.SBS))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	c := sim.Truth.Counts
	files := []struct {
		name   string
		want   bool
		write  func(io.Writer) error
		counts simulate.FeedCounts
	}{
		{"sbs.sbs", true, func(w io.Writer) error { return simulate.WriteSBS(w, sim.SBS) }, c.SBS},
		{"plans.adexp", sim.ADEXP != nil, func(w io.Writer) error { return simulate.WritePlans(w, sim.ADEXP) }, c.ADEXP},
		{"plans.ats", sim.ATS != nil, func(w io.Writer) error { return simulate.WritePlans(w, sim.ATS) }, c.ATS},
		// ATS messages carry no time: the recording gives them their
		// delivery time (ingest with --format jsonl).
		{"plans.ats.jsonl", sim.ATS != nil, func(w io.Writer) error { return simulate.WriteRecording(w, sim.ATS) }, c.ATS},
	}
	for _, f := range files {
		if !f.want {
			continue
		}
		path := filepath.Join(out, f.name)
		if err := writeFile(path, f.write); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: %d records (%d valid, %d duplicate, %d garbage; %d disordered, %d late)\n",
			path, f.counts.Records, f.counts.Valid, f.counts.Duplicate, f.counts.Garbage, f.counts.Disordered, f.counts.Late)
	}
	path := filepath.Join(out, "truth.json")
	if err := writeFile(path, func(w io.Writer) error { return simulate.WriteTruth(w, &sim.Truth) }); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d flights\n", path, len(sim.Truth.Flights))
	if len(k.brokers) == 0 {
		return nil
	}
	return produceSimulated(ctx, env, k, out, sim, log)
}

// produceSimulated produces the written files to the raw topics, plans
// first: the flight step then sees each filing before its flight's track.
func produceSimulated(ctx context.Context, env Env, k kafkaSettings, dir string, sim *simulate.Output, log *slog.Logger) error {
	var ins []input
	if sim.ADEXP != nil {
		ins = append(ins, input{"adexp", filepath.Join(dir, "plans.adexp")})
	}
	if sim.ATS != nil {
		ins = append(ins, input{"ats", filepath.Join(dir, "plans.ats.jsonl")})
	}
	ins = append(ins, input{"sbs", filepath.Join(dir, "sbs.sbs")})
	cl, err := connectKafka(ctx, k, "ingest", log, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := topics.Ensure(ctx, kadm.NewClient(cl), topics.Plan(topics.Options{Prefix: k.prefix})); err != nil {
		return err
	}
	total, err := ingestFiles(ctx, cl, k, ins, ingest.FeedOptions{Location: time.UTC}, schemas.MustRegistry(), nil, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "produced to %s.raw.*: read %d, accepted %d, rejected %d\n", k.prefix, total.Read, total.Accepted, total.Rejected)
	return nil
}

// writeFile writes path through a temporary file renamed into place, so a
// reader never sees half a file.
func writeFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

type int64Value struct{ n *int64 }

func (v int64Value) String() string {
	if v.n == nil {
		return ""
	}
	return strconv.FormatInt(*v.n, 10)
}

func (v int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("want a whole number such as 42")
	}
	*v.n = n
	return nil
}

type fractionValue struct{ f *float64 }

func (v fractionValue) String() string {
	if v.f == nil {
		return ""
	}
	return strconv.FormatFloat(*v.f, 'g', -1, 64)
}

func (v fractionValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return errors.New("want a fraction from 0 to 1 such as 0.01")
	}
	*v.f = f
	return nil
}

type timeValue struct{ t *time.Time }

func (v timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339)
}

func (v timeValue) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errors.New("want an RFC 3339 time such as 2026-01-01T06:00:00Z")
	}
	*v.t = t
	return nil
}

var _ flag.Value = timeValue{}
