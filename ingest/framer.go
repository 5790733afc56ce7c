package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// SplitLines is the framing of line-oriented feeds, and of every feed whose
// Split is nil: records end in LF or CRLF and the terminator is not part of
// the record. Unlike bufio.ScanLines, a CR is stripped only when it precedes
// the LF, so a final unterminated "x\r" stays "x\r" (the framing FileSource
// has always applied), and a final line without a terminator is a record.
// Empty lines are records (the feed's parser rejects them).
func SplitLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, trimEOL(data[:i+1]), nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// frameSlack is how far past MaxRecordBytes a framer buffers before it gives
// up on finding the end of a record: room for a line terminator, or for a
// split function that looks a little ahead before it decides.
const frameSlack = 4 << 10

// minFrameBuf is a framer's initial buffer; it grows up to limit+frameSlack
// only when records are long, so a listener with many idle peers stays small.
const minFrameBuf = 16 << 10

// errNoProgress is returned by a reader that keeps returning no data and no
// error; bufio.Scanner gives up the same way.
var errNoProgress = errors.New("reader returned no data 100 times in a row")

// framer cuts a byte stream into records with a bufio.SplitFunc while
// holding at most limit+frameSlack bytes. A record longer than limit is
// still a record: its first limit bytes are returned flagged oversize and the
// rest of it is read and discarded (when the split function cannot find its
// end within the buffer, the next token it yields is taken to be that rest).
// When the reader ends, with io.EOF or any other error, the split function is
// called with atEOF set, so a partial record at a disconnect is returned
// rather than lost; the reader's error comes after the last record.
// bufio.ErrFinalToken does not end the stream: a feed's connection does not
// stop because its parser says so, and what follows must not be lost.
//
// A framer is not safe for concurrent use.
type framer struct {
	r     io.Reader
	split bufio.SplitFunc
	limit int

	buf        []byte
	start, end int
	eof        bool  // the reader has ended; no more reads
	err        error // the reader's error, nil at a clean EOF
	skipping   bool  // discarding the rest of an oversize record
	stuck      int   // tokens in a row that advanced nothing

	// off and line are the stream offset and the number of line feeds
	// before buf[start].
	off, line int64
}

func newFramer(r io.Reader, split bufio.SplitFunc, limit int) *framer {
	if split == nil {
		split = SplitLines
	}
	if limit <= 0 {
		limit = MaxRecordBytes
	}
	return &framer{r: r, split: split, limit: limit, buf: make([]byte, min(minFrameBuf, limit+frameSlack))}
}

// frame is one record cut from the stream.
type frame struct {
	raw      []byte // owned by the caller; at most limit bytes
	oversize bool
	line     int64 // 1-based line of the record's first byte
}

// next returns the next record, or the reader's error (io.EOF at a clean
// end) once every byte read has been framed.
func (f *framer) next() (frame, error) {
	empty := 0
	for {
		if f.start < f.end || f.eof {
			data := f.buf[f.start:f.end]
			adv, tok, err := f.split(data, f.eof)
			if err != nil && !errors.Is(err, bufio.ErrFinalToken) {
				return frame{}, fmt.Errorf("frame record at byte %d: %w", f.off, err)
			}
			if adv < 0 || adv > len(data) {
				return frame{}, fmt.Errorf("frame record at byte %d: split function advanced %d of %d bytes", f.off, adv, len(data))
			}
			if adv == 0 && tok != nil {
				if f.stuck++; f.stuck > 100 {
					return frame{}, fmt.Errorf("frame record at byte %d: split function returned 100 tokens without advancing", f.off)
				}
			} else {
				f.stuck = 0
			}
			fr, ok := f.token(data, tok)
			f.consume(adv)
			if ok {
				return fr, nil
			}
			if adv > 0 {
				continue
			}
			if f.eof {
				if f.start == f.end {
					return frame{}, f.endErr()
				}
				// The split function neither took nor framed the rest of
				// the stream; it is still a record, so it is not lost.
				rest := f.buf[f.start:f.end]
				fr, _ := f.token(rest, rest)
				f.consume(len(rest))
				return fr, nil
			}
		}
		if f.end-f.start == len(f.buf) {
			if len(f.buf) < f.limit+frameSlack {
				f.grow()
			} else {
				// Full and still no record: keep the first limit bytes of
				// it and discard until the split function ends it.
				data := f.buf[f.start:f.end]
				var fr frame
				if !f.skipping {
					fr, _ = f.token(data, data[:f.limit])
					fr.oversize = true
				}
				f.consume(len(data))
				if !f.skipping {
					f.skipping = true
					return fr, nil
				}
				continue
			}
		}
		if f.start > 0 {
			n := copy(f.buf, f.buf[f.start:f.end])
			f.start, f.end = 0, n
		}
		n, err := f.r.Read(f.buf[f.end:])
		f.end += n
		switch {
		case err != nil:
			f.eof = true
			if !errors.Is(err, io.EOF) {
				f.err = err
			}
		case n == 0:
			if empty++; empty >= 100 {
				f.eof, f.err = true, errNoProgress
			}
		default:
			empty = 0
		}
	}
}

// token turns tok, returned by the split function for data, into a frame. It
// reports false for no token, and for the discarded rest of an oversize
// record.
func (f *framer) token(data, tok []byte) (frame, bool) {
	if tok == nil {
		return frame{}, false
	}
	if f.skipping {
		f.skipping = false
		return frame{}, false
	}
	fr := frame{line: f.line + 1}
	// A token is almost always a subslice of data; then its first line is
	// the lines before it plus 1. Otherwise it is counted from where data
	// starts.
	if off := cap(data) - cap(tok); len(tok) > 0 && off >= 0 && off < len(data) && &data[off] == &tok[0] {
		fr.line += int64(bytes.Count(data[:off], []byte{'\n'}))
	}
	if len(tok) > f.limit {
		tok, fr.oversize = tok[:f.limit], true
	}
	fr.raw = bytes.Clone(tok)
	if fr.raw == nil {
		fr.raw = []byte{}
	}
	return fr, true
}

// consume drops n framed bytes from the front of the buffer.
func (f *framer) consume(n int) {
	f.line += int64(bytes.Count(f.buf[f.start:f.start+n], []byte{'\n'}))
	f.off += int64(n)
	f.start += n
}

func (f *framer) grow() {
	b := make([]byte, min(2*len(f.buf), f.limit+frameSlack))
	f.end = copy(b, f.buf[f.start:f.end])
	f.start, f.buf = 0, b
}

func (f *framer) endErr() error {
	if f.err != nil {
		return f.err
	}
	return io.EOF
}
