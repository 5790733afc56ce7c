// Package runtime runs keyed, stateful processor steps as
// consume-transform-produce loops with Kafka transactions (ARCHITECTURE.md
// §4): the outputs of a batch, the state snapshots it wrote and the input
// offsets it consumed commit atomically, and every consumer reads
// read_committed, so each input record is applied exactly once to the
// outputs as seen by downstream readers.
//
// # State
//
// The state of a step is kept per key, and the key is the input record's key.
// Keys are owned by the input partition they hash to, so each partition of the
// stateful input topic has its own in-memory store. The store is backed by a
// compacted changelog topic with the same partition count: partition p of the
// changelog holds snapshots of the keys of input partition p.
//
// A key is snapshotted after Config.SnapshotEvery applied records and at
// every checkpoint; each snapshot carries the input offset it covers (the next
// offset to read, so every record of that key before it is in the snapshot).
// A checkpoint, every Config.CheckpointEvery records or Config.CheckpointInterval
// and at shutdown, snapshots every key changed since its last snapshot and
// then writes a checkpoint marker holding the covered offset: at that point
// the changelog alone describes every key.
//
// Restore happens when a partition's first records arrive after assignment:
// read the changelog partition (latest snapshot per key, kept as bytes and
// decoded on first use), then replay the input from the last checkpoint to
// the group's committed offset, applying to each key only the records its
// snapshot does not cover, with outputs suppressed (they were committed
// already). A restore therefore reads the snapshots plus at most one
// checkpoint interval of input; it never scans the whole history of a key.
//
// # Rebalances and failures
//
// A transaction that cannot commit (a rebalance revoked partitions, a fenced
// producer, a produce error) is aborted; franz-go rewinds the consumer to the
// committed offsets, and the runner drops every in-memory store, so the next
// batch restores them from the changelog. In-memory state therefore never
// holds effects of an aborted transaction. Partitions revoked or lost between
// batches have their stores dropped before the next batch.
//
// Steps must be deterministic: the state a record produces may depend only on
// the prior state and the record, never on the wall clock or arrival timing,
// because restore re-derives state by replaying input.
package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Step is the transformation a Runner applies, record by record.
type Step[S any] interface {
	// Process applies one record of the stateful input topic to the state
	// of its key (nil when the key has none) and returns the new state
	// (nil deletes the key). It emits outputs through c. It must not
	// keep st after returning a different value. An error stops the runner:
	// bad input is not an error, it is an output (a rejected record).
	Process(c *Context, r *kgo.Record, st *S) (*S, error)
	// Route handles a record of a stateless input topic (one that is not
	// Config.StateTopic), for example by re-keying it to a repartition
	// topic.
	Route(c *Context, r *kgo.Record) error
	// AppendState encodes one key's state for the changelog.
	AppendState(b []byte, st *S) ([]byte, error)
	// DecodeState decodes what AppendState wrote.
	DecodeState(b []byte) (*S, error)
}

// BatchEnder is implemented by steps that emit once per transaction rather
// than per record, such as coalesced snapshots of what the batch changed.
// EndBatch is called after the batch's last record and before the commit,
// never during a restore replay. If the transaction then aborts, the step
// must not carry what it collected over: EndBatch is where it resets.
type BatchEnder interface {
	EndBatch(c *Context) error
}

// ErrOutput is wrapped by a Step's error when it cannot produce an output
// for a record (an encoding failure, a value its schema cannot hold): the
// record is not bad input the step could judge, and committing the
// transaction without the output would lose it. The runner aborts the
// transaction and, when the record is delivered again, hands it to the
// step's Quarantine (Quarantiner) instead of Process: the rest of the batch
// goes through and the record ends where the step puts it (the rejected
// topic) with the reason. Without a Quarantiner the error stops the runner.
var ErrOutput = errors.New("output cannot be produced")

// Quarantiner is implemented by steps that can set aside a record whose
// outputs could not be produced (see ErrOutput). Quarantine is called in
// place of Process or Route for that record, with the error it caused; the
// record's key keeps its state. A record is quarantined only by the
// instance that saw it fail: after a crash, a restore replay applies it to
// the state like any other (without outputs), and the live run fails on it
// and quarantines it again.
type Quarantiner interface {
	Quarantine(c *Context, rec *kgo.Record, cause error) error
}

// Config describes one runner. Zero values of the tuning fields take the
// documented defaults.
type Config struct {
	// Name of the step ("track", "flight"): labels metrics and logs.
	Name string
	// Group is the consumer group; TransactionalID the producer's
	// transactional id, unique per running instance.
	Group, TransactionalID string
	// InstanceID, when set, makes the runner a static group member
	// (KIP-345): restarted with the same id after a crash, it gets its
	// partitions back at once instead of after the session timeout. Two
	// running instances must never share one.
	InstanceID string
	// Inputs are every topic consumed; StateTopic, one of them, is the one
	// whose partitions own state ("" for a stateless runner).
	Inputs     []string
	StateTopic string
	// Changelog is the compacted topic holding the state of StateTopic,
	// with the same number of partitions.
	Changelog string
	// ClientOpts configure the transactional session (brokers, TLS, SASL,
	// metrics hooks); ReaderOpts the plain client that reads the changelog
	// and replays input during restore (the same without metrics hooks).
	ClientOpts, ReaderOpts []kgo.Opt
	// SnapshotEvery snapshots a key after this many applied records.
	// Default 100.
	SnapshotEvery int
	// CheckpointEvery and CheckpointInterval bound how much input a
	// restore replays. Defaults 50000 records and 30s per partition.
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// MaxPollRecords bounds one transaction's input. Default 20000.
	MaxPollRecords int
	// Log receives lifecycle messages; Metrics may be nil.
	Log     *slog.Logger
	Metrics *Metrics
	// Health, if set, is told when the runner starts restoring a
	// partition's state (ok=false, with the reason) and when it is
	// processing again.
	Health func(ok bool, reason string)
}

func (c Config) withDefaults() Config {
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = 100
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = 50_000
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = 30 * time.Second
	}
	if c.MaxPollRecords <= 0 {
		c.MaxPollRecords = 20_000
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a configuration the runner cannot use.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("runtime: Config.Name is required")
	case c.Group == "":
		return errors.New("runtime: Config.Group is required")
	case c.TransactionalID == "":
		return errors.New("runtime: Config.TransactionalID is required")
	case len(c.Inputs) == 0:
		return errors.New("runtime: Config.Inputs is empty")
	case c.StateTopic != "" && c.Changelog == "":
		return errors.New("runtime: a StateTopic needs a Changelog")
	}
	if c.StateTopic != "" && !slices.Contains(c.Inputs, c.StateTopic) {
		return fmt.Errorf("runtime: StateTopic %s is not among the Inputs", c.StateTopic)
	}
	return nil
}

// Context is what a Step sees of the runner while it handles one record.
type Context struct {
	replay    bool
	now       time.Time
	out       []*kgo.Record
	Topic     string
	Partition int32
	Offset    int64
}

// Emit queues an output record for the current transaction. During a
// restore replay it does nothing: those outputs were committed before.
func (c *Context) Emit(r *kgo.Record) {
	if !c.replay {
		c.out = append(c.out, r)
	}
}

// Replaying reports whether the record is being replayed to restore state,
// so a step can skip work whose only purpose is output.
func (c *Context) Replaying() bool { return c.replay }

// Now is the processing time of the batch, for output fields such as an
// emitted timestamp. State must not depend on it.
func (c *Context) Now() time.Time { return c.now }

// Changelog keys: a key's snapshot is stateKeyPrefix and the key, a
// partition's checkpoint marker is checkpointKey, so no input key, however
// odd, can be taken for the marker.
const (
	stateKeyPrefix = "s:"
	checkpointKey  = "c:"
)

// entry is one key's state in a store. A restored entry keeps its snapshot
// bytes until first use, so restoring many keys costs little more than
// reading them.
type entry[S any] struct {
	st      *S
	raw     []byte // snapshot bytes not decoded yet
	cover   int64  // input offset the changelog's snapshot covers
	pending int    // records applied since the last snapshot
	dirty   bool   // changed since the last snapshot
}

// store is the state of one input partition.
type store[S any] struct {
	keys      map[string]*entry[S]
	dirty     map[string]struct{}
	next      int64 // next input offset to process
	sinceCP   int
	lastCP    time.Time
	sizeBytes int64
}

// Runner runs one Step.
type Runner[S any] struct {
	cfg    Config
	step   Step[S]
	adm    *kadm.Client
	sess   *kgo.GroupTransactSession
	log    *slog.Logger
	m      *stepMetrics
	mu     sync.Mutex
	drop   map[int32]bool // partitions revoked or lost since the last batch
	dropA  bool           // drop every store
	stores map[int32]*store[S]
	// poison holds the records whose outputs could not be produced, by
	// topic/partition@offset, with the error: see ErrOutput.
	poison map[string]error
}

func recordRef(topic string, partition int32, offset int64) string {
	return fmt.Sprintf("%s/%d@%d", topic, partition, offset)
}

// quarantined hands rec to the step's Quarantine when it failed to
// produce outputs before; ok is false for any other record.
func (r *Runner[S]) quarantined(c *Context, rec *kgo.Record) (ok bool, err error) {
	if len(r.poison) == 0 || c.replay {
		return false, nil
	}
	ref := recordRef(rec.Topic, rec.Partition, rec.Offset)
	cause, ok := r.poison[ref]
	if !ok {
		return false, nil
	}
	delete(r.poison, ref)
	r.log.Warn("record quarantined: its outputs could not be produced", "record", ref, "err", cause)
	return true, r.step.(Quarantiner).Quarantine(c, rec, cause)
}

// New builds a runner; Run starts it. adm is used to look up committed
// offsets and log ends during restore.
func New[S any](cfg Config, step Step[S], adm *kadm.Client) (*Runner[S], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &Runner[S]{cfg: cfg, step: step, adm: adm, log: cfg.Log.With("step", cfg.Name),
		drop: map[int32]bool{}, stores: map[int32]*store[S]{}, poison: map[string]error{}}
	r.m = cfg.Metrics.forStep(cfg.Name)
	opts := append([]kgo.Opt{}, cfg.ClientOpts...)
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Inputs...),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(changelogPartitioner{changelog: cfg.Changelog, def: kgo.StickyKeyPartitioner(nil)}),
		kgo.SessionTimeout(10*time.Second),
		kgo.TransactionTimeout(60*time.Second),
		kgo.OnPartitionsRevoked(r.lose),
		kgo.OnPartitionsLost(r.lose),
	)
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("create transactional session for step %s: %w", cfg.Name, err)
	}
	r.sess = sess
	return r, nil
}

// lose marks partitions whose stores must go: another instance owns them now.
func (r *Runner[S]) lose(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range m[r.cfg.StateTopic] {
		r.drop[p] = true
	}
}

// changelogPartitioner sends changelog records to the partition the runner
// chose (the input partition whose state they hold) and hashes keys for
// every other topic.
type changelogPartitioner struct {
	changelog string
	def       kgo.Partitioner
}

func (p changelogPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	if t == p.changelog {
		return kgo.ManualPartitioner().ForTopic(t)
	}
	return p.def.ForTopic(t)
}

// Run processes until ctx ends or a fatal error. On the way out it writes a
// final checkpoint of every owned partition and leaves the group.
func (r *Runner[S]) Run(ctx context.Context) (err error) {
	defer func() {
		r.sess.Close()
	}()
	r.log.Info("processor step starting", "inputs", r.cfg.Inputs, "group", r.cfg.Group)
	for {
		fetches := r.sess.PollRecords(ctx, r.cfg.MaxPollRecords)
		if ctx.Err() != nil {
			// Records polled are already counted as consumed: process
			// them, or the final checkpoint would commit past them.
			if n := fetches.NumRecords(); n > 0 {
				fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := r.batch(fctx, fetches)
				cancel()
				if err != nil {
					return err
				}
			}
			return r.shutdown()
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			for _, fe := range errs {
				if errors.Is(fe.Err, context.Canceled) {
					return r.shutdown()
				}
				if errors.Is(fe.Err, kgo.ErrClientClosed) {
					return nil
				}
				r.log.Warn("fetch error", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
			}
		}
		if fetches.Empty() {
			continue
		}
		if err := r.batch(ctx, fetches); err != nil {
			if ctx.Err() != nil {
				return r.shutdown()
			}
			return err
		}
	}
}

// batch runs one transaction over the polled records.
func (r *Runner[S]) batch(ctx context.Context, fetches kgo.Fetches) error {
	r.applyDrops()
	if err := r.sess.Begin(); err != nil {
		return fmt.Errorf("step %s: begin transaction: %w", r.cfg.Name, err)
	}
	start := time.Now()
	c := &Context{now: start}
	var in int
	var procErr error
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if procErr != nil || len(fp.Records) == 0 {
			return
		}
		in += len(fp.Records)
		if fp.Topic != r.cfg.StateTopic {
			for _, rec := range fp.Records {
				c.Topic, c.Partition, c.Offset = rec.Topic, rec.Partition, rec.Offset
				if procErr = r.route(c, rec); procErr != nil {
					return
				}
			}
			return
		}
		st, err := r.storeFor(ctx, fp.Partition, fp.Records[0].Offset)
		if err != nil {
			procErr = err
			return
		}
		for _, rec := range fp.Records {
			c.Topic, c.Partition, c.Offset = rec.Topic, rec.Partition, rec.Offset
			if procErr = r.apply(c, st, rec); procErr != nil {
				return
			}
			st.next = rec.Offset + 1
			st.sinceCP++
		}
		procErr = r.snapshots(c, fp.Partition, st, start)
	})
	if be, ok := r.step.(BatchEnder); ok && procErr == nil {
		c.Topic = "" // no one record to blame: see ErrOutput
		procErr = be.EndBatch(c)
	}
	if procErr != nil {
		r.abort(ctx)
		if _, ok := r.step.(Quarantiner); ok && errors.Is(procErr, ErrOutput) && c.Topic != "" {
			ref := recordRef(c.Topic, c.Partition, c.Offset)
			if _, again := r.poison[ref]; !again {
				// Aborted: the consumer rewinds and the record comes again.
				r.log.Warn("transaction aborted: a record's outputs could not be produced; it is quarantined when delivered again",
					"record", ref, "err", procErr)
				r.poison[ref] = procErr
				return nil
			}
		}
		return procErr
	}
	r.m.observeIn(in)
	return r.commit(ctx, c.out, start)
}

// route calls Step.Route, turning a panic into an error naming the record.
func (r *Runner[S]) route(c *Context, rec *kgo.Record) (err error) {
	defer r.recoverInto(&err, rec)
	if ok, err := r.quarantined(c, rec); ok {
		return err
	}
	return r.step.Route(c, rec)
}

func (r *Runner[S]) recoverInto(err *error, rec *kgo.Record) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("step %s panicked on %s/%d@%d: %v\n%s", r.cfg.Name, rec.Topic, rec.Partition, rec.Offset, p, debug.Stack())
	}
}

// apply runs Step.Process for one record of the state topic against its key.
func (r *Runner[S]) apply(c *Context, st *store[S], rec *kgo.Record) (err error) {
	defer r.recoverInto(&err, rec)
	key := string(rec.Key)
	e := st.keys[key]
	if e == nil {
		e = &entry[S]{}
		st.keys[key] = e
	}
	if c.replay && rec.Offset < e.cover {
		return nil // the snapshot already includes it
	}
	if ok, err := r.quarantined(c, rec); ok {
		return err
	}
	if e.raw != nil {
		if e.st, err = r.step.DecodeState(e.raw); err != nil {
			return fmt.Errorf("step %s: decode state of key %q from %s: %w", r.cfg.Name, key, r.cfg.Changelog, err)
		}
		st.sizeBytes -= int64(len(e.raw))
		e.raw = nil
	}
	ns, err := r.step.Process(c, rec, e.st)
	if err != nil {
		return fmt.Errorf("step %s: process %s/%d@%d: %w", r.cfg.Name, rec.Topic, rec.Partition, rec.Offset, err)
	}
	e.st = ns
	e.pending++
	if !e.dirty {
		e.dirty = true
		st.dirty[key] = struct{}{}
	}
	return nil
}

// snapshots writes the snapshots a partition owes after a batch: keys past
// SnapshotEvery, or every dirty key and a checkpoint marker when the
// checkpoint is due.
func (r *Runner[S]) snapshots(c *Context, p int32, st *store[S], now time.Time) error {
	cp := st.sinceCP >= r.cfg.CheckpointEvery || now.Sub(st.lastCP) >= r.cfg.CheckpointInterval
	return r.writeSnapshots(c, p, st, cp, now)
}

func (r *Runner[S]) writeSnapshots(c *Context, p int32, st *store[S], checkpoint bool, now time.Time) error {
	for key := range st.dirty {
		e := st.keys[key]
		if !checkpoint && e.pending < r.cfg.SnapshotEvery {
			continue
		}
		val := binary.BigEndian.AppendUint64(make([]byte, 0, 64), uint64(st.next))
		if e.st != nil {
			var err error
			if val, err = r.step.AppendState(val, e.st); err != nil {
				return fmt.Errorf("step %s: encode state of key %q: %w", r.cfg.Name, key, err)
			}
		} else {
			delete(st.keys, key)
		}
		c.Emit(&kgo.Record{Topic: r.cfg.Changelog, Partition: p, Key: []byte(stateKeyPrefix + key), Value: val})
		e.cover, e.pending, e.dirty = st.next, 0, false
		delete(st.dirty, key)
		r.m.snapshot(len(val))
	}
	if checkpoint {
		c.Emit(&kgo.Record{Topic: r.cfg.Changelog, Partition: p, Key: []byte(checkpointKey),
			Value: binary.BigEndian.AppendUint64(nil, uint64(st.next))})
		st.sinceCP, st.lastCP = 0, now
	}
	return nil
}

// commit produces the batch's outputs and ends the transaction. A
// transaction that could not commit drops every store: they may hold its
// effects.
func (r *Runner[S]) commit(ctx context.Context, out []*kgo.Record, start time.Time) error {
	var (
		mu      sync.Mutex
		prodErr error
	)
	for _, rec := range out {
		r.sess.Produce(ctx, rec, func(rec *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if prodErr == nil {
					prodErr = fmt.Errorf("produce to %s: %w", rec.Topic, err)
				}
				mu.Unlock()
			}
		})
	}
	endStart := time.Now()
	committed, err := r.sess.End(ctx, kgo.TryCommit)
	r.m.observeCommit(time.Since(endStart), committed)
	mu.Lock()
	pe := prodErr
	mu.Unlock()
	switch {
	case err != nil:
		r.dropAll()
		return fmt.Errorf("step %s: end transaction: %w", r.cfg.Name, err)
	case pe != nil:
		r.dropAll()
		return fmt.Errorf("step %s: %w", r.cfg.Name, pe)
	case !committed:
		r.log.Info("transaction aborted (rebalance); state will be restored from the changelog")
		r.dropAll()
		return nil
	}
	r.m.observeOut(len(out), time.Since(start))
	r.reportSize()
	return nil
}

func (r *Runner[S]) abort(ctx context.Context) {
	if _, err := r.sess.End(ctx, kgo.TryAbort); err != nil {
		r.log.Warn("abort transaction", "err", err)
	}
	r.dropAll()
}

func (r *Runner[S]) dropAll() {
	r.mu.Lock()
	r.dropA = true
	r.mu.Unlock()
}

func (r *Runner[S]) applyDrops() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dropA {
		clear(r.stores)
		r.dropA = false
	}
	for p := range r.drop {
		delete(r.stores, p)
	}
	clear(r.drop)
}

func (r *Runner[S]) reportSize() {
	var keys, bytes int64
	for _, st := range r.stores {
		keys += int64(len(st.keys))
		bytes += st.sizeBytes
	}
	r.m.size(keys, bytes)
}

// shutdown writes a final checkpoint of every owned partition in one last
// transaction, so the next owner restores without replaying input.
func (r *Runner[S]) shutdown() error {
	r.applyDrops()
	if len(r.stores) == 0 {
		r.log.Info("processor step stopped")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := r.sess.Begin(); err != nil {
		return fmt.Errorf("step %s: begin final checkpoint: %w", r.cfg.Name, err)
	}
	c := &Context{now: time.Now()}
	for p, st := range r.stores {
		if err := r.writeSnapshots(c, p, st, true, c.now); err != nil {
			r.abort(ctx)
			return err
		}
	}
	if err := r.commit(ctx, c.out, c.now); err != nil {
		return fmt.Errorf("final checkpoint: %w", err)
	}
	r.log.Info("processor step stopped after a final checkpoint", "partitions", len(r.stores), "records", len(c.out))
	return nil
}
