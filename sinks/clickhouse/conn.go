// Package clickhouse materializes Contrail's Kafka topics as ClickHouse
// tables: it owns the table DDL and its versioned migrations (migrate.go,
// ddl.go) and the sink that consumes records and writes them with native batch
// INSERTs (writer.go). clickhouse-go is used only under sinks/.
//
// Two SQL dialects are kept: Legacy for ClickHouse 18.16 (Debian's package,
// used locally and in CI) and Modern for current LTS releases (DateTime64,
// LowCardinality, codecs). The dialect is chosen from the server version at
// connect time. Every batch INSERT lists its columns, which 18.16 requires.
package clickhouse

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/contrail-atm/contrail/internal/tlsfiles"
)

// Config says how to reach ClickHouse.
type Config struct {
	// Addr is host:port of the native protocol (TCP 9000 on a default
	// install; the deploy/local server uses 19000). Required.
	Addr string
	// Database holds Contrail's tables; created by Migrate. Default "contrail".
	Database string
	// User and Password authenticate. Default user "default", no password.
	// Password is a secret: Open never logs it or puts it in an error.
	User, Password string
	// TLS, when set, encrypts the connection (the server's secure native
	// port, tcp_port_secure, 9440 by default). Default nil: plaintext.
	TLS *tlsfiles.Files
	// DialTimeout bounds connecting. Default 5s.
	DialTimeout time.Duration
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate rejects a config that cannot work.
func (c Config) Validate() error {
	if c.Addr == "" {
		return fmt.Errorf("no ClickHouse address configured: set --clickhouse host:port (native protocol, e.g. 127.0.0.1:9000)")
	}
	if c.Database != "" && !identRE.MatchString(c.Database) {
		return fmt.Errorf("ClickHouse database name %q is not a plain identifier (letters, digits, underscore)", c.Database)
	}
	return nil
}

func (c Config) database() string {
	if c.Database == "" {
		return "contrail"
	}
	return c.Database
}

// Dialect selects the DDL for a server generation.
type Dialect int

// The dialects.
const (
	// Legacy is ClickHouse 18.x-20.x: DateTime (seconds), plain String.
	Legacy Dialect = iota
	// Modern is 21.x and later: DateTime64(3), LowCardinality, ZSTD codecs.
	Modern
)

func (d Dialect) String() string {
	if d == Modern {
		return "modern"
	}
	return "legacy"
}

// DialectFor picks the dialect of a server version.
func DialectFor(major uint64) Dialect {
	if major >= 21 {
		return Modern
	}
	return Legacy
}

// Conn is an open connection pool plus what we learned about the server.
type Conn struct {
	driver.Conn
	Version  string
	Dialect  Dialect
	Database string
}

// Open connects over the native protocol and checks the server answers, so a
// wrong address fails here with one clear error.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dt := cfg.DialTimeout
	if dt <= 0 {
		dt = 5 * time.Second
	}
	user := cfg.User
	if user == "" {
		user = "default"
	}
	var tc *tls.Config
	if cfg.TLS != nil {
		var err error
		if tc, err = cfg.TLS.Load(); err != nil {
			return nil, fmt.Errorf("ClickHouse TLS: %w", err)
		}
	}
	conn, err := ch.Open(&ch.Options{
		TLS:         tc,
		Addr:        []string{cfg.Addr},
		Protocol:    ch.Native,
		Auth:        ch.Auth{Database: "default", Username: user, Password: cfg.Password},
		DialTimeout: dt,
		// A statement that hangs (e.g. a server waiting for data blocks)
		// fails after this rather than the driver's 5-minute default.
		ReadTimeout: time.Minute,
		Logger:      driverLogger(ctx, log),
	})
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse at %s: %w", cfg.Addr, err)
	}
	pctx, cancel := context.WithTimeout(ctx, dt)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("reach ClickHouse at %s: %w", cfg.Addr, err)
	}
	sv, err := conn.ServerVersion()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read ClickHouse server version at %s: %w", cfg.Addr, err)
	}
	return &Conn{Conn: conn, Version: sv.Version.String(), Dialect: DialectFor(sv.Version.Major), Database: cfg.database()}, nil
}

// driverLogger is clickhouse-go's logger. Below debug level only its errors
// pass: it warns on every connect that a server older than it supports is
// "unsupported", which for 18.16 is expected and already logged by us as the
// detected version and dialect.
func driverLogger(ctx context.Context, log *slog.Logger) *slog.Logger {
	l := log.With("component", "clickhouse-go")
	if log.Enabled(ctx, slog.LevelDebug) {
		return l
	}
	return slog.New(minLevel{Handler: l.Handler(), min: slog.LevelError})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
