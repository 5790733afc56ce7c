package ingest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/ingest"
	"github.com/contrail-atm/contrail/ingest/sbs"
)

func TestLookupFeedSBS(t *testing.T) {
	jst := time.FixedZone("JST", 9*60*60)
	tests := []struct {
		name    string
		opts    ingest.FeedOptions
		raw     string
		wantKey string
		wantTS  time.Time
		code    string // error code, "" for a valid line
	}{
		{"MSG keyed by ICAO", ingest.FeedOptions{},
			"MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0",
			"789252", time.Date(2022, 1, 8, 22, 42, 15, 605e6, time.UTC), ""},
		{"lower-case ICAO keyed upper-case", ingest.FeedOptions{},
			"MSG,8,111,11111,a3b1a0,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0",
			"A3B1A0", time.Date(2022, 1, 8, 22, 42, 16, 285e6, time.UTC), ""},
		{"time zone option applied", ingest.FeedOptions{Location: jst},
			"MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0",
			"789252", time.Date(2022, 1, 8, 13, 42, 15, 605e6, time.UTC), ""},
		{"no generated time", ingest.FeedOptions{},
			"MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0", "86E488", time.Time{}, ""},
		{"CLK keyed by its type", ingest.FeedOptions{},
			"CLK,,111,11111,,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605",
			"CLK", time.Date(2022, 1, 8, 22, 42, 15, 605e6, time.UTC), ""},
		{"syntax error carries its code", ingest.FeedOptions{}, "garbage", "", time.Time{}, "sbs.message_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ingest.LookupFeed("sbs", tt.opts)
			if err != nil {
				t.Fatalf("LookupFeed(sbs): %v", err)
			}
			if f.Name != "sbs" || f.Format != sbs.Format || f.FormatVersion != sbs.FormatVersion {
				t.Errorf("feed %q format %q version %q, want sbs %q %q", f.Name, f.Format, f.FormatVersion, sbs.Format, sbs.FormatVersion)
			}
			key, ts, err := f.Check([]byte(tt.raw))
			if tt.code != "" {
				var se *sbs.SyntaxError
				if !errors.As(err, &se) || se.Code != tt.code {
					t.Fatalf("Check(%q) error %v, want code %s", tt.raw, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check(%q): %v", tt.raw, err)
			}
			if key != tt.wantKey || !ts.Equal(tt.wantTS) || ts.IsZero() != tt.wantTS.IsZero() {
				t.Errorf("Check(%q) = %q, %v; want %q, %v", tt.raw, key, ts, tt.wantKey, tt.wantTS)
			}
		})
	}
}

func TestLookupFeedUnknown(t *testing.T) {
	for _, name := range []string{"nope", "", "SBS", "sbs "} {
		t.Run(name, func(t *testing.T) {
			_, err := ingest.LookupFeed(name, ingest.FeedOptions{})
			if !errors.Is(err, ingest.ErrUnknownFeed) {
				t.Fatalf("LookupFeed(%q) error %v, want one wrapping ErrUnknownFeed", name, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"`+name+`"`) {
				t.Errorf("error %q does not name the feed %q", msg, name)
			}
			for _, known := range ingest.FeedNames() {
				if !strings.Contains(msg, known) {
					t.Errorf("error %q does not list known feed %q", msg, known)
				}
			}
		})
	}
}

func TestFeedNamesResolve(t *testing.T) {
	names := ingest.FeedNames()
	if len(names) == 0 {
		t.Fatal("FeedNames() is empty")
	}
	for _, n := range names {
		if f, err := ingest.LookupFeed(n, ingest.FeedOptions{}); err != nil || f.Name != n {
			t.Errorf("LookupFeed(%q) = %q, %v; want the feed", n, f.Name, err)
		}
	}
}
