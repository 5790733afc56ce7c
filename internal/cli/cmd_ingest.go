package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/schemas"
)

const ingestSynopsis = `Usage: contrail ingest <transport> [flags]

Reads a feed's records from a transport, checks each record's syntax with the
feed's parser and produces it, verbatim in an Avro envelope, to
<prefix>.raw.<feed>; records that fail go to <prefix>.rejected with the
reason. Nothing read is dropped: read = accepted + rejected.

Transports:
  contrail ingest file --feed FEED PATH...            replay files (--speed, --format jsonl)
  contrail ingest tcp --feed FEED --connect HOST:PORT  read a TCP feed (e.g. dump1090 port 30003), reconnecting
  contrail ingest listen --feed FEED --tcp-addr ADDR   accept feed producers over TCP
  contrail ingest http --http-addr ADDR                accept POST /v1/ingest/{feed} batches
  contrail ingest kafka --feed FEED                    consume the landing topic <prefix>.ingest.<feed>

Every transport serves /metrics, /healthz and /readyz on --listen and stops
gracefully on SIGTERM: it stops reading, produces what it read, waits for
Kafka's acknowledgements (and commits, for kafka), then prints its counts.
Run 'contrail ingest <transport> --help' for its settings.`

const ingestFileSynopsis = `Usage: contrail ingest file --feed FEED [flags] PATH...

Reads each file's records, framed as the feed's records (lines for sbs; the
feed's own framing, such as ADEXP messages spanning lines, otherwise), and
produces them to <prefix>.raw.<feed>, or to <prefix>.rejected with the reason.
Progress (records/s, done %) is logged every few seconds.

--speed 0 (the default) replays as fast as Kafka takes the records; --speed F
replays at the recorded speed times F, pacing by the records' producer
timestamps (1 is real time, 10 ten times faster).

--format jsonl reads recordings instead: one JSON object per line,
  {"received":"2022-01-08T22:42:15.384Z","origin":"...","raw":"MSG,3,..."}
with "raw_b64" instead of "raw" for binary records; each record is replayed
with its recorded receipt time (see ingest.RecordingSource for the format).`

const ingestTCPSynopsis = `Usage: contrail ingest tcp --feed FEED --connect HOST:PORT [flags]

Connects to a feed served over TCP, such as dump1090's or readsb's SBS-1
output on port 30003, and ingests its records until SIGTERM. When the
connection ends it reconnects with exponential backoff (--reconnect-initial
doubling up to --reconnect-max), logging one line when the connection is lost
and one when it is back. A partial record at a disconnect is ingested as a
rejected record, not dropped. Records' origin: tcp:HOST:PORT/<connection
start>/<n>. /readyz is not ready while the feed is disconnected.`

const ingestListenSynopsis = `Usage: contrail ingest listen --feed FEED --tcp-addr HOST:PORT [flags]

Listens for feed producers: any number may connect and send the feed's
records (lines for sbs); their records are merged and ingested until SIGTERM.
Buffering is bounded (--queue records in all): when Kafka is slow the
listener stops reading and TCP flow control slows the producers. Records'
origin: tcp-peer:IP:PORT/<connection start>/<n>.`

const ingestHTTPSynopsis = `Usage: contrail ingest http [flags]

Serves POST /v1/ingest/{feed} on --http-addr. The body holds the feed's
records framed as in a file (lines for sbs), optionally gzip-encoded. The
answer comes after Kafka acknowledged every record, as JSON
{"feed","accepted","rejected","results":[{"index","origin","outcome","event_id",...}]}:
  200 all accepted; 422 some rejected (each with reason_code and reason; they
  are recorded in the rejected topic); 413 body over --http-max-body (nothing
  ingested); 404 unknown feed (the answer lists the feeds); 503 Kafka failed.
Send an Idempotency-Key header to make a retried batch produce the same event
ids. With a token (CONTRAIL_HTTP_TOKEN or --http-token-file) every request
must send "Authorization: Bearer <token>" or gets 401. Health endpoints stay
on --listen. Example:
  curl --data-binary @capture.sbs http://127.0.0.1:8080/v1/ingest/sbs`

const ingestKafkaSynopsis = `Usage: contrail ingest kafka --feed FEED [flags]

Consumes the landing topic <prefix>.ingest.<feed>, written by any external
producer with one raw record per Kafka record value, in consumer group
--landing-group, and produces envelopes to <prefix>.raw.<feed>. A record
header contrail-format may name the value's format (the feed name or format,
e.g. sbs or sbs-1); a mismatch is rejected with the reason. The Kafka record's
timestamp is the producer timestamp of records whose payload has none.
Offsets are committed only after the envelopes are acknowledged
(at-least-once; a redelivered record has the same event id, origin
kafka:TOPIC/PARTITION/OFFSET, and deduplicates downstream).`

func ingestCmd(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return configErr("want a transport: file, tcp, listen, http or kafka (see 'contrail ingest --help')")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(env.Stdout, ingestSynopsis)
		return nil
	case "file":
		return ingestFileCmd(ctx, env, args[1:])
	case "tcp":
		return ingestTCPCmd(ctx, env, args[1:])
	case "listen":
		return ingestListenCmd(ctx, env, args[1:])
	case "http":
		return ingestHTTPCmd(ctx, env, args[1:])
	case "kafka":
		return ingestKafkaCmd(ctx, env, args[1:])
	}
	return configErr("unknown transport %q: want file, tcp, listen, http or kafka (see 'contrail ingest --help')", args[0])
}

// ingestSettings are the settings every ingest transport has.
type ingestSettings struct {
	o    obsSettings
	k    kafkaSettings
	feed string
	loc  *time.Location
}

func (s *ingestSettings) add(fs *flag.FlagSet, feedHelp string) {
	s.loc = time.UTC
	s.o.addListen(fs)
	s.k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	if feedHelp != "" {
		fs.StringVar(&s.feed, "feed", "", feedHelp)
	}
	fs.Var(locationValue{&s.loc}, "timezone", "time zone of SBS timestamps (receiver local time)")
}

func (s *ingestSettings) feedOptions() ingest.FeedOptions { return ingest.FeedOptions{Location: s.loc} }

// lookupFeed resolves --feed.
func (s *ingestSettings) lookupFeed() (ingest.Feed, error) {
	if s.feed == "" {
		return ingest.Feed{}, configErr("--feed is required: the feed's format (%s)", strings.Join(ingest.FeedNames(), ", "))
	}
	f, err := ingest.LookupFeed(s.feed, s.feedOptions())
	if err != nil {
		return ingest.Feed{}, &ConfigError{Err: fmt.Errorf("--feed: %w", err)}
	}
	return f, nil
}

// ingestRun is a started ingest command: operator endpoint, Kafka producer,
// metrics.
type ingestRun struct {
	*stage
	s     *ingestSettings
	cl    *kgo.Client
	reg   *schemas.Registry
	codec *schemas.Codec
	m     *ingest.Metrics
}

// start serves the operator endpoint and connects the producer; readiness
// waits for the components the transport adds.
func (s *ingestSettings) start(ctx context.Context, env Env) (*ingestRun, error) {
	st, err := newStage(ctx, env, &s.o)
	if err != nil {
		return nil, err
	}
	st.health.NotReady("ingest", "connecting to Kafka")
	cl, err := connectKafka(ctx, s.k, "ingest", st.log, st)
	if err != nil {
		st.close()
		return nil, err
	}
	st.health.Ready("ingest")
	reg := schemas.MustRegistry()
	codec, err := s.k.registry.codec(reg)
	if err != nil {
		cl.Close()
		st.close()
		return nil, err
	}
	return &ingestRun{stage: st, s: s, cl: cl, reg: reg, codec: codec, m: ingest.NewMetrics(st.reg)}, nil
}

func (r *ingestRun) close() {
	r.cl.Close()
	r.stage.close()
}

func (r *ingestRun) adapter(feed ingest.Feed) *ingest.Adapter {
	return &ingest.Adapter{Feed: feed, Client: r.cl, Topics: r.s.k.names(), Schemas: r.reg, Codec: r.codec,
		Instance: instanceName("ingest"), Log: r.log, Metrics: r.m}
}

func printStats(env Env, st ingest.Stats) {
	fmt.Fprintf(env.Stdout, "read %d, accepted %d, rejected %d\n", st.Read, st.Accepted, st.Rejected)
}

func ingestFileCmd(ctx context.Context, env Env, args []string) error {
	var (
		s ingestSettings
		o = replayOptions{format: "raw"}
	)
	fs := newFlagSet("ingest file", ingestFileSynopsis, env, &s.o)
	s.add(fs, "feed of the input files: "+strings.Join(ingest.FeedNames(), ", ")+" (required)")
	fs.Var(floatValue{&o.speed, 0, 1e6}, "speed", "replay speed: 0 as fast as possible, else the recorded speed times this factor (1 = real time)")
	fs.Var(choiceValue{&o.format, []string{"raw", "jsonl"}}, "format", "input format: raw (the feed's own records) or jsonl (recordings with receipt times)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	feed, err := s.lookupFeed()
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return configErr("no input files: give one or more paths after the flags")
	}
	var inputs []input
	for _, p := range fs.Args() {
		inputs = append(inputs, input{feed.Name, p})
	}
	r, err := s.start(ctx, env)
	if err != nil {
		return err
	}
	defer r.close()
	total, err := replayFiles(ctx, r.cl, s.k, inputs, s.feedOptions(), o, r.reg, r.m, r.log)
	printStats(env, total)
	return err
}

func ingestTCPCmd(ctx context.Context, env Env, args []string) error {
	var (
		s   ingestSettings
		cfg = ingest.TCPClientConfig{ReconnectInitial: 500 * time.Millisecond, ReconnectMax: 30 * time.Second, DialTimeout: 10 * time.Second}
	)
	fs := newFlagSet("ingest tcp", ingestTCPSynopsis, env, &s.o)
	s.add(fs, "feed the server sends: "+strings.Join(ingest.FeedNames(), ", ")+" (required)")
	fs.Var(hostPortValue{&cfg.Addr}, "connect", "host:port of the feed server, e.g. 127.0.0.1:30003 for dump1090's SBS output (required)")
	fs.Var(durationValue{&cfg.ReconnectInitial}, "reconnect-initial", "wait before reconnecting after a failed attempt; doubles per failure")
	fs.Var(durationValue{&cfg.ReconnectMax}, "reconnect-max", "longest wait between reconnection attempts")
	fs.Var(durationValue{&cfg.DialTimeout}, "dial-timeout", "timeout of one connection attempt")
	fs.Var(durationValue{&cfg.IdleTimeout}, "idle-timeout", "reconnect when the feed sends nothing for this long (0: wait forever; TCP keep-alive still detects dead peers)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	feed, err := s.lookupFeed()
	if err != nil {
		return err
	}
	if cfg.Addr == "" {
		return configErr("--connect is required: the feed server's host:port, e.g. 127.0.0.1:30003")
	}
	if cfg.ReconnectInitial <= 0 || cfg.ReconnectMax < cfg.ReconnectInitial {
		return configErr("--reconnect-initial (%s) must be positive and at most --reconnect-max (%s)", cfg.ReconnectInitial, cfg.ReconnectMax)
	}
	if cfg.DialTimeout <= 0 {
		return configErr("--dial-timeout must be positive")
	}
	r, err := s.start(ctx, env)
	if err != nil {
		return err
	}
	defer r.close()
	cfg.Feed, cfg.Log, cfg.Metrics = feed, r.log, r.m
	r.health.NotReady("feed", "connecting to "+cfg.Addr)
	cfg.OnState = func(up bool, detail string) {
		if up {
			r.health.Ready("feed")
		} else {
			r.health.NotReady("feed", detail)
		}
	}
	src, err := ingest.NewTCPClient(cfg)
	if err != nil {
		return &ConfigError{Err: err}
	}
	defer src.Close()
	total, err := r.adapter(feed).Run(ctx, src)
	printStats(env, total)
	return err
}

func ingestListenCmd(ctx context.Context, env Env, args []string) error {
	var (
		s   ingestSettings
		cfg = ingest.TCPListenerConfig{MaxConns: 64, Queue: 1024}
	)
	fs := newFlagSet("ingest listen", ingestListenSynopsis, env, &s.o)
	s.add(fs, "feed the producers send: "+strings.Join(ingest.FeedNames(), ", ")+" (required)")
	fs.Var(hostPortValue{&cfg.Addr}, "tcp-addr", "host:port to accept feed producers on, e.g. 0.0.0.0:30003 (required)")
	fs.Var(intValue{&cfg.MaxConns, 1, 100_000}, "max-conns", "producers served at once; more wait to be accepted")
	fs.Var(intValue{&cfg.Queue, 1, 1_000_000}, "queue", "records buffered between the connections and Kafka; when full, producers are slowed by TCP flow control")
	fs.Var(durationValue{&cfg.IdleTimeout}, "idle-timeout", "close a producer's connection after this long without data (0: never)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	feed, err := s.lookupFeed()
	if err != nil {
		return err
	}
	if cfg.Addr == "" {
		return configErr("--tcp-addr is required: the host:port producers connect to, e.g. 0.0.0.0:30003")
	}
	r, err := s.start(ctx, env)
	if err != nil {
		return err
	}
	defer r.close()
	cfg.Feed, cfg.Log, cfg.Metrics = feed, r.log, r.m
	src, err := ingest.ListenTCP(cfg)
	if err != nil {
		return &ConfigError{Err: fmt.Errorf("--tcp-addr: %w", err)}
	}
	defer src.Close()
	r.log.Info("accepting feed producers", "feed", feed.Name, "addr", src.Addr().String())
	total, err := r.adapter(feed).Run(ctx, src)
	printStats(env, total)
	return err
}

func ingestHTTPCmd(ctx context.Context, env Env, args []string) error {
	var (
		s     ingestSettings
		addr  = "127.0.0.1:8080"
		feeds = ingest.FeedNames()
		cfg   = ingest.HTTPConfig{MaxBody: 8 << 20, MaxInFlight: 8, AckTimeout: 30 * time.Second}
	)
	fs := newFlagSet("ingest http", ingestHTTPSynopsis, env, &s.o)
	s.add(fs, "")
	fs.Var(hostPortValue{&addr}, "http-addr", "host:port serving POST /v1/ingest/{feed} (port 0 picks a free port)")
	fs.Var(&listValue{l: &feeds}, "feeds", "feeds accepted, comma-separated")
	fs.Var(byteSizeValue{&cfg.MaxBody}, "http-max-body", "largest request body (after gzip decoding), e.g. 8MiB; larger bodies get 413")
	fs.Var(intValue{&cfg.MaxInFlight, 1, 10_000}, "http-max-inflight", "requests processed at once; more wait before their body is read")
	fs.Var(durationValue{&cfg.AckTimeout}, "http-ack-timeout", "how long a request waits for Kafka to acknowledge its records before 503")
	var tokenFile string
	fs.Var(secretFileValue{&tokenFile, func(getenv func(string) string) (err error) {
		cfg.Token, err = readSecret(getenv, "CONTRAIL_HTTP_TOKEN", "http-token-file", tokenFile)
		return err
	}}, "http-token-file", "file holding the bearer token every request must send (alternative to CONTRAIL_HTTP_TOKEN; default: none, no authentication)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if len(feeds) == 0 {
		return configErr("--feeds is empty: name at least one of %s", strings.Join(ingest.FeedNames(), ", "))
	}
	if cfg.AckTimeout <= 0 {
		return configErr("--http-ack-timeout must be positive")
	}
	byName := map[string]ingest.Feed{}
	for _, name := range feeds {
		f, err := ingest.LookupFeed(name, s.feedOptions())
		if err != nil {
			return &ConfigError{Err: fmt.Errorf("--feeds: %w", err)}
		}
		byName[name] = f
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &ConfigError{Err: fmt.Errorf("--http-addr: %w", err)}
	}
	defer ln.Close()
	r, err := s.start(ctx, env)
	if err != nil {
		return err
	}
	defer r.close()
	cfg.Adapters, cfg.Log, cfg.Metrics = map[string]*ingest.Adapter{}, r.log, r.m
	for name, f := range byName {
		cfg.Adapters[name] = r.adapter(f)
	}
	h, err := ingest.NewHTTPHandler(cfg)
	if err != nil {
		return &ConfigError{Err: err}
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/ingest/", h)
	mux.Handle("/", h) // unknown paths get the handler's JSON 404
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	r.log.Info("accepting HTTP batches", "addr", "http://"+ln.Addr().String()+"/v1/ingest/{feed}", "feeds", feeds, "bearer_token_required", cfg.Token != "")

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve HTTP ingest: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		// In-flight requests finish: they answer once Kafka acked.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.AckTimeout+5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	err = g.Wait()
	printStats(env, h.Stats())
	r.log.Info("stopped")
	return err
}

func ingestKafkaCmd(ctx context.Context, env Env, args []string) error {
	var (
		s       ingestSettings
		group   string
		maxPoll = 10_000
	)
	fs := newFlagSet("ingest kafka", ingestKafkaSynopsis, env, &s.o)
	s.add(fs, "feed of the landing topic <prefix>.ingest.<feed>: "+strings.Join(ingest.FeedNames(), ", ")+" (required)")
	fs.StringVar(&group, "landing-group", "", "consumer group of the landing topic (empty: <topic-prefix>-ingest-<feed>)")
	fs.Var(intValue{&maxPoll, 1, 1_000_000}, "max-poll", "records per batch: produced, acknowledged, then committed")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	feed, err := s.lookupFeed()
	if err != nil {
		return err
	}
	if group == "" {
		group = s.k.prefix + "-ingest-" + feed.Name
	}
	topic := s.k.names().Ingest(feed.Name)
	r, err := s.start(ctx, env)
	if err != nil {
		return err
	}
	defer r.close()
	r.health.NotReady("landing", "joining group "+group)
	if err := checkTopic(ctx, r.cl, topic, s.k.timeout); err != nil {
		return err
	}
	consumer, err := connectKafka(ctx, s.k, "landing", r.log, r.stage, ingest.LandingConsumerOpts(topic, group)...)
	if err != nil {
		return err
	}
	// Leaving the group needs a final rebalance, which BlockRebalanceOnPoll
	// would hold up.
	defer consumer.CloseAllowingRebalance()
	r.health.Ready("landing")
	r.log.Info("consuming landing topic", "topic", topic, "group", group, "feed", feed.Name)
	l := &ingest.Landing{Adapter: r.adapter(feed), Consumer: consumer, MaxPoll: maxPoll}
	total, err := l.Run(ctx)
	printStats(env, total)
	return err
}

// checkTopic fails fast, with the fix, when the landing topic is missing: a
// consumer would otherwise wait for it silently.
func checkTopic(ctx context.Context, cl *kgo.Client, topic string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tds, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("look up landing topic %s: %w", topic, err)
	}
	if td, ok := tds[topic]; !ok || td.Err != nil {
		return configErr("landing topic %s does not exist: create it with 'contrail topics' (check --topic-prefix and --feed)", topic)
	}
	return nil
}

// floatValue is a number within bounds.
type floatValue struct {
	f        *float64
	min, max float64
}

func (v floatValue) String() string {
	if v.f == nil {
		return ""
	}
	return strconv.FormatFloat(*v.f, 'g', -1, 64)
}

func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < v.min || f > v.max {
		return fmt.Errorf("want a number from %g to %g", v.min, v.max)
	}
	*v.f = f
	return nil
}

// byteSizeValue is a size in bytes: 8388608, 512KiB, 8MiB, 1GiB (also KB,
// MB, GB as powers of ten).
type byteSizeValue struct{ n *int64 }

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

func (v byteSizeValue) String() string {
	if v.n == nil {
		return ""
	}
	for _, u := range byteUnits[:3] {
		if n := *v.n; n >= u.mult && n%u.mult == 0 && (n/u.mult < 1024 || u.suffix == "GiB") {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*v.n, 10)
}

func (v byteSizeValue) Set(s string) error {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return errors.New("want a positive size such as 1048576, 512KiB or 8MiB")
	}
	*v.n = n * mult
	return nil
}
