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
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/contrail-atm/contrail/internal/tlsfiles"
)

// Config says how to reach a Kafka cluster.
type Config struct {
	// Brokers are the seed brokers, host:port. Required.
	Brokers []string
	// ClientID names this process to the brokers. Default "contrail".
	ClientID string
	// TLS, when set, encrypts every broker connection (security protocol
	// SSL, or SASL_SSL with SASL). Default nil: plaintext.
	TLS *tlsfiles.Files
	// SASL authenticates every connection. Default: none.
	SASL SASL
}

// SASL mechanisms Config.SASL accepts.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Mechanisms lists the SASL mechanisms Config.SASL accepts.
var Mechanisms = []string{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512}

// SASL is a user's credentials and how to present them. The zero value
// means no SASL. Password is a secret: nothing in this package logs it or
// puts it in an error.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; "" disables SASL.
	Mechanism string
	User      string
	Password  string
}

// Validate rejects a config no client can be built from. Errors name the
// command-line settings to fix.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return fmt.Errorf("no Kafka brokers configured: set --brokers host:port (or CONTRAIL_BROKERS)")
	}
	if c.TLS != nil {
		if err := c.TLS.Validate(); err != nil {
			return fmt.Errorf("Kafka TLS: %w: set both --kafka-cert-file and --kafka-key-file, or neither", err)
		}
	}
	return c.SASL.Validate()
}

// Validate rejects incomplete credentials and unknown mechanisms.
func (s SASL) Validate() error {
	switch {
	case s.Mechanism == "" && (s.User != "" || s.Password != ""):
		return fmt.Errorf("Kafka SASL credentials given without a mechanism: set --kafka-sasl-mechanism (%s)", strings.Join(Mechanisms, ", "))
	case s.Mechanism == "":
	case !slices.Contains(Mechanisms, s.Mechanism):
		return fmt.Errorf("unknown Kafka SASL mechanism %q for --kafka-sasl-mechanism: want one of %s", s.Mechanism, strings.Join(Mechanisms, ", "))
	case s.User == "":
		return fmt.Errorf("Kafka SASL %s needs a user: set --kafka-sasl-user", s.Mechanism)
	case s.Password == "":
		return fmt.Errorf("Kafka SASL %s for user %s needs a password: set CONTRAIL_KAFKA_SASL_PASSWORD or --kafka-sasl-password-file", s.Mechanism, s.User)
	}
	return nil
}

func (s SASL) mechanism() sasl.Mechanism {
	switch s.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()
	case MechanismSCRAMSHA256:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()
	case MechanismSCRAMSHA512:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()
	}
	return nil
}

// security returns the client options for TLS and SASL.
func (c Config) security() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if c.TLS != nil {
		tc, err := c.TLS.Load()
		if err != nil {
			return nil, fmt.Errorf("Kafka TLS: %w", err)
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m := c.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// NewClient builds a client for one role ("ingest", "sink", "admin", ...).
// reg may be nil to skip metrics. The returned client is not yet connected:
// franz-go dials lazily, so use Ping to fail fast on an unreachable cluster.
func NewClient(cfg Config, role string, log *slog.Logger, reg prometheus.Registerer, opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := Options(cfg, role, log, reg)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client for %s: %w", role, err)
	}
	return cl, nil
}

// Options are the client options NewClient starts from: seed brokers,
// client id, logger, TLS and SASL, and (when reg is not nil) kprom metrics
// under the subsystem kafka_<role>. Processors use them to build
// transactional sessions, which NewClient cannot.
func Options(cfg Config, role string, log *slog.Logger, reg prometheus.Registerer) ([]kgo.Opt, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sec, err := cfg.security()
	if err != nil {
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
	base = append(base, sec...)
	if reg != nil {
		base = append(base, kgo.WithHooks(kprom.NewMetrics("contrail",
			kprom.Registerer(reg), kprom.Subsystem("kafka_"+role), kprom.WithClientLabel())))
	}
	return base, nil
}

// Ping checks that the cluster answers a metadata request within timeout, so a
// wrong address or rejected credentials fail with one clear error instead of
// endless retries. A rejection of the credentials is an *AuthError (whose
// User and Mechanism the caller may fill in).
func Ping(ctx context.Context, cl *kgo.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
		if IsAuthError(err) {
			return &AuthError{Err: err}
		}
		return fmt.Errorf("reach Kafka brokers within %s: %w", timeout, err)
	}
	return nil
}

// AuthError is Kafka refusing the client's SASL credentials (or closing the
// connection during authentication, which is how a broker answers a
// mechanism it does not enable or a TLS client on a plaintext port). It is
// permanent: retrying with the same credentials cannot succeed.
type AuthError struct {
	User, Mechanism string
	Err             error
}

func (e *AuthError) Error() string {
	var eof *kgo.ErrFirstReadEOF
	if errors.As(e.Err, &eof) {
		return fmt.Sprintf("Kafka closed the connection during the TLS or SASL handshake (check --kafka-tls and --kafka-sasl-mechanism against the broker's listener): %v", eof)
	}
	if e.Mechanism == "" {
		return fmt.Sprintf("Kafka authentication failed: %v", e.Err)
	}
	return fmt.Sprintf("Kafka rejected the SASL credentials for user %s (mechanism %s; check --kafka-sasl-user, the password and --kafka-sasl-mechanism): authentication failed: %v", e.User, e.Mechanism, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// IsAuthError reports whether err is a failed SASL authentication or a
// connection the broker closed on its first response, which franz-go does
// not retry and Contrail treats as fatal.
func IsAuthError(err error) bool {
	var ae *AuthError
	var eof *kgo.ErrFirstReadEOF
	return errors.As(err, &ae) || errors.Is(err, kerr.SaslAuthenticationFailed) ||
		errors.Is(err, kerr.IllegalSaslState) || errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.As(err, &eof)
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
		if authFailure(keyvals) {
			l = slog.LevelDebug // Ping or the sink reports it, once, as the reason to stop
		}
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	default:
		l = slog.LevelDebug
	}
	a.l.Log(context.Background(), l, msg, keyvals...)
}

// authFailure reports whether a franz-go log line is about rejected
// credentials.
func authFailure(keyvals []any) bool {
	for _, v := range keyvals {
		if err, ok := v.(error); ok && IsAuthError(err) {
			return true
		}
	}
	return false
}
