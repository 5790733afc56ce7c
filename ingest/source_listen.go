package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// TCPListenerConfig configures a TCPListener. Zero values take the defaults.
type TCPListenerConfig struct {
	// Addr is the address to listen on, host:port (port 0 picks one). Required.
	Addr string
	// Feed gives the framing (Feed.SplitFunc) and the metrics label.
	Feed Feed
	// MaxConns bounds the producers served at once; further connections
	// wait in the kernel's accept queue. Default 64.
	MaxConns int
	// Queue is how many records may wait between the connections and the
	// adapter. When it is full the connections stop reading, so TCP flow
	// control slows the producers down. Default 1024.
	Queue int
	// IdleTimeout, when positive, closes a connection that sent nothing
	// for this long. Default 0: none.
	IdleTimeout time.Duration
	Log         *slog.Logger // default: discard
	Metrics     *Metrics     // may be nil
}

// Validate rejects a configuration no listener can run with.
func (c TCPListenerConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("TCP listen address %q: want host:port", c.Addr)
	}
	if c.MaxConns < 0 || c.Queue < 0 || c.IdleTimeout < 0 {
		return errors.New("TCP listener: connection limit, queue and idle timeout must not be negative")
	}
	return nil
}

// TCPListener is a Source fed by any number of producers connecting over
// TCP, each sending a stream of the feed's records; their records are merged
// in arrival order. Every connection holds at most one framing buffer, and the
// queue to the adapter is bounded, so a slow Kafka slows the producers down
// rather than growing memory.
//
// Records have origin and identity "tcp-peer:ip:port/<connection start>/<n>".
// A partial record at a producer's disconnect is a record (rejected by the
// parser). When the ctx of Next ends, the listener stops accepting, closes
// every connection, and Next returns what they had already delivered, then
// ctx's error.
//
// Next must not be called concurrently.
type TCPListener struct {
	cfg TCPListenerConfig
	ln  net.Listener

	recs   chan Record
	sem    chan struct{}
	ctx    context.Context // ends at shutdown; interrupts reads
	cancel context.CancelFunc
	abort  chan struct{} // closed by Close: drop what is queued
	wg     sync.WaitGroup

	mu        sync.Mutex
	acceptErr error
	aborted   bool
}

// ListenTCP binds cfg.Addr now, so a taken port fails at start-up, and
// starts accepting producers.
func ListenTCP(cfg TCPListenerConfig) (*TCPListener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 64
	}
	if cfg.Queue == 0 {
		cfg.Queue = 1024
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen for feed producers: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &TCPListener{cfg: cfg, ln: ln, recs: make(chan Record, cfg.Queue), sem: make(chan struct{}, cfg.MaxConns),
		ctx: ctx, cancel: cancel, abort: make(chan struct{})}
	l.wg.Add(1)
	go l.accept()
	go func() {
		l.wg.Wait()
		close(l.recs)
	}()
	return l, nil
}

// Addr is the address the listener is bound to.
func (l *TCPListener) Addr() net.Addr { return l.ln.Addr() }

// Next returns the next record from any producer.
func (l *TCPListener) Next(ctx context.Context) (Record, error) {
	select {
	case r, ok := <-l.recs:
		if ok {
			return r, nil
		}
	case <-ctx.Done():
		l.shutdown()
		if r, ok := <-l.recs; ok {
			return r, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.acceptErr != nil {
		return Record{}, l.acceptErr
	}
	return Record{}, io.EOF
}

// Close stops the listener and its connections at once, dropping records
// not yet returned by Next. Use it after Run has returned; to stop
// gracefully, cancel the ctx given to Next instead.
func (l *TCPListener) Close() error {
	l.mu.Lock()
	if !l.aborted {
		l.aborted = true
		close(l.abort)
	}
	l.mu.Unlock()
	l.shutdown()
	return nil
}

// shutdown stops accepting and makes every connection's reads fail, so each
// hands over what it buffered and ends.
func (l *TCPListener) shutdown() {
	l.cancel()
	_ = l.ln.Close()
}

func (l *TCPListener) accept() {
	defer l.wg.Done()
	var pause time.Duration
	for {
		select {
		case l.sem <- struct{}{}:
		case <-l.ctx.Done():
			return
		}
		conn, err := l.ln.Accept()
		if err != nil {
			<-l.sem
			if l.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of file descriptors and the like: wait, as
				// net/http does, rather than spin or give up.
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				l.cfg.Log.Warn("accept feed producer", "err", err, "retry_in", pause)
				_ = sleepCtx(l.ctx, pause)
				continue
			}
			l.mu.Lock()
			l.acceptErr = fmt.Errorf("accept feed producers on %s: %w", l.ln.Addr(), err)
			l.mu.Unlock()
			l.cfg.Log.Error("feed listener stopped", "err", err)
			return
		}
		pause = 0
		l.wg.Add(1)
		go l.serve(conn)
	}
}

func (l *TCPListener) serve(conn net.Conn) {
	defer l.wg.Done()
	defer func() { <-l.sem }()
	defer conn.Close()
	peer, start := conn.RemoteAddr().String(), time.Now()
	l.gauge(+1)
	defer l.gauge(-1)
	l.cfg.Log.Info("feed producer connected", "peer", peer, "feed", l.cfg.Feed.Name)
	fr := newFramer(&connReader{conn: conn, ctx: l.ctx, idle: l.cfg.IdleTimeout}, l.cfg.Feed.SplitFunc(), MaxRecordBytes)
	var seq int64
	for {
		f, err := fr.next()
		if err != nil {
			attrs := []any{"peer", peer, "records", seq}
			if !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
				attrs = append(attrs, "err", err)
			}
			l.cfg.Log.Info("feed producer disconnected", attrs...)
			if l.cfg.Metrics != nil {
				l.cfg.Metrics.losses.WithLabelValues(l.cfg.Feed.Name, "listen").Inc()
			}
			return
		}
		seq++
		origin := connOrigin("tcp-peer:"+peer, start, seq)
		rec := Record{Raw: f.raw, Oversize: f.oversize, Origin: origin, Identity: origin, Received: time.Now()}
		select {
		case l.recs <- rec:
		case <-l.abort:
			return
		}
	}
}

func (l *TCPListener) gauge(d float64) {
	if l.cfg.Metrics != nil {
		l.cfg.Metrics.conns.WithLabelValues(l.cfg.Feed.Name, "listen").Add(d)
	}
}
