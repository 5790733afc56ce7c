package ingest

import (
	"bytes"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRecordingLine checks the recording decoder never panics, and that any
// record written by AppendRecordingLine decodes to the same bytes, time and
// origin.
func FuzzRecordingLine(f *testing.F) {
	f.Add([]byte(`{"received":"2022-01-08T22:42:15.384Z","origin":"tcp:10.0.0.5:30003/x/1","raw":"MSG,3,111"}`), []byte("MSG,3"), int64(1641681735384000000), "o")
	f.Add([]byte(`{"received":"2022-01-08T22:42:15+09:00","raw_b64":"AP/+"}`), []byte{0, 0xff, 0xfe}, int64(0), "")
	f.Add([]byte(`{"received":"x","raw":"\ud800"}`), []byte("\xef\xbf\xbd"), int64(-1), "\x00")
	f.Add([]byte(`{"raw":"a","raw_b64":"YQ=="}`), []byte(""), int64(1), "tcp-peer:[::1]:5/t/9")
	f.Add([]byte("not json \xff"), []byte("\r\n\"\\<>&\u2028"), int64(253402300799999999), "")
	f.Fuzz(func(t *testing.T, line, raw []byte, nanos int64, origin string) {
		_, _, _, _ = decodeRecordingLine(line)

		received := time.Unix(0, nanos).UTC()
		enc := AppendRecordingLine(nil, received, origin, raw)
		if !bytes.HasSuffix(enc, []byte("\n")) || bytes.Count(enc, []byte("\n")) != 1 {
			t.Fatalf("AppendRecordingLine wrote %q, want one line", enc)
		}
		gotRaw, gotTS, gotOrigin, err := decodeRecordingLine(enc[:len(enc)-1])
		if err != nil {
			t.Fatalf("decode %q: %v", enc, err)
		}
		if !bytes.Equal(gotRaw, raw) || !gotTS.Equal(received) {
			t.Fatalf("round trip of %q at %v gave %q at %v", raw, received, gotRaw, gotTS)
		}
		// Origins are JSON strings, so only valid UTF-8 ones survive
		// byte for byte (Contrail's origins always are).
		if utf8.ValidString(origin) && gotOrigin != origin {
			t.Fatalf("origin %q came back %q", origin, gotOrigin)
		}
	})
}
