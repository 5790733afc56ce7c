// Package processors holds Contrail's keyed, stateful processing steps
// (ARCHITECTURE.md §4). Each step is split in two:
//
//   - a pure per-key core, one sub-package per step, that derives the next
//     state of one key from its current state and one input, as a function
//     (state, input) -> (state, outputs, error) with no Kafka, no clock and
//     no I/O, so order-independence and invariants are tested exhaustively;
//   - a runtime, in this package, that runs the cores as
//     consume-transform-produce loops with Kafka transactions, with
//     per-partition state stores restored from compacted changelog topics.
//
// Layout:
//
//	processors/track   track step core, keyed by ICAO address: merges SBS
//	                   message types into tracks, per-aspect ordering by
//	                   producer timestamp, callsign buffer, plausibility
//	                   (present)
//	processors/flight  flight step core, keyed by callsign: GUFIs, the flight
//	                   aggregate and its invariants (to come)
//	processors         the transactional runtime and state stores (to come)
//
// Until the runtime lands, raw envelopes go straight from the raw topics to
// the ClickHouse sink.
package processors
