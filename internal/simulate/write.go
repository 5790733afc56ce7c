package simulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// WriteSBS writes SBS records one per line with CRLF, as dump1090 serves them.
func WriteSBS(w io.Writer, recs []Record) error {
	return writeRecords(w, recs, "\r\n")
}

// WritePlans writes ADEXP or ATS records separated by a blank line, the
// framing adexp.Split and ats.Split read back one record per message.
func WritePlans(w io.Writer, recs []Record) error {
	return writeRecords(w, recs, "\n\n")
}

func writeRecords(w io.Writer, recs []Record, sep string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, r := range recs {
		if i > 0 && sep == "\n\n" {
			bw.WriteString(sep)
		}
		bw.WriteString(r.Raw)
		if sep != "\n\n" {
			bw.WriteString(sep)
		}
	}
	if len(recs) > 0 && sep == "\n\n" {
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// WriteTruth writes the ground truth as one compact JSON document (a
// day's positions run to many megabytes; pipe it through jq to read it).
// Flights are encoded one at a time, so the document is never whole in
// memory.
func WriteTruth(w io.Writer, t *Truth) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head := *t
	head.Flights = nil
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	// Flights is Truth's last field: b ends with "flights":null}, and the
	// flights replace the null.
	if !bytes.HasSuffix(b, []byte(`"flights":null}`)) {
		return fmt.Errorf("encode truth: unexpected JSON tail %q", b[max(0, len(b)-20):])
	}
	b = bytes.TrimSuffix(b, []byte("null}"))
	bw.Write(b)
	bw.WriteByte('[')
	for i := range t.Flights {
		if i > 0 {
			bw.WriteByte(',')
		}
		b, err := json.Marshal(&t.Flights[i])
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// WriteRecording writes records as a JSONL recording (one JSON object per
// line: "received" = the delivery time, "raw" or, for bytes that are not
// UTF-8, "raw_b64"), the format `contrail ingest file --format jsonl`
// replays. Feeds whose messages carry no time of their own (ICAO ATS) then
// get their delivery time as producer time instead of the time of ingest.
func WriteRecording(w io.Writer, recs []Record) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	type line struct {
		Received time.Time `json:"received"`
		Raw      string    `json:"raw,omitempty"`
		RawB64   []byte    `json:"raw_b64,omitempty"`
	}
	for _, r := range recs {
		l := line{Received: r.Delivered.UTC()}
		if utf8.ValidString(r.Raw) {
			l.Raw = r.Raw
		} else {
			l.RawB64 = []byte(r.Raw)
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return bw.Flush()
}
