package ats

import "bytes"

// Split is a bufio.SplitFunc that frames a stream of ICAO ATS messages (a
// file, a TCP feed) into one token per message, from '(' to the matching ')'.
// ICAO messages do not nest parentheses, so the first ')' closes the message.
//
// Whitespace between messages (spaces, tabs, LF, CRLF) is framing and is
// dropped. Anything else outside parentheses — an AFTN header, "NNNN", stray
// text — becomes a token of its own, up to the next '(' and without trailing
// whitespace, so the parser rejects it (ats.no_parens) and it reaches the
// rejected topic instead of vanishing.
//
// A message cut off by the next '(' or by the end of the stream is emitted
// as it is (the parser rejects it as ats.truncated), so one damaged message
// does not swallow the next. Tokens are bounded: when no ')' or '(' comes
// within MaxMessageBytes+1 bytes, those bytes are emitted as a token (the
// parser rejects it as ats.too_long) and framing resumes after them. A
// bufio.Scanner with a buffer smaller than MaxMessageBytes+1 would stop with
// bufio.ErrTooLong instead; the default buffer (64 KiB) is large enough.
//
// Tokens are subslices of data, as bufio.SplitFunc allows; Split neither
// modifies data nor keeps it.
func Split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	start := 0
	for start < len(data) && isSpace(data[start]) {
		start++
	}
	if start == len(data) {
		// Only whitespace so far: drop it and wait for more.
		return start, nil, nil
	}
	window := data[start:min(len(data), start+MaxMessageBytes+1)]
	if data[start] == '(' {
		// A message: up to the first ')', or up to (not including) a second '('
		// when the message was cut off before its end.
		closing := bytes.IndexByte(window[1:], ')')
		next := bytes.IndexByte(window[1:], '(')
		switch {
		case closing >= 0 && (next < 0 || closing < next):
			return start + closing + 2, window[:closing+2], nil
		case next >= 0:
			return start + next + 1, trimRightSpace(window[:next+1]), nil
		}
	} else if i := bytes.IndexByte(window, '('); i >= 0 {
		// Free text before the next message.
		return start + i, trimRightSpace(window[:i]), nil
	}
	if len(window) == MaxMessageBytes+1 {
		return start + len(window), window, nil
	}
	if atEOF {
		return len(data), trimRightSpace(data[start:]), nil
	}
	return start, nil, nil
}

func trimRightSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
