package infratest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// KafkaSASLSSL is the SASL_SSL listener of the test broker and the
// credentials deploy/local/kafka generated for it.
type KafkaSASLSSL struct {
	Brokers      []string // host:port of the SASL_SSL listener
	CAFile       string   // PEM CA that signed the broker's certificate
	CertFile     string   // optional client certificate signed by the same CA ("" if absent)
	KeyFile      string   // its key
	User         string
	PasswordFile string
	Password     string
}

// SASLSSL returns the broker's SASL_SSL listener or skips (fails under CI).
//
// Environment (printed by `deploy/local/kafka env`):
//
//	CONTRAIL_TEST_KAFKA_SASL_SSL       host:port (default 127.0.0.1:19094)
//	CONTRAIL_TEST_KAFKA_CA             CA file
//	CONTRAIL_TEST_KAFKA_USER           SASL user
//	CONTRAIL_TEST_KAFKA_PASSWORD_FILE  file holding the user's password
//
// Unset variables default to the files the script writes under
// ${CONTRAIL_HOME:-$HOME/.cache/contrail}/kafka-data/tls, so `make test`,
// which exports only CONTRAIL_TEST_KAFKA, runs these tests too.
func SASLSSL(t testing.TB) KafkaSASLSSL {
	t.Helper()
	dir := tlsDir()
	k := KafkaSASLSSL{
		Brokers:      split(envOr("CONTRAIL_TEST_KAFKA_SASL_SSL", "127.0.0.1:19094")),
		CAFile:       envOr("CONTRAIL_TEST_KAFKA_CA", filepath.Join(dir, "ca.pem")),
		User:         os.Getenv("CONTRAIL_TEST_KAFKA_USER"),
		PasswordFile: envOr("CONTRAIL_TEST_KAFKA_PASSWORD_FILE", filepath.Join(dir, "password")),
	}
	if k.User == "" {
		if b, err := os.ReadFile(filepath.Join(dir, "user")); err == nil {
			k.User = strings.TrimSpace(string(b))
		}
	}
	var missing []string
	for _, f := range []string{k.CAFile, k.PasswordFile} {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	if b, err := os.ReadFile(k.PasswordFile); err == nil {
		k.Password = strings.TrimSpace(string(b))
	}
	if k.User == "" {
		missing = append(missing, "the SASL user (CONTRAIL_TEST_KAFKA_USER or "+filepath.Join(dir, "user")+")")
	}
	const start = "deploy/local/kafka start"
	if len(missing) > 0 {
		unavailable(t, "Kafka SASL_SSL", "CONTRAIL_TEST_KAFKA_SASL_SSL", start, "missing "+strings.Join(missing, ", "))
		return k
	}
	need(t, "Kafka SASL_SSL", "CONTRAIL_TEST_KAFKA_SASL_SSL", start, k.Brokers)
	if cert, key := filepath.Join(filepath.Dir(k.CAFile), "client.pem"), filepath.Join(filepath.Dir(k.CAFile), "client-key.pem"); exists(cert) && exists(key) {
		k.CertFile, k.KeyFile = cert, key
	}
	return k
}

func tlsDir() string {
	home := os.Getenv("CONTRAIL_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "contrail")
	}
	return filepath.Join(home, "kafka-data", "tls")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
