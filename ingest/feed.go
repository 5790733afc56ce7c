// Package ingest runs the ingest adapters: it reads records from a source (a
// file now; TCP, HTTP and Kafka landing topics later), checks each record's
// syntax with its feed's parser, wraps it verbatim in an Avro envelope and
// produces it to the feed's raw topic. A record that fails the check goes to
// the rejected topic with its reason; nothing is dropped silently, so for every
// run: records read = accepted + rejected.
//
// The feed parsers live in one package per format under ingest/ (ingest/sbs).
package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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
}

// FeedOptions configure the parsers.
type FeedOptions struct {
	// Location is the SBS feed's time zone. Default UTC.
	Location *time.Location
}

// ErrUnknownFeed is returned by LookupFeed for a feed name no parser handles.
var ErrUnknownFeed = errors.New("unknown feed")

// FeedNames are the feeds this binary can ingest.
func FeedNames() []string { return []string{"sbs"} }

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
