package ingest

import (
	"context"
	"log/slog"
	"time"
)

// Pacer replays records at their recorded speed times a factor: the first
// record goes at once, and a record stamped d after the first is held until
// d/Speed after the first one went. Timestamps are producer timestamps as
// the adapter derives them (payload, else the recording's receipt time), so
// pacing follows the feed's own clock. A record stamped earlier than one
// already produced (producers do not guarantee order) or already overdue
// (Kafka was slow) is not held; the replay does not slow down to make up for
// it, it catches up.
//
// A Pacer is used by one Run at a time.
type Pacer struct {
	speed float64
	log   *slog.Logger

	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	started     bool
	first, wall time.Time // first record's timestamp and when it went
}

// longPause is the wait after which the pacer logs that it is waiting, so a
// gap in a recording does not look like a hang.
const longPause = 10 * time.Second

// NewPacer returns a pacer replaying at speed times the recorded speed;
// speed must be positive. log may be nil.
func NewPacer(speed float64, log *slog.Logger) *Pacer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pacer{speed: speed, log: log, now: time.Now, sleep: sleepCtx}
}

// Wait blocks until a record stamped ts is due, or ctx ends.
func (p *Pacer) Wait(ctx context.Context, ts time.Time) error {
	now := p.now()
	if !p.started {
		p.started, p.first, p.wall = true, ts, now
		return nil
	}
	due := p.wall.Add(time.Duration(float64(ts.Sub(p.first)) / p.speed))
	d := due.Sub(now)
	if d <= 0 {
		return nil
	}
	if d >= longPause {
		p.log.Info("replay pausing until the next record is due", "recorded_time", ts, "pause", d.Round(time.Millisecond), "speed", p.speed)
	}
	return p.sleep(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
