package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/telemetry"
	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

// newFlagSet starts a command's flags with the settings every command has.
func newFlagSet(name, synopsis string, env Env, o *obsSettings) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() { usage(env.Stdout, fs, synopsis) }
	fs.String("config", "", "optional YAML file of settings; keys are flag names")
	o.format, o.level = "text", "info"
	fs.Var(choiceValue{&o.format, []string{"text", "json"}}, "log-format", "log format: text or json")
	fs.Var(choiceValue{&o.level, []string{"debug", "info", "warn", "error"}}, "log-level", "log level: debug, info, warn or error")
	return fs
}

// parse parses settings, printing help for --help.
func parse(fs *flag.FlagSet, env Env, args []string) error {
	// The flag package calls Usage on every parse error; we print the
	// help only when asked for, and otherwise one line naming the problem.
	help := fs.Usage
	fs.Usage = func() {}
	err := parseSettings(fs, args, env.Getenv)
	fs.Usage = help
	if errors.Is(err, flag.ErrHelp) {
		help()
	}
	return err
}

// obsSettings are logging and the operator endpoint.
type obsSettings struct {
	format, level string
	listen        string
}

func (o *obsSettings) addListen(fs *flag.FlagSet) {
	o.listen = "127.0.0.1:9464"
	fs.Var(hostPortValue{&o.listen}, "listen", "address serving /metrics, /healthz and /readyz (port 0 picks a free port)")
}

func (o *obsSettings) logger(env Env) (*slog.Logger, error) {
	l, err := telemetry.NewLogger(env.Stderr, o.format, o.level)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	return l, nil
}

// kafkaSettings say how to reach Kafka and name topics.
type kafkaSettings struct {
	brokers  []string
	clientID string
	prefix   string
	timeout  time.Duration
}

func (k *kafkaSettings) add(fs *flag.FlagSet, brokersHelp string) {
	k.clientID, k.prefix, k.timeout = "contrail", "contrail", 10*time.Second
	fs.Var(&hostPortsValue{listValue{l: &k.brokers}}, "brokers", brokersHelp)
	fs.StringVar(&k.clientID, "client-id", k.clientID, "Kafka client id prefix")
	fs.StringVar(&k.prefix, "topic-prefix", k.prefix, "prefix of every topic name (contrail.raw.sbs, ...)")
	fs.Var(durationValue{&k.timeout}, "connect-timeout", "how long to wait for Kafka or ClickHouse at start-up before failing")
}

func (k *kafkaSettings) config() kafka.Config {
	return kafka.Config{Brokers: k.brokers, ClientID: k.clientID}
}

func (k *kafkaSettings) names() topics.Names { return topics.Names{Prefix: k.prefix} }

// chSettings say how to reach ClickHouse. The password comes only from the
// environment (CONTRAIL_CLICKHOUSE_PASSWORD), never a flag visible in ps.
type chSettings struct {
	addr, database, user string
}

func (c *chSettings) add(fs *flag.FlagSet, defaultAddr string) {
	c.addr, c.database, c.user = defaultAddr, "contrail", "default"
	fs.Var(hostPortValue{&c.addr}, "clickhouse", "ClickHouse native-protocol address host:port (e.g. 127.0.0.1:9000; deploy/local/clickhouse uses 127.0.0.1:19000)")
	fs.StringVar(&c.database, "clickhouse-database", c.database, "ClickHouse database holding Contrail's tables")
	fs.StringVar(&c.user, "clickhouse-user", c.user, "ClickHouse user (password from CONTRAIL_CLICKHOUSE_PASSWORD)")
}

func (c *chSettings) open(ctx context.Context, env Env, timeout time.Duration, log *slog.Logger) (*clickhouse.Conn, error) {
	cfg := clickhouse.Config{Addr: c.addr, Database: c.database, User: c.user,
		Password: env.Getenv("CONTRAIL_CLICKHOUSE_PASSWORD"), DialTimeout: timeout}
	if err := cfg.Validate(); err != nil {
		return nil, &ConfigError{Err: err}
	}
	conn, err := clickhouse.Open(ctx, cfg, log)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%w (is ClickHouse running? check --clickhouse)", err)}
	}
	return conn, nil
}

// stage holds what every long-running command shares: logger, registry,
// health and the operator endpoint, which serves from start-up on so
// /healthz answers and /readyz says why it is not ready yet.
type stage struct {
	log    *slog.Logger
	reg    *prometheus.Registry
	health *telemetry.Health
	stop   context.CancelFunc
	done   chan error
}

func newStage(ctx context.Context, env Env, o *obsSettings) (*stage, error) {
	log, err := o.logger(env)
	if err != nil {
		return nil, err
	}
	reg := telemetry.NewRegistry()
	h := telemetry.NewHealth()
	srv, err := telemetry.Listen(o.listen, reg, h)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	log.Info("serving /metrics, /healthz, /readyz", "addr", "http://"+srv.Addr())
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	st := &stage{log: log, reg: reg, health: h, stop: stop, done: make(chan error, 1)}
	go func() { st.done <- srv.Run(ctx) }()
	return st, nil
}

// close stops the operator endpoint; call it last, so probes see the
// process until its work is done.
func (s *stage) close() {
	s.stop()
	if err := <-s.done; err != nil {
		s.log.Warn("operator endpoint", "err", err)
	}
}

func instanceName(role string) string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s/%s/%d", role, host, os.Getpid())
}
