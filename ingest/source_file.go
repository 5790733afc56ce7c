package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Record is one unit of input as read from a source, before any check.
type Record struct {
	// Raw is the record's bytes without framing (a file line without its
	// LF or CRLF terminator). Owned by the receiver.
	Raw []byte
	// Origin says where it came from, e.g. "file:/data/x.sbs:17".
	Origin string
	// Identity is the part of the origin that names the record wherever the
	// input is read from (for a file: base name and line), so re-ingesting
	// the same file from another path yields the same event ids.
	Identity string
	// RecordTS is a timestamp the transport attached (Kafka CreateTime), zero if none.
	RecordTS time.Time
	// Received is when the adapter read it.
	Received time.Time
	// Oversize is set when the record exceeded the source's limit; Raw then
	// holds only the first bytes, and the record is rejected.
	Oversize bool
}

// MaxRecordBytes bounds one record read from a line-oriented source, so a file
// without newlines cannot exhaust memory. It is well below Kafka's default
// message.max.bytes (1 MB), so even an oversize record's kept prefix fits in
// the rejected topic.
const MaxRecordBytes = 256 << 10

// FileSource reads a file line by line. Lines end in LF or CRLF; the
// terminator is framing and is not part of the record, everything else is
// kept byte for byte (a lone CR inside a line included).
type FileSource struct {
	path  string
	f     *os.File
	r     *bufio.Reader
	line  int64
	done  int64
	total int64
	now   func() time.Time
}

// OpenFile opens path for reading.
func OpenFile(path string) (*FileSource, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat input file %s: %w", path, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("input %s is a directory, want a file", path)
	}
	return &FileSource{path: path, f: f, r: bufio.NewReaderSize(f, 64<<10), total: st.Size(), now: time.Now}, nil
}

// Next returns the next line, or io.EOF after the last one. A final line
// without a terminator is still a record; an empty file yields none.
func (s *FileSource) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	var buf []byte
	oversize := false
	// keep is the record limit plus room for a CRLF terminator, which is
	// framing and does not count against the limit.
	const keep = MaxRecordBytes + 2
	for {
		chunk, err := s.r.ReadSlice('\n')
		s.done += int64(len(chunk))
		if room := keep - len(buf); len(chunk) <= room {
			buf = append(buf, chunk...)
		} else {
			buf = append(buf, chunk[:room]...)
			oversize = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(buf) == 0 {
			return Record{}, io.EOF
		}
		if err != nil && err != io.EOF {
			return Record{}, fmt.Errorf("read %s after line %d: %w", s.path, s.line, err)
		}
		break
	}
	s.line++
	if !oversize {
		buf = trimEOL(buf)
	}
	if len(buf) > MaxRecordBytes {
		oversize = true
		buf = buf[:MaxRecordBytes]
	}
	return Record{
		Raw:      buf,
		Origin:   fmt.Sprintf("file:%s:%d", s.path, s.line),
		Identity: fmt.Sprintf("file:%s:%d", filepath.Base(s.path), s.line),
		Received: s.now(),
		Oversize: oversize,
	}, nil
}

// Progress reports bytes consumed and the file size.
func (s *FileSource) Progress() (done, total int64) { return s.done, s.total }

// Close closes the file.
func (s *FileSource) Close() error { return s.f.Close() }

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
