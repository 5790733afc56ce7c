// Package flight is the pure core of the flight step (ARCHITECTURE.md §4,
// step 2). It is keyed by callsign (ARCID): all evidence for one callsign,
// plan messages (ADEXP, ICAO ATS), track updates from the track step and
// system events (JSON), goes to one State, which holds every flight (leg)
// of that callsign. It does no I/O, reads no clock and draws no random
// numbers: the runner in package processors feeds it Inputs and publishes
// the schemas.DomainEvent values it returns (filling EmittedTS).
//
// # Correlation and GUFIs
//
// A plan message names its flight by GUFI (route amendments), by IFPLID, or
// by ADEP and ADES with the nearest EOBT of any message of the flight within
// Config.PlanMatch (a DLA carries the revised EOBT; DEP and ARR carry actual
// times instead and match the latest EOBT before them). A plan that matches
// no flight attaches to a flight no filing names yet (track-only) whose
// first evidence lies in its window (EOBT-Before .. EOBT+After), an ARR to
// the unfiled track its arrival time ends; else a filing (IFPL, FPL) starts
// a flight, and any other message (DEP, ARR, CHG, DLA, CNL arriving before
// its filing) is held in State.Pending (OutcomeBuffered) and applied as
// soon as its flight exists. A held message founds a flight only when it is
// older than Config.Retention behind the newest input or the buffer
// (Config.MaxPending) overflows. Track
// evidence joins the flight whose track segment (first to last track
// evidence, departure and landing included) is within Config.LegGap of it,
// unless that flight landed more than LegGap before; else a plan flight
// without track whose EOBT window holds it (the latest EOBT wins); else it
// starts a track-only flight. So the same callsign flying two legs is two
// flights, and a plan arriving after its track joins the track's flight.
// Flights are never merged and evidence is never moved between flights:
// one flight never gets a second GUFI and a GUFI never covers two flights.
//
// A GUFI is the callsign and a hash of the flight's anchor, the identity
// evidence it was created from: "P/" and the composite key
// ADEP/EOBD/EOBT/ARCID/ADES of a plan message, or "T/" and the stamp of the
// first track evidence. Replaying the same input in the same order gives
// the same GUFIs; a flight first seen through its IFPL gets the same GUFI
// in any order. Its GUFI value does depend on order when the first evidence
// to arrive is a track or a DLA (revised EOBT): then the anchor differs.
//
// # Ordering
//
// Every piece of evidence carries a Stamp (producer timestamp, then event
// id). Each aspect of a flight (plan, position, squawk, status, alert,
// altitude, velocity, ground) keeps its newest Stamp; a strictly newer one applies, an older one is
// reported OutcomeStale with its lateness, a tie is broken by event id. The
// plan messages of a flight are kept (up to Config.MaxPlanMessages, older
// ones folded into a base) and folded in Stamp order on every change, which
// makes the plan per-field newest-wins and the invariant verdicts a function
// of the set of messages: a late message that changes an earlier verdict
// emits the violation (or the event) that verdict now implies. Lifecycle
// (PLANNED, AIRBORNE, LANDED, CANCELLED) is derived from facts (cancel,
// departure time, landing time), not from transitions.
//
// What holds under permutation, and what does not:
//
//   - The plan of each flight, its verdicts, lifecycle, last position,
//     squawk and emergency episodes, and the position history (the set of
//     PositionReported minus revoked positions) are the same for any arrival
//     order of the same evidence, given the same partition into flights.
//   - The partition into flights is the same for any order of the plan
//     messages (they may arrive all before, all after, or shuffled through
//     the surveillance, DEP and ARR before their filing included) as long as
//     track evidence arrives no more than a lateness horizon late, where the
//     horizon is shorter than LegGap minus the spacing of track evidence.
//     TestPermutationsConverge checks 50 deliveries of a simulated day with
//     every input up to 10 minutes late; TestFeedOrderConverges the plan
//     feed before, after, and 50 times shuffled through surveillance that
//     is up to 10 minutes late. Beyond the horizon, a leg's track seen in
//     pieces hours apart can split into two flights or attach to the wrong
//     plan; neither is ever repaired by a merge.
//   - Emergency episodes are exact for squawks at most Config.Horizon late.
//   - GUFI values: see above. Tests compare flights with GUFIs normalised.
//   - Duplicates: plan messages are recognised exactly; track and alert
//     evidence against the newest Config.RecentSize stamps of the flight.
//     An older redelivered position is reported stale and its
//     PositionReported emitted again, which the idempotent positions view
//     absorbs.
//   - Movements: FlightDeparted needs evidence (a DEP message, an on-ground
//     report before the first airborne position, a first airborne position
//     below Config.LowAltitudeFt); without it a flight first seen airborne
//     gets EnteredCoverage. The choice waits until the track reaches
//     Config.DecisionDelay past the first airborne position, so evidence
//     up to that late does not change it. Movement events have one id per
//     flight and name their evidence as cause and time; they are emitted
//     again under that id when their aerodrome or time changes (a plan
//     correlating after the track), so the latest of them is the same in
//     any order.
//   - Alerts naming two flights are raised on both, each naming the other's
//     GUFI, through an exchange between the two callsigns' owners
//     (AlertRole).
//   - Other events: the same events happen, but their content may differ
//     with the order (a FlightPlanChanged lists the fields changed relative
//     to the plan known at the time).
//
// docs/ordering.md states what the pipeline promises on top of this.
//
// # Invariants
//
// Given/When/Shall rules, each with its test, are listed in
// docs/invariants.md: dest_change_star, cancelled_no_update,
// landed_no_airborne, emergency_once_per_episode, arrival_after_departure,
// departed_adep_fixed, no_cancel_after_departure. A violation emits
// INVARIANT_VIOLATED with the rule, a detail naming the rule and the prior
// state, and the rejected event id; the input's Result is
// OutcomeInvariantViolated.
//
// # State
//
// State.AppendBinary and UnmarshalBinary are the changelog encoding:
// versioned by a leading format byte, varints and length-prefixed strings
// written once and referenced after; about 800 bytes per flight on a
// simulated day (BenchmarkEncode). Finished flights are evicted Retention
// after the callsign's newest input, and at most MaxFlights are kept.
//
//	step, _ := flight.New(flight.Config{Stars: stars})
//	var st flight.State
//	in, err := flight.FromEnvelope(env) // plan or json envelope
//	st, events, res, err := step.Apply(st, in, nil)
package flight
