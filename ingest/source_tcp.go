package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"
)

// errIdle is the error of a connection that delivered nothing for longer
// than its idle timeout.
var errIdle = errors.New("idle timeout")

// connReader reads a network connection for a framer. A read blocked when
// ctx ends is interrupted (through a read deadline) and returns ctx's error,
// so the framer can still hand out what it had buffered; with idle set, a
// read that waits longer than idle fails with errIdle.
type connReader struct {
	conn net.Conn
	ctx  context.Context
	idle time.Duration
}

func (r *connReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	var deadline time.Time
	if r.idle > 0 {
		deadline = time.Now().Add(r.idle)
	}
	if err := r.conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	stop := context.AfterFunc(r.ctx, func() { _ = r.conn.SetReadDeadline(time.Unix(1, 0)) })
	n, err := r.conn.Read(p)
	if !stop() && err != nil {
		return n, r.ctx.Err()
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("no data for %s: %w", r.idle, errIdle)
	}
	return n, err
}

// connOrigin names the records of one connection: prefix + "/" + the
// connection's start time (UTC, RFC 3339 with nanoseconds) + "/" + the
// record's sequence number on the connection, from 1. The start time makes
// origins, and so event ids, unique across reconnects.
func connOrigin(prefix string, start time.Time, seq int64) string {
	return prefix + "/" + start.UTC().Format(time.RFC3339Nano) + "/" + strconv.FormatInt(seq, 10)
}

// TCPClientConfig configures a TCPClient. Zero durations take the defaults.
type TCPClientConfig struct {
	// Addr is the feed's host:port, e.g. a dump1090 receiver's 30003. Required.
	Addr string
	// Feed gives the framing (Feed.SplitFunc) and the metrics label.
	Feed Feed
	// ReconnectInitial is the wait before re-dialling after a failed attempt
	// or a connection that delivered nothing; it doubles on every further
	// failure up to ReconnectMax. Default 500ms. A connection that delivered
	// records and then ended is re-dialled at once.
	ReconnectInitial time.Duration
	// ReconnectMax caps the wait between attempts. Default 30s.
	ReconnectMax time.Duration
	// DialTimeout bounds one connection attempt. Default 10s.
	DialTimeout time.Duration
	// IdleTimeout, when positive, drops and re-dials a connection that
	// delivered nothing for this long (a feed that stopped sending without
	// closing). Default 0: a quiet feed is waited for; TCP keep-alive still
	// detects a dead peer.
	IdleTimeout time.Duration
	// OnState, when not nil, is called with true when a connection is up
	// and false, with the reason, when it is lost; the CLI feeds /readyz
	// with it. It is called from Next's goroutine.
	OnState func(up bool, detail string)
	Log     *slog.Logger // default: discard
	Metrics *Metrics     // may be nil
}

func (c TCPClientConfig) withDefaults() TCPClientConfig {
	if c.ReconnectInitial == 0 {
		c.ReconnectInitial = 500 * time.Millisecond
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = 30 * time.Second
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate rejects a configuration no client can run with.
func (c TCPClientConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("TCP feed address %q: want host:port", c.Addr)
	}
	c = c.withDefaults()
	if c.ReconnectInitial < 0 || c.ReconnectMax < c.ReconnectInitial {
		return fmt.Errorf("reconnect backoff: initial %s must be positive and at most the maximum %s", c.ReconnectInitial, c.ReconnectMax)
	}
	if c.DialTimeout < 0 || c.IdleTimeout < 0 {
		return errors.New("dial and idle timeouts must not be negative")
	}
	return nil
}

// TCPClient is a Source that reads a feed from a TCP server, such as the
// SBS-1 output dump1090 and readsb serve on port 30003, and keeps reading
// across disconnects: when the connection ends (EOF, error, idle timeout)
// it re-dials with exponential backoff until it is back or ctx ends. It logs
// one line when the connection is lost and one when it is back, not one per
// attempt (those are at debug level).
//
// A partial record at a disconnect is returned as a record (the feed's
// parser rejects it, so it lands in the rejected topic): nothing read is
// dropped. A feed that resumes mid-stream cannot be resumed exactly; records
// sent while disconnected are the feed's to repeat or lose.
//
// Records have origin and identity "tcp:host:port/<connection start>/<n>",
// unique across reconnects. When ctx ends, Next stops reading, returns what
// the connection had already delivered, then ctx's error.
//
// Next must not be called concurrently.
type TCPClient struct {
	cfg    TCPClientConfig
	dialer net.Dialer
	now    func() time.Time

	conn    net.Conn
	rd      *connReader
	fr      *framer
	start   time.Time // of the current connection
	seq     int64     // records on the current connection
	backoff time.Duration

	everUp      bool // a connection was up once
	down        bool // no connection since one was lost or the first dial failed
	downSince   time.Time
	downReason  error
	downAttempt int
}

// NewTCPClient returns a client for cfg; it dials on the first Next.
func NewTCPClient(cfg TCPClientConfig) (*TCPClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &TCPClient{cfg: cfg, dialer: net.Dialer{Timeout: cfg.DialTimeout}, now: time.Now}, nil
}

// Next returns the feed's next record.
func (c *TCPClient) Next(ctx context.Context) (Record, error) {
	for {
		if c.conn == nil {
			if err := c.dial(ctx); err != nil {
				return Record{}, err
			}
		}
		c.rd.ctx = ctx
		f, err := c.fr.next()
		if err == nil {
			c.seq++
			return Record{
				Raw: f.raw, Oversize: f.oversize, Received: c.now(),
				Origin:   connOrigin("tcp:"+c.cfg.Addr, c.start, c.seq),
				Identity: connOrigin("tcp:"+c.cfg.Addr, c.start, c.seq),
			}, nil
		}
		c.hangUp(ctx, err)
		if ctx.Err() != nil {
			return Record{}, ctx.Err()
		}
	}
}

// Close closes the current connection, if any.
func (c *TCPClient) Close() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// hangUp ends the current connection after the framer returned err.
func (c *TCPClient) hangUp(ctx context.Context, err error) {
	_ = c.conn.Close()
	c.conn = nil
	c.gauge(-1)
	if ctx.Err() != nil {
		return
	}
	reason := err
	if errors.Is(err, io.EOF) {
		reason = errors.New("closed by the feed")
	}
	if c.seq > 0 {
		c.backoff = 0 // it delivered: re-dial at once
	} else {
		c.backoff = c.nextBackoff() // accepted and hung up: do not hammer it
	}
	c.down, c.downSince, c.downReason, c.downAttempt = true, c.now(), reason, 0
	c.cfg.Log.Warn("feed connection lost; reconnecting with backoff", "addr", c.cfg.Addr, "err", reason,
		"records", c.seq, "connected_for", c.now().Sub(c.start).Round(time.Millisecond))
	if c.cfg.Metrics != nil {
		c.cfg.Metrics.losses.WithLabelValues(c.cfg.Feed.Name, "tcp").Inc()
	}
	if c.cfg.OnState != nil {
		c.cfg.OnState(false, fmt.Sprintf("connection to %s lost (%v); reconnecting", c.cfg.Addr, reason))
	}
}

// dial connects, retrying with backoff until it succeeds or ctx ends.
func (c *TCPClient) dial(ctx context.Context) error {
	for {
		if c.backoff > 0 {
			if err := sleepCtx(ctx, c.backoff); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		conn, err := c.dialer.DialContext(ctx, "tcp", c.cfg.Addr)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.downAttempt++
			if !c.down {
				c.down, c.downSince, c.downReason = true, c.now(), err
				c.cfg.Log.Warn("cannot connect to feed; retrying with backoff", "addr", c.cfg.Addr, "err", err,
					"next_attempt_in", c.nextBackoff())
				if c.cfg.OnState != nil {
					c.cfg.OnState(false, fmt.Sprintf("cannot connect to %s (%v); retrying", c.cfg.Addr, err))
				}
			} else {
				c.cfg.Log.Debug("feed connection attempt failed", "addr", c.cfg.Addr, "attempt", c.downAttempt, "err", err)
			}
			c.backoff = c.nextBackoff()
			continue
		}
		c.conn, c.start, c.seq = conn, c.now(), 0
		c.rd = &connReader{conn: conn, ctx: ctx, idle: c.cfg.IdleTimeout}
		c.fr = newFramer(c.rd, c.cfg.Feed.SplitFunc(), MaxRecordBytes)
		c.gauge(+1)
		switch {
		case c.down && c.everUp:
			c.cfg.Log.Info("feed connection back", "addr", c.cfg.Addr, "down_for", c.now().Sub(c.downSince).Round(time.Millisecond),
				"attempts", c.downAttempt+1, "last_err", c.downReason)
		case c.down:
			c.cfg.Log.Info("connected to feed", "addr", c.cfg.Addr, "feed", c.cfg.Feed.Name,
				"waited", c.now().Sub(c.downSince).Round(time.Millisecond), "attempts", c.downAttempt+1)
		default:
			c.cfg.Log.Info("connected to feed", "addr", c.cfg.Addr, "feed", c.cfg.Feed.Name)
		}
		c.down, c.everUp = false, true
		if c.cfg.OnState != nil {
			c.cfg.OnState(true, "")
		}
		return nil
	}
}

func (c *TCPClient) nextBackoff() time.Duration {
	if c.backoff == 0 {
		return c.cfg.ReconnectInitial
	}
	return min(2*c.backoff, c.cfg.ReconnectMax)
}

func (c *TCPClient) gauge(d float64) {
	if c.cfg.Metrics != nil {
		c.cfg.Metrics.conns.WithLabelValues(c.cfg.Feed.Name, "tcp").Add(d)
	}
}
