package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/processors/flight"
	"github.com/contrail-atm/contrail/processors/topology"
	"github.com/contrail-atm/contrail/schemas"
)

// processScenario is a simulated day ingested into two topic prefixes: one
// processed by an uninterrupted `contrail process`, the other by processes
// killed with SIGKILL at random points while traffic still arrives.
type processScenario struct {
	t     *testing.T
	bin   string
	seeds []string
	dir   string
}

func newProcessScenario(t *testing.T) *processScenario {
	t.Helper()
	s := &processScenario{t: t, bin: buildBinary(t), seeds: infratest.Kafka(t), dir: t.TempDir()}
	out, err := exec.Command(s.bin, "simulate", "--out", s.dir, "--flights", "30", "--seed", "7",
		"--disorder", "0.05", "--duplicates", "0.02", "--late", "0.01", "--garbage", "0.001").CombinedOutput()
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	return s
}

func (s *processScenario) common(prefix string) []string {
	return []string{"--brokers", strings.Join(s.seeds, ","), "--topic-prefix", prefix, "--listen", "127.0.0.1:0"}
}

// ingest provisions prefix's topics and ingests the plans, then the SBS
// file; speed 0 is as fast as possible.
func (s *processScenario) ingest(prefix string, speed string) {
	s.t.Helper()
	env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	c := s.common(prefix)
	ctx := context.Background()
	for _, args := range [][]string{
		{"topics", "--brokers", strings.Join(s.seeds, ","), "--topic-prefix", prefix},
		append(append([]string{"ingest", "file", "--feed", "adexp"}, c...), filepath.Join(s.dir, "plans.adexp")),
		append(append([]string{"ingest", "file", "--feed", "ats"}, c...), filepath.Join(s.dir, "plans.ats")),
		append(append([]string{"ingest", "file", "--feed", "sbs", "--speed", speed}, c...), filepath.Join(s.dir, "sbs.sbs")),
	} {
		if code := cli.Main(ctx, env, args); code != 0 {
			s.t.Errorf("contrail %v exited %d", args, code)
			return
		}
	}
}

func (s *processScenario) process(prefix string) *proc { return s.processAs(prefix, "crash-test") }

// processAs starts `contrail process` with the given instance id.
func (s *processScenario) processAs(prefix, instance string) *proc {
	return startProc(s.t, s.bin, append([]string{"process", "--instance-id", instance, "--log-format", "json",
		"--checkpoint-every", "5000"}, s.common(prefix)...)...)
}

// settle waits until both processor groups have consumed everything.
func (s *processScenario) settle(prefix string, p *proc) {
	s.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.seeds...))
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reader := []kgo.Opt{kgo.SeedBrokers(s.seeds...)}
	raw := []string{prefix + ".raw.sbs", prefix + ".raw.adexp", prefix + ".raw.ats", prefix + ".raw.json"}
	for group, topics := range map[string][]string{prefix + "-track": raw} {
		if err := kafka.WaitSettled(ctx, adm, reader, group, 100*time.Millisecond, nil, topics...); err != nil {
			s.t.Fatalf("%v\nprocess logs:\n%s", err, p.logs.String())
		}
	}
	if err := kafka.WaitSettled(ctx, adm, reader, prefix+"-flight", 100*time.Millisecond, nil, prefix+".flights.input"); err != nil {
		s.t.Fatalf("%v\nprocess logs:\n%s", err, p.logs.String())
	}
}

// read returns every committed record of topic.
func (s *processScenario) read(topic string) []*kgo.Record {
	return infratest.ReadTopic(s.t, s.seeds, topic)
}

// outputs summarises what a prefix's processors committed, in forms that
// do not depend on batch boundaries or processing time.
type outputs struct {
	trackEvents []string          // every track-step output, sorted
	eventIDs    map[string]int    // domain event id -> occurrences
	positions   []string          // POSITION_REPORTED causes and times, sorted (GUFI values may depend on arrival order)
	flights     []string          // final state per flight, GUFI left out, sorted
	byType      map[string]int    // domain events per type
	outcomes    map[string]string // event id/step -> outcome
}

func (s *processScenario) outputs(prefix string) outputs {
	s.t.Helper()
	reg := schemas.MustRegistry()
	o := outputs{eventIDs: map[string]int{}, byType: map[string]int{}, outcomes: map[string]string{}}
	for _, r := range s.read(prefix + ".flights.input") {
		if slices.ContainsFunc(r.Headers, func(h kgo.RecordHeader) bool { return string(h.Value) == "track" }) {
			o.trackEvents = append(o.trackEvents, string(r.Key)+"|"+string(r.Value))
		}
	}
	for _, r := range s.read(prefix + ".flights.events") {
		e, err := reg.DecodeEvent(r.Value)
		if err != nil {
			s.t.Fatal(err)
		}
		o.eventIDs[eventKey(e)]++
		o.byType[string(e.Type)]++
		if e.Type == schemas.EventPositionReported {
			o.positions = append(o.positions, strings.Join(e.Cause, ",")+"@"+e.PositionReported.Position.TS.Format(time.RFC3339Nano))
		}
	}
	last := map[string]*schemas.FlightState{}
	for _, r := range s.read(prefix + ".flights.state") {
		fs, err := reg.DecodeFlightState(r.Value)
		if err != nil {
			s.t.Fatal(err)
		}
		last[fs.GUFI] = fs
	}
	for _, fs := range last {
		o.flights = append(o.flights, flightLine(fs))
	}
	for _, r := range s.read(prefix + ".outcomes") {
		oc, err := reg.DecodeOutcome(r.Value)
		if err != nil {
			s.t.Fatal(err)
		}
		o.outcomes[oc.EventID+"/"+oc.Step] = oc.Outcome
	}
	slices.Sort(o.trackEvents)
	slices.Sort(o.positions)
	slices.Sort(o.flights)
	return o
}

func flightLine(fs *schemas.FlightState) string {
	pos := ""
	if p := fs.LastPosition; p != nil {
		pos = fmt.Sprintf("%s %.5f %.5f", p.TS.Format(time.RFC3339Nano), p.Lat, p.Lon)
	}
	return fmt.Sprintf("%s %s %s %s %s %s %s sq=%s em=%v pos=%s", fs.GUFI, fs.Callsign, fs.ADEP, fs.ADES,
		fs.EOBT.Format(time.RFC3339), fs.Lifecycle, fs.STAR, fs.Squawk, fs.Emergency, pos)
}

// rederive applies the flight core, uninterrupted, to prefix's committed
// flight input in partition order, and returns the sorted domain event ids
// and final flight states it gives.
func (s *processScenario) rederive(prefix string) (ids, flights []string) {
	s.t.Helper()
	codec, err := schemas.NewCodec(schemas.MustRegistry())
	if err != nil {
		s.t.Fatal(err)
	}
	core, err := flight.New(flight.Config{})
	if err != nil {
		s.t.Fatal(err)
	}
	recs := s.read(prefix + ".flights.input")
	slices.SortStableFunc(recs, func(a, b *kgo.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	states := map[string]*flight.State{}
	last := map[string]string{}
	for _, r := range recs {
		in, _, err := topology.DecodeFlightInput(codec, r)
		if err != nil {
			continue
		}
		st := states[string(r.Key)]
		if st == nil {
			st = &flight.State{}
			states[string(r.Key)] = st
		}
		next, events, res, err := core.Apply(*st, in, nil)
		if err != nil {
			s.t.Fatal(err)
		}
		*st = next
		if fs, ok := st.Snapshot(res.GUFI); ok && res.GUFI != "" {
			last[res.GUFI] = flightLine(&fs)
		}
		for _, e := range events {
			ids = append(ids, eventKey(&e))
			// Like the step, publish the state of every flight an event
			// touched; evicted flights keep their last published state.
			if fs, ok := st.Snapshot(e.GUFI); ok {
				last[e.GUFI] = flightLine(&fs)
			}
		}
	}
	for _, l := range last {
		flights = append(flights, l)
	}
	slices.Sort(ids)
	slices.Sort(flights)
	return ids, flights
}

// TestIntegrationProcessKill9 stops `contrail process` at ten random points
// while SBS traffic is still being ingested (SIGKILL, and every third time
// SIGTERM), restarts it each time, and compares what it committed (read_committed) with an
// uninterrupted run over the same input: no output lost, none applied twice.
func TestIntegrationProcessKill9(t *testing.T) {
	s := newProcessScenario(t)
	ref, crash := infratest.Name(t, "ref"), infratest.Name(t, "crash")

	s.ingest(ref, "0")
	p := s.process(ref)
	s.settle(ref, p)
	p.stop(t)
	want := s.outputs(ref)
	if len(want.positions) == 0 || len(want.flights) == 0 {
		t.Fatalf("reference run produced %d positions and %d flights", len(want.positions), len(want.flights))
	}

	done := make(chan struct{})
	go func() { defer close(done); s.ingest(crash, "4000") }()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	for trial := range 10 {
		p := s.process(crash)
		d := time.Duration(300+rng.IntN(1700)) * time.Millisecond
		select {
		case err := <-p.done:
			t.Fatalf("trial %d: process exited early: %v\n%s", trial, err, p.logs.String())
		case <-time.After(d):
		}
		if trial%3 == 2 {
			// Every third stop is graceful: SIGTERM ends or aborts the
			// transaction, writes a final checkpoint and leaves the group.
			p.stop(t)
			if !strings.Contains(p.logs.String(), "stopped after a final checkpoint") && !strings.Contains(p.logs.String(), "processor step stopped") {
				t.Errorf("trial %d: no final checkpoint logged after SIGTERM:\n%s", trial, p.logs.String())
			}
			t.Logf("trial %d: SIGTERM after %v", trial, d)
			continue
		}
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-p.done
		t.Logf("trial %d: killed after %v", trial, d)
	}
	<-done
	p = s.process(crash)
	s.settle(crash, p)
	p.stop(t)
	got := s.outputs(crash)
	s.compare(crash, "crashes", got, want, nil)
	for id, oc := range want.outcomes {
		if strings.HasSuffix(id, "/track") && got.outcomes[id] != oc {
			t.Errorf("track outcome of %s: %q after crashes, %q uninterrupted", id, got.outcomes[id], oc)
		}
	}
	t.Logf("compared %d track outputs, %d domain events (%v), %d flights", len(want.trackEvents), len(want.eventIDs), want.byType, len(want.flights))
}

// eventKey names one committed domain event: its id, and for a movement,
// which the flight step emits again under the same id when its aerodrome or
// time becomes known, also what it says.
func eventKey(e *schemas.DomainEvent) string {
	switch {
	case e.FlightDeparted != nil:
		return e.EventID + "@" + e.FlightDeparted.ADEP + e.FlightDeparted.DepartureTS.Format(time.RFC3339Nano)
	case e.FlightArrived != nil:
		return e.EventID + "@" + e.FlightArrived.ADES + e.FlightArrived.ArrivalTS.Format(time.RFC3339Nano)
	}
	return e.EventID
}

// minus is a without the elements of b (both sorted, as multisets).
func minus(a, b []string) []string {
	var out []string
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			j++
			continue
		}
		out = append(out, x)
	}
	return out
}

// TestIntegrationProcessRebalance goes from one `contrail process` instance
// to two and back to one while SBS traffic is still being ingested: the
// partitions (and their state, through the changelogs) move between
// instances twice, and what was committed equals an uninterrupted run, as in
// TestIntegrationProcessKill9.
func TestIntegrationProcessRebalance(t *testing.T) {
	s := newProcessScenario(t)
	ref, moved := infratest.Name(t, "ref"), infratest.Name(t, "moved")
	s.ingest(ref, "0")
	p := s.process(ref)
	s.settle(ref, p)
	p.stop(t)
	want := s.outputs(ref)

	done := make(chan struct{})
	go func() { defer close(done); s.ingest(moved, "3000") }()
	a := s.processAs(moved, "a")
	time.Sleep(3 * time.Second)
	b := s.processAs(moved, "b") // 1 -> 2: partitions move to b
	time.Sleep(5 * time.Second)
	a.stop(t) // 2 -> 1: a's partitions move to b
	<-done
	s.settle(moved, b)
	b.stop(t)
	if !strings.Contains(b.logs.String(), "state restored") {
		t.Errorf("instance b never restored a partition's state: no hand-over happened\n%s", b.logs.String())
	}
	s.compare(moved, "the rebalances", s.outputs(moved), want, []*proc{a, b})
}

// compare checks what prefix's processors committed against an
// uninterrupted run: no domain event twice; the track step's outputs and the
// position history equal want's (the reference prefix's); and, because the
// flight step's input interleaves track outputs and plans in an order that
// depends on timing, the flight step's events and final states equal the pure
// core applied, uninterrupted, to prefix's own committed flights.input.
// procs' restore logs are shown when the track outputs differ.
func (s *processScenario) compare(prefix, after string, got, want outputs, procs []*proc) {
	t := s.t
	t.Helper()
	for id, n := range got.eventIDs {
		if n > 1 {
			t.Errorf("event %s committed %d times", id, n)
		}
	}
	if !slices.Equal(got.trackEvents, want.trackEvents) {
		var logs []string
		for _, p := range procs {
			logs = append(logs, restoreLines(p.logs.String()))
		}
		t.Errorf("track step outputs differ: %d after %s, %d uninterrupted\n%s", len(got.trackEvents), after, len(want.trackEvents), strings.Join(logs, "\n"))
	}
	if !slices.Equal(got.positions, want.positions) {
		t.Errorf("position history differs: %d after %s, %d uninterrupted", len(got.positions), after, len(want.positions))
	}
	rederived, rflights := s.rederive(prefix)
	ids := make([]string, 0, len(got.eventIDs))
	for id := range got.eventIDs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, rederived) {
		t.Errorf("domain events differ from an uninterrupted run over the same input: %d committed, %d re-derived; only committed: %.5q; only re-derived: %.5q",
			len(ids), len(rederived), minus(ids, rederived), minus(rederived, ids))
	}
	if !slices.Equal(got.flights, rflights) {
		t.Errorf("final flight states differ from an uninterrupted run over the same input:\nonly committed:\n%s\nonly re-derived:\n%s",
			strings.Join(minus(got.flights, rflights), "\n"), strings.Join(minus(rflights, got.flights), "\n"))
	}
}

// restoreLines are the log lines about state restores and warnings.
func restoreLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "restor") || strings.Contains(l, "WARN") || strings.Contains(l, "checkpoint") || strings.Contains(l, "abort") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
