package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// wantLines frames content the simple way, as FileSource does: LF-terminated
// lines, a CR before the LF stripped, a final unterminated line kept, each
// line cut to limit bytes and flagged oversize when longer.
func wantLines(content []byte, limit int) []frame {
	var out []frame
	for i, rest := int64(1), content; len(rest) > 0; i++ {
		line := rest
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			line, rest = rest[:j+1], rest[j+1:]
		} else {
			rest = nil
		}
		line = trimEOL(line)
		f := frame{raw: bytes.Clone(line), line: i}
		if len(line) > limit {
			f.raw, f.oversize = f.raw[:limit], true
		}
		if f.raw == nil {
			f.raw = []byte{}
		}
		out = append(out, f)
	}
	return out
}

// frameAll drains a framer and returns its records and final error.
func frameAll(t testing.TB, r io.Reader, split bufio.SplitFunc, limit int) ([]frame, error) {
	t.Helper()
	fr := newFramer(r, split, limit)
	var out []frame
	for range 1 << 20 {
		f, err := fr.next()
		if err != nil {
			return out, err
		}
		if len(f.raw) > limit {
			t.Fatalf("record of %d bytes exceeds the limit %d", len(f.raw), limit)
		}
		out = append(out, f)
	}
	t.Fatal("framer did not end")
	return nil, nil
}

// chunkReader returns content in reads of random sizes.
type chunkReader struct {
	b   []byte
	rnd *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.b), 1+c.rnd.IntN(64))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func readers(content []byte, seed uint64) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    bytes.NewReader(content),
		"one byte": iotest.OneByteReader(bytes.NewReader(content)),
		"half":     iotest.HalfReader(bytes.NewReader(content)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(content)),
		"random":   &chunkReader{b: content, rnd: rand.New(rand.NewPCG(seed, 1))},
	}
}

func checkLines(t testing.TB, content []byte, limit int, seed uint64) {
	want := wantLines(content, limit)
	for name, r := range readers(content, seed) {
		got, err := frameAll(t, r, SplitLines, limit)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("%s: final error %v, want io.EOF", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d\n got %q\nwant %q", name, len(got), len(want), raws(got), raws(want))
		}
		for i := range got {
			if !bytes.Equal(got[i].raw, want[i].raw) || got[i].oversize != want[i].oversize || got[i].line != want[i].line {
				t.Fatalf("%s: record %d = %q (oversize %v, line %d), want %q (oversize %v, line %d)", name, i,
					got[i].raw, got[i].oversize, got[i].line, want[i].raw, want[i].oversize, want[i].line)
			}
		}
	}
}

func raws(fs []frame) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.raw)
	}
	return out
}

// TestFramerLinesLikeFileSource checks the framer with SplitLines frames
// exactly as FileSource always has, however the stream is chunked.
func TestFramerLinesLikeFileSource(t *testing.T) {
	long := strings.Repeat("x", 3*(16+frameSlack))
	tests := []struct{ name, content string }{
		{"LF", "MSG,1\nMSG,3\nMSG,4\n"},
		{"CRLF", "MSG,1\r\nMSG,3\r\n"},
		{"final line without terminator", "MSG,1\nMSG,3"},
		{"final CR without LF is data", "MSG,1\r\nMSG,3\r"},
		{"lone CR inside a line", "MSG,\r1\nMSG,3\r\n"},
		{"CR CR LF keeps one CR", "MSG,1\r\r\n"},
		{"empty", ""},
		{"blank lines are records", "\n\r\nMSG,3\n\n"},
		{"binary", "\x00\xff\xfe\n\xc3\x28\n"},
		{"at the limit", strings.Repeat("a", 16) + "\r\n" + strings.Repeat("b", 16) + "\n"},
		{"one over the limit", strings.Repeat("a", 17) + "\nnext\n"},
		{"over the limit within the buffer", strings.Repeat("a", 1000) + "\r\nnext"},
		{"longer than the buffer", long + "\nnext\n" + long + "\r\n" + long},
		{"longer than the buffer, ends at the buffer's end", strings.Repeat("y", 16+frameSlack) + "\nnext\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLines(t, []byte(tt.content), 16, 1) })
	}
}

// TestFramerPartialRecordAtError checks a read error still yields the
// partial record before the error: a TCP feed that drops mid-line.
func TestFramerPartialRecordAtError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("MSG,1\nMSG,3\nMSG,4,trunc"), iotest.ErrReader(boom))
	got, err := frameAll(t, r, SplitLines, MaxRecordBytes)
	if !errors.Is(err, boom) {
		t.Fatalf("final error %v, want %v", err, boom)
	}
	if fmt.Sprint(raws(got)) != "[MSG,1 MSG,3 MSG,4,trunc]" {
		t.Errorf("records %q, want the two lines and the partial one", raws(got))
	}
}

// TestFramerSplitFunc checks a split function other than lines: records
// spanning lines keep their inner line breaks, and Line is each record's
// first line.
func TestFramerSplitFunc(t *testing.T) {
	// Records separated by blank lines.
	para := func(data []byte, atEOF bool) (int, []byte, error) {
		start := 0
		for start < len(data) && data[start] == '\n' {
			start++
		}
		if i := bytes.Index(data[start:], []byte("\n\n")); i >= 0 {
			return start + i + 2, data[start : start+i], nil
		}
		if atEOF && start < len(data) {
			return len(data), bytes.TrimRight(data[start:], "\n"), nil
		}
		return start, nil, nil
	}
	content := "-TITLE IFPL\n-ARCID A\n\n\n-TITLE CHG\n-ARCID B\n-ADEP X\n\n-TITLE CNL"
	for name, r := range readers([]byte(content), 7) {
		got, err := frameAll(t, r, para, MaxRecordBytes)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("%s: %v", name, err)
		}
		want := []string{"-TITLE IFPL\n-ARCID A", "-TITLE CHG\n-ARCID B\n-ADEP X", "-TITLE CNL"}
		if fmt.Sprintf("%q", raws(got)) != fmt.Sprintf("%q", want) {
			t.Fatalf("%s: records %q, want %q", name, raws(got), want)
		}
		for i, line := range []int64{1, 5, 9} {
			if got[i].line != line {
				t.Errorf("%s: record %d starts on line %d, want %d", name, i, got[i].line, line)
			}
		}
	}
}

// TestFramerUnframedRest checks bytes a split function leaves at EOF are
// still a record.
func TestFramerUnframedRest(t *testing.T) {
	onlyTerminated := func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, ';'); i >= 0 {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	}
	got, err := frameAll(t, strings.NewReader("a;b;tail"), onlyTerminated, MaxRecordBytes)
	if !errors.Is(err, io.EOF) || fmt.Sprint(raws(got)) != "[a b tail]" {
		t.Errorf("records %q, err %v; want a, b and tail, then io.EOF", raws(got), err)
	}
}

// TestFramerBadSplitFunc checks a misbehaving split function is an error,
// not a hang or a panic.
func TestFramerBadSplitFunc(t *testing.T) {
	tests := map[string]bufio.SplitFunc{
		"advances too far": func(data []byte, atEOF bool) (int, []byte, error) { return len(data) + 1, nil, nil },
		"negative advance": func(data []byte, atEOF bool) (int, []byte, error) { return -1, nil, nil },
		"never advances":   func(data []byte, atEOF bool) (int, []byte, error) { return 0, []byte{}, nil },
		"fails":            func(data []byte, atEOF bool) (int, []byte, error) { return 0, nil, errors.New("bad framing") },
	}
	for name, split := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := frameAll(t, strings.NewReader("abc\ndef\n"), split, MaxRecordBytes)
			if err == nil || errors.Is(err, io.EOF) {
				t.Errorf("error %v, want a framing error", err)
			}
		})
	}
}

// TestFramerFinalTokenDoesNotEndStream checks bufio.ErrFinalToken loses
// nothing that follows.
func TestFramerFinalTokenDoesNotEndStream(t *testing.T) {
	split := func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := SplitLines(data, atEOF)
		if tok != nil {
			err = bufio.ErrFinalToken
		}
		return adv, tok, err
	}
	got, err := frameAll(t, strings.NewReader("a\nb\nc"), split, MaxRecordBytes)
	if !errors.Is(err, io.EOF) || fmt.Sprint(raws(got)) != "[a b c]" {
		t.Errorf("records %q, err %v; want a, b, c", raws(got), err)
	}
}

// FuzzFramerLines checks, for any input and any chunking, that the framer
// with SplitLines returns exactly the lines of the input, cut to the limit,
// and never holds more than limit+frameSlack bytes.
func FuzzFramerLines(f *testing.F) {
	f.Add([]byte("MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0\r\n"), uint64(1))
	f.Add([]byte("a\nb\r\n\r\n\n\rc\r"), uint64(2))
	f.Add([]byte(strings.Repeat("z", 5000)+"\n"+strings.Repeat("w", 40)+"\r\n"), uint64(3))
	f.Add([]byte("\x00\xff\n\xc3\x28"), uint64(4))
	f.Fuzz(func(t *testing.T, content []byte, seed uint64) {
		checkLines(t, content, 16, seed)
		fr := newFramer(bytes.NewReader(content), SplitLines, 16)
		for {
			if _, err := fr.next(); err != nil {
				break
			}
			if cap(fr.buf) > 16+frameSlack {
				t.Fatalf("buffer grew to %d bytes, limit is %d", cap(fr.buf), 16+frameSlack)
			}
		}
	})
}

// BenchmarkFramerLines frames SBS-sized lines from memory: the per-record
// cost every stream transport pays before parsing.
func BenchmarkFramerLines(b *testing.B) {
	line := "MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0\r\n"
	content := []byte(strings.Repeat(line, 10_000))
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		fr := newFramer(bytes.NewReader(content), SplitLines, MaxRecordBytes)
		for {
			if _, err := fr.next(); err != nil {
				break
			}
		}
	}
}
