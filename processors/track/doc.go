// Package track is the pure core of the track step (ARCHITECTURE.md §4,
// step 1): per aircraft, keyed by ICAO 24-bit address, it merges SBS-1
// message types into one track, remembers the callsign, buffers positions
// until the callsign is known, discards stale updates and rejects
// implausible ones. It does no I/O: the runner in package processors feeds it
// observations and publishes its outputs.
//
// Step.Apply is a function of (State, Observation) to (State, []Output,
// error). Each aspect of a track (identity, position, velocity, altitude,
// squawk, ground) keeps the Stamp (producer timestamp, then event id) of its
// latest applied value; a strictly newer Stamp applies, anything else is
// reported Stale. Because the event id breaks timestamp ties, the winner is
// the maximum Stamp of the set, whatever the arrival order.
//
// Positions are judged for plausibility (implied ground speed at most
// Config.MaxSpeed) against the nearest earlier valid position by Stamp, not
// against whatever arrived last. The step keeps a window of positions with
// their verdicts; a late position is inserted at its place in time and the
// positions after it are judged again, so verdicts equal those of in-order
// processing. A verdict that flips is reported: Invalid{Revised: true} for a
// position recorded earlier, PositionRecorded for one that became valid.
// Hence for any permutation of the same observations the final State and the
// track history (every valid position, late ones included) are identical,
// provided no position is more than Config.Horizon late and the pending
// buffer does not overflow. A position later than Horizon (but within
// Config.LateLimit) still enters the history, recorded unjudged
// (PositionRecorded.Unjudged) since its neighbours have left the window, or
// held in the buffer while the callsign is unknown; anything else outside
// the promise is reported as Discarded.
//
// Every valid position is reported when it is judged, Buffered or
// PositionRecorded, whether the callsign is known or not: the aircraft's own
// history does not wait for identification. Every valid velocity report is
// reported too (VelocityReported), for the velocity history.
//
// An observation whose event id the step has read before (among the newest
// Config.DedupeSize of the aircraft, by producer time) is a duplicate: it
// changes nothing and is reported Discarded{Reason: ReasonDuplicate}, so
// reading the same input twice gives the state and the verdicts of reading
// it once. The set of remembered ids depends only on the observations read.
// docs/ordering.md states what the pipeline promises on top of this.
//
//	step, _ := track.New(track.Config{})
//	var st track.State
//	st, out, err := step.ApplyLine(st, line, env.ProducerTS, env.ID, nil)
package track
