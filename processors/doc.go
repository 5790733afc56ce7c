// Package processors holds Contrail's keyed, stateful processing steps
// (ARCHITECTURE.md §4). It has no code of its own: each part is a
// sub-package, and every step is split in two.
//
//   - A pure per-key core derives the next state of one key from its
//     current state and one input, as a function (state, input) -> (state,
//     outputs, error), with no Kafka, no clock and no I/O, so
//     order-independence and the invariants are tested exhaustively.
//   - The runtime runs the cores as consume-transform-produce loops with
//     Kafka transactions, with per-partition state stores restored from
//     compacted changelog topics.
//
// Layout:
//
//	processors/runtime   the transactional runner: read_committed input,
//	                     outputs + state snapshots + consumed offsets in one
//	                     transaction, per-partition in-memory stores,
//	                     snapshots every SnapshotEvery records per key,
//	                     checkpoints every CheckpointEvery records, restore
//	                     from the changelog plus the input since the last
//	                     checkpoint, the contrail_processor_* metrics
//	processors/topology  wires the cores onto the runtime with Contrail's
//	                     topics: the track step (raw SBS, keyed by ICAO
//	                     address, plus the re-keying of plan and system-event
//	                     envelopes by callsign) writes <prefix>.flights.input;
//	                     the flight step reads it and writes
//	                     <prefix>.flights.events and <prefix>.flights.state;
//	                     both write <prefix>.outcomes (verdicts other than
//	                     applied) and <prefix>.rejected
//	processors/track     track step core, keyed by ICAO address: merges SBS
//	                     message types into tracks, per-aspect ordering by
//	                     producer timestamp, callsign buffer, plausibility
//	processors/flight    flight step core, keyed by callsign: correlation
//	                     of plans and tracks into flights, GUFIs, the flight
//	                     aggregate, the Given/When/Shall invariants
//	                     (docs/invariants.md), STAR reference data
//	processors/order     the ordering rule both cores apply: producer
//	                     timestamp, then event id (Stamp)
//
// `contrail process` (internal/cli) runs both steps; `contrail run` runs them
// together with ingest and the ClickHouse sink, and `contrail replay
// --reprocess` runs them over a copy of the raw log. Each package's doc says
// what its guarantees are: runtime (exactly-once into Kafka, restore),
// track and flight (what holds under any permutation of the input).
package processors
