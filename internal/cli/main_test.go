package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/internal/cli"
)

type mainResult struct {
	code           int
	stdout, stderr string
}

// runMain runs the CLI in-process with a fake environment.
func runMain(t *testing.T, env map[string]string, args ...string) mainResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(t.Context(), cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}, args)
	r := mainResult{code, out.String(), errb.String()}
	for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.Contains(line, "goroutine") || strings.Contains(line, "panic") {
			t.Errorf("contrail %s printed %q", strings.Join(args, " "), line)
		}
	}
	return r
}

// stderrLine asserts stderr is exactly one line and returns it.
func stderrLine(t *testing.T, r mainResult) string {
	t.Helper()
	if !strings.HasSuffix(r.stderr, "\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is %d lines, want exactly one:\n%s", strings.Count(r.stderr, "\n"), r.stderr)
	}
	return strings.TrimSuffix(r.stderr, "\n")
}

func TestMainVersion(t *testing.T) {
	r := runMain(t, nil, "version")
	if r.code != cli.ExitOK {
		t.Errorf("exit %d, want 0; stderr %q", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "contrail ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stdout %q, want one line starting \"contrail \"", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing", r.stderr)
	}
}

func TestMainTopLevelUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{nil, cli.ExitConfig},
		{[]string{"help"}, cli.ExitOK},
		{[]string{"--help"}, cli.ExitOK},
		{[]string{"-h"}, cli.ExitOK},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runMain(t, nil, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d", r.code, tt.code)
			}
			for _, c := range []string{"run", "ingest", "sink", "topics", "migrate", "version"} {
				if !strings.Contains(r.stdout, "  "+c+" ") {
					t.Errorf("usage does not list command %s:\n%s", c, r.stdout)
				}
			}
		})
	}
}

func TestMainConfigErrors(t *testing.T) {
	badYAML := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("- not\n- a mapping\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error line
	}{
		{"unknown command", []string{"frobnicate"}, nil, []string{`"frobnicate"`, "unknown command"}},
		{"unknown feed", []string{"ingest", "file", "--feed", "nope", "x"}, nil, []string{"unknown feed", `"nope"`, "sbs"}},
		{"ingest without transport", []string{"ingest", "--feed", "sbs"}, nil, []string{"transport"}},
		{"bad duration flag", []string{"run", "--flush-interval", "abc"}, nil, []string{"flush-interval", "duration"}},
		{"bad duration env", []string{"run"}, map[string]string{"CONTRAIL_FLUSH_INTERVAL": "abc"}, []string{"CONTRAIL_FLUSH_INTERVAL", "flush-interval", "duration"}},
		{"bad input", []string{"run", "--input", "nope:x.sbs"}, nil, []string{"--input", "nope"}},
		{"multi-line YAML error is one line", []string{"version", "--config", badYAML}, nil, []string{"not valid YAML"}},
		{"unknown flag", []string{"topics", "--nope"}, nil, []string{"nope"}},
		{"ClickHouse unreachable", []string{"migrate", "--clickhouse", "127.0.0.1:1", "--connect-timeout", "1s"}, nil, []string{"ClickHouse", "127.0.0.1:1"}},
		{"Kafka unreachable", []string{"topics", "--brokers", "127.0.0.1:1", "--connect-timeout", "1s"}, nil, []string{"127.0.0.1:1", "--brokers"}},
		{"no brokers", []string{"topics"}, nil, []string{"--brokers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, tt.env, tt.args...)
			if r.code != cli.ExitConfig {
				t.Errorf("exit %d, want %d", r.code, cli.ExitConfig)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			if want := "contrail " + tt.args[0] + ": "; tt.name != "unknown command" && !strings.HasPrefix(last, want) {
				t.Errorf("error line %q does not start with %q", last, want)
			}
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("error line %q does not contain %q", last, w)
				}
			}
			stderrLine(t, r)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestMainMigratePrint(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		modern      bool
		wantDB      string
		wantOneStmt int
	}{
		{"default is legacy", []string{"migrate", "--print"}, nil, false, "contrail", 15},
		{"legacy", []string{"migrate", "--print", "--dialect", "legacy"}, nil, false, "contrail", 15},
		{"modern", []string{"migrate", "--print", "--dialect", "modern"}, nil, true, "contrail", 15},
		{"dialect from env", []string{"migrate", "--print"}, map[string]string{"CONTRAIL_DIALECT": "modern"}, true, "contrail", 15},
		{"database from flag", []string{"migrate", "--print", "--clickhouse-database", "atm"}, nil, false, "atm", 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, tt.env, tt.args...)
			if r.code != cli.ExitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			ddl := r.stdout
			for _, s := range []string{"DateTime64", "LowCardinality"} {
				if strings.Contains(ddl, s) != tt.modern {
					t.Errorf("DDL contains %s: %v, want %v\n%s", s, !tt.modern, tt.modern, ddl)
				}
			}
			if n := strings.Count(ddl, "CREATE TABLE IF NOT EXISTS "+tt.wantDB+"."); n != tt.wantOneStmt {
				t.Errorf("%d CREATE TABLE statements in database %s, want %d\n%s", n, tt.wantDB, tt.wantOneStmt, ddl)
			}
			if !strings.HasSuffix(strings.TrimSpace(ddl), ";") {
				t.Errorf("DDL does not end with ';'")
			}
		})
	}
}

var (
	commonFlags = []string{"config", "log-format", "log-level"}
	kafkaFlags  = []string{"brokers", "client-id", "topic-prefix", "connect-timeout",
		"kafka-tls", "kafka-ca-file", "kafka-cert-file", "kafka-key-file", "kafka-tls-server-name", "kafka-tls-insecure-skip-verify",
		"kafka-sasl-mechanism", "kafka-sasl-user", "kafka-sasl-password-file", "schema-registry"}
	clickhouseFlags = []string{"clickhouse", "clickhouse-database", "clickhouse-user", "clickhouse-password-file",
		"clickhouse-tls", "clickhouse-ca-file", "clickhouse-tls-server-name", "clickhouse-tls-insecure-skip-verify"}
	sinkFlags    = []string{"sink-group", "batch-rows", "flush-interval"}
	processFlags = []string{"steps", "process-group-prefix", "instance-id", "stars", "snapshot-every", "checkpoint-every"}
	topicFlags   = []string{"feeds", "partitions", "replication-factor", "raw-retention", "ingest-retention"}
)

func flags(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		for _, f := range g {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

var helpFlagRE = regexp.MustCompile(`^  --([a-z0-9-]+)  \((CONTRAIL_[A-Z0-9_]+), default (.+)\)$`)

func TestMainHelp(t *testing.T) {
	tests := []struct {
		args  []string
		flags []string
	}{
		{[]string{"run"}, flags(commonFlags, []string{"listen"}, kafkaFlags, clickhouseFlags, sinkFlags, topicFlags, processFlags,
			[]string{"input", "once", "data-dir", "embedded-port", "timezone"})},
		{[]string{"ingest", "file"}, flags(commonFlags, []string{"listen"}, kafkaFlags, []string{"feed", "timezone", "speed", "format"})},
		{[]string{"ingest", "tcp"}, flags(commonFlags, []string{"listen"}, kafkaFlags, []string{"feed", "timezone",
			"connect", "reconnect-initial", "reconnect-max", "dial-timeout", "idle-timeout"})},
		{[]string{"ingest", "listen"}, flags(commonFlags, []string{"listen"}, kafkaFlags, []string{"feed", "timezone",
			"tcp-addr", "max-conns", "queue", "idle-timeout"})},
		{[]string{"ingest", "http"}, flags(commonFlags, []string{"listen"}, kafkaFlags, []string{"timezone",
			"http-addr", "feeds", "http-max-body", "http-max-inflight", "http-ack-timeout", "http-token-file"})},
		{[]string{"ingest", "kafka"}, flags(commonFlags, []string{"listen"}, kafkaFlags, []string{"feed", "timezone", "landing-group", "max-poll"})},
		{[]string{"process"}, flags(commonFlags, []string{"listen"}, kafkaFlags, processFlags, []string{"feeds"})},
		{[]string{"sink"}, flags(commonFlags, []string{"listen"}, kafkaFlags, clickhouseFlags, sinkFlags, []string{"feeds"})},
		{[]string{"sink", "rebuild"}, flags(commonFlags, kafkaFlags, clickhouseFlags, sinkFlags, []string{"feeds", "force", "drop-old", "progress-every"})},
		{[]string{"replay"}, flags(commonFlags, []string{"listen"}, kafkaFlags, processFlags, topicFlags, []string{"reprocess", "to-prefix", "progress-every"})},
		{[]string{"state"}, flags(commonFlags, kafkaFlags, []string{"gufi", "callsign", "at", "json"})},
		{[]string{"topics"}, flags(commonFlags, kafkaFlags, topicFlags)},
		{[]string{"migrate"}, flags(commonFlags, clickhouseFlags, []string{"print", "dialect", "connect-timeout"})},
		{[]string{"status"}, flags(commonFlags, kafkaFlags, clickhouseFlags, []string{"sink-group", "process-group-prefix", "feeds", "json", "wait"})},
		{[]string{"simulate"}, flags(commonFlags, kafkaFlags, []string{"seed", "flights", "start", "duration", "plan-format", "disorder", "duplicates", "late", "garbage", "out"})},
		{[]string{"version"}, commonFlags},
	}
	for _, tt := range tests {
		for _, help := range []string{"--help", "-h"} {
			args := append(slices.Clone(tt.args), help)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				r := runMain(t, nil, args...)
				if r.code != cli.ExitOK {
					t.Errorf("exit %d, want 0; stderr %q", r.code, r.stderr)
				}
				if r.stderr != "" {
					t.Errorf("stderr %q, want nothing", r.stderr)
				}
				if !strings.HasPrefix(r.stdout, "Usage: contrail "+tt.args[0]) {
					t.Errorf("help does not start with the synopsis:\n%s", r.stdout)
				}
				listed := map[string]string{}
				for _, line := range strings.Split(r.stdout, "\n") {
					if m := helpFlagRE.FindStringSubmatch(line); m != nil {
						listed[m[1]] = m[2]
					}
				}
				for _, f := range tt.flags {
					env, ok := listed[f]
					if !ok {
						t.Errorf("help does not list --%s with its environment variable", f)
						continue
					}
					if want := "CONTRAIL_" + strings.ToUpper(strings.ReplaceAll(f, "-", "_")); env != want {
						t.Errorf("--%s listed with %s, want %s", f, env, want)
					}
				}
				if len(listed) != len(tt.flags) {
					var extra []string
					for f := range listed {
						if !slices.Contains(tt.flags, f) {
							extra = append(extra, f)
						}
					}
					t.Errorf("help lists %d settings, want %d; unexpected: %q", len(listed), len(tt.flags), extra)
				}
			})
		}
	}
}

// TestMainIngestHelp checks 'contrail ingest --help' (before the transport)
// explains the command.
func TestMainIngestHelp(t *testing.T) {
	r := runMain(t, nil, "ingest", "--help")
	if r.code != cli.ExitOK || r.stderr != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "contrail ingest file --feed") {
		t.Errorf("help does not show the synopsis:\n%s", r.stdout)
	}
}
