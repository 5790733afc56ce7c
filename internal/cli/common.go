package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contrail-atm/contrail/internal/kafka"
	"github.com/contrail-atm/contrail/internal/telemetry"
	"github.com/contrail-atm/contrail/internal/tlsfiles"
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
	if err != nil {
		return err
	}
	fs.VisitAll(func(f *flag.Flag) {
		if a, ok := f.Value.(secretFileValue); ok && err == nil {
			err = a.after(env.Getenv)
		}
	})
	return err
}

// secretFileValue is a setting naming a file that holds a secret (the
// alternative being an environment variable; secrets are never flags, which
// ps shows). Once every setting is parsed, after reads the secret from the
// variable or the file and checks the settings that go with it.
type secretFileValue struct {
	path  *string
	after func(getenv func(string) string) error
}

func (v secretFileValue) String() string {
	if v.path == nil {
		return ""
	}
	return *v.path
}

func (v secretFileValue) Set(s string) error {
	*v.path = s
	return nil
}

// readSecret returns the secret in the environment variable envVar or in the
// file named by the setting fileFlag; setting both is an error. Trailing line
// breaks of the file are dropped. Errors never contain the secret.
func readSecret(getenv func(string) string, envVar, fileFlag, path string) (string, error) {
	v := getenv(envVar)
	if path == "" {
		return v, nil
	}
	if v != "" {
		return "", configErr("both %s and --%s are set: set the password once", envVar, fileFlag)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", configErr("--%s: %v", fileFlag, err)
	}
	v = strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", configErr("--%s: %s is empty", fileFlag, path)
	}
	return v, nil
}

// tlsSettings are the TLS flags of one dependency (Kafka or ClickHouse),
// named <prefix>-tls, <prefix>-ca-file, ...
type tlsSettings struct {
	prefix string
	on     bool
	files  tlsfiles.Files
	client bool // offer --<prefix>-cert-file and --<prefix>-key-file
}

func (t *tlsSettings) add(fs *flag.FlagSet, prefix, what string, client bool) {
	t.prefix, t.client = prefix, client
	fs.BoolVar(&t.on, prefix+"-tls", false, "connect to "+what+" over TLS")
	fs.StringVar(&t.files.CAFile, prefix+"-ca-file", "", "PEM file of the CAs that sign "+what+"'s certificates (with --"+prefix+"-tls; default: the system's)")
	if client {
		fs.StringVar(&t.files.CertFile, prefix+"-cert-file", "", "PEM client certificate presented to "+what+" (with --"+prefix+"-tls and --"+prefix+"-key-file)")
		fs.StringVar(&t.files.KeyFile, prefix+"-key-file", "", "PEM private key of --"+prefix+"-cert-file")
	}
	fs.StringVar(&t.files.ServerName, prefix+"-tls-server-name", "", "host name expected in "+what+"'s certificate (default: the host dialled)")
	fs.BoolVar(&t.files.InsecureSkipVerify, prefix+"-tls-insecure-skip-verify", false, "accept any certificate from "+what+" (development only: no protection against interception)")
}

func (t *tlsSettings) check() error {
	if !t.on {
		f := t.files
		for _, s := range []struct {
			set  bool
			name string
		}{{f.CAFile != "", "ca-file"}, {f.CertFile != "", "cert-file"}, {f.KeyFile != "", "key-file"},
			{f.ServerName != "", "tls-server-name"}, {f.InsecureSkipVerify, "tls-insecure-skip-verify"}} {
			if s.set {
				return configErr("--%s-%s needs --%s-tls (or %s=true)", t.prefix, s.name, t.prefix, envName(t.prefix+"-tls"))
			}
		}
		return nil
	}
	if err := t.files.Validate(); err != nil {
		return configErr("--%s-cert-file and --%s-key-file: %v", t.prefix, t.prefix, err)
	}
	return nil
}

// config is nil without TLS.
func (t *tlsSettings) config() *tlsfiles.Files {
	if !t.on {
		return nil
	}
	f := t.files
	return &f
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

// kafkaSettings say how to reach Kafka and name topics. The SASL password
// comes from CONTRAIL_KAFKA_SASL_PASSWORD or --kafka-sasl-password-file,
// never a flag.
type kafkaSettings struct {
	brokers  []string
	clientID string
	prefix   string
	timeout  time.Duration
	tls      tlsSettings
	sasl     kafka.SASL
	pwFile   string
	registry registrySettings
}

func (k *kafkaSettings) add(fs *flag.FlagSet, brokersHelp string) {
	k.clientID, k.prefix, k.timeout = "contrail", "contrail", 10*time.Second
	fs.Var(&hostPortsValue{listValue{l: &k.brokers}}, "brokers", brokersHelp)
	fs.StringVar(&k.clientID, "client-id", k.clientID, "Kafka client id prefix")
	fs.StringVar(&k.prefix, "topic-prefix", k.prefix, "prefix of every topic name (contrail.raw.sbs, ...)")
	fs.Var(durationValue{&k.timeout}, "connect-timeout", "how long to wait for Kafka or ClickHouse at start-up before failing")
	k.tls.add(fs, "kafka", "Kafka", true)
	fs.Var(choiceValue{&k.sasl.Mechanism, kafka.Mechanisms}, "kafka-sasl-mechanism",
		"SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default: no SASL); use with --kafka-tls, PLAIN sends the password as is")
	fs.StringVar(&k.sasl.User, "kafka-sasl-user", "", "SASL user (password from CONTRAIL_KAFKA_SASL_PASSWORD or --kafka-sasl-password-file)")
	fs.Var(secretFileValue{&k.pwFile, k.afterParse}, "kafka-sasl-password-file",
		"file holding the SASL password (alternative to CONTRAIL_KAFKA_SASL_PASSWORD; there is no password flag)")
	k.registry.add(fs)
}

func (k *kafkaSettings) afterParse(getenv func(string) string) error {
	if err := k.tls.check(); err != nil {
		return err
	}
	pw, err := readSecret(getenv, "CONTRAIL_KAFKA_SASL_PASSWORD", "kafka-sasl-password-file", k.pwFile)
	if err != nil {
		return err
	}
	k.sasl.Password = pw
	if err := k.sasl.Validate(); err != nil {
		return &ConfigError{Err: err}
	}
	return nil
}

func (k *kafkaSettings) config() kafka.Config {
	return kafka.Config{Brokers: k.brokers, ClientID: k.clientID, TLS: k.tls.config(), SASL: k.sasl}
}

func (k *kafkaSettings) names() topics.Names { return topics.Names{Prefix: k.prefix} }

// chSettings say how to reach ClickHouse. The password comes only from the
// environment (CONTRAIL_CLICKHOUSE_PASSWORD) or --clickhouse-password-file,
// never a flag visible in ps.
type chSettings struct {
	addr, database, user string
	tls                  tlsSettings
	pwFile, password     string
}

func (c *chSettings) add(fs *flag.FlagSet, defaultAddr string) {
	c.addr, c.database, c.user = defaultAddr, "contrail", "default"
	fs.Var(hostPortValue{&c.addr}, "clickhouse", "ClickHouse native-protocol address host:port (e.g. 127.0.0.1:9000; deploy/local/clickhouse uses 127.0.0.1:19000)")
	fs.StringVar(&c.database, "clickhouse-database", c.database, "ClickHouse database holding Contrail's tables")
	fs.StringVar(&c.user, "clickhouse-user", c.user, "ClickHouse user (password from CONTRAIL_CLICKHOUSE_PASSWORD or --clickhouse-password-file)")
	fs.Var(secretFileValue{&c.pwFile, c.afterParse}, "clickhouse-password-file",
		"file holding the ClickHouse password (alternative to CONTRAIL_CLICKHOUSE_PASSWORD; there is no password flag)")
	c.tls.add(fs, "clickhouse", "ClickHouse", false)
}

func (c *chSettings) afterParse(getenv func(string) string) error {
	if err := c.tls.check(); err != nil {
		return err
	}
	pw, err := readSecret(getenv, "CONTRAIL_CLICKHOUSE_PASSWORD", "clickhouse-password-file", c.pwFile)
	c.password = pw
	return err
}

func (c *chSettings) open(ctx context.Context, env Env, timeout time.Duration, log *slog.Logger) (*clickhouse.Conn, error) {
	cfg := clickhouse.Config{Addr: c.addr, Database: c.database, User: c.user,
		Password: c.password, TLS: c.tls.config(), DialTimeout: timeout}
	if err := cfg.Validate(); err != nil {
		return nil, &ConfigError{Err: err}
	}
	conn, err := clickhouse.Open(ctx, cfg, log)
	if clickhouse.IsAuthError(err) {
		return nil, &ConfigError{Err: fmt.Errorf("ClickHouse rejected user %s: %w (check --clickhouse-user and the password from CONTRAIL_CLICKHOUSE_PASSWORD or --clickhouse-password-file)", c.user, err)}
	}
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%w (is ClickHouse running? check --clickhouse and --clickhouse-tls)", err)}
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
