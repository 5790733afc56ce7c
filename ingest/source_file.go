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
	// RejectCode and RejectReason are set by a transport that found the
	// record unusable before any parser saw it (a recording line that does
	// not decode, a landing-topic record whose contrail-format header names
	// another format); the record is rejected with them.
	RejectCode, RejectReason string
}

// MaxRecordBytes bounds one record read from a line-oriented source, so a file
// without newlines cannot exhaust memory. It is well below Kafka's default
// message.max.bytes (1 MB), so even an oversize record's kept prefix fits in
// the rejected topic.
const MaxRecordBytes = 256 << 10

// FileSource reads a file line by line, or record by record with a feed's
// split function (OpenFeedFile). Lines end in LF or CRLF; the terminator is
// framing and is not part of the record, everything else is kept byte for
// byte (a lone CR inside a line included). A record's origin is the file and
// the line it starts on.
type FileSource struct {
	path  string
	f     *os.File
	r     *bufio.Reader
	fr    *framer // records framed by a split function; nil for lines
	limit int
	line  int64
	done  int64
	total int64
	now   func() time.Time
}

// OpenFeedFile opens path for reading as feed's records: lines when the feed
// has no split function (exactly as OpenFile), else records framed by it,
// such as ADEXP messages spanning lines.
func OpenFeedFile(path string, feed Feed) (*FileSource, error) {
	s, err := OpenFile(path)
	if err != nil || feed.Split == nil {
		return s, err
	}
	s.fr = newFramer(s.r, feed.Split, MaxRecordBytes)
	return s, nil
}

// OpenFile opens path for reading line by line.
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
	return &FileSource{path: path, f: f, r: bufio.NewReaderSize(f, 64<<10), limit: MaxRecordBytes, total: st.Size(), now: time.Now}, nil
}

// Next returns the next line, or io.EOF after the last one. A final line
// without a terminator is still a record; an empty file yields none.
func (s *FileSource) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if s.fr != nil {
		return s.nextFramed()
	}
	var buf []byte
	oversize := false
	// keep is the record limit plus room for a CRLF terminator, which is
	// framing and does not count against the limit.
	keep := s.limit + 2
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
	if len(buf) > s.limit {
		oversize = true
		buf = buf[:s.limit]
	}
	return s.record(buf, s.line, oversize), nil
}

func (s *FileSource) nextFramed() (Record, error) {
	fr, err := s.fr.next()
	s.done = s.fr.off
	if err == io.EOF {
		return Record{}, io.EOF
	}
	if err != nil {
		return Record{}, fmt.Errorf("read %s after line %d: %w", s.path, s.fr.line, err)
	}
	return s.record(fr.raw, fr.line, fr.oversize), nil
}

func (s *FileSource) record(raw []byte, line int64, oversize bool) Record {
	return Record{
		Raw:      raw,
		Origin:   fmt.Sprintf("file:%s:%d", s.path, line),
		Identity: fmt.Sprintf("file:%s:%d", filepath.Base(s.path), line),
		Received: s.now(),
		Oversize: oversize,
	}
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
