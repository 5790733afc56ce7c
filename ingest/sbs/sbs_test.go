package sbs_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Tokyo must load on hosts without a zoneinfo database

	"github.com/contrail-atm/contrail/ingest/sbs"
)

// Real lines from /work/shared/data/sbs/coniferconifer-20220108-part1.sbs
// (dump1090, western Japan, 2022-01-08), without their CRLF. The capture has
// no MSG,2 (surface position); that line is made up in the same shape.
const (
	lineMSG1 = "MSG,1,111,11111,789252,111111,2022/01/08,22:42:16.984,2022/01/08,22:42:16.942,AHK209  ,,,,,,,,,,,0"
	lineMSG2 = "MSG,2,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,0,12,180,34.43697,136.04449,,,,,,-1"
	lineMSG3 = "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0"
	lineMSG4 = "MSG,4,111,11111,789252,111111,2022/01/08,22:42:15.384,2022/01/08,22:42:15.368,,,387,248,,,0,,,,,0"
	lineMSG5 = "MSG,5,111,11111,789252,111111,2022/01/08,22:42:15.901,2022/01/08,22:42:15.892,,28000,,,,,,,0,,0,0"
	lineMSG6 = "MSG,6,111,11111,789252,111111,2022/01/08,22:42:17.110,2022/01/08,22:42:17.073,,,,,,,,3276,0,0,0,0"
	lineMSG7 = "MSG,7,111,11111,789252,111111,2022/01/08,22:42:30.953,2022/01/08,22:42:30.902,,28000,,,,,,,,,,0"
	lineMSG8 = "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0"
	// MSG,7 with the all-zero address and no trailing ground flag, as in the capture.
	lineMSG7Zero = "MSG,7,111,11111,000000,111111,2022/01/08,23:18:58.433,2022/01/08,23:18:58.437,,,,,,,,,,,,"
	lineLast     = "MSG,4,111,11111,A3B1A0,111111,2022/01/08,23:41:59.967,2022/01/08,23:41:59.940,,,373,253,,,0,,,,,0"
)

func ms(y int, mo time.Month, d, h, mi, s, milli int, loc *time.Location) time.Time {
	return time.Date(y, mo, d, h, mi, s, milli*int(time.Millisecond), loc)
}

func TestParseValid(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatalf("load Asia/Tokyo: %v", err)
	}
	tests := []struct {
		name string
		loc  *time.Location
		line string
		want sbs.Message
	}{
		{"MSG 1 identification", nil, lineMSG1, sbs.Message{Type: "MSG", TransmissionType: 1, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 16, 984, time.UTC)}},
		{"MSG 2 surface position", nil, lineMSG2, sbs.Message{Type: "MSG", TransmissionType: 2, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"MSG 3 airborne position", nil, lineMSG3, sbs.Message{Type: "MSG", TransmissionType: 3, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"MSG 4 velocity", nil, lineMSG4, sbs.Message{Type: "MSG", TransmissionType: 4, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 384, time.UTC)}},
		{"MSG 5 surveillance altitude", nil, lineMSG5, sbs.Message{Type: "MSG", TransmissionType: 5, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 901, time.UTC)}},
		{"MSG 6 surveillance squawk", nil, lineMSG6, sbs.Message{Type: "MSG", TransmissionType: 6, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 17, 110, time.UTC)}},
		{"MSG 7 air to air", nil, lineMSG7, sbs.Message{Type: "MSG", TransmissionType: 7, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 30, 953, time.UTC)}},
		{"MSG 8 all call", nil, lineMSG8, sbs.Message{Type: "MSG", TransmissionType: 8, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 16, 285, time.UTC)}},
		{"MSG 7 zero address", nil, lineMSG7Zero, sbs.Message{Type: "MSG", TransmissionType: 7, ICAO: "000000", Generated: ms(2022, 1, 8, 23, 18, 58, 433, time.UTC)}},
		{"explicit UTC location", time.UTC, lineLast, sbs.Message{Type: "MSG", TransmissionType: 4, ICAO: "A3B1A0", Generated: ms(2022, 1, 8, 23, 41, 59, 967, time.UTC)}},
		{"lower-case ICAO normalised", nil,
			"MSG,4,111,11111,a3b1a0,111111,2022/01/08,23:41:59.967,2022/01/08,23:41:59.940,,,373,253,,,0,,,,,0",
			sbs.Message{Type: "MSG", TransmissionType: 4, ICAO: "A3B1A0", Generated: ms(2022, 1, 8, 23, 41, 59, 967, time.UTC)}},
		{"mixed-case ICAO normalised", nil,
			"MSG,4,111,11111,aC148f,111111,2022/01/08,23:41:59.967,2022/01/08,23:41:59.940,,,373,253,,,0,,,,,0",
			sbs.Message{Type: "MSG", TransmissionType: 4, ICAO: "AC148F", Generated: ms(2022, 1, 8, 23, 41, 59, 967, time.UTC)}},
		{"empty generated date and time is zero time", nil,
			"MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0",
			sbs.Message{Type: "MSG", TransmissionType: 8, ICAO: "86E488"}},
		{"seconds without milliseconds", nil,
			"MSG,8,111,11111,86E488,111111,2022/01/08,22:42:16,2022/01/08,22:42:16,,,,,,,,,,,,0",
			sbs.Message{Type: "MSG", TransmissionType: 8, ICAO: "86E488", Generated: ms(2022, 1, 8, 22, 42, 16, 0, time.UTC)}},
		{"Asia/Tokyo is receiver local time", tokyo, lineMSG3,
			sbs.Message{Type: "MSG", TransmissionType: 3, ICAO: "789252", Generated: ms(2022, 1, 8, 13, 42, 15, 605, time.UTC)}},
		{"SEL", nil, "SEL,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605,AHK209",
			sbs.Message{Type: "SEL", ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"ID", nil, "ID,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605,AHK209",
			sbs.Message{Type: "ID", ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"AIR with the minimum ten fields", nil, "AIR,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605",
			sbs.Message{Type: "AIR", ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"STA", nil, "STA,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605,RM",
			sbs.Message{Type: "STA", ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"STA with all 22 fields", nil, "STA,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605,RM,,,,,,,,,,,",
			sbs.Message{Type: "STA", ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"CLK has no ICAO", nil, "CLK,,111,11111,,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605",
			sbs.Message{Type: "CLK", Generated: ms(2022, 1, 8, 22, 42, 15, 605, time.UTC)}},
		{"CLK in Asia/Tokyo", tokyo, "CLK,,111,11111,,111111,2022/01/08,08:00:00.000,2022/01/08,08:00:00.000",
			sbs.Message{Type: "CLK", Generated: ms(2022, 1, 7, 23, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sbs.Parser{Location: tt.loc}
			got, err := p.Parse([]byte(tt.line))
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.line, err)
			}
			if got.Type != tt.want.Type || got.TransmissionType != tt.want.TransmissionType || got.ICAO != tt.want.ICAO {
				t.Errorf("Parse(%q) = {%s %d %s}, want {%s %d %s}", tt.line,
					got.Type, got.TransmissionType, got.ICAO, tt.want.Type, tt.want.TransmissionType, tt.want.ICAO)
			}
			if !got.Generated.Equal(tt.want.Generated) {
				t.Errorf("Generated = %v, want the instant %v", got.Generated, tt.want.Generated.UTC())
			}
			if tt.want.Generated.IsZero() != got.Generated.IsZero() {
				t.Errorf("Generated.IsZero() = %v, want %v", got.Generated.IsZero(), tt.want.Generated.IsZero())
			}
		})
	}
}

// TestParseLocation checks the zone is applied to the wall clock, not just
// attached: the same line read in two zones gives instants 9 hours apart.
func TestParseLocation(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatalf("load Asia/Tokyo: %v", err)
	}
	utc, err := sbs.Parser{}.Parse([]byte(lineMSG3))
	if err != nil {
		t.Fatal(err)
	}
	jst, err := sbs.Parser{Location: tokyo}.Parse([]byte(lineMSG3))
	if err != nil {
		t.Fatal(err)
	}
	if d := utc.Generated.Sub(jst.Generated); d != 9*time.Hour {
		t.Errorf("UTC reading - Tokyo reading = %v, want 9h", d)
	}
	if got, want := jst.Generated.In(tokyo).Format("2006/01/02 15:04:05.000"), "2022/01/08 22:42:15.605"; got != want {
		t.Errorf("Tokyo wall clock = %s, want %s as written in the line", got, want)
	}
}

// padded returns a valid MSG,1 line whose callsign is padded with spaces to
// exactly n bytes.
func padded(t *testing.T, n int) string {
	t.Helper()
	const head = "MSG,1,111,11111,789252,111111,2022/01/08,22:42:16.984,2022/01/08,22:42:16.942,AHK209"
	const tail = ",,,,,,,,,,,0"
	pad := n - len(head) - len(tail)
	if pad < 0 {
		t.Fatalf("cannot pad to %d bytes", n)
	}
	return head + strings.Repeat(" ", pad) + tail
}

func TestParseLengthLimit(t *testing.T) {
	atLimit := padded(t, sbs.MaxLineBytes)
	if _, err := (sbs.Parser{}).Parse([]byte(atLimit)); err != nil {
		t.Errorf("a valid line of exactly MaxLineBytes (%d) bytes: %v, want no error", sbs.MaxLineBytes, err)
	}
	over := padded(t, sbs.MaxLineBytes+1)
	_, err := (sbs.Parser{}).Parse([]byte(over))
	var se *sbs.SyntaxError
	if !errors.As(err, &se) || se.Code != "sbs.too_long" {
		t.Errorf("a line of MaxLineBytes+1 bytes: error %v, want code sbs.too_long", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		code string
	}{
		{"empty", "", "sbs.empty"},
		{"too long", strings.Repeat("A", sbs.MaxLineBytes+1), "sbs.too_long"},
		{"NUL byte", "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,\x00022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0", "sbs.binary"},
		{"0xff byte", "\xffMSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0", "sbs.binary"},
		{"invalid UTF-8 in callsign", "MSG,1,111,11111,789252,111111,2022/01/08,22:42:16.984,2022/01/08,22:42:16.942,AHK\xc3\x28  ,,,,,,,,,,,0", "sbs.binary"},
		{"DEL byte", "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,\x7f,,,,,,,,,,,0", "sbs.binary"},
		{"tab", "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,\t,,,,,,,,,,,0", "sbs.binary"},
		{"trailing CR not stripped", lineMSG8 + "\r", "sbs.binary"},
		{"lone CR inside", "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,\r,,,,,,,,,,,0", "sbs.binary"},
		{"trailing LF", lineMSG8 + "\n", "sbs.binary"},
		{"MSG alone", "MSG", "sbs.field_count"},
		{"MSG with 21 fields", "MSG,8,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,0", "sbs.field_count"},
		{"MSG with 23 fields", lineMSG8 + ",0", "sbs.field_count"},
		{"SEL with 9 fields", "SEL,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08", "sbs.field_count"},
		{"CLK with 23 fields", "CLK,,111,11111,,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605" + strings.Repeat(",", 13), "sbs.field_count"},
		{"transmission type 0", strings.Replace(lineMSG3, "MSG,3,", "MSG,0,", 1), "sbs.transmission_type"},
		{"transmission type 9", strings.Replace(lineMSG3, "MSG,3,", "MSG,9,", 1), "sbs.transmission_type"},
		{"transmission type -1", strings.Replace(lineMSG3, "MSG,3,", "MSG,-1,", 1), "sbs.transmission_type"},
		{"transmission type empty", strings.Replace(lineMSG3, "MSG,3,", "MSG,,", 1), "sbs.transmission_type"},
		{"transmission type letter", strings.Replace(lineMSG3, "MSG,3,", "MSG,x,", 1), "sbs.transmission_type"},
		{"message type unknown", strings.Replace(lineMSG3, "MSG,", "FOO,", 1), "sbs.message_type"},
		{"message type lower case", strings.Replace(lineMSG3, "MSG,", "msg,", 1), "sbs.message_type"},
		{"message type empty", strings.Replace(lineMSG3, "MSG,", ",", 1), "sbs.message_type"},
		{"garbage", "hello world", "sbs.message_type"},
		{"ICAO 5 digits", strings.Replace(lineMSG3, ",789252,", ",78925,", 1), "sbs.icao"},
		{"ICAO 7 digits", strings.Replace(lineMSG3, ",789252,", ",7892520,", 1), "sbs.icao"},
		{"ICAO non-hex", strings.Replace(lineMSG3, ",789252,", ",78925G,", 1), "sbs.icao"},
		{"ICAO with space", strings.Replace(lineMSG3, ",789252,", ",789 52,", 1), "sbs.icao"},
		{"ICAO empty", strings.Replace(lineMSG3, ",789252,", ",,", 1), "sbs.icao"},
		{"ICAO empty on SEL", "SEL,,111,11111,,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605,AHK209", "sbs.icao"},
		{"date with dashes", strings.Replace(lineMSG3, "2022/01/08,22:42:15.605", "2022-01-08,22:42:15.605", 1), "sbs.timestamp"},
		{"month 13", strings.Replace(lineMSG3, "2022/01/08,22:42:15.605", "2022/13/08,22:42:15.605", 1), "sbs.timestamp"},
		{"hour 25", strings.Replace(lineMSG3, "2022/01/08,22:42:15.605", "2022/01/08,25:42:15.605", 1), "sbs.timestamp"},
		{"date without time", strings.Replace(lineMSG3, "2022/01/08,22:42:15.605", "2022/01/08,", 1), "sbs.timestamp"},
		{"time without date", strings.Replace(lineMSG3, "2022/01/08,22:42:15.605", ",22:42:15.605", 1), "sbs.timestamp"},
		{"time with zone suffix", strings.Replace(lineMSG3, "22:42:15.605", "22:42:15.605Z", 1), "sbs.timestamp"},
		{"bad time on CLK", "CLK,,111,11111,,111111,yesterday,noon,2022/01/08,22:42:15.605", "sbs.timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.line)
			if tt.line == "" {
				in = nil
			}
			_, err := (sbs.Parser{}).Parse(in)
			if err == nil {
				t.Fatalf("Parse(%q) = no error, want %s", truncate(tt.line), tt.code)
			}
			var se *sbs.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *sbs.SyntaxError", truncate(tt.line), err, err)
			}
			if se.Code != tt.code {
				t.Errorf("Parse(%q) code = %q (%s), want %q", truncate(tt.line), se.Code, se.Reason, tt.code)
			}
			if se.Reason == "" || se.Error() != se.Reason {
				t.Errorf("Error() = %q, Reason = %q; want the non-empty reason", se.Error(), se.Reason)
			}
			if len(se.Reason) > 200 {
				t.Errorf("reason is %d bytes, want it short even for huge input: %q", len(se.Reason), truncate(se.Reason))
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

func sampleDir() string { return filepath.Join("..", "..", "..", "shared", "data", "sbs") }

// TestParseSampleCapture parses every line of the third-party capture(s):
// a real receiver's output must be accepted in full.
func TestParseSampleCapture(t *testing.T) {
	dir := sampleDir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("sample SBS data not found at %s (%v); it lives in the shared data directory outside the repository", dir, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.sbs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.sbs files in %s", dir)
	}
	const known = "coniferconifer-20220108-part1.sbs"
	sawKnown := false
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p := sbs.Parser{Location: time.UTC}
			var lines int
			perKey := map[string]int{}
			var first, last sbs.Message
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				lines++
				line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
				m, err := p.Parse(line)
				if err != nil {
					t.Errorf("line %d %q: %v", lines, line, err)
					continue
				}
				perKey[m.ICAO]++
				if lines == 1 {
					first = m
				}
				last = m
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if filepath.Base(path) != known {
				return
			}
			sawKnown = true
			if lines != 18290 {
				t.Errorf("%d lines, want 18290", lines)
			}
			if want := (sbs.Message{Type: "MSG", TransmissionType: 4, ICAO: "789252", Generated: ms(2022, 1, 8, 22, 42, 15, 384, time.UTC)}); first != want {
				t.Errorf("first line = %+v, want %+v", first, want)
			}
			if want := (sbs.Message{Type: "MSG", TransmissionType: 4, ICAO: "A3B1A0", Generated: ms(2022, 1, 8, 23, 41, 59, 967, time.UTC)}); last != want {
				t.Errorf("last line = %+v, want %+v", last, want)
			}
			for key, want := range map[string]int{"789252": 2037, "7816BE": 3932, "000000": 11} {
				if perKey[key] != want {
					t.Errorf("%d lines keyed %s, want %d", perKey[key], key, want)
				}
			}
			if len(perKey) != 12 {
				t.Errorf("%d distinct keys, want 12", len(perKey))
			}
		})
	}
	if !sawKnown {
		t.Errorf("%s not found in %s", known, dir)
	}
}

func isUpperHex6(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		lineMSG1, lineMSG2, lineMSG3, lineMSG4, lineMSG5, lineMSG6, lineMSG7, lineMSG8, lineMSG7Zero, lineLast,
		"MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0",
		"MSG,4,111,11111,a3b1a0,111111,2022/01/08,23:41:59.967,2022/01/08,23:41:59.940,,,373,253,,,0,,,,,0",
		"SEL,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605,AHK209",
		"AIR,,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605",
		"CLK,,111,11111,,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.605",
		"",
		",",
		"MSG",
		"MSG,9,111,11111,789252,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0",
		"MSG,8,111,11111,78925G,111111,2022/01/08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0",
		"MSG,8,111,11111,789252,111111,2022-01-08,22:42:16.285,2022/01/08,22:42:16.285,,,,,,,,,,,,0",
		"MSG,8,111,11111,789252,111111,2022/01/08,,2022/01/08,22:42:16.285,,,,,,,,,,,,0",
		lineMSG8 + "\r",
		"MSG,8,\x00\xff",
		strings.Repeat(",", 30),
		strings.Repeat("A", sbs.MaxLineBytes+1),
	} {
		f.Add([]byte(s))
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, loc := range []*time.Location{nil, tokyo} {
			orig := bytes.Clone(line)
			m, err := sbs.Parser{Location: loc}.Parse(line)
			if !bytes.Equal(line, orig) {
				t.Fatalf("Parse modified its input: %q became %q", orig, line)
			}
			if err != nil {
				var se *sbs.SyntaxError
				if !errors.As(err, &se) || se.Code == "" {
					t.Fatalf("Parse(%q) error %v, want a *sbs.SyntaxError with a code", line, err)
				}
				continue
			}
			switch m.Type {
			case "CLK":
				if m.ICAO != "" {
					t.Fatalf("Parse(%q) CLK with ICAO %q, want none", line, m.ICAO)
				}
			case "MSG", "SEL", "ID", "AIR", "STA":
				if !isUpperHex6(m.ICAO) {
					t.Fatalf("Parse(%q) ICAO %q, want 6 upper-case hex digits", line, m.ICAO)
				}
			default:
				t.Fatalf("Parse(%q) accepted message type %q", line, m.Type)
			}
			if (m.Type == "MSG") != (m.TransmissionType >= 1 && m.TransmissionType <= 8) {
				t.Fatalf("Parse(%q) type %s with transmission type %d", line, m.Type, m.TransmissionType)
			}
			if len(line) > sbs.MaxLineBytes {
				t.Fatalf("Parse accepted a %d-byte line", len(line))
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	lines := [][]byte{
		[]byte(lineMSG1), []byte(lineMSG3), []byte(lineMSG4), []byte(lineMSG5),
		[]byte(lineMSG6), []byte(lineMSG7), []byte(lineMSG8), []byte(lineLast),
	}
	var n int
	for _, l := range lines {
		n += len(l)
	}
	b.SetBytes(int64(n / len(lines)))
	b.ReportAllocs()
	p := sbs.Parser{Location: time.UTC}
	i := 0
	for b.Loop() {
		if _, err := p.Parse(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
