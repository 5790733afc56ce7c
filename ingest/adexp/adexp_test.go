package adexp_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contrail-atm/contrail/ingest/adexp"
)

// Real messages from /work/shared/data/adexp/idiot-fp-messages.jsonl (a test
// system's flight-plan history, Munich ACC, October 2018).
const (
	msgIFPL = "-TITLE IFPL -BEGIN ADDR -FAC R -FAC DM -END ADDR -ARCID DLH5KF -ADEP EDDM -ADES EDDH -ALTNZ EDDV -ALTRNT1 EDDV -ARCTYP A320 -CEQPT SWY -EOBD 181022 -EOBT 1304 -FILTIM 221307 -FLTRUL I -FLTTYP S -IFPLID AA00000113 -NBARC 1 -SEQPT S -RFL F350 -ROUTE N0450F350 INPUD2N INPUD Y102 UPALA M726 LASTO M852 POVEL M852 AMLUH DCT -BEGIN RTEPTS -PT -PTID EDDM -ETO 181022130413 -PT -PTID DM066 -ETO 181022131239 -FL F070 -PT -PTID DM064 -ETO 181022131429 -FL F070 -PT -PTID DM065 -ETO 181022131513 -FL F070 -PT -PTID INPUD -ETO 181022131610 -FL F070 -PT -PTID UPALA -ETO 181022132049 -FL F140 -PT -PTID KEMES -ETO 181022132337 -FL F250 -PT -PTID ANELA -ETO 181022132522 -FL F250 -PT -PTID LONLI -ETO 181022132751 -FL F250 -PT -PTID HLF18 -ETO 181022132834 -FL F325 -PT -PTID LASGA -ETO 181022133005 -FL F325 -PT -PTID NARUS -ETO 181022133234 -FL F325 -PT -PTID LASTO -ETO 181022133610 -FL F325 -PT -PTID SOMIX -ETO 181022133722 -FL F325 -PT -PTID BIRKA -ETO 181022133820 -FL F325 -PT -PTID LARET -ETO 181022134210 -FL F325 -PT -PTID POVEL -ETO 181022134429 -FL F325 -PT -PTID HLZ -ETO 181022134620 -FL F325 -PT -PTID ULSEN -ETO 181022135025 -FL F325 -PT -PTID DENIX -ETO 181022135249 -FL F325 -PT -PTID AMLUH -ETO 181022135522 -FL F325 -PT -PTID EDDH -ETO 181022140913 -END RTEPTS -SSRCODE A4737 -SPEED N0450 -SRC FPL -TTLEET 0105 -WKTRC M"
	msgLAM  = "-TITLE LAM -REFDATA -SENDER -FAC TDM -RECVR -FAC DM -SEQNUM 002 -MSGREF -SENDER -FAC DM -RECVR -FAC TDM -SEQNUM 062"
	msgPAC  = "-TITLE PAC -REFDATA -SENDER -FAC TDM -RECVR -FAC DM -SEQNUM 007 -IFPLID AA00000113 -ARCID DLH5KF -SSRCODE REQ -ADEP EDDM -ADES EDDH -EOBT 1304 -EOBD 181022 -NBARC 1 -ARCTYP A320 -WKTRC M -FLTRUL I -BEGIN EQCST -EQPT U/UN -EQPT W/EQ -EQPT Y/EQ -END EQCST -ROUTE N0450F350 INPUD2N INPUD Y102 UPALA M726 LASTO M852 POVEL M852 AMLUH DCT -FLTTYP S"
	msgABI  = "-TITLE ABI -REFDATA -SENDER -FAC DM -RECVR -FAC R -SEQNUM 085 -ARCID DLH5KF -ADEP EDDM -ADES EDDH -SSRCODE A0126 -FLTTYP S -ARCTYP A320 -ROUTE N0450F350 INPUD UPALA KEMES ANELA LONLI LASGA NARUS LASTO SOMIX BIRKA LARET POVEL HLZ ++ AMLUH DCT ** -COORDATA -PTID NARUS -TO 1332 -TFL F250 -SFL F210 -BEGIN EQCST -EQPT W/EQ -EQPT Y/EQ -EQPT U/NO -EQPT R/NO -SUREQPT A/EQ -END EQCST -WKTRC M"
	msgRRV  = "-TITLE RRV -REFDATA -SENDER -FAC DM -RECVR -FAC R -ARCID DLH5KF -ADEP EDDM -ADES EDDH -COORDATA -PTID EKSOS -TO 1325 -TFL F220"
)

// Hand-written messages for the titles the sample lacks, in the shape of the
// ICAO messages they mirror.
const (
	msgCHG = "-TITLE CHG -ARCID DLH5KF -ADEP EDDM -EOBT 1304 -ADES EDDH -EOBD 181022 -FILTIM 221250 -RFL F370 -ROUTE N0450F370 INPUD2N INPUD Y102 UPALA M726 LASTO M852 POVEL M852 AMLUH DCT"
	msgCNL = "-TITLE CNL -ARCID DLH66T -ADEP EDDM -EOBT 0705 -ADES EDDH -EOBD 181023 -ORIGINDT 1810230650"
	msgDLA = "-TITLE DLA -ARCID DLH5KF -ADEP EDDM -EOBT 1345 -ADES EDDH -EOBD 181022 -FILTIM 221250"
	msgDEP = "-TITLE DEP -ARCID DLH5KF -ADEP EDDM -ATD 1311 -ADES EDDH -EOBD 181022 -FILTIM 221312"
	msgARR = "-TITLE ARR -ARCID DLH5KF -ADEP EDDM -ADARR EDDH -ATA 1409 -EOBD 181022 -FILTIM 221410"
	// An IFPS acknowledgement: no ARCID, a time of origin, and a value full
	// of hyphens that are not fields.
	msgACK = "-TITLE ACK -MSGTYP IARR -FILTIM 221410 -ORIGINDT 1810221411 -BEGIN ADDR -FAC EDDMZQZX -END ADDR -IFPLID AA00000113 -MSGTXT (ARR-DLH5KF-EDDM1304-EDDH1409)"
)

// multiLine is an IFPS-style layout: one field per line, indented list
// entries, a route wrapped onto a continuation line, nested lists.
const multiLine = `-TITLE IFPL
-BEGIN ADDR
   -FAC EDDMZQZX
   -FAC EDDHZQZX
-END ADDR
-ARCID DLH5KF -ADEP EDDM -ADES EDDH
-EOBD 181022 -EOBT 1304 -FILTIM 221307
-ROUTE N0450F350 INPUD2N INPUD Y102 UPALA
 M726 LASTO
-BEGIN RTEPTS
 -PT -PTID EDDM -ETO 181022130413
 -PT -PTID DM066 -ETO 181022131239 -FL F070
 -BEGIN EXTRA -X 1 -BEGIN INNER -Y 2 -END INNER -Z 3 -END EXTRA
-END RTEPTS
-WKTRC M`

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		title     string
		key       adexp.Key
		recordKey string
		ts        time.Time
		tsField   string
	}{
		{"IFPL", msgIFPL, "IFPL",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1304", ARCID: "DLH5KF", ADES: "EDDH", IFPLID: "AA00000113"},
			"EDDM/181022/1304/DLH5KF/EDDH", utc(2018, 10, 22, 13, 7), "FILTIM"},
		{"LAM has no flight: keyed by title", msgLAM, "LAM", adexp.Key{}, "LAM", time.Time{}, ""},
		{"PAC", msgPAC, "PAC",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1304", ARCID: "DLH5KF", ADES: "EDDH", IFPLID: "AA00000113"},
			"EDDM/181022/1304/DLH5KF/EDDH", time.Time{}, ""},
		{"ABI partial key", msgABI, "ABI", adexp.Key{ADEP: "EDDM", ARCID: "DLH5KF", ADES: "EDDH"}, "EDDM///DLH5KF/EDDH", time.Time{}, ""},
		{"RRV", msgRRV, "RRV", adexp.Key{ADEP: "EDDM", ARCID: "DLH5KF", ADES: "EDDH"}, "EDDM///DLH5KF/EDDH", time.Time{}, ""},
		{"CHG", msgCHG, "CHG",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1304", ARCID: "DLH5KF", ADES: "EDDH"},
			"EDDM/181022/1304/DLH5KF/EDDH", utc(2018, 10, 22, 12, 50), "FILTIM"},
		{"CNL with ORIGINDT", msgCNL, "CNL",
			adexp.Key{ADEP: "EDDM", EOBD: "181023", EOBT: "0705", ARCID: "DLH66T", ADES: "EDDH"},
			"EDDM/181023/0705/DLH66T/EDDH", utc(2018, 10, 23, 6, 50), "ORIGINDT"},
		{"DLA carries the new EOBT", msgDLA, "DLA",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1345", ARCID: "DLH5KF", ADES: "EDDH"},
			"EDDM/181022/1345/DLH5KF/EDDH", utc(2018, 10, 22, 12, 50), "FILTIM"},
		{"DEP without EOBT", msgDEP, "DEP",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", ARCID: "DLH5KF", ADES: "EDDH"},
			"EDDM/181022//DLH5KF/EDDH", utc(2018, 10, 22, 13, 12), "FILTIM"},
		{"ARR: ADARR stands in for ADES", msgARR, "ARR",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", ARCID: "DLH5KF", ADES: "EDDH"},
			"EDDM/181022//DLH5KF/EDDH", utc(2018, 10, 22, 14, 10), "FILTIM"},
		{"ARR with ADES and without EOBD: FILTIM cannot be dated",
			"-TITLE ARR -ARCID DLH5KF -ADEP EDDM -ADES EDDH -ADARR EDDV -ATA 1409 -FILTIM 221410", "ARR",
			adexp.Key{ADEP: "EDDM", ARCID: "DLH5KF", ADES: "EDDH"}, "EDDM///DLH5KF/EDDH", time.Time{}, ""},
		{"ACK: ORIGINDT wins over FILTIM, hyphens inside a value", msgACK, "ACK",
			adexp.Key{IFPLID: "AA00000113"}, "ACK", utc(2018, 10, 22, 14, 11), "ORIGINDT"},
		{"multi-line LF", multiLine, "IFPL",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1304", ARCID: "DLH5KF", ADES: "EDDH"},
			"EDDM/181022/1304/DLH5KF/EDDH", utc(2018, 10, 22, 13, 7), "FILTIM"},
		{"multi-line CRLF", strings.ReplaceAll(multiLine, "\n", "\r\n"), "IFPL",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1304", ARCID: "DLH5KF", ADES: "EDDH"},
			"EDDM/181022/1304/DLH5KF/EDDH", utc(2018, 10, 22, 13, 7), "FILTIM"},
		{"leading white space and tabs", "\r\n  \t-TITLE\tLAM\t-REFDATA -SEQNUM 002\r\n", "LAM", adexp.Key{}, "LAM", time.Time{}, ""},
		{"generic title with an unknown keyword", "-TITLE XAP -ARCID AB1 -FOO BAR BAZ", "XAP", adexp.Key{ARCID: "AB1"}, "///AB1/", time.Time{}, ""},
		{"UTF-8 in a free-text field", "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 181022 -EOBT 1304 -RMK PAX GRÜß GOTT", "IFPL",
			adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1304", ARCID: "DLH5KF", ADES: "EDDH"},
			"EDDM/181022/1304/DLH5KF/EDDH", time.Time{}, ""},
		{"leap day", "-TITLE IFPL -ARCID N1 -ADEP KJFK -ADES EGLL -EOBD 200229 -EOBT 2359 -FILTIM 282300", "IFPL",
			adexp.Key{ADEP: "KJFK", EOBD: "200229", EOBT: "2359", ARCID: "N1", ADES: "EGLL"},
			"KJFK/200229/2359/N1/EGLL", utc(2020, 2, 28, 23, 0), "FILTIM"},
		{"ORIGINDT with seconds", "-TITLE LAM -ORIGINDT 181022141130", "LAM", adexp.Key{}, "LAM", time.Date(2018, 10, 22, 14, 11, 30, 0, time.UTC), "ORIGINDT"},
		{"a repeated key field: the first counts", "-TITLE ABI -ARCID DLH5KF -ARCID x -ADEP EDDM", "ABI", adexp.Key{ARCID: "DLH5KF", ADEP: "EDDM"}, "EDDM///DLH5KF/", time.Time{}, ""},
		{"key fields inside a list are not the message's", "-TITLE ACK -BEGIN MSGSUM -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBT 1304 -EOBD 181022 -END MSGSUM", "ACK", adexp.Key{}, "ACK", time.Time{}, ""},
		{"trailing hyphen text is a value", "-TITLE LAM -COMMENT SEE -- ABOVE -", "LAM", adexp.Key{}, "LAM", time.Time{}, ""},
	}
	var p adexp.Parser
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			orig := bytes.Clone(raw)
			m, err := p.Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(raw, orig) {
				t.Fatalf("Parse modified its input")
			}
			if m.Title != tt.title {
				t.Errorf("Title = %q, want %q", m.Title, tt.title)
			}
			if m.Key != tt.key {
				t.Errorf("Key = %+v, want %+v", m.Key, tt.key)
			}
			if got := m.RecordKey(); got != tt.recordKey {
				t.Errorf("RecordKey = %q, want %q", got, tt.recordKey)
			}
			if !m.Time.Equal(tt.ts) || m.TimeField != tt.tsField {
				t.Errorf("Time = %v from %q, want %v from %q", m.Time, m.TimeField, tt.ts, tt.tsField)
			}
			if m.Fields[0].Name != "TITLE" || m.Fields[0].Value != tt.title {
				t.Errorf("first field = %+v, want TITLE %s", m.Fields[0], tt.title)
			}
			key, ts, err := p.Check(raw)
			if err != nil || key != tt.recordKey || !ts.Equal(tt.ts) {
				t.Errorf("Check = %q, %v, %v; want %q, %v, nil", key, ts, err, tt.recordKey, tt.ts)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	var p adexp.Parser
	for _, eol := range []string{"\n", "\r\n"} {
		t.Run(strings.NewReplacer("\r", "CR", "\n", "LF").Replace(eol), func(t *testing.T) {
			m, err := p.Parse([]byte(strings.ReplaceAll(multiLine, "\n", eol)))
			if err != nil {
				t.Fatal(err)
			}
			if route, _ := m.Get("ROUTE"); route != "N0450F350 INPUD2N INPUD Y102 UPALA"+eol+" M726 LASTO" {
				t.Errorf("ROUTE = %q, want the continuation line verbatim", route)
			}
			if v, ok := m.Get("WKTRC"); !ok || v != "M" {
				t.Errorf("WKTRC = %q, %v", v, ok)
			}
			if _, ok := m.Get("PTID"); ok {
				t.Errorf("Get found PTID, which is only inside RTEPTS")
			}
			if _, ok := m.Get("RTEPTS"); ok {
				t.Errorf("Get found the list RTEPTS; it returns basic fields only")
			}
			addr, ok := m.List("ADDR")
			if want := []adexp.Field{{Name: "FAC", Value: "EDDMZQZX"}, {Name: "FAC", Value: "EDDHZQZX"}}; !ok || !reflect.DeepEqual(addr, want) {
				t.Errorf("ADDR = %+v, want %+v", addr, want)
			}
			pts, ok := m.List("RTEPTS")
			want := []adexp.Field{
				{Name: "PT"}, {Name: "PTID", Value: "EDDM"}, {Name: "ETO", Value: "181022130413"},
				{Name: "PT"}, {Name: "PTID", Value: "DM066"}, {Name: "ETO", Value: "181022131239"}, {Name: "FL", Value: "F070"},
				{Name: "EXTRA", List: true, Fields: []adexp.Field{
					{Name: "X", Value: "1"},
					{Name: "INNER", List: true, Fields: []adexp.Field{{Name: "Y", Value: "2"}}},
					{Name: "Z", Value: "3"},
				}},
			}
			if !ok || !reflect.DeepEqual(pts, want) {
				t.Errorf("RTEPTS =\n%+v\nwant\n%+v", pts, want)
			}
			var names []string
			for _, f := range m.Fields {
				names = append(names, f.Name)
			}
			if got := strings.Join(names, " "); got != "TITLE ADDR ARCID ADEP ADES EOBD EOBT FILTIM ROUTE RTEPTS WKTRC" {
				t.Errorf("top-level fields %s", got)
			}
		})
	}
	t.Run("real IFPL route points", func(t *testing.T) {
		m, err := p.Parse([]byte(msgIFPL))
		if err != nil {
			t.Fatal(err)
		}
		pts, _ := m.List("RTEPTS")
		var n int
		for _, f := range pts {
			if f.Name == "PT" {
				n++
			}
		}
		if n != 22 || len(pts) != 22*3+20 {
			t.Errorf("%d points in %d entries, want 22 in 86", n, len(pts))
		}
		if len(m.Fields) != 25 {
			t.Errorf("%d top-level fields, want 25", len(m.Fields))
		}
	})
	t.Run("empty list", func(t *testing.T) {
		m, err := p.Parse([]byte("-TITLE LAM -BEGIN ADDR -END ADDR -SEQNUM 001"))
		if err != nil {
			t.Fatal(err)
		}
		if l, ok := m.List("ADDR"); !ok || len(l) != 0 {
			t.Errorf("ADDR = %v, %v; want an empty list", l, ok)
		}
	})
}

func padTo(prefix string, n int) string {
	return prefix + strings.Repeat(" X", (n-len(prefix))/2+1)[:n-len(prefix)]
}

func TestParseErrors(t *testing.T) {
	const ifplKey = "-ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 181022 -EOBT 1304"
	tests := []struct {
		name, raw, code string
	}{
		{"empty", "", "adexp.empty"},
		{"only white space", " \r\n\t\n", "adexp.empty"},
		{"too long", padTo("-TITLE LAM -COMMENT", adexp.MaxMessageBytes+1), "adexp.too_long"},
		{"NUL byte", "-TITLE LAM -SEQNUM 0\x0002", "adexp.binary"},
		{"SOH byte", "\x01-TITLE LAM", "adexp.binary"},
		{"form feed", "-TITLE LAM\f-SEQNUM 002", "adexp.binary"},
		{"DEL", "-TITLE LAM -SEQNUM 002\x7f", "adexp.binary"},
		{"invalid UTF-8", "-TITLE LAM -COMMENT \xff\xfe", "adexp.binary"},
		{"truncated UTF-8 sequence", "-TITLE LAM -COMMENT \xe2\x82", "adexp.binary"},
		{"Latin-1, not UTF-8", "-TITLE LAM -COMMENT GR\xdcSS", "adexp.binary"},
		{"C1 control in UTF-8", "-TITLE LAM -COMMENT A\u0085B", "adexp.binary"},
		{"ICAO message", "(FPL-DLH5KF-IS-A320/M-SWY/S-EDDM1304-N0450F350 INPUD2N INPUD-EDDH0105)", "adexp.no_title"},
		{"text before the title", "ADJACENT: -TITLE ABI -ARCID DLH5KF -ADEP EDDM -ADES EDDH", "adexp.no_title"},
		{"another field first", "-ARCID DLH5KF -TITLE IFPL", "adexp.no_title"},
		{"TITLE glued to its value", "-TITLEIFPL -ARCID DLH5KF", "adexp.no_title"},
		{"title without a value", "-TITLE -ARCID DLH5KF", "adexp.no_title"},
		{"dump wrapper text", "181022-130556 WAKEUP\nFP STATUS CHANGE TO ACTUAL", "adexp.no_title"},
		{"lower-case keyword", "-title IFPL " + ifplKey, "adexp.no_title"},
		{"cut marker at the end", "-TITLE IFPL " + ifplKey + " -ROUTE N0450F350 INPUD2N INP[..]", "adexp.truncated"},
		{"cut marker inside a list", "-TITLE IFPL " + ifplKey + " -BEGIN RTEPTS -PT -PTID EDDM [..]", "adexp.truncated"},
		{"three-dot cut marker", "-TITLE ABI -ARCID DLH5KF -ROUTE N0450F350 [...]", "adexp.truncated"},
		{"list not closed", "-TITLE IFPL -BEGIN ADDR -FAC R " + ifplKey, "adexp.unbalanced"},
		{"END without BEGIN", "-TITLE LAM -FAC R -END ADDR", "adexp.unbalanced"},
		{"END closes another list", "-TITLE LAM -BEGIN ADDR -BEGIN X -END ADDR -END X", "adexp.unbalanced"},
		{"BEGIN without a name", "-TITLE LAM -BEGIN -FAC R -END", "adexp.unbalanced"},
		{"END without a name", "-TITLE LAM -BEGIN ADDR -FAC R -END", "adexp.unbalanced"},
		{"BEGIN with two names", "-TITLE LAM -BEGIN ADDR X -FAC R -END ADDR X", "adexp.unbalanced"},
		{"nested list not closed", "-TITLE LAM -BEGIN A -BEGIN B -END A", "adexp.unbalanced"},
		{"lower-case title", "-TITLE ifpl " + ifplKey, "adexp.bad_field"},
		{"title with punctuation", "-TITLE IFPL/2 " + ifplKey, "adexp.bad_field"},
		{"title of two words", "-TITLE IFPL X " + ifplKey, "adexp.bad_field"},
		{"two messages run together", msgLAM + " " + msgLAM, "adexp.bad_field"},
		{"TITLE inside a list", "-TITLE LAM -BEGIN X -TITLE ABI -END X", "adexp.bad_field"},
		{"absurd EOBD", "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 991399 -EOBT 1304", "adexp.bad_field"},
		{"EOBD 29 Feb in a common year", "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 180229 -EOBT 1304", "adexp.bad_field"},
		{"EOBD with a 4-digit year", "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 20181022 -EOBT 1304", "adexp.bad_field"},
		{"EOBD day zero", "-TITLE CHG -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 181000 -EOBT 1304", "adexp.bad_field"},
		{"EOBT 24:00", "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBD 181022 -EOBT 2400", "adexp.bad_field"},
		{"EOBT minute 60", "-TITLE DLA -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBT 1360", "adexp.bad_field"},
		{"EOBT with a colon", "-TITLE CNL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBT 13:04", "adexp.bad_field"},
		{"ARCID one character", "-TITLE ABI -ARCID D -ADEP EDDM", "adexp.bad_field"},
		{"ARCID eight characters", "-TITLE ABI -ARCID DLH5KF12 -ADEP EDDM", "adexp.bad_field"},
		{"ARCID lower case", "-TITLE ABI -ARCID dlh5kf -ADEP EDDM", "adexp.bad_field"},
		{"ARCID empty", "-TITLE IFPL -ARCID -ADEP EDDM -ADES EDDH -EOBD 181022 -EOBT 1304", "adexp.bad_field"},
		{"ARCID with a space", "-TITLE ABI -ARCID DLH 5KF", "adexp.bad_field"},
		{"ADEP three letters", "-TITLE ABI -ARCID DLH5KF -ADEP EDD", "adexp.bad_field"},
		{"ADES with a digit", "-TITLE ABI -ARCID DLH5KF -ADES ED1H", "adexp.bad_field"},
		{"ADARR malformed", "-TITLE ARR -ARCID DLH5KF -ADEP EDDM -ADARR 12", "adexp.bad_field"},
		{"IFPLID too short", "-TITLE PAC -IFPLID AA0000011", "adexp.bad_field"},
		{"IFPLID letters in the number", "-TITLE PAC -IFPLID AA0000011X", "adexp.bad_field"},
		{"FILTIM day 32", "-TITLE IFPL -FILTIM 321307 " + ifplKey, "adexp.bad_field"},
		{"FILTIM hour 24", "-TITLE IFPL -FILTIM 222407 " + ifplKey, "adexp.bad_field"},
		{"ORIGINDT minute 60", "-TITLE ACK -ORIGINDT 1810221360", "adexp.bad_field"},
		{"ORIGINDT 13th month", "-TITLE ACK -ORIGINDT 1813221300", "adexp.bad_field"},
		{"ORIGINDT too short", "-TITLE ACK -ORIGINDT 18102213", "adexp.bad_field"},
		{"IFPL without EOBD", "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBT 1304", "adexp.missing_field"},
		{"IFPL without ARCID", "-TITLE IFPL -ADEP EDDM -ADES EDDH -EOBD 181022 -EOBT 1304", "adexp.missing_field"},
		{"IFPL with ARCID only inside a list", "-TITLE IFPL -BEGIN X -ARCID DLH5KF -END X -ADEP EDDM -ADES EDDH -EOBD 181022 -EOBT 1304", "adexp.missing_field"},
		{"CHG without EOBT", "-TITLE CHG -ARCID DLH5KF -ADEP EDDM -ADES EDDH -RFL F370", "adexp.missing_field"},
		{"CNL without ARCID", "-TITLE CNL -ADEP EDDM -EOBT 0705 -ADES EDDH", "adexp.missing_field"},
		{"DLA without ADES", "-TITLE DLA -ARCID DLH5KF -ADEP EDDM -EOBT 1345", "adexp.missing_field"},
		{"DEP without ADEP", "-TITLE DEP -ARCID DLH5KF -ATD 1311 -ADES EDDH", "adexp.missing_field"},
		{"ARR without ADES or ADARR", "-TITLE ARR -ARCID DLH5KF -ADEP EDDM -ATA 1409", "adexp.missing_field"},
	}
	var p adexp.Parser
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			orig := bytes.Clone(raw)
			_, err := p.Parse(raw)
			if !bytes.Equal(raw, orig) {
				t.Fatalf("Parse modified its input")
			}
			var se *adexp.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v, want a *adexp.SyntaxError", clip(tt.raw), err)
			}
			if se.ReasonCode() != tt.code || se.Error() == "" {
				t.Errorf("Parse(%q) = %s %q, want code %s", clip(tt.raw), se.ReasonCode(), se.Error(), tt.code)
			}
			seen[se.Code] = true
			t.Logf("%s: %s", se.Code, se.Reason)
			if key, ts, err := p.Check(raw); err == nil || key != "" || !ts.IsZero() {
				t.Errorf("Check = %q, %v, %v; want an error and nothing else", key, ts, err)
			}
		})
	}
	for _, code := range []string{adexp.CodeEmpty, adexp.CodeTooLong, adexp.CodeBinary, adexp.CodeNoTitle,
		adexp.CodeTruncated, adexp.CodeUnbalanced, adexp.CodeBadField, adexp.CodeMissingField} {
		if !seen[code] {
			t.Errorf("no test case produces %s", code)
		}
	}
}

func TestParseLengthLimit(t *testing.T) {
	var p adexp.Parser
	atLimit := padTo("-TITLE LAM -COMMENT", adexp.MaxMessageBytes)
	if len(atLimit) != adexp.MaxMessageBytes {
		t.Fatalf("test message is %d bytes", len(atLimit))
	}
	if _, err := p.Parse([]byte(atLimit)); err != nil {
		t.Errorf("message of exactly MaxMessageBytes: %v", err)
	}
	_, err := p.Parse([]byte(atLimit + "X"))
	var se *adexp.SyntaxError
	if !errors.As(err, &se) || se.Code != adexp.CodeTooLong {
		t.Errorf("message of MaxMessageBytes+1: %v, want adexp.too_long", err)
	}
}

// TestFilingTime checks how FILTIM (day of month only) is dated by EOBD.
func TestFilingTime(t *testing.T) {
	tests := []struct {
		name, filtim, eobd string
		want               time.Time
	}{
		{"same day", "221307", "181022", utc(2018, 10, 22, 13, 7)},
		{"filed days before", "181200", "181022", utc(2018, 10, 18, 12, 0)},
		{"filed the month before", "301200", "181102", utc(2018, 10, 30, 12, 0)},
		{"filed the year before", "312350", "190101", utc(2018, 12, 31, 23, 50)},
		{"day 31 after a 30-day month", "310900", "181101", utc(2018, 10, 31, 9, 0)},
		{"filed after EOBD across the month end", "010030", "181031", utc(2018, 11, 1, 0, 30)},
		{"29 Feb in a leap year", "292300", "200301", utc(2020, 2, 29, 23, 0)},
		{"day 30 does not exist in February", "300800", "190301", utc(2019, 3, 30, 8, 0)},
	}
	var p adexp.Parser
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH -EOBT 1304 -EOBD " + tt.eobd + " -FILTIM " + tt.filtim
			_, ts, err := p.Check([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			if !ts.Equal(tt.want) {
				t.Errorf("FILTIM %s EOBD %s = %v, want %v", tt.filtim, tt.eobd, ts, tt.want)
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func sampleDir() string { return filepath.Join("..", "..", "..", "shared", "data", "adexp") }

type sampleMessage struct {
	LoggedAt   string `json:"logged_at"`
	SourceFile string `json:"source_file"`
	Message    string `json:"message"`
}

// readSample returns the messages of the shared JSONL sample, or skips.
func readSample(tb testing.TB) []sampleMessage {
	tb.Helper()
	path := filepath.Join(sampleDir(), "idiot-fp-messages.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Skipf("sample ADEXP data not found at %s (%v); it lives in the shared data directory outside the repository", path, err)
	}
	var out []sampleMessage
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m sampleMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("%s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestParseSample parses every message of the third-party sample: real
// traffic must be accepted in full.
func TestParseSample(t *testing.T) {
	msgs := readSample(t)
	if len(msgs) != 122 {
		t.Errorf("%d messages in the sample, want 122", len(msgs))
	}
	var p adexp.Parser
	titles := map[string]int{}
	keys := map[string]int{}
	for i, sm := range msgs {
		raw := []byte(sm.Message)
		orig := bytes.Clone(raw)
		m, err := p.Parse(raw)
		if !bytes.Equal(raw, orig) {
			t.Fatalf("message %d: Parse modified its input", i+1)
		}
		if err != nil {
			t.Errorf("message %d (%s): %v", i+1, clip(sm.Message), err)
			continue
		}
		titles[m.Title]++
		keys[m.RecordKey()]++
		if m.Title == "IFPL" && (m.Time.IsZero() || m.Key.IFPLID == "") {
			t.Errorf("message %d: IFPL without time or IFPLID: %+v %v", i+1, m.Key, m.Time)
		}
	}
	for title, want := range map[string]int{"ABI": 37, "LAM": 35, "CFD": 12, "ACT": 10, "IFPL": 7, "BFD": 5, "PAC": 5, "COD": 5, "MAC": 5, "RRV": 1} {
		if titles[title] != want {
			t.Errorf("%d %s messages, want %d", titles[title], title, want)
		}
	}
	t.Logf("titles %v", titles)
	t.Logf("record keys %v", keys)

	spot := []struct {
		index     int // 0-based line of the JSONL file
		title     string
		key       adexp.Key
		recordKey string
		ts        time.Time
	}{
		{0, "IFPL", adexp.Key{ADEP: "EDDM", EOBD: "181022", EOBT: "1304", ARCID: "DLH5KF", ADES: "EDDH", IFPLID: "AA00000113"},
			"EDDM/181022/1304/DLH5KF/EDDH", utc(2018, 10, 22, 13, 7)},
		{2, "LAM", adexp.Key{}, "LAM", time.Time{}},
		{121, "IFPL", adexp.Key{ADEP: "LHBP", EOBD: "190328", EOBT: "1500", ARCID: "32110F1", ADES: "EDDP", IFPLID: "AA00000111"},
			"LHBP/190328/1500/32110F1/EDDP", utc(2019, 3, 28, 13, 22)},
	}
	for _, s := range spot {
		t.Run(fmt.Sprintf("%s@line%03d", s.title, s.index+1), func(t *testing.T) {
			if s.index >= len(msgs) {
				t.Fatalf("sample has only %d messages", len(msgs))
			}
			m, err := p.Parse([]byte(msgs[s.index].Message))
			if err != nil {
				t.Fatal(err)
			}
			if m.Title != s.title || m.Key != s.key || m.RecordKey() != s.recordKey || !m.Time.Equal(s.ts) {
				t.Errorf("got %s %+v %q %v, want %s %+v %q %v", m.Title, m.Key, m.RecordKey(), m.Time, s.title, s.key, s.recordKey, s.ts)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		msgIFPL, msgLAM, msgPAC, msgABI, msgRRV, msgCHG, msgCNL, msgDLA, msgDEP, msgARR, msgACK,
		multiLine, strings.ReplaceAll(multiLine, "\n", "\r\n"),
		"", " ", "-", "-TITLE", "-TITLE IFPL", "-TITLE LAM -BEGIN", "-TITLE LAM -END X", "-TITLE LAM -BEGIN A -BEGIN B -END B",
		"-TITLE IFPL -EOBD 991399", "-TITLE ARR -ARCID AB -ADEP EDDM -ADARR EDDH -FILTIM 312359 -EOBD 190101",
		"-TITLE LAM [..]", "-TITLE LAM \xff", "-TITLE LAM \x00", "(FPL-ABC-IS)", "-TITLE ACK -ORIGINDT 991231235959",
	} {
		f.Add([]byte(s))
	}
	if _, err := os.Stat(filepath.Join(sampleDir(), "idiot-fp-messages.jsonl")); err == nil {
		for _, m := range readSample(f) {
			f.Add([]byte(m.Message))
		}
	}
	var p adexp.Parser
	f.Fuzz(func(t *testing.T, raw []byte) {
		orig := bytes.Clone(raw)
		m, err := p.Parse(raw)
		if !bytes.Equal(raw, orig) {
			t.Fatalf("Parse modified its input: %q became %q", orig, raw)
		}
		if err != nil {
			var se *adexp.SyntaxError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Code, "adexp.") || se.Reason == "" {
				t.Fatalf("Parse(%q) error %#v, want a *adexp.SyntaxError with an adexp. code and a reason", raw, err)
			}
			return
		}
		if len(raw) > adexp.MaxMessageBytes {
			t.Fatalf("Parse accepted a %d-byte message", len(raw))
		}
		if len(m.Fields) == 0 || m.Fields[0].Name != "TITLE" || m.Fields[0].Value != m.Title || m.Title == "" {
			t.Fatalf("Parse(%q) accepted without a title: %+v", raw, m)
		}
		if v, ok := m.Get("TITLE"); !ok || v != m.Title {
			t.Fatalf("Get(TITLE) = %q, %v; Title %q", v, ok, m.Title)
		}
		if rk := m.RecordKey(); rk == "" || (m.Key.ARCID != "" && rk != m.Key.String()) {
			t.Fatalf("RecordKey %q for key %+v", rk, m.Key)
		}
		for name, v := range map[string]string{"ADEP": m.Key.ADEP, "ADES": m.Key.ADES, "ARCID": m.Key.ARCID, "EOBD": m.Key.EOBD, "EOBT": m.Key.EOBT, "IFPLID": m.Key.IFPLID} {
			if strings.ContainsAny(v, "/ \t\r\n") {
				t.Fatalf("key component %s = %q", name, v)
			}
		}
		if m.TimeField == "" && !m.Time.IsZero() || m.TimeField != "" && (m.Time.IsZero() || m.Time.Location() != time.UTC) {
			t.Fatalf("Time %v from %q", m.Time, m.TimeField)
		}
		key, ts, err := p.Check(raw)
		if err != nil || key != m.RecordKey() || !ts.Equal(m.Time) {
			t.Fatalf("Check = %q, %v, %v; Parse gave %q, %v", key, ts, err, m.RecordKey(), m.Time)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	msgs := [][]byte{[]byte(msgIFPL), []byte(msgLAM), []byte(msgPAC), []byte(msgABI), []byte(msgRRV)}
	for _, bm := range []struct {
		name string
		msgs [][]byte
	}{
		{"IFPL", msgs[:1]},
		{"LAM", msgs[1:2]},
		{"mix", msgs},
	} {
		b.Run(bm.name, func(b *testing.B) {
			var n int
			for _, m := range bm.msgs {
				n += len(m)
			}
			b.SetBytes(int64(n / len(bm.msgs)))
			b.ReportAllocs()
			var p adexp.Parser
			i := 0
			for b.Loop() {
				if _, err := p.Parse(bm.msgs[i%len(bm.msgs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
