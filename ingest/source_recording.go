package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"
	"unicode/utf8"
)

// MaxRecordingLineBytes bounds one line of a recording: room for a record of
// MaxRecordBytes escaped as JSON.
const MaxRecordingLineBytes = 8*MaxRecordBytes + 4<<10

// ReasonRecording is the reason code of a recording line that does not decode.
const ReasonRecording = "ingest.recording"

// recordingLine is one decoded line.
type recordingLine struct {
	Received string  `json:"received"`
	Origin   string  `json:"origin"`
	Raw      *string `json:"raw"`
	RawB64   *string `json:"raw_b64"`
}

// replacementChar is U+FFFD as UTF-8, which encoding/json substitutes for an
// escape that is not a valid character.
var replacementChar = []byte("\uFFFD")

// decodeRecordingLine decodes one line of a recording.
func decodeRecordingLine(line []byte) (raw []byte, received time.Time, origin string, err error) {
	if !utf8.Valid(line) {
		return nil, time.Time{}, "", errors.New("line is not valid UTF-8 (binary records belong in raw_b64)")
	}
	var l recordingLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, time.Time{}, "", fmt.Errorf("not a JSON object: %v", err)
	}
	if l.Received == "" {
		return nil, time.Time{}, "", errors.New(`no "received" time`)
	}
	received, err = time.Parse(time.RFC3339Nano, l.Received)
	if err != nil {
		return nil, time.Time{}, "", fmt.Errorf(`"received" %q is not an RFC 3339 time`, l.Received)
	}
	switch {
	case l.Raw != nil && l.RawB64 != nil:
		return nil, time.Time{}, "", errors.New(`both "raw" and "raw_b64"; want one`)
	case l.Raw != nil:
		raw = []byte(*l.Raw)
		if bytes.Contains(raw, replacementChar) && !bytes.Contains(line, replacementChar) && !bytes.Contains(bytes.ToLower(line), []byte(`\ufffd`)) {
			return nil, time.Time{}, "", errors.New(`"raw" holds an escape that is not a valid character (binary records belong in raw_b64)`)
		}
	case l.RawB64 != nil:
		raw, err = base64.StdEncoding.Strict().DecodeString(*l.RawB64)
		if err != nil {
			return nil, time.Time{}, "", fmt.Errorf(`"raw_b64" is not standard base64: %v`, err)
		}
	default:
		return nil, time.Time{}, "", errors.New(`no "raw" or "raw_b64"`)
	}
	if raw == nil {
		raw = []byte{}
	}
	return raw, received, l.Origin, nil
}

// AppendRecordingLine appends one recording line for a record, with its LF
// terminator, to dst: raw as a JSON string when it is valid UTF-8, else as
// raw_b64. origin may be empty.
func AppendRecordingLine(dst []byte, received time.Time, origin string, raw []byte) []byte {
	l := struct {
		Received string  `json:"received"`
		Origin   string  `json:"origin,omitempty"`
		Raw      *string `json:"raw,omitempty"`
		RawB64   *string `json:"raw_b64,omitempty"`
	}{Received: received.Format(time.RFC3339Nano), Origin: origin}
	if s := string(raw); utf8.ValidString(s) {
		l.Raw = &s
	} else {
		b64 := base64.StdEncoding.EncodeToString(raw)
		l.RawB64 = &b64
	}
	b, _ := json.Marshal(l) // strings only: cannot fail
	return append(append(dst, b...), '\n')
}

// RecordingSource replays a recording: a file of timestamped raw records
// (contrail ingest file --format jsonl). A recording is JSON Lines: one
// JSON object per line, lines ending in LF or CRLF, UTF-8:
//
//	{"received":"2022-01-08T22:42:15.384Z","origin":"tcp:10.0.0.5:30003/2022-01-08T22:00:00Z/17","raw":"MSG,3,1,1,789252,..."}
//	{"received":"2022-01-08T22:42:15.391Z","raw_b64":"AP/+TVNHLDM="}
//
// Fields:
//
//	received  required. When the record was originally received: RFC 3339
//	          with optional fractional seconds and a zone offset. It becomes
//	          the record's transport timestamp and receipt time, so an envelope
//	          whose payload carries no time gets it as producer timestamp
//	          (source RECORD), and --speed paces the replay by it.
//	raw       the record's bytes as a JSON string, when they are valid UTF-8;
//	raw_b64   otherwise, standard base64 with padding. Exactly one of the two.
//	          The bytes are the record without framing (no line terminator).
//	origin    optional. Where the record was originally read. It becomes the
//	          record's identity, so two recordings of the same feed that overlap
//	          give the same event ids for the same records and deduplicate
//	          downstream; without it the identity is the recording's base
//	          name and line. The envelope's origin is always the recording's
//	          path and line.
//
// Other fields are ignored, so writers may add their own. Blank lines are
// skipped. A line that does not decode (not JSON, not valid UTF-8, no or a bad
// received, neither or both of raw and raw_b64, bad base64, longer than
// MaxRecordingLineBytes) is not dropped: it goes to the rejected topic with
// reason code ingest.recording and the line itself as raw bytes.
// AppendRecordingLine writes this format.
//
// Each record is replayed with its original receipt time as RecordTS and
// Received.
type RecordingSource struct {
	f *FileSource
}

// OpenRecording opens a recording for replay.
func OpenRecording(path string) (*RecordingSource, error) {
	f, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	f.limit = MaxRecordingLineBytes
	return &RecordingSource{f: f}, nil
}

// Next returns the next recorded record, or io.EOF after the last one.
func (s *RecordingSource) Next(ctx context.Context) (Record, error) {
	for {
		l, err := s.f.Next(ctx)
		if err != nil {
			return Record{}, err
		}
		if len(bytes.TrimSpace(l.Raw)) == 0 && !l.Oversize {
			continue
		}
		rec := Record{Origin: l.Origin, Identity: l.Identity, Received: l.Received}
		raw, received, origin, err := decodeRecordingLine(l.Raw)
		if l.Oversize {
			err = fmt.Errorf("line longer than %d bytes", MaxRecordingLineBytes)
		}
		if err != nil {
			rec.Raw = l.Raw[:min(len(l.Raw), MaxRecordBytes)]
			rec.RejectCode, rec.RejectReason = ReasonRecording, fmt.Sprintf("recording %s line %d: %v", filepath.Base(s.f.path), s.f.line, err)
			return rec, nil
		}
		if len(raw) > MaxRecordBytes {
			raw, rec.Oversize = raw[:MaxRecordBytes], true
		}
		rec.Raw, rec.RecordTS, rec.Received = raw, received, received
		if origin != "" {
			rec.Identity = origin
		}
		return rec, nil
	}
}

// Progress reports bytes consumed and the file size.
func (s *RecordingSource) Progress() (done, total int64) { return s.f.Progress() }

// Close closes the file.
func (s *RecordingSource) Close() error { return s.f.Close() }
