package runtime

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the runtime's Prometheus metrics, labelled by step:
//
//	contrail_processor_records_in_total{step}             input records applied
//	contrail_processor_records_out_total{step}            output records committed (snapshots included)
//	contrail_processor_outcomes_total{step,feed,outcome}  per-event verdicts (applied, stale, ...), counted by the steps
//	contrail_processor_lateness_seconds{step,feed}        how far behind its aspect's latest timestamp a stale update was
//	contrail_processor_batch_seconds{step}                consume-to-commit time of one transaction
//	contrail_processor_commit_seconds{step}               transaction commit latency
//	contrail_processor_transactions_total{step,result}    committed | aborted
//	contrail_processor_restore_seconds{step}              time to restore one partition's state
//	contrail_processor_snapshot_bytes{step}               size of changelog snapshots written
//	contrail_processor_state_keys{step}                   keys held in memory
//	contrail_processor_state_bytes{step}                  encoded size of the restored state held
type Metrics struct {
	in, out, tx, outcomes                *prometheus.CounterVec
	lateness, batch, commit, restore, sb *prometheus.HistogramVec
	keys, bytes                          *prometheus.GaugeVec
}

// NewMetrics registers the processor metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	o := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "contrail", Subsystem: "processor", Name: name, Help: help}
	}
	h := func(name, help string, buckets []float64) prometheus.HistogramOpts {
		return prometheus.HistogramOpts{Namespace: "contrail", Subsystem: "processor", Name: name, Help: help, Buckets: buckets}
	}
	m := &Metrics{
		in:       prometheus.NewCounterVec(prometheus.CounterOpts(o("records_in_total", "Input records applied, by step.")), []string{"step"}),
		out:      prometheus.NewCounterVec(prometheus.CounterOpts(o("records_out_total", "Output records committed (changelog snapshots included), by step.")), []string{"step"}),
		tx:       prometheus.NewCounterVec(prometheus.CounterOpts(o("transactions_total", "Transactions ended, by step and result (committed, aborted).")), []string{"step", "result"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts(o("outcomes_total", "Per-event verdicts of the steps, by step, feed and outcome (applied, stale, duplicate, invalid, invariant_violated, buffered, discarded).")), []string{"step", "feed", "outcome"}),
		lateness: prometheus.NewHistogramVec(h("lateness_seconds", "How far behind the latest applied timestamp of its aspect a stale update was.", prometheus.ExponentialBuckets(0.01, 4, 10)), []string{"step", "feed"}),
		batch:    prometheus.NewHistogramVec(h("batch_seconds", "Time from poll to commit of one transaction.", prometheus.ExponentialBuckets(0.001, 2.5, 12)), []string{"step"}),
		commit:   prometheus.NewHistogramVec(h("commit_seconds", "Transaction commit latency.", prometheus.ExponentialBuckets(0.001, 2.5, 12)), []string{"step"}),
		restore:  prometheus.NewHistogramVec(h("restore_seconds", "Time to restore one partition's state.", prometheus.ExponentialBuckets(0.01, 3, 10)), []string{"step"}),
		sb:       prometheus.NewHistogramVec(h("snapshot_bytes", "Size of the changelog snapshots written.", prometheus.ExponentialBuckets(32, 2, 12)), []string{"step"}),
		keys:     prometheus.NewGaugeVec(prometheus.GaugeOpts(o("state_keys", "Keys held in memory, by step.")), []string{"step"}),
		bytes:    prometheus.NewGaugeVec(prometheus.GaugeOpts(o("state_bytes", "Encoded size of restored state not yet decoded, by step (a lower bound of the state size).")), []string{"step"}),
	}
	reg.MustRegister(m.in, m.out, m.tx, m.outcomes, m.lateness, m.batch, m.commit, m.restore, m.sb, m.keys, m.bytes)
	return m
}

// Outcome counts one verdict of a step; lateness is observed for stale ones.
// Safe on a nil *Metrics.
func (m *Metrics) Outcome(step, feed, outcome string, lateness time.Duration) {
	if m == nil {
		return
	}
	m.outcomes.WithLabelValues(step, feed, outcome).Inc()
	if outcome == "stale" {
		m.lateness.WithLabelValues(step, feed).Observe(lateness.Seconds())
	}
}

// stepMetrics are the metrics of one step, resolved once; nil-safe.
type stepMetrics struct {
	in, out, committed, aborted prometheus.Counter
	batch, commit, restore, sb  prometheus.Observer
	keys, bytes                 prometheus.Gauge
}

func (m *Metrics) forStep(step string) *stepMetrics {
	if m == nil {
		return nil
	}
	return &stepMetrics{
		in: m.in.WithLabelValues(step), out: m.out.WithLabelValues(step),
		committed: m.tx.WithLabelValues(step, "committed"), aborted: m.tx.WithLabelValues(step, "aborted"),
		batch: m.batch.WithLabelValues(step), commit: m.commit.WithLabelValues(step),
		restore: m.restore.WithLabelValues(step), sb: m.sb.WithLabelValues(step),
		keys: m.keys.WithLabelValues(step), bytes: m.bytes.WithLabelValues(step),
	}
}

func (s *stepMetrics) observeIn(n int) {
	if s != nil {
		s.in.Add(float64(n))
	}
}

func (s *stepMetrics) observeOut(n int, batch time.Duration) {
	if s != nil {
		s.out.Add(float64(n))
		s.batch.Observe(batch.Seconds())
	}
}

func (s *stepMetrics) observeCommit(d time.Duration, committed bool) {
	if s == nil {
		return
	}
	s.commit.Observe(d.Seconds())
	if committed {
		s.committed.Inc()
	} else {
		s.aborted.Inc()
	}
}

func (s *stepMetrics) restored(d time.Duration) {
	if s != nil {
		s.restore.Observe(d.Seconds())
	}
}

func (s *stepMetrics) snapshot(n int) {
	if s != nil {
		s.sb.Observe(float64(n))
	}
}

func (s *stepMetrics) size(keys, bytes int64) {
	if s != nil {
		s.keys.Set(float64(keys))
		s.bytes.Set(float64(bytes))
	}
}
