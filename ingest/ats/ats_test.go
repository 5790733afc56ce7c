package ats_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/ingest/ats"
)

// The flight of the first ADEXP message in the shared sample data
// (/work/shared/data/adexp/idiot-fp-messages.jsonl: IFPL DLH5KF EDDM-EDDH,
// A320, EOBT 1304, DOF 181022, SSR A4737), written as ICAO ATS messages.
const (
	msgFPL = "(FPL-DLH5KF-IS\n" +
		"-A320/M-SDE3FGHIJ1RWY/LB1\n" +
		"-EDDM1304\n" +
		"-N0450F350 INPUD2N INPUD Y102 UPALA M726 LASTO M852 POVEL M852 AMLUH DCT\n" +
		"-EDDH0105 EDDV\n" +
		"-PBN/A1B1C1D1 DOF/181022 REG/DAIPX EET/EDVV0025 RMK/TCAS)"
	msgCHG = "(CHG-DLH5KF-EDDM1304-EDDH-DOF/181022-9/A321/M-15/N0450F370 INPUD2N INPUD Y102 UPALA M726 LASTO)"
	msgCNL = "(CNL-DLH5KF-EDDM1304-EDDH-DOF/181022)"
	msgDLA = "(DLA-DLH5KF-EDDM1330-EDDH-DOF/181022)"
	msgDEP = "(DEP-DLH5KF/A4737-EDDM1309-EDDH-DOF/181022)"
	msgARR = "(ARR-DLH5KF/A4737-EDDM1309-EDDH1407)"

	keyFPL = "EDDM/181022/1304/DLH5KF/EDDH"
)

// crlf turns the LF line ends of s into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParseValid(t *testing.T) {
	tests := []struct {
		name   string
		parser ats.Parser
		msg    string
		want   ats.Message
		key    string
	}{
		{"FPL multi-line LF", ats.Parser{}, msgFPL,
			ats.Message{Type: "FPL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"FPL multi-line CRLF", ats.Parser{}, crlf(msgFPL),
			ats.Message{Type: "FPL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"FPL on one line", ats.Parser{}, strings.ReplaceAll(msgFPL, "\n", ""),
			ats.Message{Type: "FPL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"FPL with surrounding whitespace and trailing CRLF", ats.Parser{}, " \r\n\t" + crlf(msgFPL) + "\r\n",
			ats.Message{Type: "FPL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"FPL route and field 18 wrapped over lines", ats.Parser{},
			"(FPL-DLH5KF-IS\r\n-A320/M-SDE3FGHIJ1RWY/LB1\r\n-EDDM1304\r\n-N0450F350 INPUD2N INPUD\r\n Y102 UPALA M726 LASTO\r\n-EDDH0105\r\n-PBN/A1B1C1D1\r\n DOF/181022 RMK/TCAS)",
			ats.Message{Type: "FPL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"FPL with message number, SSR, formation, no DOF", ats.Parser{},
			"(FPLA/B001-GAF123/A2101-IM-3F16/M-S/C-ETNS0900-N0450F310 DCT NVO DCT-ETNS0130-0)",
			ats.Message{Type: "FPL", ARCID: "GAF123", SSR: "A2101", ADEP: "ETNS", EOBT: "0900", ADES: "ETNS"}, "ETNS//0900/GAF123/ETNS"},
		{"FPL VFR, Mach number, ZZZZ type, leap day", ats.Parser{},
			"(FPL-N123AB-VG-ZZZZ/L-N/N-EDMA0700-M082VFR DCT-EDMS0045-TYP/DA42 DOF/200229)",
			ats.Message{Type: "FPL", ARCID: "N123AB", ADEP: "EDMA", EOBT: "0700", ADES: "EDMS", EOBD: "200229"}, "EDMA/200229/0700/N123AB/EDMS"},
		{"FPL ZZZZ departure, metric level, two alternates", ats.Parser{},
			"(FPL-32110F1-IS-B738/M-SDFGHIRWY/LB1-ZZZZ2359-K0830S1010 DCT-LHBP0125 LHKV LHDC-DEP/RAKOSPALOTA DOF/190328)",
			ats.Message{Type: "FPL", ARCID: "32110F1", ADEP: "ZZZZ", EOBT: "2359", ADES: "LHBP", EOBD: "190328"}, "ZZZZ/190328/2359/32110F1/LHBP"},
		{"CHG with DOF and two amendments", ats.Parser{}, msgCHG,
			ats.Message{Type: "CHG", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"CHG with message and reference numbers, no field 18", ats.Parser{},
			"(CHGA/B234A/B231-DLH5KF-EDDM1304-EDDH-8/IN-13/EDDM1320-16/EDDH0110 EDDV-18/DOF/181023 RMK/NEW DATE-7/DLH5KG)",
			ats.Message{Type: "CHG", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH"}, "EDDM//1304/DLH5KF/EDDH"},
		{"CHG CRLF", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH\r\n-DOF/181022\r\n-10/SDE3FGHIJ1RWY/S\r\n-19/E/0230 P/2)",
			ats.Message{Type: "CHG", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"CNL", ats.Parser{}, msgCNL,
			ats.Message{Type: "CNL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"CNL with 0 in field 18", ats.Parser{}, "(CNL-DLH5KF-EDDM1304-EDDH-0)",
			ats.Message{Type: "CNL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH"}, "EDDM//1304/DLH5KF/EDDH"},
		{"CNL without field 18", ats.Parser{}, "(CNL-DLH5KF-EDDM1304-EDDH)",
			ats.Message{Type: "CNL", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH"}, "EDDM//1304/DLH5KF/EDDH"},
		{"DLA carries the revised EOBT", ats.Parser{}, msgDLA,
			ats.Message{Type: "DLA", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1330", ADES: "EDDH", EOBD: "181022"}, "EDDM/181022/1330/DLH5KF/EDDH"},
		{"DLA multi-line", ats.Parser{}, "(DLA-DLH5KF\n-EDDM1330\n-EDDH\n-DOF/181022)",
			ats.Message{Type: "DLA", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1330", ADES: "EDDH", EOBD: "181022"}, "EDDM/181022/1330/DLH5KF/EDDH"},
		{"DEP", ats.Parser{}, msgDEP,
			ats.Message{Type: "DEP", ARCID: "DLH5KF", SSR: "A4737", ADEP: "EDDM", EOBT: "1309", ADES: "EDDH", EOBD: "181022"}, "EDDM/181022/1309/DLH5KF/EDDH"},
		{"DEP with full field 16", ats.Parser{}, "(DEP-DLH5KF-EDDM1309-EDDH0105 EDDV-0)",
			ats.Message{Type: "DEP", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1309", ADES: "EDDH"}, "EDDM//1309/DLH5KF/EDDH"},
		{"ARR", ats.Parser{}, msgARR,
			ats.Message{Type: "ARR", ARCID: "DLH5KF", SSR: "A4737", ADEP: "EDDM", EOBT: "1309", ADES: "EDDH", ADARR: "EDDH", ATA: "1407"}, "EDDM//1309/DLH5KF/EDDH"},
		{"ARR without departure time", ats.Parser{}, "(ARR-DLH5KF-EDDM-EDDH1407)",
			ats.Message{Type: "ARR", ARCID: "DLH5KF", ADEP: "EDDM", ADES: "EDDH", ADARR: "EDDH", ATA: "1407"}, "EDDM///DLH5KF/EDDH"},
		{"ARR diversion keeps the planned destination in the key", ats.Parser{}, "(ARR-DLH5KF-EDDM1309-EDDH-EDDV1422)",
			ats.Message{Type: "ARR", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1309", ADES: "EDDH", ADARR: "EDDV", ATA: "1422"}, "EDDM//1309/DLH5KF/EDDH"},
		{"ARR with DOF", ats.Parser{}, "(ARR-DLH5KF-EDDM1309-EDDH1407-DOF/181022)",
			ats.Message{Type: "ARR", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1309", ADES: "EDDH", EOBD: "181022", ADARR: "EDDH", ATA: "1407"}, "EDDM/181022/1309/DLH5KF/EDDH"},
		{"ARR diversion to ZZZZ with name and DOF", ats.Parser{}, "(ARR-DLH5KF-EDDM1309-EDDH-ZZZZ1422 HOLTENAU-DOF/181022)",
			ats.Message{Type: "ARR", ARCID: "DLH5KF", ADEP: "EDDM", EOBT: "1309", ADES: "EDDH", EOBD: "181022", ADARR: "ZZZZ", ATA: "1422"}, "EDDM/181022/1309/DLH5KF/EDDH"},
		{"generic EST", ats.Parser{}, "(EST-DLH5KF/A4737-EDDM1304-INPUD/1316F070-EDDH)",
			ats.Message{Type: "EST", Generic: true, ARCID: "DLH5KF", SSR: "A4737", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH"}, "EDDM//1304/DLH5KF/EDDH"},
		{"generic CPL", ats.Parser{},
			"(CPLA/B001-DLH5KF/A4737-IS-A320/M-SDFGY/S-EDDM1304-LASTO/1336F350-N0450F350 LASTO M852 POVEL-EDDH-DOF/181022)",
			ats.Message{Type: "CPL", Generic: true, ARCID: "DLH5KF", SSR: "A4737", ADEP: "EDDM", EOBT: "1304", ADES: "EDDH", EOBD: "181022"}, keyFPL},
		{"generic ABI ignores DOF in an amendment", ats.Parser{},
			"(ABIFRA/MUN001-DLH5KF/A4737-EDDM-LASTO/1336F350-EDDH-9/A320/M-18/DOF/181023)",
			ats.Message{Type: "ABI", Generic: true, ARCID: "DLH5KF", SSR: "A4737", ADEP: "EDDM", ADES: "EDDH"}, "EDDM///DLH5KF/EDDH"},
		{"generic with field 7 only", ats.Parser{}, "(RCF-DLH5KF/A4737)",
			ats.Message{Type: "RCF", Generic: true, ARCID: "DLH5KF", SSR: "A4737"}, "///DLH5KF/"},
		{"generic LAM has only field 3 and is keyed by its type", ats.Parser{}, "(LAMA/B002A/B001)",
			ats.Message{Type: "LAM", Generic: true}, "LAM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.msg)
			orig := bytes.Clone(in)
			got, err := tt.parser.Parse(in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.msg, err)
			}
			if !bytes.Equal(in, orig) {
				t.Fatalf("Parse modified its input")
			}
			if got != tt.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.msg, got, tt.want)
			}
			if got.RecordKey() != tt.key {
				t.Errorf("RecordKey() = %q, want %q", got.RecordKey(), tt.key)
			}
			if got.ARCID != "" && got.Key() != tt.key {
				t.Errorf("Key() = %q, want %q", got.Key(), tt.key)
			}
			key, ts, err := tt.parser.Check(in)
			if err != nil || key != tt.key || !ts.IsZero() {
				t.Errorf("Check = %q, %v, %v; want %q, zero time, nil", key, ts, err, tt.key)
			}
		})
	}
}

// fplWithRemark returns a valid FPL padded in RMK/ to exactly n bytes.
func fplWithRemark(t testing.TB, n int) string {
	head := "(FPL-DLH5KF-IS-A320/M-SDE3FGHIJ1RWY/LB1-EDDM1304-N0450F350 INPUD2N INPUD-EDDH0105 EDDV-DOF/181022 RMK/"
	pad := n - len(head) - 1
	if pad < 1 {
		t.Fatalf("cannot pad to %d bytes", n)
	}
	return head + strings.Repeat("X", pad) + ")"
}

func TestParseLengthLimit(t *testing.T) {
	atLimit := fplWithRemark(t, ats.MaxMessageBytes)
	if _, err := (ats.Parser{}).Parse([]byte(atLimit)); err != nil {
		t.Errorf("a valid message of exactly MaxMessageBytes (%d) bytes: %v, want no error", ats.MaxMessageBytes, err)
	}
	_, err := (ats.Parser{}).Parse([]byte(fplWithRemark(t, ats.MaxMessageBytes+1)))
	var se *ats.SyntaxError
	if !errors.As(err, &se) || se.Code != "ats.too_long" {
		t.Errorf("a message of MaxMessageBytes+1 bytes: error %v, want code ats.too_long", err)
	}
}

func TestParseErrors(t *testing.T) {
	fpl := strings.ReplaceAll(msgFPL, "\n", "")
	tests := []struct {
		name   string
		parser ats.Parser
		msg    string
		code   string
		reason string // a substring the reason must contain
	}{
		{"empty", ats.Parser{}, "", "ats.empty", "empty"},
		{"only whitespace", ats.Parser{}, " \r\n\t ", "ats.empty", "whitespace"},
		{"too long", ats.Parser{}, "(" + strings.Repeat("A", ats.MaxMessageBytes) + ")", "ats.too_long", "8194 bytes"},
		{"NUL byte", ats.Parser{}, strings.Replace(msgCNL, "EDDH", "ED\x00H", 1), "ats.binary", "0x00"},
		{"0xff byte", ats.Parser{}, "\xff" + msgCNL, "ats.binary", "byte 0 is 0xff"},
		{"invalid UTF-8", ats.Parser{}, strings.Replace(msgFPL, "RMK/TCAS", "RMK/TC\xc3\x28S", 1), "ats.binary", "0xc3"},
		{"valid UTF-8 but not ASCII", ats.Parser{}, strings.Replace(msgFPL, "RMK/TCAS", "RMK/MÜNCHEN", 1), "ats.binary", "0xc3"},
		{"DEL byte", ats.Parser{}, strings.Replace(msgCNL, "-0", "-\x7f", 1) + "\x7f", "ats.binary", "0x7f"},
		{"vertical tab", ats.Parser{}, msgCNL + "\v", "ats.binary", "0x0b"},
		{"SOH of an AFTN frame", ats.Parser{}, "\x01" + msgCNL, "ats.binary", "0x01"},
		{"ADEXP instead of ICAO", ats.Parser{}, "-TITLE IFPL -ARCID DLH5KF -ADEP EDDM -ADES EDDH", "ats.no_parens", "want '('"},
		{"no opening parenthesis", ats.Parser{}, "FPL-DLH5KF-IS)", "ats.no_parens", "want '('"},
		{"AFTN header before the message", ats.Parser{}, "FF EDDZYNYX\r\n221307 EDDMZPZX\r\n" + msgCNL, "ats.no_parens", "want '('"},
		{"text after the closing parenthesis", ats.Parser{}, msgCNL + " NNNN", "ats.no_parens", "after the closing"},
		{"two messages in one record", ats.Parser{}, msgCNL + msgDLA, "ats.no_parens", "after the closing"},
		{"nested parenthesis", ats.Parser{}, "(CNL-DLH5KF-EDDM1304-EDDH-RMK/(X)", "ats.no_parens", "nest"},
		{"cut off", ats.Parser{}, "(FPL-DLH5KF-IS\n-A320/M-SDE3FGHIJ1RWY/LB1\n-EDDM13", "ats.truncated", "EDDM13"},
		{"cut off CRLF", ats.Parser{}, crlf(msgFPL[:len(msgFPL)-1]) + "\r\n", "ats.truncated", "closing parenthesis"},
		{"only an opening parenthesis", ats.Parser{}, "(", "ats.truncated", "closing"},
		{"empty parentheses", ats.Parser{}, "()", "ats.type", "field 3"},
		{"missing field 3", ats.Parser{}, "(-DLH5KF-EDDM1304-EDDH)", "ats.type", "field 3"},
		{"lower-case type", ats.Parser{}, strings.Replace(msgCNL, "CNL", "cnl", 1), "ats.type", "\"cnl\""},
		{"two-letter type", ats.Parser{}, "(FP-DLH5KF-EDDM1304-EDDH)", "ats.type", "3 upper-case"},
		{"type with digit", ats.Parser{}, "(FP1-DLH5KF-EDDM1304-EDDH)", "ats.type", "3 upper-case"},
		{"bad message number", ats.Parser{}, "(CNLA/B01-DLH5KF-EDDM1304-EDDH)", "ats.type", "message number"},
		{"message number without slash", ats.Parser{}, "(CNLAB001-DLH5KF-EDDM1304-EDDH)", "ats.type", "message number"},
		{"three message numbers", ats.Parser{}, "(CHGA/B001A/B002A/B003-DLH5KF-EDDM1304-EDDH-8/IN)", "ats.type", "message number"},
		{"space in field 3", ats.Parser{}, "(CNL A/B001-DLH5KF-EDDM1304-EDDH)", "ats.type", "message number"},
		{"unknown type when known types only", ats.Parser{KnownTypesOnly: true}, "(EST-DLH5KF-EDDM1304-INPUD/1316F070-EDDH)", "ats.unknown_type", "EST"},
		{"FPL with 8 fields", ats.Parser{}, strings.Replace(fpl, "-EDDH0105 EDDV", "", 1), "ats.field_count", "FPL message has 8 fields, want 9"},
		{"FPL with 10 fields", ats.Parser{}, strings.Replace(fpl, "RMK/TCAS", "RMK/TCAS-0", 1), "ats.field_count", "10 fields"},
		{"hyphen in remarks splits a field", ats.Parser{}, strings.Replace(fpl, "RMK/TCAS", "RMK/TCAS-II", 1), "ats.field_count", "10 fields"},
		{"FPL with only field 3", ats.Parser{}, "(FPL)", "ats.field_count", "1 fields"},
		{"CHG without amendment", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH-DOF/181022)", "ats.field_count", "no field 22"},
		{"CHG with 4 fields", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH)", "ats.field_count", "at least 5"},
		{"CNL with 3 fields", ats.Parser{}, "(CNL-DLH5KF-EDDM1304)", "ats.field_count", "4 or 5"},
		{"DLA with 6 fields", ats.Parser{}, "(DLA-DLH5KF-EDDM1330-EDDH-DOF/181022-0)", "ats.field_count", "4 or 5"},
		{"DEP with 3 fields", ats.Parser{}, "(DEP-DLH5KF-EDDM1309)", "ats.field_count", "4 or 5"},
		{"ARR with 3 fields", ats.Parser{}, "(ARR-DLH5KF-EDDM1309)", "ats.field_count", "4 to 6"},
		{"ARR with 7 fields", ats.Parser{}, "(ARR-DLH5KF-EDDM1309-EDDH-EDDV1422-0-0)", "ats.field_count", "4 to 6"},
		{"field 7 empty", ats.Parser{}, "(CNL--EDDM1304-EDDH)", "ats.bad_field", "field 7"},
		{"field 7 one character", ats.Parser{}, "(CNL-D-EDDM1304-EDDH)", "ats.bad_field", "field 7"},
		{"field 7 eight characters", ats.Parser{}, "(CNL-DLH5KFXX-EDDM1304-EDDH)", "ats.bad_field", "field 7"},
		{"field 7 lower case", ats.Parser{}, "(CNL-dlh5kf-EDDM1304-EDDH)", "ats.bad_field", "field 7"},
		{"field 7 with space", ats.Parser{}, "(CNL-DLH 5KF-EDDM1304-EDDH)", "ats.bad_field", "field 7"},
		{"field 7 SSR code not octal", ats.Parser{}, "(DEP-DLH5KF/A4789-EDDM1309-EDDH)", "ats.bad_field", "field 7"},
		{"field 7 SSR code short", ats.Parser{}, "(DEP-DLH5KF/A473-EDDM1309-EDDH)", "ats.bad_field", "field 7"},
		{"field 7 empty SSR", ats.Parser{}, "(DEP-DLH5KF/-EDDM1309-EDDH)", "ats.bad_field", "field 7"},
		{"field 8 unknown rules", ats.Parser{}, strings.Replace(fpl, "-IS-", "-QS-", 1), "ats.bad_field", "field 8"},
		{"field 8 unknown type of flight", ats.Parser{}, strings.Replace(fpl, "-IS-", "-IQ-", 1), "ats.bad_field", "field 8"},
		{"field 8 too long", ats.Parser{}, strings.Replace(fpl, "-IS-", "-ISN-", 1), "ats.bad_field", "field 8"},
		{"field 8 empty", ats.Parser{}, strings.Replace(fpl, "-IS-", "- -", 1), "ats.bad_field", "field 8"},
		{"field 9 no wake category", ats.Parser{}, strings.Replace(fpl, "A320/M", "A320", 1), "ats.bad_field", "field 9"},
		{"field 9 bad wake category", ats.Parser{}, strings.Replace(fpl, "A320/M", "A320/X", 1), "ats.bad_field", "field 9"},
		{"field 9 type too long", ats.Parser{}, strings.Replace(fpl, "A320/M", "A3200/M", 1), "ats.bad_field", "field 9"},
		{"field 9 type starts with digit after 2-digit count", ats.Parser{}, strings.Replace(fpl, "A320/M", "123/M", 1), "ats.bad_field", "field 9"},
		{"field 10 no slash", ats.Parser{}, strings.Replace(fpl, "SDE3FGHIJ1RWY/LB1", "SDE3FGHIJ1RWY", 1), "ats.bad_field", "field 10"},
		{"field 10 empty surveillance", ats.Parser{}, strings.Replace(fpl, "SDE3FGHIJ1RWY/LB1", "SDE3FGHIJ1RWY/", 1), "ats.bad_field", "field 10"},
		{"field 13 three-letter aerodrome", ats.Parser{}, strings.Replace(fpl, "EDDM1304", "EDM1304", 1), "ats.bad_field", "field 13"},
		{"field 13 without time in FPL", ats.Parser{}, strings.Replace(fpl, "EDDM1304", "EDDM", 1), "ats.bad_field", "field 13"},
		{"field 13 hour 24", ats.Parser{}, strings.Replace(msgCNL, "EDDM1304", "EDDM2400", 1), "ats.bad_field", "field 13"},
		{"field 13 minute 60", ats.Parser{}, strings.Replace(msgCNL, "EDDM1304", "EDDM1360", 1), "ats.bad_field", "field 13"},
		{"field 13 with space", ats.Parser{}, strings.Replace(msgCNL, "EDDM1304", "EDDM 1304", 1), "ats.bad_field", "field 13"},
		{"field 13 time missing in DEP", ats.Parser{}, "(DEP-DLH5KF-EDDM-EDDH)", "ats.bad_field", "field 13"},
		{"field 13 lower case", ats.Parser{}, strings.Replace(msgCNL, "EDDM1304", "eddm1304", 1), "ats.bad_field", "field 13"},
		{"field 15 no speed and level", ats.Parser{}, strings.Replace(fpl, "N0450F350 ", "", 1), "ats.bad_field", "field 15"},
		{"field 15 speed with 3 digits", ats.Parser{}, strings.Replace(fpl, "N0450F350", "N450F350", 1), "ats.bad_field", "field 15"},
		{"field 15 bad level", ats.Parser{}, strings.Replace(fpl, "N0450F350", "N0450X350", 1), "ats.bad_field", "field 15"},
		{"field 15 bad route element", ats.Parser{}, strings.Replace(fpl, "Y102", "Y1.2", 1), "ats.bad_field", "field 15"},
		{"field 15 empty", ats.Parser{}, strings.Replace(fpl, "-N0450F350 INPUD2N INPUD Y102 UPALA M726 LASTO M852 POVEL M852 AMLUH DCT", "- ", 1), "ats.bad_field", "field 15"},
		{"field 16 without EET in FPL", ats.Parser{}, strings.Replace(fpl, "EDDH0105", "EDDH", 1), "ats.bad_field", "field 16"},
		{"field 16 EET minute 75", ats.Parser{}, strings.Replace(fpl, "EDDH0105", "EDDH0175", 1), "ats.bad_field", "field 16"},
		{"field 16 three alternates", ats.Parser{}, strings.Replace(fpl, "EDDH0105 EDDV", "EDDH0105 EDDV EDDW EDDL", 1), "ats.bad_field", "field 16"},
		{"field 16 bad alternate", ats.Parser{}, strings.Replace(fpl, "EDDH0105 EDDV", "EDDH0105 ED1V", 1), "ats.bad_field", "field 16"},
		{"field 16 empty", ats.Parser{}, "(CNL-DLH5KF-EDDM1304- -DOF/181022)", "ats.bad_field", "field 16"},
		{"field 17 without time", ats.Parser{}, "(ARR-DLH5KF-EDDM1309-EDDH)", "ats.bad_field", "field 17"},
		{"field 17 hour 25", ats.Parser{}, "(ARR-DLH5KF-EDDM1309-EDDH2507)", "ats.bad_field", "field 17"},
		{"field 17 name after a known aerodrome", ats.Parser{}, "(ARR-DLH5KF-EDDM1309-EDDH1407 HAMBURG)", "ats.bad_field", "field 17"},
		{"field 18 without indicator", ats.Parser{}, strings.Replace(msgCNL, "DOF/181022", "181022", 1), "ats.bad_field", "field 18"},
		{"field 18 indicator without text", ats.Parser{}, strings.Replace(fpl, "RMK/TCAS", "RMK/", 1), "ats.bad_field", "RMK/ without text"},
		{"DOF month 13", ats.Parser{}, strings.Replace(fpl, "DOF/181022", "DOF/181322", 1), "ats.bad_field", "DOF/181322"},
		{"DOF day 32", ats.Parser{}, strings.Replace(msgCNL, "DOF/181022", "DOF/181032", 1), "ats.bad_field", "field 18"},
		{"DOF February 29 in a common year", ats.Parser{}, strings.Replace(msgCNL, "DOF/181022", "DOF/180229", 1), "ats.bad_field", "field 18"},
		{"DOF April 31", ats.Parser{}, strings.Replace(msgCNL, "DOF/181022", "DOF/180431", 1), "ats.bad_field", "field 18"},
		{"DOF day 00", ats.Parser{}, strings.Replace(msgCNL, "DOF/181022", "DOF/181000", 1), "ats.bad_field", "field 18"},
		{"DOF with 8 digits", ats.Parser{}, strings.Replace(msgCNL, "DOF/181022", "DOF/20181022", 1), "ats.bad_field", "field 18"},
		{"DOF twice", ats.Parser{}, strings.Replace(fpl, "RMK/TCAS", "DOF/181023", 1), "ats.bad_field", "DOF/ twice"},
		{"DOF twice in generic", ats.Parser{}, "(EST-DLH5KF-EDDM1304-DOF/181022-EDDH-DOF/181023)", "ats.bad_field", "DOF/ twice"},
		{"DOF invalid in generic", ats.Parser{}, "(EST-DLH5KF-EDDM1304-EDDH-DOF/189999)", "ats.bad_field", "DOF/189999"},
		{"field 7 bad in generic", ats.Parser{}, "(EST-hello-EDDM1304-EDDH)", "ats.bad_field", "field 7"},
		{"CHG amendment of an unknown field", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH-DOF/181022-14/INPUD/1316F070)", "ats.bad_field", "field 22"},
		{"CHG amendment with nothing", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH-DOF/181022-8/)", "ats.bad_field", "field 22"},
		{"CHG amendment is not field 22", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH-DOF/181022-8/IN-IFR)", "ats.bad_field", "field 22"},
		{"CHG amendment content checked", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH-DOF/181022-9/A320)", "ats.bad_field", "field 9"},
		{"CHG amended DOF checked", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH-DOF/181022-18/DOF/181399)", "ats.bad_field", "field 18"},
		{"CHG amended time checked", ats.Parser{}, "(CHG-DLH5KF-EDDM1304-EDDH-13/EDDM9999)", "ats.bad_field", "field 13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.msg)
			if tt.msg == "" {
				in = nil
			}
			orig := bytes.Clone(in)
			m, err := tt.parser.Parse(in)
			if !bytes.Equal(in, orig) {
				t.Fatalf("Parse modified its input")
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, no error; want %s", truncate(tt.msg), m, tt.code)
			}
			var se *ats.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *ats.SyntaxError", truncate(tt.msg), err, err)
			}
			if se.Code != tt.code {
				t.Errorf("Parse(%q) code = %q (%s), want %q", truncate(tt.msg), se.Code, se.Reason, tt.code)
			}
			if se.Error() != se.Reason || se.ReasonCode() != se.Code {
				t.Errorf("Error() = %q, ReasonCode() = %q; want the reason %q and the code %q", se.Error(), se.ReasonCode(), se.Reason, se.Code)
			}
			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", se.Reason, tt.reason)
			}
			if len(se.Reason) > 200 {
				t.Errorf("reason is %d bytes, want it short even for huge input: %q", len(se.Reason), truncate(se.Reason))
			}
			key, ts, err := tt.parser.Check(in)
			if err == nil || key != "" || !ts.IsZero() {
				t.Errorf("Check = %q, %v, %v; want no key, zero time and the error", key, ts, err)
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

// TestParseRejectsADEXP feeds every ADEXP message of the shared sample data to
// the ICAO parser: a feed mix-up must be rejected with a clear reason, and the
// ICAO form of the first flight must get the ADEXP message's composite key.
func TestParseRejectsADEXP(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "adexp", "idiot-fp-messages.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("sample ADEXP data not found at %s (%v); it lives in the shared data directory outside the repository", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var rec struct{ Message string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		_, err := (ats.Parser{}).Parse([]byte(rec.Message))
		var se *ats.SyntaxError
		if !errors.As(err, &se) || se.Code != "ats.no_parens" {
			t.Errorf("line %d: ADEXP message gave %v, want ats.no_parens", n, err)
		}
		if n == 1 {
			want := adexpKey(rec.Message)
			if want != keyFPL {
				t.Errorf("first ADEXP message has key %q, want %q: the test data changed", want, keyFPL)
			}
			m, err := (ats.Parser{}).Parse([]byte(msgFPL))
			if err != nil || m.Key() != want {
				t.Errorf("ICAO FPL key = %q (%v), want the ADEXP key %q", m.Key(), err, want)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 122 {
		t.Errorf("%d ADEXP messages, want 122", n)
	}
}

// adexpKey builds ADEP/EOBD/EOBT/ARCID/ADES from an ADEXP message's
// top-level fields, for comparison only.
func adexpKey(msg string) string {
	f := strings.Fields(msg)
	get := func(name string) string {
		for i, w := range f {
			if w == "-"+name && i+1 < len(f) {
				return f[i+1]
			}
		}
		return ""
	}
	return get("ADEP") + "/" + get("EOBD") + "/" + get("EOBT") + "/" + get("ARCID") + "/" + get("ADES")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		msgFPL, crlf(msgFPL), msgCHG, msgCNL, msgDLA, msgDEP, msgARR,
		"(FPLA/B001-GAF123/A2101-IM-3F16/M-S/C-ETNS0900-N0450F310 DCT NVO DCT-ETNS0130-0)",
		"(CHGA/B234A/B231-DLH5KF-EDDM1304-EDDH-8/IN-13/EDDM1320-16/EDDH0110 EDDV-18/DOF/181023 RMK/NEW DATE-7/DLH5KG)",
		"(ARR-DLH5KF-EDDM1309-EDDH-ZZZZ1422 HOLTENAU-DOF/181022)",
		"(CPLA/B001-DLH5KF/A4737-IS-A320/M-SDFGY/S-EDDM1304-LASTO/1336F350-N0450F350 LASTO M852 POVEL-EDDH-DOF/181022)",
		"(EST-DLH5KF/A4737-EDDM1304-INPUD/1316F070-EDDH)",
		"(LAMA/B002A/B001)",
		"", "(", ")", "()", "(-)", "(---)", "((()))",
		"(FPL-DLH5KF-IS\n-A320/M-SDE3FGHIJ1RWY/LB1\n-EDDM13",
		"-TITLE IFPL -ARCID DLH5KF -ADEP EDDM",
		"(CNL-DLH5KF-EDDM1304-EDDH-DOF/180229)",
		"(CNL-DLH5KF-EDDM2400-EDDH-DOF/181022)",
		"(CNL-DLH5KF-EDDM1304-EDDH-DOF/181022)garbage",
		"(CNL-DLH5KF-\x00\xff-EDDH)",
		strings.Repeat("(", 100),
		"(" + strings.Repeat("A", ats.MaxMessageBytes) + ")",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, p := range []ats.Parser{{}, {KnownTypesOnly: true}} {
			orig := bytes.Clone(raw)
			m, err := p.Parse(raw)
			if !bytes.Equal(raw, orig) {
				t.Fatalf("Parse modified its input: %q became %q", orig, raw)
			}
			key, ts, cerr := p.Check(raw)
			if !ts.IsZero() {
				t.Fatalf("Check(%q) returned timestamp %v, want zero", raw, ts)
			}
			if err != nil {
				var se *ats.SyntaxError
				if !errors.As(err, &se) || se.Code == "" || !strings.HasPrefix(se.Code, "ats.") || se.Reason == "" {
					t.Fatalf("Parse(%q) error %#v, want a *ats.SyntaxError with an ats. code and a reason", raw, err)
				}
				if cerr == nil || cerr.Error() != err.Error() || key != "" {
					t.Fatalf("Check(%q) = %q, %v; Parse said %v", raw, key, cerr, err)
				}
				continue
			}
			if cerr != nil || key != m.RecordKey() {
				t.Fatalf("Check(%q) = %q, %v; Parse gave record key %q", raw, key, cerr, m.RecordKey())
			}
			if len(raw) > ats.MaxMessageBytes {
				t.Fatalf("Parse accepted a %d-byte message", len(raw))
			}
			known := strings.Contains("FPL CHG CNL DLA DEP ARR", m.Type)
			if len(m.Type) != 3 || (m.ARCID == "" && (known || key != m.Type)) ||
				(m.ARCID != "" && (len(m.ARCID) < 2 || len(m.ARCID) > 7 || key != m.Key() || strings.Count(key, "/") != 4)) {
				t.Fatalf("Parse(%q) accepted type %q, ARCID %q with record key %q", raw, m.Type, m.ARCID, key)
			}
			if known == m.Generic || (p.KnownTypesOnly && !known) {
				t.Fatalf("Parse(%q) type %s with Generic=%v (KnownTypesOnly=%v)", raw, m.Type, m.Generic, p.KnownTypesOnly)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	msgs := [][]byte{
		[]byte(msgFPL), []byte(crlf(msgFPL)), []byte(msgCHG), []byte(msgCNL),
		[]byte(msgDLA), []byte(msgDEP), []byte(msgARR),
	}
	var n int
	for _, m := range msgs {
		n += len(m)
	}
	b.SetBytes(int64(n / len(msgs)))
	b.ReportAllocs()
	var p ats.Parser
	i := 0
	for b.Loop() {
		if _, err := p.Parse(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
