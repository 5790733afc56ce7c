// Package kafka builds franz-go clients from Contrail's configuration and runs
// the embedded Kafka-protocol broker that `contrail run` uses when no
// --brokers are given.
//
// Every client gets franz-go's kprom hooks registered on the caller's
// registry under the subsystem named by the client's role, so the metrics of
// the ingest producer and the sink consumer stay apart in one process.
package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
)

// Config says how to reach a Kafka cluster.
type Config struct {
	// Brokers are the seed brokers, host:port. Required.
	Brokers []string
	// ClientID names this process to the brokers. Default "contrail".
	ClientID string
}

// Validate rejects a config no client can be built from.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return fmt.Errorf("no Kafka brokers configured: set --brokers host:port (or CONTRAIL_BROKERS)")
	}
	return nil
}

// NewClient builds a client for one role ("ingest", "sink", "admin", ...).
// reg may be nil to skip metrics. The returned client is not yet connected:
// franz-go dials lazily, so use Ping to fail fast on an unreachable cluster.
func NewClient(cfg Config, role string, log *slog.Logger, reg prometheus.Registerer, opts ...kgo.Opt) (*kgo.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	id := cfg.ClientID
	if id == "" {
		id = "contrail"
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(id + "-" + role),
		kgo.WithLogger(slogAdapter{log.With("kafka_client", role)}),
	}
	if reg != nil {
		base = append(base, kgo.WithHooks(kprom.NewMetrics("contrail",
			kprom.Registerer(reg), kprom.Subsystem("kafka_"+role), kprom.WithClientLabel())))
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client for %s: %w", role, err)
	}
	return cl, nil
}

// Ping checks that the cluster answers a metadata request within timeout, so a
// wrong address fails with one clear error instead of endless retries.
func Ping(ctx context.Context, cl *kgo.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
		return fmt.Errorf("reach Kafka brokers within %s: %w", timeout, err)
	}
	return nil
}

// slogAdapter routes franz-go's internal logging to slog. franz-go logs
// every connection at info and every retried dial at warn; Contrail reports
// the failures that matter itself (one line, with the setting to fix), so
// franz-go's own lines appear only at debug level, or when they are errors.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Level() kgo.LogLevel {
	if a.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelDebug
	}
	return kgo.LogLevelError
}

func (a slogAdapter) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var l slog.Level
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	default:
		l = slog.LevelDebug
	}
	a.l.Log(context.Background(), l, msg, keyvals...)
}
