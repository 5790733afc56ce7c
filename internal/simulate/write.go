package simulate

import (
	"bufio"
	"encoding/json"
	"io"
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

// WriteTruth writes the ground truth as indented JSON.
func WriteTruth(w io.Writer, t *Truth) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", " ")
	if err := enc.Encode(t); err != nil {
		return err
	}
	return bw.Flush()
}
