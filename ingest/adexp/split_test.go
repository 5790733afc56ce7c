package adexp_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/ingest/adexp"
)

// splitAll frames data in one go, as a Scanner does at EOF, and checks the
// promises of Split on every call: progress, tokens that are subslices of the
// bytes consumed by that call, and nothing but white space consumed outside
// tokens.
func splitAll(tb testing.TB, data []byte) []string {
	tb.Helper()
	var tokens []string
	for off := 0; off < len(data); {
		rest := data[off:]
		adv, tok, err := adexp.Split(rest, true)
		if err != nil {
			tb.Fatalf("Split at %d: %v", off, err)
		}
		if adv <= 0 || adv > len(rest) {
			tb.Fatalf("Split at %d of %d advanced %d", off, len(data), adv)
		}
		skipped := rest[:adv]
		if tok != nil {
			if len(tok) == 0 {
				tb.Fatalf("Split at %d returned an empty token", off)
			}
			// A subslice of rest shares its end of capacity.
			start := cap(rest) - cap(tok)
			if start < 0 || start+len(tok) > adv || &rest[start] != &tok[0] {
				tb.Fatalf("Split at %d returned a token that is not within the %d bytes it consumed", off, adv)
			}
			tokens = append(tokens, string(tok))
			skipped = append(bytes.Clone(rest[:start]), rest[start+len(tok):adv]...)
		}
		if strings.Trim(string(skipped), " \t\r\n") != "" {
			tb.Fatalf("Split at %d dropped %q", off, skipped)
		}
		off += adv
	}
	return tokens
}

// chunkReader returns data n bytes per Read, to show framing does not depend
// on how the stream arrives.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func scanAll(tb testing.TB, r io.Reader) []string {
	tb.Helper()
	sc := adexp.NewScanner(r)
	var tokens []string
	for sc.Scan() {
		tokens = append(tokens, sc.Text())
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("Scanner: %v", err)
	}
	return tokens
}

func TestSplit(t *testing.T) {
	big := padTo("-TITLE LAM -COMMENT", adexp.MaxMessageBytes+100)
	huge := padTo("-TITLE LAM -COMMENT", adexp.MaxScanBytes+100)
	bigLines := "-TITLE LAM\n" + strings.Repeat("-COMMENT XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n", adexp.MaxMessageBytes/40+10) + "-SEQNUM 002"
	// Where the first line terminator at or after MaxMessageBytes is.
	bigLinesCut := adexp.MaxMessageBytes + strings.IndexByte(bigLines[adexp.MaxMessageBytes:], '\n') + 1
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"only blank lines", "\n \r\n\t\n", nil},
		{"one line without terminator", msgLAM, []string{msgLAM}},
		{"one-line messages back to back, CRLF", msgLAM + "\r\n" + msgRRV + "\r\n", []string{msgLAM, msgRRV}},
		{"blank lines between are framing", "\n\n" + msgLAM + "\n\n\r\n" + msgRRV + "\n\n", []string{msgLAM, msgRRV}},
		{"multi-line LF", multiLine + "\n" + msgLAM + "\n", []string{multiLine, msgLAM}},
		{"multi-line CRLF kept verbatim", strings.ReplaceAll(multiLine+"\n"+msgLAM+"\n", "\n", "\r\n"),
			[]string{strings.ReplaceAll(multiLine, "\n", "\r\n"), msgLAM}},
		{"indented title line keeps its indentation", "  \t-TITLE LAM\n  -SEQNUM 002\n", []string{"  \t-TITLE LAM\n  -SEQNUM 002"}},
		{"a blank line inside a message followed by a field", "-TITLE LAM\n\n-SEQNUM 002\n", []string{"-TITLE LAM\n\n-SEQNUM 002"}},
		{"free text after a blank line ends the message", "-TITLE LAM -SEQNUM 002\n\n AOBT: 1304\n ASSR: 0126\n\n" + msgRRV,
			[]string{"-TITLE LAM -SEQNUM 002", " AOBT: 1304\n ASSR: 0126", msgRRV}},
		{"a dash line that is not a field is free text", "-TITLE LAM\n\n         - ROCD_NOT_DEFINED\n", []string{"-TITLE LAM", "         - ROCD_NOT_DEFINED"}},
		{"a line right after a message line continues it", "-TITLE IFPL -ROUTE N0450F350 INPUD\nUPALA DCT\n", []string{"-TITLE IFPL -ROUTE N0450F350 INPUD\nUPALA DCT"}},
		{"text before the first message is its own record", "History Length ...: 16384\n\n181022-130556\n" + msgLAM,
			[]string{"History Length ...: 16384\n\n181022-130556", msgLAM}},
		{"text only", "****\n FP HISTORY DATA\n****\n", []string{"****\n FP HISTORY DATA\n****"}},
		{"a -TITLE inside a line does not start a message", "ADJACENT: -TITLE ABI -ARCID DLH5KF\n" + msgLAM,
			[]string{"ADJACENT: -TITLE ABI -ARCID DLH5KF", msgLAM}},
		{"-TITLEX is not a title", "-TITLEX\n-TITLE LAM", []string{"-TITLEX", "-TITLE LAM"}},
		{"-TITLE at the end of the data", msgLAM + "\n-TITLE", []string{msgLAM, "-TITLE"}},
		{"CR without LF stays in the line", "-TITLE LAM\r-SEQNUM 1\r\n", []string{"-TITLE LAM\r-SEQNUM 1"}},
		{"a trailing CR at EOF is content", "-TITLE LAM\r", []string{"-TITLE LAM\r"}},
		{"binary bytes are passed on for Parse to reject", "-TITLE LAM \x00\xff\n", []string{"-TITLE LAM \x00\xff"}},
		{"a long line is cut after its terminator", big + "\n" + msgLAM,
			[]string{big + "\n", msgLAM}},
		{"a line longer than MaxScanBytes is cut just past the limit", huge + "\n" + msgLAM,
			[]string{huge[:adexp.MaxMessageBytes+1], huge[adexp.MaxMessageBytes+1:], msgLAM}},
		{"a long multi-line message is cut after a line", bigLines + "\n" + msgLAM,
			[]string{bigLines[:bigLinesCut], bigLines[bigLinesCut:], msgLAM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			orig := bytes.Clone(in)
			got := splitAll(t, in)
			if !bytes.Equal(in, orig) {
				t.Fatalf("Split modified its input")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tokens\n%s\nwant\n%s", quoteAll(got), quoteAll(tt.want))
			}
			for _, n := range []int{1, 7, 4096} {
				if n == 1 && len(in) > 10_000 {
					continue // quadratic with one-byte reads
				}
				if streamed := scanAll(t, &chunkReader{data: in, n: n}); !reflect.DeepEqual(streamed, got) {
					t.Errorf("read %d bytes at a time: tokens\n%s\nwant\n%s", n, quoteAll(streamed), quoteAll(got))
				}
			}
		})
	}
}

func quoteAll(ss []string) string {
	var b strings.Builder
	for _, s := range ss {
		if len(s) > 120 {
			s = fmt.Sprintf("%s...(%d bytes)...%s", s[:50], len(s), s[len(s)-50:])
		}
		fmt.Fprintf(&b, "  %q\n", s)
	}
	return b.String()
}

// TestSplitOversized checks that Split stays within MaxScanBytes and that
// what it cuts from an over-long record is rejected as too long.
func TestSplitOversized(t *testing.T) {
	var p adexp.Parser
	tests := []struct {
		name string
		in   string
	}{
		{"one endless line", "-TITLE LAM -COMMENT " + strings.Repeat("X", 3*adexp.MaxScanBytes)},
		{"many lines", "-TITLE LAM\n" + strings.Repeat("-COMMENT X\n", 3*adexp.MaxScanBytes/11)},
		{"endless white space, then a message", strings.Repeat(" ", 3*adexp.MaxScanBytes) + "\n" + msgLAM},
		{"endless blank lines inside a message", "-TITLE LAM\n" + strings.Repeat("\n", 3*adexp.MaxScanBytes) + "-SEQNUM 002"},
		{"endless free text", strings.Repeat("free text\n", 3*adexp.MaxScanBytes/10) + msgLAM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			whole := splitAll(t, in)
			if streamed := scanAll(t, &chunkReader{data: in, n: 1000}); !reflect.DeepEqual(streamed, whole) {
				t.Fatalf("streamed tokens differ from whole:\n%s\nwant\n%s", quoteAll(streamed), quoteAll(whole))
			}
			// The default Scanner buffer is too small, as documented.
			sc := bufio.NewScanner(bytes.NewReader(in))
			sc.Split(adexp.Split)
			for sc.Scan() {
			}
			if long := tt.name == "one endless line" || tt.name == "many lines"; long && !errors.Is(sc.Err(), bufio.ErrTooLong) {
				t.Errorf("default-buffer Scanner: %v, want bufio.ErrTooLong", sc.Err())
			}
			codes := map[string]int{}
			for _, tok := range whole {
				if len(tok) > adexp.MaxScanBytes {
					t.Errorf("token of %d bytes, more than MaxScanBytes", len(tok))
				}
				_, _, err := p.Check([]byte(tok))
				code := "ok"
				if se := (*adexp.SyntaxError)(nil); errors.As(err, &se) {
					code = se.Code
				}
				codes[code]++
				if code == "ok" && len(tok) > adexp.MaxMessageBytes {
					t.Errorf("a %d-byte token was accepted", len(tok))
				}
			}
			t.Logf("%d tokens: %v", len(whole), codes)
			if tt.name == "one endless line" || tt.name == "many lines" {
				if codes[adexp.CodeTooLong] == 0 || codes["ok"] != 0 {
					t.Errorf("codes %v, want the head rejected as too long and nothing accepted", codes)
				}
			}
		})
	}
}

// TestSplitDumps frames the flight-plan history dumps of the shared sample:
// every line whose first token is -TITLE must come out as exactly that
// message and be accepted; the dump's own text comes out as free-text records
// that Parse rejects.
func TestSplitDumps(t *testing.T) {
	dir := sampleDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.fp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no sample ADEXP dumps (*.fp) at %s; they live in the shared data directory outside the repository", dir)
	}
	bySource := map[string][]string{}
	if _, err := os.Stat(filepath.Join(dir, "idiot-fp-messages.jsonl")); err == nil {
		for _, m := range readSample(t) {
			bySource[m.SourceFile] = append(bySource[m.SourceFile], m.Message)
		}
	}
	var p adexp.Parser
	total := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			titleLines := 0
			for _, line := range strings.Split(string(b), "\n") {
				if isTitleLine(line) {
					titleLines++
				}
			}
			tokens := splitAll(t, b)
			if streamed := scanAll(t, bytes.NewReader(b)); !reflect.DeepEqual(streamed, tokens) {
				t.Errorf("Scanner and whole-buffer framing differ")
			}
			var messages []string
			codes := map[string]int{}
			for _, tok := range tokens {
				_, _, err := p.Check([]byte(tok))
				if isTitleLine(tok) {
					messages = append(messages, tok)
					if err != nil {
						t.Errorf("message %q rejected: %v", clip(tok), err)
					}
					continue
				}
				var se *adexp.SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("free text %q accepted", clip(tok))
					continue
				}
				codes[se.Code]++
			}
			if len(messages) != titleLines {
				t.Errorf("%d messages framed, but %d lines start with -TITLE", len(messages), titleLines)
			}
			if want, ok := bySource[name]; ok && !reflect.DeepEqual(messages, want) {
				t.Errorf("framed messages differ from the JSONL sample's messages for this file (%d vs %d)", len(messages), len(want))
			}
			total += len(messages)
			t.Logf("%d bytes: %d records, %d messages accepted, free text rejected %v", len(b), len(tokens), len(messages), codes)
		})
	}
	if len(bySource) > 0 && total != 122 {
		t.Errorf("%d messages in all dumps, want the sample's 122", total)
	}
}

// isTitleLine reports whether s starts, after spaces and tabs, with the
// token -TITLE: the definition of a message start, written independently of
// the package.
func isTitleLine(s string) bool {
	s = strings.TrimLeft(s, " \t\r")
	rest, ok := strings.CutPrefix(s, "-TITLE")
	return ok && (rest == "" || strings.ContainsRune(" \t\r\n", rune(rest[0])))
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"", "\n", "-TITLE", "-TITLE LAM\n\n-X 1\n\ntext\n-TITLE", " \t-TITLE\r\n", "a\n\n-TITLE X\n-",
		msgLAM + "\r\n" + msgRRV, multiLine, strings.ReplaceAll(multiLine, "\n", "\r\n"),
		"-TITLE LAM\n\n         - ROCD_NOT_DEFINED\n", "ADJACENT: -TITLE ABI\n-TITLE LAM",
	} {
		f.Add([]byte(s), uint8(3))
	}
	dir := sampleDir()
	if files, _ := filepath.Glob(filepath.Join(dir, "*.fp")); len(files) > 0 {
		// The head of one dump: wrapper text, messages and more text.
		if b, err := os.ReadFile(files[0]); err == nil {
			f.Add(b[:min(len(b), 8<<10)], uint8(64))
		}
	}
	f.Add([]byte("-TITLE LAM\n-COMMENT X\n\n"), uint8(0xc0))
	f.Add([]byte("-TITLE LAM -COMMENT X X X "), uint8(0xc1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		readSize := int(chunk)%16 + 1
		if chunk&0xc0 == 0xc0 && len(data) > 0 {
			// Repeat the input past MaxScanBytes to reach the bounds and
			// the cuts; read it in larger pieces to keep this fast.
			data = bytes.Repeat(data, adexp.MaxScanBytes/len(data)+2)
			readSize = 4096 + int(chunk)%64
		}
		orig := bytes.Clone(data)
		whole := splitAll(t, data)
		if !bytes.Equal(data, orig) {
			t.Fatalf("Split modified its input")
		}
		n := 0
		for _, tok := range whole {
			n += len(tok)
		}
		if n > len(data) {
			t.Fatalf("tokens hold %d bytes of a %d-byte input", n, len(data))
		}
		streamed := scanAll(t, &chunkReader{data: data, n: readSize})
		if !reflect.DeepEqual(streamed, whole) {
			t.Fatalf("read in chunks of %d: tokens\n%s\nwant\n%s", readSize, quoteAll(streamed), quoteAll(whole))
		}
		var p adexp.Parser
		for _, tok := range whole {
			if len(tok) > adexp.MaxScanBytes {
				t.Fatalf("token of %d bytes, more than MaxScanBytes", len(tok))
			}
			if _, err := p.Parse([]byte(tok)); err == nil && !isTitleLine(tok) {
				t.Fatalf("token %q does not start with -TITLE but was accepted", clip(tok))
			}
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	var stream []byte
	if files, _ := filepath.Glob(filepath.Join(sampleDir(), "*.fp")); len(files) > 0 {
		for _, f := range files {
			d, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			stream = append(stream, d...)
		}
	} else {
		for range 50 {
			stream = append(stream, "181022-130556\n"+msgIFPL+"\n\n AOBT: 1304\n\n"+msgLAM+"\n\n"+multiLine+"\n\n"...)
		}
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		sc := adexp.NewScanner(bytes.NewReader(stream))
		for sc.Scan() {
		}
		if err := sc.Err(); err != nil {
			b.Fatal(err)
		}
	}
}
