package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/ingest"
)

// writeFile writes content to a fresh file and returns its path.
func writeFile(t *testing.T, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "input.sbs")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll drains a FileSource and returns its records, checking that EOF
// stays EOF and Progress ends at the file size.
func readAll(t *testing.T, path string) []ingest.Record {
	t.Helper()
	src, err := ingest.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	defer src.Close()
	var recs []ingest.Record
	for {
		rec, err := src.Next(t.Context())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec)
	}
	if _, err := src.Next(t.Context()); !errors.Is(err, io.EOF) {
		t.Errorf("Next after EOF: %v, want io.EOF again", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if done, total := src.Progress(); done != st.Size() || total != st.Size() {
		t.Errorf("Progress() at EOF = %d, %d; want %d, %d", done, total, st.Size(), st.Size())
	}
	return recs
}

func raws(recs []ingest.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Raw)
	}
	return out
}

func TestFileSourceFraming(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{"LF", "MSG,1\nMSG,3\nMSG,4\n", []string{"MSG,1", "MSG,3", "MSG,4"}},
		{"CRLF", "MSG,1\r\nMSG,3\r\nMSG,4\r\n", []string{"MSG,1", "MSG,3", "MSG,4"}},
		{"mixed LF and CRLF", "MSG,1\r\nMSG,3\nMSG,4\r\n", []string{"MSG,1", "MSG,3", "MSG,4"}},
		{"final line without terminator", "MSG,1\nMSG,3", []string{"MSG,1", "MSG,3"}},
		{"single line without terminator", "MSG,1", []string{"MSG,1"}},
		{"final CR without LF is data", "MSG,1\r\nMSG,3\r", []string{"MSG,1", "MSG,3\r"}},
		{"lone CR inside a line is kept", "MSG,\r1\nMSG,3\r\n", []string{"MSG,\r1", "MSG,3"}},
		{"CR CR LF keeps one CR", "MSG,1\r\r\n", []string{"MSG,1\r"}},
		{"empty file", "", nil},
		{"blank lines are records", "\n\r\nMSG,3\n\n", []string{"", "", "MSG,3", ""}},
		{"only a newline", "\n", []string{""}},
		{"binary bytes kept", "\x00\xff\xfe\n\xc3\x28\n", []string{"\x00\xff\xfe", "\xc3\x28"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := raws(readAll(t, writeFile(t, []byte(tt.content))))
			if len(got) != len(tt.want) {
				t.Fatalf("records %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("record %d = %q, want %q", i+1, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestFileSourceEmptyFileIsEOF(t *testing.T) {
	src, err := ingest.OpenFile(writeFile(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if rec, err := src.Next(t.Context()); !errors.Is(err, io.EOF) {
		t.Errorf("Next on an empty file = %+v, %v; want io.EOF", rec, err)
	}
	if done, total := src.Progress(); done != 0 || total != 0 {
		t.Errorf("Progress() = %d, %d; want 0, 0", done, total)
	}
}

func TestFileSourceLFAndCRLFAgree(t *testing.T) {
	lines := []string{
		"MSG,4,111,11111,789252,111111,2022/01/08,22:42:15.384,2022/01/08,22:42:15.368,,,387,248,,,0,,,,,0",
		"MSG,3,111,11111,789252,111111,2022/01/08,22:42:15.605,2022/01/08,22:42:15.566,,28000,,,34.43697,136.04449,,,,,,0",
		"",
		"MSG,1,111,11111,789252,111111,2022/01/08,22:42:16.984,2022/01/08,22:42:16.942,AHK209  ,,,,,,,,,,,0",
	}
	lf := raws(readAll(t, writeFile(t, []byte(strings.Join(lines, "\n")+"\n"))))
	crlf := raws(readAll(t, writeFile(t, []byte(strings.Join(lines, "\r\n")+"\r\n"))))
	if fmt.Sprintf("%q", lf) != fmt.Sprintf("%q", lines) {
		t.Errorf("LF file gave %q, want %q", lf, lines)
	}
	if fmt.Sprintf("%q", crlf) != fmt.Sprintf("%q", lines) {
		t.Errorf("CRLF file gave %q, want %q", crlf, lines)
	}
}

func TestFileSourceOrigin(t *testing.T) {
	path := writeFile(t, []byte("a\n\nc\r\nd"))
	recs := readAll(t, path)
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("file:%s:%d", path, i+1); r.Origin != want {
			t.Errorf("record %d Origin = %q, want %q", i+1, r.Origin, want)
		}
		if want := fmt.Sprintf("file:input.sbs:%d", i+1); r.Identity != want {
			t.Errorf("record %d Identity = %q, want %q", i+1, r.Identity, want)
		}
		if r.Received.IsZero() {
			t.Errorf("record %d has no Received time", i+1)
		}
		if !r.RecordTS.IsZero() {
			t.Errorf("record %d RecordTS = %v, want zero: files carry no transport time", i+1, r.RecordTS)
		}
		if r.Oversize {
			t.Errorf("record %d marked oversize", i+1)
		}
	}
}

// TestFileSourceRelativePath checks a relative path is recorded absolute in
// Origin, and that Identity does not depend on the directory.
func TestFileSourceRelativePath(t *testing.T) {
	abs := writeFile(t, []byte("MSG,3\n"))
	dir := filepath.Dir(abs)
	t.Chdir(filepath.Dir(dir))
	recs := readAll(t, filepath.Join(filepath.Base(dir), "input.sbs"))
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if want := "file:" + abs + ":1"; recs[0].Origin != want {
		t.Errorf("Origin = %q, want %q", recs[0].Origin, want)
	}
	other := readAll(t, writeFile(t, []byte("MSG,3\n")))
	if recs[0].Identity != other[0].Identity {
		t.Errorf("same file name and line in two directories: Identity %q and %q, want equal", recs[0].Identity, other[0].Identity)
	}
}

// TestFileSourceRecordsAreIndependent checks each record owns its bytes: the
// reader's buffer is reused, so a record aliasing it would change under the
// caller after the next read.
func TestFileSourceRecordsAreIndependent(t *testing.T) {
	var b bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&b, "line-%05d\n", i)
	}
	recs := readAll(t, writeFile(t, b.Bytes()))
	if len(recs) != 5000 {
		t.Fatalf("%d records, want 5000", len(recs))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("line-%05d", i); string(r.Raw) != want {
			t.Fatalf("record %d = %q after reading on, want %q", i+1, r.Raw, want)
		}
	}
}

func TestFileSourceOversize(t *testing.T) {
	const max = ingest.MaxRecordBytes
	long := bytes.Repeat([]byte{'x'}, max+10)
	long[0] = 'A' // mark the start to check the kept bytes are the first ones
	tests := []struct {
		name    string
		content []byte
		after   string // the record following the oversize one
	}{
		{"LF", append(append(bytes.Clone(long), '\n'), "MSG,3\n"...), "MSG,3"},
		{"CRLF", append(append(bytes.Clone(long), '\r', '\n'), "MSG,3\r\n"...), "MSG,3"},
		{"several buffer fills over the limit", append(append(bytes.Repeat([]byte{'y'}, 3*max), '\n'), "next"...), "next"},
		{"one byte over", append(append(bytes.Repeat([]byte{'z'}, max+1), '\n'), "next\n"...), "next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := readAll(t, writeFile(t, tt.content))
			if len(recs) != 2 {
				t.Fatalf("%d records, want 2", len(recs))
			}
			big := recs[0]
			if !big.Oversize {
				t.Errorf("first record not marked Oversize")
			}
			if len(big.Raw) != max {
				t.Errorf("oversize record keeps %d bytes, want MaxRecordBytes = %d", len(big.Raw), max)
			}
			if !bytes.Equal(big.Raw, tt.content[:len(big.Raw)]) {
				t.Errorf("oversize record does not hold the line's first bytes")
			}
			if recs[1].Oversize || string(recs[1].Raw) != tt.after {
				t.Errorf("record after the oversize one = %q (oversize %v), want %q", recs[1].Raw, recs[1].Oversize, tt.after)
			}
			if !strings.HasSuffix(recs[1].Origin, ":2") {
				t.Errorf("record after the oversize one has Origin %q, want line 2", recs[1].Origin)
			}
		})
	}
}

// TestFileSourceAtLimit checks a line of exactly MaxRecordBytes is a normal
// record: the terminator is framing and must not count against the limit.
func TestFileSourceAtLimit(t *testing.T) {
	const max = ingest.MaxRecordBytes
	tests := []struct {
		name string
		n    int
		eol  string
	}{
		{"LF", max, "\n"},
		{"CRLF", max, "\r\n"},
		{"one under with CRLF", max - 1, "\r\n"},
		{"final line without terminator", max, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := bytes.Repeat([]byte{'x'}, tt.n)
			content := append(bytes.Clone(line), tt.eol...)
			want := 1
			if tt.eol != "" {
				content = append(content, "next\n"...)
				want = 2
			}
			recs := readAll(t, writeFile(t, content))
			if len(recs) != want {
				t.Fatalf("%d records, want %d", len(recs), want)
			}
			if recs[0].Oversize || !bytes.Equal(recs[0].Raw, line) {
				t.Errorf("line of %d bytes: Oversize %v, Raw %d bytes ending %q; want a normal record of %d bytes", tt.n, recs[0].Oversize, len(recs[0].Raw), recs[0].Raw[len(recs[0].Raw)-2:], tt.n)
			}
		})
	}
}

func TestFileSourceProgress(t *testing.T) {
	content := "MSG,1\r\nMSG,3\n\nlast"
	src, err := ingest.OpenFile(writeFile(t, []byte(content)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	wantDone := []int64{7, 13, 14, 18}
	for i, want := range wantDone {
		if _, err := src.Next(t.Context()); err != nil {
			t.Fatalf("Next %d: %v", i+1, err)
		}
		if done, total := src.Progress(); done != want || total != int64(len(content)) {
			t.Errorf("after record %d Progress() = %d, %d; want %d, %d", i+1, done, total, want, len(content))
		}
	}
	if _, err := src.Next(t.Context()); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the last line: %v, want io.EOF", err)
	}
}

func TestFileSourceHonoursContext(t *testing.T) {
	src, err := ingest.OpenFile(writeFile(t, []byte("a\nb\n")))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{"directory", dir, "directory"},
		{"missing", filepath.Join(dir, "missing.sbs"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := ingest.OpenFile(tt.path)
			if err == nil {
				src.Close()
				t.Fatalf("OpenFile(%s) = no error, want one", tt.path)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Base(tt.path)) {
				t.Errorf("OpenFile(%s) error %q, want it to name the path and say %q", tt.path, err, tt.want)
			}
		})
	}
	if _, err := ingest.OpenFile(filepath.Join(dir, "missing.sbs")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenFile(missing) error %v, want one wrapping os.ErrNotExist", err)
	}
}
