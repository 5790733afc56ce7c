package adexp

import (
	"bufio"
	"bytes"
	"io"
)

// scanSlack is how far past MaxMessageBytes Split looks for the end of the
// line to cut an over-long record at.
const scanSlack = 4 << 10

// MaxScanBytes is the most Split looks at before it decides where a record
// ends. A bufio.Scanner using Split needs a buffer that may grow this large
// (bufio.Scanner.Buffer(buf, MaxScanBytes)); NewScanner sets that up. With
// the Scanner's default 64 KiB limit, a record that (with the blank lines
// after it) reaches 64 KiB stops the Scanner with bufio.ErrTooLong instead of
// yielding a too_long record.
const MaxScanBytes = MaxMessageBytes + scanSlack

// NewScanner returns a Scanner that yields the records of an ADEXP stream as
// framed by Split.
func NewScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxScanBytes)
	sc.Split(Split)
	return sc
}

// Split is a bufio.SplitFunc that frames a stream (a file, a TCP feed, a log
// with free text around the messages) into records for Parse. Lines end in
// LF; a CR before the LF belongs to the terminator.
//
//   - A message starts at a line whose first token, after spaces and tabs, is
//     -TITLE, and runs to the next such line or EOF, with one exception that
//     keeps the free text of logs and dumps out of messages: after a blank
//     line it continues only if the next non-blank line starts with a field
//     (-KEYWORD followed by white space). Lines that follow a message line
//     directly always belong to it (a -ROUTE wrapped onto the next line). A
//     message on one line is simply a one-line record.
//   - Anything else, from a non-blank line up to the next -TITLE line, is one
//     free-text record; Parse rejects it with adexp.no_title, so text around
//     messages is kept in the rejected topic rather than dropped.
//   - Blank lines between records and the terminator of a record's last line
//     are framing and belong to no record. Everything else is passed on byte
//     for byte: a record is a subslice of data, inner line breaks (LF or
//     CRLF) and the leading white space of its first line included.
//
// Split is bounded: it never asks for more than MaxScanBytes. A record whose
// text runs past MaxMessageBytes is cut after the first line terminator at or
// beyond that offset (or, failing one within MaxScanBytes, right after
// MaxMessageBytes+1 bytes); the piece is longer than MaxMessageBytes, so
// Parse rejects it with adexp.too_long, and what follows is framed afresh (a
// cut inside a line is then read as if it started one). The result does not
// depend on how the stream is chunked into reads.
func Split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	start, ok := skipBlank(data, atEOF)
	if !ok || start == len(data) {
		// Drop the blank lines seen so far and wait for more (or finish).
		return start, nil, nil
	}
	window := start + MaxScanBytes
	final := atEOF || len(data) >= window
	view := data[:min(len(data), window)]
	maxEnd := start + MaxMessageBytes

	var isMessage, blankBefore bool
	lastEnd, lastNext := start, start // end of the last content line, without and with its terminator
	pos := start
	for pos < len(view) {
		kind := classify(view, pos, final)
		if kind == kindMore {
			return start, nil, nil
		}
		if pos == start {
			isMessage = kind == kindTitle
		} else if kind == kindTitle || isMessage && blankBefore && kind == kindText {
			return lastNext, data[start:lastEnd], nil
		}
		nl := bytes.IndexByte(view[pos:], '\n')
		if nl < 0 {
			if kind == kindBlank {
				if !final {
					return start, nil, nil
				}
				pos = len(view)
				break
			}
			// A content line that has not ended within view.
			if len(view) > maxEnd {
				return cutLong(data, start, maxEnd, view, final)
			}
			if !final {
				return start, nil, nil
			}
			lastEnd, lastNext, pos = len(view), len(view), len(view)
			break
		}
		next := pos + nl + 1
		if kind == kindBlank {
			blankBefore = true
			pos = next
			continue
		}
		end := pos + nl
		if end > pos && view[end-1] == '\r' {
			end--
		}
		if end > maxEnd {
			return cutLong(data, start, maxEnd, view, final)
		}
		lastEnd, lastNext, blankBefore = end, next, false
		pos = next
	}
	if !final {
		return start, nil, nil
	}
	if atEOF && len(view) == len(data) {
		return len(data), data[start:lastEnd], nil
	}
	// The window is exhausted by blank lines after the record: end it there.
	return lastNext, data[start:lastEnd], nil
}

// cutLong returns the first piece of a record longer than MaxMessageBytes.
func cutLong(data []byte, start, maxEnd int, view []byte, final bool) (int, []byte, error) {
	if j := bytes.IndexByte(view[maxEnd:], '\n'); j >= 0 {
		cut := maxEnd + j + 1
		return cut, data[start:cut], nil
	}
	if !final {
		return start, nil, nil
	}
	cut := maxEnd + 1
	return cut, data[start:cut], nil
}

// skipBlank returns the offset of the first line that is not blank and
// whether it could tell (false: more data is needed to classify a line).
// A run of white space longer than MaxScanBytes without a line break is
// skipped MaxScanBytes at a time.
func skipBlank(data []byte, atEOF bool) (int, bool) {
	i := 0
	for i < len(data) {
		end := min(len(data), i+MaxScanBytes)
		final := atEOF || len(data) >= i+MaxScanBytes
		switch classify(data[:end], i, final) {
		case kindMore:
			return i, false
		case kindBlank:
			nl := bytes.IndexByte(data[i:end], '\n')
			if nl < 0 {
				i = end
				continue
			}
			i += nl + 1
		default:
			return i, true
		}
	}
	return i, true
}

type lineKind uint8

const (
	kindMore  lineKind = iota // cannot tell without more bytes
	kindBlank                 // only spaces, tabs and CRs
	kindTitle                 // first token is -TITLE
	kindField                 // first token is another -KEYWORD
	kindText                  // anything else
)

// classify tells what kind the line starting at data[i] is. The line runs to
// the first LF or to the end of data; final says no bytes follow data.
func classify(data []byte, i int, final bool) lineKind {
	j := i
	for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r') {
		j++
	}
	switch {
	case j == len(data):
		if final {
			return kindBlank
		}
		return kindMore
	case data[j] == '\n':
		return kindBlank
	case data[j] != '-':
		return kindText
	}
	k := j + 1
	for k < len(data) && isKeyChar(data[k]) {
		k++
	}
	switch {
	case k == len(data) && !final:
		return kindMore
	case k == j+1 || k < len(data) && !isSpace(data[k]):
		return kindText // "- x", "-----", "-N0450/..." are not fields
	case string(data[j+1:k]) == "TITLE":
		return kindTitle
	}
	return kindField
}
