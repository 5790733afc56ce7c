package cli_test

import (
	"net"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/internal/cli"
)

// TestIngestConfigErrors checks every ingest transport refuses a
// configuration that cannot work with one line and exit status 2, before it
// connects to anything.
func TestIngestConfigErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"no transport", []string{"ingest"}, nil, []string{"transport", "file, tcp, listen, http or kafka"}},
		{"unknown transport", []string{"ingest", "udp"}, nil, []string{`"udp"`, "transport"}},
		{"file: no feed", []string{"ingest", "file", "x.sbs"}, nil, []string{"--feed is required", "sbs"}},
		{"file: bad speed", []string{"ingest", "file", "--feed", "sbs", "--speed", "fast", "x"}, nil, []string{"-speed", "number"}},
		{"file: negative speed", []string{"ingest", "file", "--feed", "sbs", "--speed", "-1", "x"}, nil, []string{"-speed", "from 0"}},
		{"file: bad format", []string{"ingest", "file", "--feed", "sbs", "--format", "csv", "x"}, nil, []string{"-format", "raw, jsonl"}},
		{"file: speed from env", []string{"ingest", "file", "--feed", "sbs", "x"}, map[string]string{"CONTRAIL_SPEED": "x"}, []string{"CONTRAIL_SPEED"}},
		{"tcp: no feed", []string{"ingest", "tcp", "--connect", "127.0.0.1:30003"}, nil, []string{"--feed is required"}},
		{"tcp: unknown feed", []string{"ingest", "tcp", "--feed", "nope", "--connect", "127.0.0.1:30003"}, nil, []string{"unknown feed", `"nope"`}},
		{"tcp: no address", []string{"ingest", "tcp", "--feed", "sbs"}, nil, []string{"--connect is required"}},
		{"tcp: bad address", []string{"ingest", "tcp", "--feed", "sbs", "--connect", "feeder"}, nil, []string{"-connect", "host:port"}},
		{"tcp: backoff upside down", []string{"ingest", "tcp", "--feed", "sbs", "--connect", "h:1", "--reconnect-initial", "1m", "--reconnect-max", "1s"}, nil,
			[]string{"--reconnect-initial", "--reconnect-max"}},
		{"tcp: zero backoff", []string{"ingest", "tcp", "--feed", "sbs", "--connect", "h:1", "--reconnect-initial", "0s"}, nil, []string{"--reconnect-initial"}},
		{"tcp: Kafka unreachable", []string{"ingest", "tcp", "--feed", "sbs", "--connect", "h:1", "--brokers", "127.0.0.1:1", "--connect-timeout", "1s", "--listen", "127.0.0.1:0"}, nil,
			[]string{"127.0.0.1:1", "--brokers"}},
		{"listen: no address", []string{"ingest", "listen", "--feed", "sbs"}, nil, []string{"--tcp-addr is required"}},
		{"listen: zero queue", []string{"ingest", "listen", "--feed", "sbs", "--tcp-addr", "127.0.0.1:0", "--queue", "0"}, nil, []string{"-queue"}},
		{"http: unknown feed", []string{"ingest", "http", "--feeds", "sbs,nope"}, nil, []string{"--feeds", `"nope"`}},
		{"http: bad size", []string{"ingest", "http", "--http-max-body", "lots"}, nil, []string{"-http-max-body", "8MiB"}},
		{"http: port taken", []string{"ingest", "http", "--http-addr", taken.Addr().String()}, nil, []string{"--http-addr", "address already in use"}},
		{"kafka: no feed", []string{"ingest", "kafka"}, nil, []string{"--feed is required"}},
		{"kafka: no brokers", []string{"ingest", "kafka", "--feed", "sbs", "--listen", "127.0.0.1:0"}, nil, []string{"--brokers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, tt.env, tt.args...)
			if r.code != cli.ExitConfig {
				t.Errorf("exit %d, want %d; stderr %q", r.code, cli.ExitConfig, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "contrail ingest: ") {
				t.Errorf("error line %q does not start with 'contrail ingest: '", last)
			}
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("error line %q does not contain %q", last, w)
				}
			}
		})
	}
}

func TestIngestHelpListsTransports(t *testing.T) {
	r := runMain(t, nil, "ingest", "--help")
	for _, tr := range []string{"ingest file", "ingest tcp", "ingest listen", "ingest http", "ingest kafka"} {
		if !strings.Contains(r.stdout, "contrail "+tr) {
			t.Errorf("'contrail ingest --help' does not show %q:\n%s", tr, r.stdout)
		}
	}
}

func TestByteSizeFlag(t *testing.T) {
	for in, ok := range map[string]bool{"1": true, "512KiB": true, "8MiB": true, "1GiB": true, "10MB": true, "100 KB": true,
		"0": false, "-1": false, "8XB": false, "MiB": false, "99999999999GiB": false} {
		r := runMain(t, nil, "ingest", "http", "--http-max-body", in, "--feeds", "nope")
		// A valid size gets as far as the feed check.
		if got := strings.Contains(r.stderr, "--feeds"); got != ok {
			t.Errorf("--http-max-body %q accepted %v, want %v (%s)", in, got, ok, r.stderr)
		}
	}
}
