package cli

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/schemas"
)

const ingestSynopsis = `Usage: contrail ingest file --feed FEED [flags] PATH...

Reads each file line by line, checks every line's syntax with the feed's
parser and produces it, verbatim in an Avro envelope, to <prefix>.raw.<feed>;
lines that fail go to <prefix>.rejected with the reason. Progress is logged
every few seconds. Feeds: sbs.

Transports other than file arrive with the feeds issue (tcp, listen, http, kafka).`

func ingestCmd(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "file" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(env.Stdout, ingestSynopsis)
			return nil
		}
		return configErr("want a transport: 'contrail ingest file --feed sbs PATH...' (see 'contrail ingest --help')")
	}
	var (
		o    obsSettings
		k    kafkaSettings
		feed = ""
		loc  = time.UTC
	)
	fs := newFlagSet("ingest file", ingestSynopsis, env, &o)
	o.addListen(fs)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	fs.StringVar(&feed, "feed", feed, "feed of the input files: sbs (required)")
	fs.Var(locationValue{&loc}, "timezone", "time zone of SBS timestamps (receiver local time)")
	if err := parse(fs, env, args[1:]); err != nil {
		return err
	}
	fo := ingest.FeedOptions{Location: loc}
	if feed == "" {
		return configErr("--feed is required: the format of the input files (%v)", ingest.FeedNames())
	}
	if _, err := ingest.LookupFeed(feed, fo); err != nil {
		return &ConfigError{Err: fmt.Errorf("--feed: %w", err)}
	}
	if fs.NArg() == 0 {
		return configErr("no input files: give one or more paths after the flags")
	}
	var inputs []input
	for _, p := range fs.Args() {
		inputs = append(inputs, input{feed, p})
	}
	st, err := newStage(ctx, env, &o)
	if err != nil {
		return err
	}
	defer st.close()
	st.health.NotReady("ingest", "connecting to Kafka")
	cl, err := connectKafka(ctx, k, "ingest", st.log, st)
	if err != nil {
		return err
	}
	defer cl.Close()
	st.health.Ready("ingest")
	reg := schemas.MustRegistry()
	m := ingest.NewMetrics(st.reg)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer cancel()
		total, err := ingestFiles(gctx, cl, k, inputs, fo, reg, m, st.log)
		fmt.Fprintf(env.Stdout, "read %d, accepted %d, rejected %d\n", total.Read, total.Accepted, total.Rejected)
		return err
	})
	return g.Wait()
}
