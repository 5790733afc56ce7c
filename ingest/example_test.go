package ingest_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/contrail-atm/contrail/ingest"
)

// A feed's records are framed from a stream by its split function; for
// line feeds such as SBS that is SplitLines.
func ExampleSplitLines() {
	sc := bufio.NewScanner(strings.NewReader("MSG,3,a\r\nMSG,4,b\n\nlast"))
	sc.Split(ingest.SplitLines)
	for sc.Scan() {
		fmt.Printf("%q\n", sc.Text())
	}
	// Output:
	// "MSG,3,a"
	// "MSG,4,b"
	// ""
	// "last"
}

// Recordings for 'contrail ingest file --format jsonl' keep each record with
// its receipt time; binary records are base64-encoded.
func ExampleAppendRecordingLine() {
	at := time.Date(2022, 1, 8, 22, 42, 15, 384e6, time.UTC)
	var b []byte
	b = ingest.AppendRecordingLine(b, at, "tcp:10.0.0.5:30003/2022-01-08T22:00:00Z/17", []byte("MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0"))
	b = ingest.AppendRecordingLine(b, at.Add(time.Millisecond), "", []byte{0x00, 0xff, 'M', 'S', 'G'})
	os.Stdout.Write(b)
	// Output:
	// {"received":"2022-01-08T22:42:15.384Z","origin":"tcp:10.0.0.5:30003/2022-01-08T22:00:00Z/17","raw":"MSG,8,111,11111,86E488,111111,,,,,,,,,,,,,,,,0"}
	// {"received":"2022-01-08T22:42:15.385Z","raw_b64":"AP9NU0c="}
}
