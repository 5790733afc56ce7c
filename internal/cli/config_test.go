package cli

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testSettings is a flag set shaped like a command's: a --config flag and
// settings of each value type the commands use.
type testSettings struct {
	fs         *flag.FlagSet
	prefix     string
	flush      time.Duration
	feeds      []string
	brokers    []string
	partitions int
	dialect    string
	once       bool
}

func newTestSettings() *testSettings {
	s := &testSettings{prefix: "contrail", flush: time.Second, feeds: []string{"sbs", "adexp"}, partitions: 3, dialect: "legacy"}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.String("config", "", "YAML file")
	fs.StringVar(&s.prefix, "topic-prefix", s.prefix, "prefix")
	fs.Var(durationValue{&s.flush}, "flush-interval", "flush interval")
	fs.Var(&listValue{l: &s.feeds}, "feeds", "feeds")
	fs.Var(&hostPortsValue{listValue{l: &s.brokers}}, "brokers", "brokers")
	fs.Var(intValue{&s.partitions, 1, 100}, "partitions", "partitions")
	fs.Var(choiceValue{&s.dialect, []string{"legacy", "modern"}}, "dialect", "dialect")
	fs.BoolVar(&s.once, "once", false, "once")
	s.fs = fs
	return s
}

// fakeEnv is a getenv over a map.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeYAML writes a config file and returns its path.
func writeYAML(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "contrail.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseSettingsPrecedence(t *testing.T) {
	file := writeYAML(t, `
topic-prefix: from-yaml
flush-interval: 3s
feeds: [json, ats]
brokers:
  - k1:9092
  - k2:9092
partitions: 7
dialect: modern
once: true
`)
	other := writeYAML(t, "topic-prefix: from-other-yaml\n")
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, s *testSettings)
	}{
		{"defaults", nil, nil, func(t *testing.T, s *testSettings) {
			eq(t, "topic-prefix", s.prefix, "contrail")
			eq(t, "flush-interval", s.flush, time.Second)
			eqList(t, "feeds", s.feeds, []string{"sbs", "adexp"})
			eqList(t, "brokers", s.brokers, nil)
			eq(t, "partitions", s.partitions, 3)
			eq(t, "once", s.once, false)
		}},
		{"YAML over default", []string{"--config", file}, nil, func(t *testing.T, s *testSettings) {
			eq(t, "topic-prefix", s.prefix, "from-yaml")
			eq(t, "flush-interval", s.flush, 3*time.Second)
			eqList(t, "feeds", s.feeds, []string{"json", "ats"})
			eqList(t, "brokers", s.brokers, []string{"k1:9092", "k2:9092"})
			eq(t, "partitions", s.partitions, 7)
			eq(t, "dialect", s.dialect, "modern")
			eq(t, "once", s.once, true)
		}},
		{"env over YAML", []string{"--config", file}, map[string]string{
			"CONTRAIL_TOPIC_PREFIX": "from-env", "CONTRAIL_FLUSH_INTERVAL": "4s", "CONTRAIL_FEEDS": "sbs",
			"CONTRAIL_BROKERS": "e1:1,e2:2", "CONTRAIL_PARTITIONS": "9", "CONTRAIL_ONCE": "false",
		}, func(t *testing.T, s *testSettings) {
			eq(t, "topic-prefix", s.prefix, "from-env")
			eq(t, "flush-interval", s.flush, 4*time.Second)
			eqList(t, "feeds", s.feeds, []string{"sbs"})
			eqList(t, "brokers", s.brokers, []string{"e1:1", "e2:2"})
			eq(t, "partitions", s.partitions, 9)
			eq(t, "once", s.once, false)
			eq(t, "dialect (YAML only)", s.dialect, "modern")
		}},
		{"flag over env over YAML", []string{"--config", file, "--topic-prefix", "from-flag", "--flush-interval", "5s", "--feeds", "adexp", "--partitions", "11"},
			map[string]string{"CONTRAIL_TOPIC_PREFIX": "from-env", "CONTRAIL_FLUSH_INTERVAL": "4s", "CONTRAIL_FEEDS": "sbs", "CONTRAIL_BROKERS": "e1:1"},
			func(t *testing.T, s *testSettings) {
				eq(t, "topic-prefix", s.prefix, "from-flag")
				eq(t, "flush-interval", s.flush, 5*time.Second)
				eqList(t, "feeds", s.feeds, []string{"adexp"})
				eq(t, "partitions", s.partitions, 11)
				eqList(t, "brokers (env only)", s.brokers, []string{"e1:1"})
				eq(t, "once (YAML only)", s.once, true)
			}},
		{"flag over default without YAML or env", []string{"--topic-prefix", "p"}, nil, func(t *testing.T, s *testSettings) {
			eq(t, "topic-prefix", s.prefix, "p")
		}},
		{"empty env variable is unset", []string{"--config", file}, map[string]string{"CONTRAIL_TOPIC_PREFIX": ""}, func(t *testing.T, s *testSettings) {
			eq(t, "topic-prefix", s.prefix, "from-yaml")
		}},
		{"CONTRAIL_CONFIG names the file", nil, map[string]string{"CONTRAIL_CONFIG": file}, func(t *testing.T, s *testSettings) {
			eq(t, "topic-prefix", s.prefix, "from-yaml")
		}},
		{"--config over CONTRAIL_CONFIG", []string{"--config", other}, map[string]string{"CONTRAIL_CONFIG": file}, func(t *testing.T, s *testSettings) {
			eq(t, "topic-prefix", s.prefix, "from-other-yaml")
			eq(t, "flush-interval (not in the chosen file)", s.flush, time.Second)
		}},
		{"repeated list flag appends and replaces the default", []string{"--feeds", "json", "--feeds", "ats,sbs"}, nil, func(t *testing.T, s *testSettings) {
			eqList(t, "feeds", s.feeds, []string{"json", "ats", "sbs"})
		}},
		{"flag=value form", []string{"--flush-interval=250ms", "-partitions=2"}, nil, func(t *testing.T, s *testSettings) {
			eq(t, "flush-interval", s.flush, 250*time.Millisecond)
			eq(t, "partitions", s.partitions, 2)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSettings()
			if err := parseSettings(s.fs, tt.args, fakeEnv(tt.env)); err != nil {
				t.Fatalf("parseSettings: %v", err)
			}
			tt.check(t, s)
		})
	}
}

func TestParseSettingsPositionalArgs(t *testing.T) {
	s := newTestSettings()
	if err := parseSettings(s.fs, []string{"--topic-prefix", "p", "a.sbs", "b.sbs"}, fakeEnv(nil)); err != nil {
		t.Fatal(err)
	}
	if got := s.fs.Args(); !slices.Equal(got, []string{"a.sbs", "b.sbs"}) {
		t.Errorf("Args() = %q, want the two paths", got)
	}
}

func eq[T comparable](t *testing.T, name string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func eqList(t *testing.T, name string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

func TestParseSettingsErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string // written to a file passed with --config when not empty
		args []string
		env  map[string]string
		want []string // substrings of the message
	}{
		{name: "unknown YAML key", yaml: "topic-prefix: x\nflush_interval: 1s\n", want: []string{"flush_interval", "unknown"}},
		{name: "unknown YAML keys sorted", yaml: "zeta: 1\nalpha: 2\n", want: []string{"alpha, zeta"}},
		{name: "config is not a YAML key", yaml: "config: other.yaml\n", want: []string{"config", "unknown"}},
		{name: "invalid YAML", yaml: "topic-prefix: [unclosed\n", want: []string{"not valid YAML"}},
		{name: "YAML is not a mapping", yaml: "- a\n- b\n", want: []string{"not valid YAML"}},
		{name: "YAML mapping value", yaml: "topic-prefix:\n  a: b\n", want: []string{"topic-prefix", "mapping"}},
		{name: "missing config file", args: []string{"--config", "/nonexistent/contrail.yaml"}, want: []string{"config file", "/nonexistent/contrail.yaml"}},
		{name: "missing file from CONTRAIL_CONFIG", env: map[string]string{"CONTRAIL_CONFIG": "/nonexistent/c.yaml"}, want: []string{"/nonexistent/c.yaml"}},
		{name: "bad duration flag", args: []string{"--flush-interval", "abc"}, want: []string{"flush-interval", "duration", `"abc"`}},
		{name: "duration flag without unit", args: []string{"--flush-interval", "5"}, want: []string{"flush-interval", "duration"}},
		{name: "negative duration flag", args: []string{"--flush-interval", "-1s"}, want: []string{"flush-interval", "duration", "zero or more"}},
		{name: "bad duration env", env: map[string]string{"CONTRAIL_FLUSH_INTERVAL": "abc"}, want: []string{"CONTRAIL_FLUSH_INTERVAL", "flush-interval", "duration"}},
		{name: "bad duration YAML", yaml: "flush-interval: abc\n", want: []string{"flush-interval", "duration", "config file"}},
		{name: "YAML duration as a number", yaml: "flush-interval: 5\n", want: []string{"flush-interval", "duration"}},
		{name: "int out of range env", env: map[string]string{"CONTRAIL_PARTITIONS": "0"}, want: []string{"CONTRAIL_PARTITIONS", "1 to 100"}},
		{name: "bad choice YAML", yaml: "dialect: ancient\n", want: []string{"dialect", "legacy, modern"}},
		{name: "bad host:port in YAML list", yaml: "brokers: [k1:9092, k2]\n", want: []string{"brokers", `"k2" is not host:port`}},
		{name: "unknown flag", args: []string{"--nope"}, want: []string{"nope", "contrail test --help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.yaml != "" {
				args = append([]string{"--config", writeYAML(t, tt.yaml)}, args...)
			}
			err := parseSettings(newTestSettings().fs, args, fakeEnv(tt.env))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("parseSettings error %v (%T), want a *ConfigError", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSettingsHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help"} {
		t.Run(arg, func(t *testing.T) {
			err := parseSettings(newTestSettings().fs, []string{"--topic-prefix", "x", arg}, fakeEnv(nil))
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("parseSettings(%s) = %v, want flag.ErrHelp", arg, err)
			}
			var ce *ConfigError
			if errors.As(err, &ce) {
				t.Errorf("--help reported as a configuration error")
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"flush-interval":      "CONTRAIL_FLUSH_INTERVAL",
		"brokers":             "CONTRAIL_BROKERS",
		"clickhouse-database": "CONTRAIL_CLICKHOUSE_DATABASE",
	} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}
