package ingest

import (
	"context"
	"testing"
	"time"
)

// fakeClock advances only when the pacer sleeps.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) pacer(speed float64) *Pacer {
	p := NewPacer(speed, nil)
	p.now = func() time.Time { return c.now }
	p.sleep = func(_ context.Context, d time.Duration) error {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
		return nil
	}
	return p
}

func TestPacer(t *testing.T) {
	t0 := time.Date(2022, 1, 8, 22, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	tests := []struct {
		name  string
		speed float64
		ts    []time.Time
		work  time.Duration // time each record takes besides the pacing
		want  []time.Duration
	}{
		{"real time", 1, []time.Time{at(0), at(time.Second), at(3 * time.Second)}, 0,
			[]time.Duration{time.Second, 2 * time.Second}},
		{"twice as fast", 2, []time.Time{at(0), at(time.Second), at(3 * time.Second)}, 0,
			[]time.Duration{500 * time.Millisecond, time.Second}},
		{"ten times slower", 0.1, []time.Time{at(0), at(time.Second)}, 0,
			[]time.Duration{10 * time.Second}},
		{"out of order is not held", 1, []time.Time{at(0), at(2 * time.Second), at(time.Second), at(3 * time.Second)}, 0,
			[]time.Duration{2 * time.Second, time.Second}},
		{"equal timestamps go together", 1, []time.Time{at(0), at(0), at(0)}, 0, nil},
		{"time spent producing counts", 1, []time.Time{at(0), at(time.Second), at(2 * time.Second)}, 300 * time.Millisecond,
			[]time.Duration{700 * time.Millisecond, 700 * time.Millisecond}},
		{"overdue records catch up", 1, []time.Time{at(0), at(time.Second), at(2 * time.Second)}, 5 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			p := c.pacer(tt.speed)
			for _, ts := range tt.ts {
				if err := p.Wait(t.Context(), ts); err != nil {
					t.Fatal(err)
				}
				c.now = c.now.Add(tt.work)
			}
			if len(c.sleeps) != len(tt.want) {
				t.Fatalf("slept %v, want %v", c.sleeps, tt.want)
			}
			for i := range c.sleeps {
				if c.sleeps[i] != tt.want[i] {
					t.Errorf("slept %v, want %v", c.sleeps, tt.want)
				}
			}
		})
	}
}

func TestPacerCancelled(t *testing.T) {
	p := NewPacer(1, nil)
	ctx, cancel := context.WithCancel(t.Context())
	t0 := time.Now()
	if err := p.Wait(ctx, t0); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := p.Wait(ctx, t0.Add(time.Hour)); err != context.Canceled {
		t.Errorf("Wait with a cancelled context = %v, want context.Canceled at once", err)
	}
}
