package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-atm/contrail/internal/cli"
)

// TestMainSecuritySettings checks that contradictory or incomplete TLS and
// SASL settings stop every command with exit 2 and one line naming the
// setting, before anything is dialled, and that no message carries a secret.
func TestMainSecuritySettings(t *testing.T) {
	const secret = "pw-9f8e7d6c5b4a"
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	notPEM := filepath.Join(dir, "ca.pem")
	empty := filepath.Join(dir, "empty")
	for p, b := range map[string]string{pwFile: secret + "\n", notPEM: "not a certificate\n", empty: "\n"} {
		if err := os.WriteFile(p, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pwEnv := map[string]string{"CONTRAIL_KAFKA_SASL_PASSWORD": secret}
	scram := []string{"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-user", "app"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"CA without TLS", nil, []string{"topics", "--kafka-ca-file", notPEM}, "--kafka-ca-file needs --kafka-tls (or CONTRAIL_KAFKA_TLS=true)"},
		{"insecure without TLS", nil, []string{"sink", "--kafka-tls-insecure-skip-verify"}, "--kafka-tls-insecure-skip-verify needs --kafka-tls"},
		{"ClickHouse CA without TLS", nil, []string{"migrate", "--clickhouse-ca-file", notPEM}, "--clickhouse-ca-file needs --clickhouse-tls"},
		{"cert without key", nil, []string{"topics", "--kafka-tls", "--kafka-cert-file", notPEM}, "--kafka-cert-file and --kafka-key-file: a client certificate needs both"},
		{"unknown mechanism", pwEnv, []string{"topics", "--kafka-sasl-mechanism", "GSSAPI"}, "-kafka-sasl-mechanism: want one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"},
		{"mechanism without user", pwEnv, []string{"topics", "--kafka-sasl-mechanism", "PLAIN"}, "Kafka SASL PLAIN needs a user: set --kafka-sasl-user"},
		{"user without password", nil, append([]string{"topics"}, scram...), "needs a password: set CONTRAIL_KAFKA_SASL_PASSWORD or --kafka-sasl-password-file"},
		{"password without mechanism", pwEnv, []string{"topics", "--kafka-sasl-user", "app"}, "set --kafka-sasl-mechanism"},
		{"password twice", pwEnv, append([]string{"topics", "--kafka-sasl-password-file", pwFile}, scram...), "both CONTRAIL_KAFKA_SASL_PASSWORD and --kafka-sasl-password-file are set"},
		{"missing password file", nil, append([]string{"topics", "--kafka-sasl-password-file", filepath.Join(dir, "nope")}, scram...), "--kafka-sasl-password-file: open "},
		{"empty password file", nil, append([]string{"topics", "--kafka-sasl-password-file", empty}, scram...), "--kafka-sasl-password-file: " + empty + " is empty"},
		{"ClickHouse password twice", map[string]string{"CONTRAIL_CLICKHOUSE_PASSWORD": secret}, []string{"migrate", "--clickhouse-password-file", pwFile}, "both CONTRAIL_CLICKHOUSE_PASSWORD and --clickhouse-password-file"},
		{"CA file not PEM", pwEnv, append([]string{"topics", "--brokers", "127.0.0.1:1", "--kafka-tls", "--kafka-ca-file", notPEM}, scram...), "holds no PEM certificate"},
		{"ClickHouse CA file not PEM", nil, []string{"migrate", "--clickhouse", "127.0.0.1:1", "--clickhouse-tls", "--clickhouse-ca-file", notPEM}, "ClickHouse TLS: CA file"},
		{"HTTP token twice", map[string]string{"CONTRAIL_HTTP_TOKEN": secret}, []string{"ingest", "http", "--http-token-file", pwFile}, "both CONTRAIL_HTTP_TOKEN and --http-token-file are set"},
		{"embedded broker with SASL", pwEnv, append([]string{"run", "--once"}, scram...), "need --brokers: the embedded broker speaks plaintext only"},
		{"settings from the environment", map[string]string{"CONTRAIL_KAFKA_SASL_MECHANISM": "PLAIN", "CONTRAIL_KAFKA_SASL_PASSWORD_FILE": pwFile},
			[]string{"topics"}, "Kafka SASL PLAIN needs a user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, tt.env, append(tt.args, "--log-level", "debug")...)
			if r.code != cli.ExitConfig {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, cli.ExitConfig, r.stderr)
			}
			if line := stderrLine(t, r); !strings.Contains(line, tt.want) {
				t.Errorf("stderr %q does not contain %q", line, tt.want)
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("the password appears in the output: %q", r.stderr)
			}
		})
	}
}
