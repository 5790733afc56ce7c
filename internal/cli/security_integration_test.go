package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
)

// contrailEnv runs the CLI in-process with the given environment.
func contrailEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}, args)
	return code, out.String(), errb.String()
}

// ensureSCRAM upserts the test user's SCRAM credentials through the
// plaintext listener. deploy/local/kafka adds them when it formats a data
// dir; a data dir formatted by an older script lacks them.
func ensureSCRAM(t *testing.T, plaintext []string, user, password string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(plaintext...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One mechanism per request: Kafka rejects a request naming a user twice.
	for _, m := range []kadm.ScramMechanism{kadm.ScramSha256, kadm.ScramSha512} {
		up := kadm.UpsertSCRAM{User: user, Mechanism: m, Iterations: 4096, Password: password}
		res, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{up})
		if err == nil {
			err = res.Error()
		}
		if err != nil {
			t.Fatalf("add %s credentials for %s: %v", m, user, err)
		}
	}
}

// saslArgs are the settings reaching the SASL_SSL listener; the password
// is not among them.
func saslArgs(k infratest.KafkaSASLSSL, mechanism string) []string {
	return []string{"--brokers", strings.Join(k.Brokers, ","), "--kafka-tls", "--kafka-ca-file", k.CAFile,
		"--kafka-sasl-mechanism", mechanism, "--kafka-sasl-user", k.User}
}

// TestIntegrationRunOverSASLSSL runs the whole pipeline (topics, ingest,
// sink into real ClickHouse) over TLS + SASL, with each mechanism and both
// ways of giving the password, and checks that no output carries it.
func TestIntegrationRunOverSASLSSL(t *testing.T) {
	k := infratest.SASLSSL(t)
	ensureSCRAM(t, infratest.Kafka(t), k.User, k.Password)
	lines := infratest.SBSLines(40)
	input := filepath.Join(t.TempDir(), "capture.sbs")
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, mechanism string
		passwordFile    bool
		clientCert      bool
	}{
		{"SCRAM-SHA-512 password from env", "SCRAM-SHA-512", false, false},
		{"SCRAM-SHA-256 password file and client certificate", "SCRAM-SHA-256", true, true},
		{"PLAIN password file", "PLAIN", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tt := newTarget(t)
			args := append([]string{"run"}, saslArgs(k, tc.mechanism)...)
			args = append(args, "--clickhouse", tt.ch, "--clickhouse-database", tt.name, "--topic-prefix", tt.name,
				"--sink-group", tt.name, "--listen", "127.0.0.1:0", "--input", "sbs:"+input, "--once", "--log-level", "debug")
			env := map[string]string{}
			if tc.passwordFile {
				args = append(args, "--kafka-sasl-password-file", k.PasswordFile)
			} else {
				env["CONTRAIL_KAFKA_SASL_PASSWORD"] = k.Password
			}
			if tc.clientCert {
				if k.CertFile == "" {
					t.Fatal("deploy/local/kafka generated no client certificate (client.pem beside the CA)")
				}
				args = append(args, "--kafka-cert-file", k.CertFile, "--kafka-key-file", k.KeyFile)
			}
			code, out, errs := contrailEnv(t, env, args...)
			if code != cli.ExitOK {
				t.Fatalf("run exited %d\nstdout: %s\nstderr: %s", code, out, lastLines(errs, 20))
			}
			if !strings.Contains(errs, "level=DEBUG") {
				t.Errorf("no debug lines logged; the leak check below would prove little")
			}
			if strings.Contains(out+errs, k.Password) {
				t.Errorf("the SASL password appears in the output")
			}
			got := storedRaw(t, openCH(t, tt.ch, tt.name))
			if len(got) != len(lines) {
				t.Fatalf("raw_events has %d rows, want %d", len(got), len(lines))
			}
			for i, want := range lines {
				if raw := got[fmt.Sprintf("file:%s:%d", input, i+1)]; raw != want {
					t.Fatalf("line %d stored as %q, want %q", i+1, raw, want)
				}
			}
		})
	}
}

// TestIntegrationKafkaWrongPassword: rejected credentials end the command at
// once, exit 2, with one line naming the user and the mechanism and never
// the password, instead of retrying until the connect timeout.
func TestIntegrationKafkaWrongPassword(t *testing.T) {
	k := infratest.SASLSSL(t)
	ensureSCRAM(t, infratest.Kafka(t), k.User, k.Password)
	const wrong = "not-the-password-0123456789"
	const timeout = 20 * time.Second
	for _, mech := range []string{"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"} {
		for _, cmd := range []string{"topics", "run"} {
			t.Run(cmd+" "+mech, func(t *testing.T) {
				args := append([]string{cmd}, saslArgs(k, mech)...)
				args = append(args, "--connect-timeout", timeout.String())
				if cmd == "run" {
					args = append(args, "--log-level", "debug")
				}
				if cmd == "run" {
					args = append(args, "--listen", "127.0.0.1:0", "--once", "--topic-prefix", infratest.Name(t, "wrongpw"))
				}
				start := time.Now()
				code, out, errs := contrailEnv(t, map[string]string{"CONTRAIL_KAFKA_SASL_PASSWORD": wrong}, args...)
				took := time.Since(start)
				if code != cli.ExitConfig {
					t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, cli.ExitConfig, out, errs)
				}
				if took >= timeout/2 {
					t.Errorf("took %s to fail; rejected credentials must not be retried until the %s timeout", took, timeout)
				}
				if cmd == "topics" && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
					t.Errorf("stderr has more than the one line:\n%s", errs)
				}
				last := lastLines(errs, 1)
				for _, want := range []string{"contrail " + cmd + ": ", "rejected the SASL credentials", "user " + k.User, "mechanism " + mech, "authentication"} {
					if !strings.Contains(last, want) {
						t.Errorf("last line %q does not contain %q", last, want)
					}
				}
				if strings.Contains(out+errs, wrong) || strings.Contains(out+errs, k.Password) {
					t.Errorf("a password appears in the output")
				}
			})
		}
	}
}

// TestIntegrationKafkaTLSMismatch: a plaintext client on the SASL_SSL port,
// or TLS without SASL, fails fast with the handshake named.
func TestIntegrationKafkaTLSMismatch(t *testing.T) {
	k := infratest.SASLSSL(t)
	tests := map[string][]string{
		"no TLS":  {"--brokers", strings.Join(k.Brokers, ","), "--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-user", k.User},
		"no SASL": {"--brokers", strings.Join(k.Brokers, ","), "--kafka-tls", "--kafka-ca-file", k.CAFile},
		"untrusted server": {"--brokers", strings.Join(k.Brokers, ","), "--kafka-tls",
			"--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-user", k.User},
	}
	for name, extra := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			env := map[string]string{}
			if strings.Contains(strings.Join(extra, " "), "--kafka-sasl-user") {
				env["CONTRAIL_KAFKA_SASL_PASSWORD"] = k.Password
			}
			code, out, errs := contrailEnv(t, env, append([]string{"topics", "--connect-timeout", "20s"}, extra...)...)
			if code != cli.ExitConfig {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, cli.ExitConfig, out, errs)
			}
			if took := time.Since(start); took >= 10*time.Second {
				t.Errorf("took %s to fail", took)
			}
			if last := lastLines(errs, 1); !strings.HasPrefix(last, "contrail topics: ") || !strings.Contains(last, "--kafka-tls") {
				t.Errorf("last line %q does not point at --kafka-tls", last)
			}
		})
	}
}

// TestIntegrationClickHouseWrongPassword: a refused ClickHouse login stops
// the command with exit 2 and one line naming the user, never the password.
func TestIntegrationClickHouseWrongPassword(t *testing.T) {
	addr := infratest.ClickHouse(t)
	const wrong = "not-the-clickhouse-password-42"
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		env  map[string]string
		args []string
	}{
		"password file": {nil, []string{"--clickhouse-password-file", pwFile}},
		"password env":  {map[string]string{"CONTRAIL_CLICKHOUSE_PASSWORD": wrong}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"migrate", "--clickhouse", addr, "--clickhouse-database", infratest.Name(t, "wrongpw"), "--log-level", "debug"}, tc.args...)
			code, out, errs := contrailEnv(t, tc.env, args...)
			if code != cli.ExitConfig {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, cli.ExitConfig, out, errs)
			}
			if last := lastLines(errs, 1); !strings.Contains(last, "ClickHouse rejected user default") {
				t.Errorf("last line %q does not say the login was refused", last)
			}
			if strings.Contains(out+errs, wrong) {
				t.Errorf("the password appears in the output")
			}
		})
	}
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// TestIntegrationIngestHTTPToken runs 'contrail ingest http' with a bearer
// token from a file: without it a batch gets 401 and nothing reaches Kafka,
// with it the batch is ingested; the token is never logged.
func TestIntegrationIngestHTTPToken(t *testing.T) {
	const token = "http-token-0a1b2c3d"
	kt := newKafkaTarget(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, kt.args("http", "--http-addr", "127.0.0.1:0", "--http-token-file", tokenFile, "--log-level", "debug")...)
	r.waitReady(t)
	url := strings.Replace(r.logAttr(t, "accepting HTTP batches", "addr"), "{feed}", "sbs", 1)
	body := strings.Join(infratest.SBSLines(5), "\n")
	for _, tc := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer " + token, http.StatusOK}} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
	}
	kt.waitRecords(t, 5)
	if code := r.stopAndWait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, r.stderr)
	}
	if out := r.stdout.String(); out != "read 5, accepted 5, rejected 0\n" {
		t.Errorf("stdout %q: only the authorized batch may be read", out)
	}
	if strings.Contains(r.stdout.String()+r.stderr.String(), token) {
		t.Errorf("the token appears in the output")
	}
}

// TestIntegrationKafkaTLSOptions checks the server-name and skip-verify
// settings against the real listener (certificate for 127.0.0.1 and
// localhost).
func TestIntegrationKafkaTLSOptions(t *testing.T) {
	k := infratest.SASLSSL(t)
	plain := infratest.Kafka(t)
	env := map[string]string{"CONTRAIL_KAFKA_SASL_PASSWORD": k.Password}
	base := []string{"--brokers", strings.Join(k.Brokers, ","), "--kafka-tls", "--kafka-sasl-mechanism", "PLAIN", "--kafka-sasl-user", k.User, "--connect-timeout", "20s"}
	tests := []struct {
		name  string
		extra []string
		want  int
		line  string
	}{
		{"server name in the certificate", []string{"--kafka-ca-file", k.CAFile, "--kafka-tls-server-name", "localhost"}, cli.ExitOK, ""},
		{"server name not in the certificate", []string{"--kafka-ca-file", k.CAFile, "--kafka-tls-server-name", "kafka.example"}, cli.ExitConfig, "certificate is valid for"},
		{"skip verify without a CA", []string{"--kafka-tls-insecure-skip-verify"}, cli.ExitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := infratest.Name(t, "tlsopt")
			t.Cleanup(func() { testTarget{brokers: plain, name: prefix}.cleanupTopics() })
			args := append(append([]string{"topics", "--topic-prefix", prefix}, base...), tc.extra...)
			code, out, errs := contrailEnv(t, env, args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.want, out, errs)
			}
			if !strings.Contains(lastLines(errs, 1), tc.line) {
				t.Errorf("stderr %q does not contain %q", errs, tc.line)
			}
		})
	}
}

// cleanupTopics deletes the topics of tt.name.
func (tt testTarget) cleanupTopics() {
	cl, err := kgo.NewClient(kgo.SeedBrokers(tt.brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	if ts, err := adm.ListTopics(ctx); err == nil {
		var mine []string
		for _, n := range ts.Names() {
			if strings.HasPrefix(n, tt.name+".") {
				mine = append(mine, n)
			}
		}
		_, _ = adm.DeleteTopics(ctx, mine...)
	}
}
