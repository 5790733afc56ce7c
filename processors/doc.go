// Package processors will hold the keyed, stateful runtime of Contrail's
// processing steps: consume-transform-produce loops with Kafka transactions,
// per-partition state stores restored from compacted changelog topics, and one
// sub-package per step (track, flight). See ARCHITECTURE.md §4.
//
// The walking skeleton has no processing step yet: raw envelopes go straight
// from the raw topics to the ClickHouse sink. The processors issue fills this
// package in; the directory exists now so the tree already reads as the
// pipeline: ingest/ -> processors/ -> sinks/.
package processors
