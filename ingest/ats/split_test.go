package ats_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/contrail-atm/contrail/ingest/ats"
)

// splitAll frames data with ats.Split called directly, as a Scanner would at
// EOF, and checks on the way that every token is a non-empty subslice of
// data within the size bound and that Split does not modify data.
func splitAll(t testing.TB, data []byte) [][]byte {
	t.Helper()
	orig := bytes.Clone(data)
	var toks [][]byte
	for pos := 0; pos < len(data); {
		adv, tok, err := ats.Split(data[pos:], true)
		if err != nil {
			t.Fatalf("Split at %d: %v", pos, err)
		}
		if adv <= 0 || adv > len(data)-pos {
			t.Fatalf("Split at %d advanced %d of %d bytes", pos, adv, len(data)-pos)
		}
		if tok != nil {
			if len(tok) == 0 || len(tok) > ats.MaxMessageBytes+1 {
				t.Fatalf("Split at %d returned a %d-byte token", pos, len(tok))
			}
			if !isSubslice(data[pos:pos+adv], tok) {
				t.Fatalf("token %q is not a subslice of the %d bytes Split consumed", tok, adv)
			}
			toks = append(toks, tok)
		}
		pos += adv
	}
	if adv, tok, err := ats.Split(data[len(data):], true); adv != 0 || tok != nil || err != nil {
		t.Fatalf("Split at EOF = %d, %q, %v; want 0, nil, nil", adv, tok, err)
	}
	if !bytes.Equal(data, orig) {
		t.Fatalf("Split modified its input")
	}
	return toks
}

// isSubslice reports whether sub shares memory with, and lies inside, s.
func isSubslice(s, sub []byte) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if &s[i] == &sub[0] {
			return true
		}
	}
	return false
}

// scanAll frames r with a bufio.Scanner and ats.Split.
func scanAll(t testing.TB, r io.Reader) []string {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Split(ats.Split)
	var toks []string
	for sc.Scan() {
		toks = append(toks, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return toks
}

func TestSplit(t *testing.T) {
	long := "(" + strings.Repeat("A", ats.MaxMessageBytes+100) + ")"
	tests := []struct {
		name  string
		in    string
		want  []string
		codes []string // parse outcome per token, "" for accepted
	}{
		{"empty stream", "", nil, nil},
		{"only whitespace", " \r\n\r\n\t ", nil, nil},
		{"one message", msgCNL, []string{msgCNL}, []string{""}},
		{"messages back to back", msgCNL + msgDLA + msgDEP, []string{msgCNL, msgDLA, msgDEP}, []string{"", "", ""}},
		{"LF separated multi-line messages", msgFPL + "\n\n" + msgCHG + "\n" + msgARR + "\n",
			[]string{msgFPL, msgCHG, msgARR}, []string{"", "", ""}},
		{"CRLF separated multi-line messages", crlf(msgFPL) + "\r\n\r\n" + msgCNL + "\r\n",
			[]string{crlf(msgFPL), msgCNL}, []string{"", ""}},
		{"AFTN header and trailer are free text",
			"ZCZC ABC123\r\nFF EDDZYNYX\r\n221307 EDDMZPZX\r\n" + crlf(msgFPL) + "\r\n\r\nNNNN\r\n" + msgDLA + "\r\n",
			[]string{"ZCZC ABC123\r\nFF EDDZYNYX\r\n221307 EDDMZPZX", crlf(msgFPL), "NNNN", msgDLA},
			[]string{"ats.no_parens", "", "ats.no_parens", ""}},
		{"free text at the end", msgCNL + "\n trailing words \n", []string{msgCNL, "trailing words"}, []string{"", "ats.no_parens"}},
		{"stray closing parenthesis is free text", "oops) " + msgCNL, []string{"oops)", msgCNL}, []string{"ats.no_parens", ""}},
		{"message cut at EOF", msgCNL + "\r\n(DLA-DLH5KF-EDDM13", []string{msgCNL, "(DLA-DLH5KF-EDDM13"}, []string{"", "ats.truncated"}},
		{"message cut at EOF with trailing CRLF", msgCNL + "\r\n(DLA-DLH5KF-EDDM13\r\n", []string{msgCNL, "(DLA-DLH5KF-EDDM13"}, []string{"", "ats.truncated"}},
		{"message cut by the next message", "(FPL-DLH5KF-IS\r\n-A320/M\r\n" + msgCNL, []string{"(FPL-DLH5KF-IS\r\n-A320/M", msgCNL}, []string{"ats.truncated", ""}},
		{"oversized message is bounded", long + "\n" + msgCNL,
			[]string{long[:ats.MaxMessageBytes+1], long[ats.MaxMessageBytes+1:], msgCNL},
			[]string{"ats.too_long", "ats.no_parens", ""}},
		{"oversized free text is bounded", strings.Repeat("x", 2*ats.MaxMessageBytes+10),
			[]string{strings.Repeat("x", ats.MaxMessageBytes+1), strings.Repeat("x", ats.MaxMessageBytes+1), strings.Repeat("x", 8)},
			[]string{"ats.too_long", "ats.too_long", "ats.no_parens"}},
		{"binary garbage between messages", msgCNL + "\x00\x01\xff" + msgDLA, []string{msgCNL, "\x00\x01\xff", msgDLA}, []string{"", "ats.binary", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			toks := splitAll(t, data)
			if len(toks) != len(tt.want) {
				t.Fatalf("%d tokens %q, want %d %q", len(toks), toks, len(tt.want), tt.want)
			}
			for i, tok := range toks {
				if string(tok) != tt.want[i] {
					t.Errorf("token %d = %q, want %q", i, truncate(string(tok)), truncate(tt.want[i]))
				}
				_, err := (ats.Parser{}).Parse(tok)
				code := ""
				var se *ats.SyntaxError
				if errors.As(err, &se) {
					code = se.Code
				} else if err != nil {
					t.Fatalf("token %d: error %T %v", i, err, err)
				}
				if code != tt.codes[i] {
					t.Errorf("token %d parses with %q (%v), want %q", i, code, err, tt.codes[i])
				}
			}
			// A Scanner gets the same tokens whether the stream arrives at
			// once or one byte at a time.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got := scanAll(t, r)
				if len(got) != len(tt.want) {
					t.Fatalf("Scanner: %d tokens, want %d", len(got), len(tt.want))
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("Scanner token %d = %q, want %q", i, truncate(got[i]), truncate(tt.want[i]))
					}
				}
			}
		})
	}
}

// TestSplitNeedsMore checks that Split waits for more data instead of
// emitting a partial message before EOF, while dropping leading whitespace.
func TestSplitNeedsMore(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		advance int
	}{
		{"open message", "(FPL-DLH5KF-IS", 0},
		{"open message after whitespace", "\r\n  (FPL-DLH5KF-IS", 4},
		{"free text without a following message yet", "ZCZC ABC123\r\n", 0},
		{"whitespace only", " \r\n", 3},
		{"nothing", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adv, tok, err := ats.Split([]byte(tt.in), false)
			if adv != tt.advance || tok != nil || err != nil {
				t.Errorf("Split(%q, false) = %d, %q, %v; want %d, nil, nil", tt.in, adv, tok, err, tt.advance)
			}
		})
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// nonSpace returns b without ASCII whitespace.
func nonSpace(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if !isSpace(c) {
			out = append(out, c)
		}
	}
	return out
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"", " \r\n", msgFPL, crlf(msgFPL) + "\r\n\r\n" + msgCNL,
		"ZCZC ABC123\r\nFF EDDZYNYX\r\n221307 EDDMZPZX\r\n" + crlf(msgFPL) + "\r\nNNNN\r\n",
		"(FPL-DLH5KF-IS\r\n-A320/M\r\n" + msgCNL,
		msgCNL + "\r\n(DLA-DLH5KF-EDDM13",
		"oops) (( )) ()()", "\x00\xff(\x01)",
		"(" + strings.Repeat("A", ats.MaxMessageBytes+5) + ")",
		strings.Repeat("x", ats.MaxMessageBytes+2),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		toks := splitAll(t, data)
		// Nothing but whitespace between tokens is dropped.
		var joined []byte
		for _, tok := range toks {
			if isSpace(tok[0]) || isSpace(tok[len(tok)-1]) {
				t.Fatalf("token %q starts or ends with whitespace", tok)
			}
			joined = append(joined, tok...)
		}
		if !bytes.Equal(nonSpace(joined), nonSpace(data)) {
			t.Fatalf("tokens %q lose or add bytes of %q", toks, data)
		}
		// The parser copes with every token.
		for _, tok := range toks {
			if _, err := (ats.Parser{}).Parse(tok); err != nil {
				var se *ats.SyntaxError
				if !errors.As(err, &se) || se.Code == "" {
					t.Fatalf("Parse(%q) error %v, want a *ats.SyntaxError with a code", tok, err)
				}
			}
		}
		// Delivery in small chunks frames the stream the same way. Short
		// inputs arrive byte by byte; long ones in chunks of up to 61 bytes,
		// which keeps the fuzzer fast.
		var r io.Reader = iotest.OneByteReader(bytes.NewReader(data))
		if len(data) > 1024 {
			r = &chunkReader{data: data, n: 1 + len(data)%61}
		}
		got := scanAll(t, r)
		if len(got) != len(toks) {
			t.Fatalf("Scanner gave %d tokens, direct Split %d", len(got), len(toks))
		}
		for i := range got {
			if got[i] != string(toks[i]) {
				t.Fatalf("Scanner token %d = %q, direct Split %q", i, got[i], toks[i])
			}
		}
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}
