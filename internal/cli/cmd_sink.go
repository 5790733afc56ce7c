package cli

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/contrail-atm/contrail/internal/topics"
	"github.com/contrail-atm/contrail/schemas"
)

const sinkSynopsis = `Usage: contrail sink [flags]

Consumes the raw topics of every feed, the rejected topic, the domain events,
the flight state and the processing outcomes, and writes them into the
ClickHouse tables raw_events, rejected, flight_events and positions, flights
and event_outcomes (the materialized views follow), in large batches flushed
by size and time. Offsets are committed only after ClickHouse acknowledged
every table's insert of a batch.
Run 'contrail migrate' first. Stops gracefully on SIGTERM (flush, commit,
leave the group).

'contrail sink rebuild' rebuilds the tables from the log and swaps them in
(see 'contrail sink rebuild --help').`

func sinkCmd(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 && args[0] == "rebuild" {
		return sinkRebuildCmd(ctx, env, args[1:])
	}
	var (
		o  obsSettings
		k  kafkaSettings
		c  chSettings
		s  sinkSettings
		fd = append([]string(nil), topics.DefaultFeeds...)
	)
	fs := newFlagSet("sink", sinkSynopsis, env, &o)
	o.addListen(fs)
	k.add(fs, "Kafka seed brokers, host:port[,host:port] (required)")
	c.add(fs, "127.0.0.1:9000")
	s.add(fs)
	fs.Var(&listValue{l: &fd}, "feeds", "feeds whose raw topics are read")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	st, err := newStage(ctx, env, &o)
	if err != nil {
		return err
	}
	defer st.close()
	st.health.NotReady("sink", "starting")
	conn, err := c.open(ctx, env, k.timeout, st.log)
	if err != nil {
		return err
	}
	defer conn.Close()
	cl, err := startSinkClient(ctx, k, s, fd, st.log, st)
	if err != nil {
		return err
	}
	// The writer blocks rebalances between batches; closing must allow
	// the final one (leaving the group) or Close waits forever.
	defer cl.CloseAllowingRebalance()
	w, err := newWriter(conn, cl, schemas.MustRegistry(), k, s, st)
	if err != nil {
		return err
	}
	st.health.Ready("sink")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx) })
	return g.Wait()
}
