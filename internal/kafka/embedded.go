package kafka

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process Kafka-protocol broker (franz-go's kfake), persisted
// under a data directory. It lets a newcomer run the whole pipeline with
// nothing installed but ClickHouse; it is not meant for production load.
type Embedded struct {
	cluster *kfake.Cluster
	dir     string
}

// StartEmbedded starts a single-node broker listening on addr's port (0 picks
// a free port) and reloads any state persisted in dir.
func StartEmbedded(dir string, port int, log *slog.Logger) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create embedded broker data dir %s: %w", dir, err)
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DataDir(dir),
		kfake.DefaultNumPartitions(3),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded Kafka broker (data dir %s, port %d): %w", dir, port, err)
	}
	log.Info("started embedded Kafka-protocol broker (kfake); pass --brokers to use a real cluster",
		"addrs", c.ListenAddrs(), "data_dir", dir)
	return &Embedded{cluster: c, dir: dir}, nil
}

// Addrs are the broker addresses to use as seeds.
func (e *Embedded) Addrs() []string { return e.cluster.ListenAddrs() }

// Close stops the broker and persists its state.
func (e *Embedded) Close() { e.cluster.Close() }
