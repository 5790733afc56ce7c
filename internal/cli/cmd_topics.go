package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/topics"
)

// topicSettings shape the topic plan.
type topicSettings struct {
	feeds                         []string
	partitions, replication       int
	rawRetention, ingestRetention time.Duration
}

func (t *topicSettings) add(fs *flag.FlagSet) {
	t.feeds = append([]string(nil), topics.DefaultFeeds...)
	t.partitions, t.replication = 3, -1
	t.ingestRetention = 7 * 24 * time.Hour
	fs.Var(&listValue{l: &t.feeds}, "feeds", "feeds that get ingest and raw topics")
	fs.Var(intValue{&t.partitions, 1, 10000}, "partitions", "partitions of each topic")
	fs.Var(intValue{&t.replication, -1, 32}, "replication-factor", "replicas of each topic (-1: the broker's default)")
	fs.Var(durationValue{&t.rawRetention}, "raw-retention", "retention of raw and domain-event topics (0: forever; the log is what views are rebuilt from)")
	fs.Var(durationValue{&t.ingestRetention}, "ingest-retention", "retention of landing and rejected topics")
}

func (t *topicSettings) options(prefix string) topics.Options {
	return topics.Options{Prefix: prefix, Feeds: t.feeds, Partitions: int32(t.partitions),
		ReplicationFactor: int16(t.replication), RawRetention: t.rawRetention, IngestRetention: t.ingestRetention}
}

const topicsSynopsis = `Usage: contrail topics [flags]

Creates the Kafka topics of the pipeline (landing and raw topics per feed,
rejected, flight events, compacted flight state) and checks existing ones
against the plan. Running it again changes nothing. Existing topics are never
altered: a difference (partition count, retention, cleanup policy) is reported
as drift and the command exits with status 1.`

func topicsCmd(ctx context.Context, env Env, args []string) error {
	var (
		o  obsSettings
		k  kafkaSettings
		ts topicSettings
	)
	fs := newFlagSet("topics", topicsSynopsis, env, &o)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	ts.add(fs)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	log, err := o.logger(env)
	if err != nil {
		return err
	}
	cl, err := connectKafka(ctx, k, "admin", log, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	res, err := topics.Ensure(ctx, kadm.NewClient(cl), topics.Plan(ts.options(k.prefix)))
	fmt.Fprint(env.Stdout, topics.Format(res))
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, topics.Summary(res))
	for _, r := range res {
		if r.Status == topics.Drift {
			return fmt.Errorf("existing topics differ from the plan (see above); change them with Kafka's tools or pass settings that match")
		}
	}
	return nil
}

// connectKafka builds a client and checks the cluster answers; failure is a
// configuration error (exit 2) because nothing can run without it.
func connectKafka(ctx context.Context, k kafkaSettings, role string, log *slog.Logger, st *stage, opts ...kgo.Opt) (*kgo.Client, error) {
	if err := k.config().Validate(); err != nil {
		return nil, &ConfigError{Err: err}
	}
	var cl *kgo.Client
	var err error
	if st != nil {
		cl, err = kafka.NewClient(k.config(), role, log, st.reg, opts...)
	} else {
		cl, err = kafka.NewClient(k.config(), role, log, nil, opts...)
	}
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	if err := kafka.Ping(ctx, cl, k.timeout); err != nil {
		cl.Close()
		if ae, ok := errors.AsType[*kafka.AuthError](err); ok {
			ae.User, ae.Mechanism = k.sasl.User, k.sasl.Mechanism
			return nil, &ConfigError{Err: fmt.Errorf("%w (brokers %v)", ae, k.brokers)}
		}
		return nil, &ConfigError{Err: fmt.Errorf("%w (brokers %v; check --brokers and --kafka-tls)", err, k.brokers)}
	}
	return cl, nil
}
