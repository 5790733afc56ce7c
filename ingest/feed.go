// Package ingest runs the ingest adapters: it reads records from a source,
// checks each record's syntax with its feed's parser, wraps it verbatim in an
// Avro envelope and produces it to the feed's raw topic. A record that fails
// the check goes to the rejected topic with its reason; nothing is dropped
// silently, so for every run: records read = accepted + rejected.
//
// Sources, one file per transport, all framed by the feed's split function
// (Feed.Split; lines when nil) and bounded by MaxRecordBytes:
//
//   - FileSource: a file, replayed as fast as possible or paced by a Pacer;
//     RecordingSource: a JSON Lines recording with original receipt times.
//   - TCPClient: a feed server such as dump1090's port 30003, re-dialled with
//     backoff when the connection ends.
//   - TCPListener: many producers connecting to us, merged.
//   - HTTPHandler: batches POSTed to /v1/ingest/{feed}, answered after Kafka
//     acknowledged them (Adapter.IngestBatch).
//   - Landing: a landing topic written by any Kafka producer, committed after
//     the envelopes are acknowledged.
//
// Back-pressure is end to end: the adapter blocks in Produce when the Kafka
// client's buffer is full, and every source reads only when asked, through
// bounded buffers, so a slow Kafka slows the feed instead of growing memory.
//
// The feed parsers live in one package per format under ingest/ (ingest/sbs).
package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/contrail-atm/contrail/ingest/adexp"
	"github.com/contrail-atm/contrail/ingest/ats"
	"github.com/contrail-atm/contrail/ingest/events"
	"github.com/contrail-atm/contrail/ingest/sbs"
)

// Feed is one external format as the adapter sees it.
type Feed struct {
	Name          string
	Format        string
	FormatVersion string
	// Check validates the syntax of one record and returns its key and
	// producer timestamp (zero when the record carries none). It must not
	// modify or retain raw.
	Check func(raw []byte) (key string, ts time.Time, err error)
	// Split frames the feed's byte streams (files, TCP connections, HTTP
	// bodies) into records, e.g. adexp.Split for messages spanning lines.
	// nil means SplitLines: LF or CRLF terminated lines, the terminator
	// stripped. Landing-topic records are records already and are not split.
	Split bufio.SplitFunc
}

// SplitFunc is the feed's framing: Split, or SplitLines when Split is nil.
func (f Feed) SplitFunc() bufio.SplitFunc {
	if f.Split == nil {
		return SplitLines
	}
	return f.Split
}

// FeedOptions configure the parsers.
type FeedOptions struct {
	// Location is the SBS feed's time zone. Default UTC.
	Location *time.Location
}

// ErrUnknownFeed is returned by LookupFeed for a feed name no parser handles.
var ErrUnknownFeed = errors.New("unknown feed")

// FeedNames are the feeds this binary can ingest.
func FeedNames() []string { return []string{"sbs", "adexp", "ats", "json"} }

// LookupFeed returns the feed called name.
func LookupFeed(name string, o FeedOptions) (Feed, error) {
	switch name {
	case "sbs":
		p := sbs.Parser{Location: o.Location}
		return Feed{
			Name: "sbs", Format: sbs.Format, FormatVersion: sbs.FormatVersion,
			Check: func(raw []byte) (string, time.Time, error) {
				m, err := p.Parse(raw)
				if err != nil {
					return "", time.Time{}, err
				}
				key := m.ICAO
				if key == "" {
					key = m.Type
				}
				return key, m.Generated, nil
			},
		}, nil
	case "adexp":
		return Feed{Name: "adexp", Format: adexp.Format, FormatVersion: adexp.FormatVersion,
			Check: adexp.Parser{}.Check, Split: adexp.Split}, nil
	case "ats":
		return Feed{Name: "ats", Format: ats.Format, FormatVersion: ats.FormatVersion,
			Check: ats.Parser{}.Check, Split: ats.Split}, nil
	case "json":
		// JSON system events arrive one document per line (JSON Lines).
		return Feed{Name: "json", Format: events.Format, FormatVersion: events.FormatVersion,
			Check: events.Parser{}.Check}, nil
	}
	names := FeedNames()
	slices.Sort(names)
	return Feed{}, fmt.Errorf("%w %q: known feeds are %s", ErrUnknownFeed, name, strings.Join(names, ", "))
}

// reasonCoder is implemented by every feed parser's syntax error, so the
// adapter records a machine-readable reason without knowing the parser.
type reasonCoder interface{ ReasonCode() string }

// reasonCode extracts a machine-readable code from a parser error.
func reasonCode(err error) string {
	var rc reasonCoder
	if errors.As(err, &rc) {
		return rc.ReasonCode()
	}
	return "syntax"
}
