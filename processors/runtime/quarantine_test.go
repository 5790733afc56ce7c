package runtime_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/processors/runtime"
)

// poisoned is a counter whose output for one value cannot be produced
// (runtime.ErrOutput) and that sets such a record aside when asked to.
type poisoned struct {
	counter
	bad          int
	quarantined  []string
	attemptedBad int
}

func (p *poisoned) Process(ctx *runtime.Context, r *kgo.Record, st *count) (*count, error) {
	if v, _ := strconv.Atoi(string(r.Value)); v == p.bad && !ctx.Replaying() {
		p.attemptedBad++
		return st, fmt.Errorf("encode output of %d: %w", v, runtime.ErrOutput)
	}
	return p.counter.Process(ctx, r, st)
}

func (p *poisoned) Quarantine(ctx *runtime.Context, r *kgo.Record, cause error) error {
	p.quarantined = append(p.quarantined, string(r.Value))
	ctx.Emit(&kgo.Record{Topic: p.out, Key: r.Key, Value: fmt.Appendf(nil, "quarantined %s: %v", r.Value, cause)})
	return nil
}

var _ runtime.Quarantiner = (*poisoned)(nil)

// TestQuarantine: a record whose output cannot be produced aborts its
// transaction (nothing of that batch is committed without it), comes again,
// and is then set aside by the step while every other record is applied
// exactly once.
func TestQuarantine(t *testing.T) {
	c := kfakeCluster(t)
	in, side, out, cl := "q.in", "q.side", "q.out", "q.changelog"
	c.topics(t, 3, false, in, side, out)
	c.topics(t, 3, true, cl)
	const keys, n, bad = 5, 40, 17
	c.produce(t, in, 0, n, keys)
	step := &poisoned{counter: counter{out: out}, bad: bad}
	ctx, cancel := context.WithCancel(context.Background())
	done := runSpec{c: c, in: in, side: side, out: out, cl: cl, step: &step.counter}.startWith(t, ctx, "q-tx", step)
	got := c.readCommitted(t, out, n) // n-1 counts and one quarantine line
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runner: %v", err)
	}
	if step.attemptedBad != 1 || len(step.quarantined) != 1 || step.quarantined[0] != strconv.Itoa(bad) {
		t.Errorf("attempted %d times, quarantined %v; want one attempt, then %d set aside", step.attemptedBad, step.quarantined, bad)
	}
	var counts []string
	quarantines := 0
	for _, g := range got {
		if len(g) > 12 && g[:12] == "quarantined " {
			quarantines++
			continue
		}
		counts = append(counts, g)
	}
	if quarantines != 1 {
		t.Errorf("%d quarantine records, want 1: %v", quarantines, got)
	}
	// Every other record applied once, as in a run without the bad one.
	want := map[string]bool{}
	cnt := make([]int64, keys)
	sum := make([]int64, keys)
	for v := range n {
		if v == bad {
			continue
		}
		k := v % keys
		cnt[k]++
		sum[k] += int64(v)
		want[fmt.Sprintf("k%d %d %d", k, cnt[k], sum[k])] = true
	}
	seen := map[string]bool{}
	for _, g := range counts {
		if seen[g] || !want[g] {
			t.Errorf("output %q repeated or not in a run without the bad record", g)
		}
		seen[g] = true
	}
	if len(seen) != len(want) {
		t.Errorf("%d outputs, want %d", len(seen), len(want))
	}
}
